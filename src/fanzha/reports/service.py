"""Issuing bulletins: figures → document → DOCX and PDF, a number from the register, and reading the register back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.localtime import zone
from fanzha.common.periods import Period
from fanzha.db import utcnow
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import bulletin
from fanzha.reports.docx_out import render_docx
from fanzha.reports.figures import BulletinFigures
from fanzha.reports.models import IssuedDocument
from fanzha.reports.pdf_out import render_pdf

FORMATS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}
NUMBER_TRIES = 20


@dataclass
class Rendered:
    figures: BulletinFigures
    docx: bytes
    pdf: bytes
    title: str
    number: str


def local_today() -> date:


    return utcnow().astimezone(zone()).date()


def render(session: Session, scope: Scope, period: Period, area: Area | None, *, seq: int | None = None,
           issued_on: date | None = None, formats: tuple[str, ...] = ("docx", "pdf"),
           replaces: IssuedDocument | None = None, note: str = "") -> Rendered:
    """A bulletin in the asked formats; without `seq` it is a draft whose 发文字号 is left blank. With `replaces` it
    is a revision (修订) of that issued document."""
    figures = bulletin.figures_for(session, scope, period, area)
    head = bulletin.heading(session, bulletin.doc_kind(period), period, area)
    issued_on = issued_on or local_today()
    number = bulletin.number_text(head.prefix, issued_on.year, seq)
    document = bulletin.compose(session, figures, head, number=number, issued=issued_on,
                                replaces=replaces.number if replaces else "", note=note)
    return Rendered(figures, render_docx(document) if "docx" in formats else b"",
                    render_pdf(document) if "pdf" in formats else b"", document.title, number)


class AlreadyIssued(Conflict):
    """The period's bulletin for this area is out already: issuing again is a revision (修订), asked for as one."""

    def __init__(self, doc: IssuedDocument):
        self.doc = doc
        super().__init__(f"本期通报已于{doc.issued_on.year}年{doc.issued_on.month}月{doc.issued_on.day}日发出"
                         f"（{doc.number}）。再次发出须作为修订，并写明修订说明。")


DOUBLE_SUBMIT = timedelta(minutes=2)


def just_issued_by(doc: IssuedDocument, scope: Scope) -> bool:
    """Whether `doc` is this user's own issue of a moment ago: a second submission of the same click (a double
    click, a resend after a lost answer) lands on it instead of asking for a revision."""
    return doc.issued_by == scope.user_id and doc.issued_at is not None and utcnow() - doc.issued_at < DOUBLE_SUBMIT


def edition_key(kind: str, period: Period, area: Area | None, edition: int) -> str:
    return f"{kind}:{period.spec}:{area.id if area else 0}:{edition}"


def latest_edition(session: Session, period: Period, area: Area | None) -> IssuedDocument | None:
    """The newest issued edition (original or revision) of this period's bulletin for `area`, if any."""
    kind = bulletin.doc_kind(period)
    area_match = IssuedDocument.area_id.is_(None) if area is None else IssuedDocument.area_id == area.id
    return session.scalar(select(IssuedDocument).where(
        IssuedDocument.kind == kind, IssuedDocument.period == period.spec, area_match,
        IssuedDocument.edition_key.is_not(None)).order_by(IssuedDocument.edition.desc()).limit(1))


def next_seq(session: Session, kind: str, year: int) -> int:
    """The number the next document of `kind` in `year` would take (a confirmation shows it; issuing takes it)."""
    return int(session.scalar(select(func.coalesce(func.max(IssuedDocument.seq), 0))
                              .where(IssuedDocument.kind == kind, IssuedDocument.year == year)) or 0) + 1


def allocate(session: Session, *, kind: str, year: int, fill) -> IssuedDocument:
    """Take the next number of `kind` in `year` and store the document `fill(seq)` returns under it.

    The unique (kind, year, seq) constraint decides between two issuers at once: the loser's insert fails inside a
    savepoint and it tries the next number. The files are rendered with the number in them, in the same
    transaction, so a failure while rendering gives the number back (no gap)."""
    for _ in range(NUMBER_TRIES):
        seq = next_seq(session, kind, year)
        try:
            with session.begin_nested():
                doc = fill(seq)
                doc.kind, doc.year, doc.seq = kind, year, seq
                session.add(doc)
                session.flush()
            return doc
        except IntegrityError:
            continue
    raise Conflict("发文编号被同时占用，请稍后重试")


def issue_bulletin(session: Session, scope: Scope, period: Period, area: Area | None, *,
                   issued_on: date | None = None, revision_note: str | None = None) -> IssuedDocument:
    """Number, render and store the period's bulletin. A period is issued once; issuing it again needs
    `revision_note` (修订说明) and registers a revision that replaces the newest edition — otherwise AlreadyIssued.
    The check and the insert share one savepoint and the edition key is unique, so two clicks (or two issuers)
    at once give one original and one refusal, never two originals."""
    scope.require(Perm.ISSUE_DOCUMENTS)
    issued_on = issued_on or local_today()
    if issued_on < period.start:
        raise Invalid("成文日期不能早于通报期间的开始")
    note = " ".join((revision_note or "").split())
    if revision_note is not None and not note:
        raise Invalid("请写明修订说明：改了什么、为什么改")
    if len(note) > 300:
        raise Invalid("修订说明不超过 300 字")
    issuer_name = ""
    if scope.user_id:
        issuer_name = session.scalar(select(User.display_name).where(User.id == scope.user_id)) or ""

    kind = bulletin.doc_kind(period)

    def fill(seq: int) -> IssuedDocument:
        previous = latest_edition(session, period, area)
        if previous is not None and not note:
            raise AlreadyIssued(previous)
        edition = previous.edition + 1 if previous is not None else 0
        out = render(session, scope, period, area, seq=seq, issued_on=issued_on, replaces=previous,
                     note=note if previous is not None else "")
        f = out.figures
        head = bulletin.heading(session, kind, period, area)
        return IssuedDocument(number=out.number, period=period.spec, area_id=area.id if area else None,
                              title=out.title, addressee=head.addressee, issued_on=issued_on,
                              issued_by=scope.user_id, issued_by_name=issuer_name or scope.username,
                              summary={"cases": int(f.cases.current), "loss": str(f.loss.current),
                                       "cases_yoy": f.cases.yoy, "cases_mom": f.cases.mom, "solved": f.solved,
                                       "suspects": f.suspects, "basis": f.basis},
                              edition=edition, revises_id=previous.id if previous is not None else None,
                              revision_note=note if previous is not None else "",
                              edition_key=edition_key(kind, period, area, edition),
                              docx=out.docx, pdf=out.pdf)

    doc = allocate(session, kind=kind, year=issued_on.year, fill=fill)
    audit.record(session, scope, "create", "document", doc.id,
                 detail={"number": doc.number, "period": period.spec, "edition": doc.edition,
                         **({"revises": doc.revises_id, "note": doc.revision_note} if doc.revises_id else {})})
    return doc


def _visible(scope: Scope):
    """Whole-jurisdiction bulletins go to every unit; an area's bulletin to those who see that area."""
    return IssuedDocument.area_id.is_(None) | IssuedDocument.area_id.in_(select(Area.id).where(scope.area_clause()))


def register(session: Session, scope: Scope, *, kind: str = "", year: int | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[IssuedDocument], int]:
    scope.require(Perm.READ_CASES)
    stmt = select(IssuedDocument).where(_visible(scope))
    if kind:
        stmt = stmt.where(IssuedDocument.kind == kind)
    if year:
        stmt = stmt.where(IssuedDocument.year == year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.options(joinedload(IssuedDocument.area))
                                .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
                                .limit(limit).offset(offset)))
    return rows, int(total or 0)


def get(session: Session, scope: Scope, document_id: int) -> IssuedDocument:
    scope.require(Perm.READ_CASES)
    doc = session.scalar(select(IssuedDocument).where(IssuedDocument.id == document_id, _visible(scope)))
    if doc is None:
        raise NotFound("公文不存在或不在您的管辖范围内")
    return doc


def file_of(session: Session, scope: Scope, document_id: int, fmt: str) -> tuple[bytes, str]:
    """(bytes, download name) of a stored document."""
    doc = get(session, scope, document_id)
    if fmt not in FORMATS:
        raise Invalid("格式应为 docx 或 pdf")
    data = doc.docx if fmt == "docx" else doc.pdf
    return data, f"{doc.number}{doc.title}.{fmt}"
