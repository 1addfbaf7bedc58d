"""Assembling a bulletin (通报): figures from the provider, text from the template, 版头 from layout.toml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from fanzha.common import periods
from fanzha.common.errors import Invalid
from fanzha.common.periods import Period
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.org.tree import top_area
from fanzha.reports import charts, tables
from fanzha.reports.document import Block, OfficialDocument, layout, parse_blocks, template_env
from fanzha.reports.figures import BulletinFigures
from fanzha.reports.provider import get_provider

TEMPLATE = "bulletin.txt.j2"
# A bulletin is about a day, an ISO week, a month or a quarter (common.periods). Documents name their kinds in
# their own words: the register stores them (issued_documents.kind, numbered per kind and year), layout.toml's
# [kinds.*] tables and the body template's `kind` use them, so they stay as they are — a mapping, not a rename,
# which would change stored data and every centre's edited layout.toml.
DOC_KINDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
DOC_KIND_LABELS = {"daily": "日", "weekly": "周", "monthly": "月", "quarterly": "季度"}


def doc_kind(period: Period) -> str:
    return DOC_KINDS[period.kind]


def parse_period(text: str) -> Period:
    """A bulletin's period as written: 2026-10-05, 2026-W41, 2026-10 or 2026-Q3."""
    where = [{"loc": ["period"], "msg": "格式不对"}]
    try:
        p = periods.parse(text) if (text or "").strip() else None
    except Invalid as exc:
        raise Invalid(exc.message, details=where) from exc
    if p is None or p.kind not in DOC_KINDS:
        raise Invalid("通报期间应写作 2026-10-05（日）、2026-W41（周）、2026-10（月）或 2026-Q3（季度）", details=where)
    return p


def latest(kind: str, today: date) -> Period:
    """The period a bulletin of this document kind written today is about."""
    return periods.current(next(k for k, v in DOC_KINDS.items() if v == kind), today)


@dataclass
class Heading:
    """The words of a document's 版头 and title for one kind, period and area."""

    mark: str
    prefix: str  # 发文字号 before 〔year〕
    title: str
    addressee: str
    signature: str
    kind_label: str


def city_name(session: Session) -> str:
    top = top_area(session)
    return top.name if top else ""


def heading(session: Session, kind: str, period: Period | None, area: Area | None) -> Heading:
    conf = layout()
    spec = conf.kinds[kind]
    city = city_name(session)
    words = {"city": city, "abbr": conf.issuer.abbr or city[:1], "area": area.label if area else city,
             "period": period.label if period else "", "year": period.year if period else ""}
    # A kind may override the issuer's words (the 三告 go out as the joint office's letters, not as 通报).
    pick = lambda key: conf.words(kind, key)  # noqa: E731
    return Heading(mark=pick("mark").format(**words) + pick("mark_suffix"),
                   prefix=spec.prefix.format(**words), title=spec.title.format(**words),
                   addressee=pick("addressee").format(**words), signature=pick("signature").format(**words),
                   kind_label=spec.label)


def number_text(prefix: str, year: int, seq: int | None) -> str:
    """江反诈〔2026〕12号; a draft has no number yet: 江反诈〔2026〕 号."""
    return f"{prefix}〔{year}〕{seq}号" if seq else f"{prefix}〔{year}〕  号"


REVISED_TITLE = "{title}（修订）"
REVISION_LINE = "本通报为修订版，代替{replaces}。修订说明：{note}"


def compose(session: Session, figures: BulletinFigures, head: Heading, *, number: str, issued: date,
            replaces: str = "", note: str = "") -> OfficialDocument:
    """The bulletin as a document; a revision (修订) of an issued one says so in its title and first line, naming
    the number it replaces and why."""
    period = figures.period
    text = template_env().get_template(TEMPLATE).render(f=figures, period=period, kind=doc_kind(period))
    chart = charts.type_breakdown(figures.by_type)
    blocks = parse_blocks(text, tables.build(figures), {"types": (chart, "图1  各类型案件发案数")})
    title = head.title
    if replaces:
        title = REVISED_TITLE.format(title=title)
        blocks.insert(0, Block(kind="p", text=REVISION_LINE.format(replaces=replaces, note=note)))
    return OfficialDocument(mark=head.mark, number=number, title=title, addressee=head.addressee,
                            signature=head.signature, date=issued, blocks=blocks)


def figures_for(session: Session, scope: Scope, period: Period, area: Area | None) -> BulletinFigures:
    return get_provider().figures(session, scope, period, area)
