"""Issuing bulletins: figures → document → DOCX and PDF, a number from the register, and reading the register back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
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
    from zoneinfo import ZoneInfo

    from fanzha.config import get_settings

    return utcnow().astimezone(ZoneInfo(get_settings().timezone)).date()


def render(session: Session, scope: Scope, period: Period, area: Area | None, *, seq: int | None = None,
           issued_on: date | None = None, formats: tuple[str, ...] = ("docx", "pdf")) -> Rendered:
    """A bulletin in the asked formats; without `seq` it is a draft whose 发文字号 is left blank."""
    figures = bulletin.figures_for(session, scope, period, area)
    head = bulletin.heading(session, bulletin.doc_kind(period), period, area)
    issued_on = issued_on or local_today()
    number = bulletin.number_text(head.prefix, issued_on.year, seq)
    document = bulletin.compose(session, figures, head, number=number, issued=issued_on)
    return Rendered(figures, render_docx(document) if "docx" in formats else b"",
                    render_pdf(document) if "pdf" in formats else b"", head.title, number)


def _next_seq(session: Session, kind: str, year: int) -> int:
    return int(session.scalar(select(func.coalesce(func.max(IssuedDocument.seq), 0))
                              .where(IssuedDocument.kind == kind, IssuedDocument.year == year)) or 0) + 1


def allocate(session: Session, *, kind: str, year: int, fill) -> IssuedDocument:
    """Take the next number of `kind` in `year` and store the document `fill(seq)` returns under it.

    The unique (kind, year, seq) constraint decides between two issuers at once: the loser's insert fails inside a
    savepoint and it tries the next number. The files are rendered with the number in them, in the same
    transaction, so a failure while rendering gives the number back (no gap)."""
    for _ in range(NUMBER_TRIES):
        seq = _next_seq(session, kind, year)
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
                   issued_on: date | None = None) -> IssuedDocument:
    scope.require(Perm.ISSUE_DOCUMENTS)
    issued_on = issued_on or local_today()
    if issued_on < period.start:
        raise Invalid("成文日期不能早于通报期间的开始")
    issuer_name = ""
    if scope.user_id:
        issuer_name = session.scalar(select(User.display_name).where(User.id == scope.user_id)) or ""

    def fill(seq: int) -> IssuedDocument:
        out = render(session, scope, period, area, seq=seq, issued_on=issued_on)
        f = out.figures
        head = bulletin.heading(session, bulletin.doc_kind(period), period, area)
        return IssuedDocument(number=out.number, period=period.spec, area_id=area.id if area else None,
                              title=out.title, addressee=head.addressee, issued_on=issued_on,
                              issued_by=scope.user_id, issued_by_name=issuer_name or scope.username,
                              summary={"cases": int(f.cases.current), "loss": str(f.loss.current),
                                       "cases_yoy": f.cases.yoy, "cases_mom": f.cases.mom, "solved": f.solved,
                                       "suspects": f.suspects, "basis": f.basis},
                              docx=out.docx, pdf=out.pdf)

    doc = allocate(session, kind=bulletin.doc_kind(period), year=issued_on.year, fill=fill)
    audit.record(session, scope, "create", "document", doc.id, detail={"number": doc.number, "period": period.spec})
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
