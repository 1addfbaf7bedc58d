"""Pages: 通报 (register, preview, draft and issued downloads), the case map (发案地图) and the wall screen (大屏)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fanzha.cases.stats import definitions
from fanzha.common import periods
from fanzha.common.errors import DomainError
from fanzha.org import service as org
from fanzha.org.enums import Level
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import bulletin, geo, service
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdPath, IdQuery
from fanzha.web.render import render
from fanzha.web.replica import ReadDb

router = APIRouter()
PAGE = 50
PeriodQuery = Query("", max_length=10, pattern=r"^[0-9QqWw-]*$")
# The map takes every period 案件研判 takes, custom ranges (2025-12-15..2026-01-14) included.
MapPeriodQuery = Query("", max_length=22, pattern=r"^[0-9QqWw.-]*$")
MetricQuery = Query("cases", pattern="^(" + "|".join(geo.METRICS) + ")$")
FMT = "^(docx|pdf)$"


def _period(text: str, kind: str = "monthly") -> periods.Period:
    return bulletin.parse_period(text) if text else bulletin.latest(kind, service.local_today())


def _area(db: Session, scope: Scope, area_id: int | None):
    """The area asked for; without one, the whole jurisdiction for a reader at the top of a chain (市局) and the
    reader's own node for anyone else (a station's or a 分局's bulletin is about it, not titled after the city)."""
    if area_id:
        return org.get_area(db, scope, area_id)
    return None if scope.at_root else org.get_area(db, scope, scope.area_id)


def _areas(db: Session, scope: Scope):
    return [a for a in org.list_areas(db, scope, limit=5000) if a.level not in (Level.COMMUNITY, Level.BEAT)]


def download(data: bytes, name: str, fmt: str) -> Response:
    from urllib.parse import quote

    return Response(data, media_type=service.FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename=\"bulletin.{fmt}\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@router.get("/reports")
def register_page(request: Request, db: Db, kind: str = Query("", pattern="^(|daily|weekly|monthly|quarterly)$"),
                  year: int = Query(0, ge=0, le=2100), page: int = Query(1, ge=1, le=100_000),
                  scope: Scope = Depends(require(Perm.READ_CASES))):
    rows, total = service.register(db, scope, kind=kind, year=year or None, limit=PAGE, offset=(page - 1) * PAGE)
    today = service.local_today()
    suggestions = {k: bulletin.latest(k, today).spec for k in bulletin.DOC_KIND_LABELS}
    issued = request.query_params.get("issued", "")
    just = service.get(db, scope, int(issued)) if issued.isdigit() and len(issued) < 12 else None
    return render(request, "reports/register.html", rows=rows, total=total, kind=kind, year=year, page=page,
                  pages=max(1, -(-total // PAGE)), kinds=bulletin.DOC_KIND_LABELS, suggestions=suggestions,
                  areas=_areas(db, scope), issued=issued, just=just)


@router.get("/reports/bulletin")
def preview(request: Request, read: ReadDb, db: Db, period: str = PeriodQuery, area_id: IdQuery = None,
            ask: str = Query("", pattern="^(|issue)$"),
            scope: Scope = Depends(require(Perm.READ_CASES))):
    """The bulletin as it would go out; `ask=issue` adds the confirmation of 编号发出并存档 (what number, what date,
    and whether it is a revision of an issued one). A plain preview reads like any statistics page (the replica,
    when one is set); the confirmation reads the primary, whose register numbers the document."""
    ask = ask if scope.can(Perm.ISSUE_DOCUMENTS) else ""
    if ask:
        request.state.replica_note = ""
    else:
        db = read
    try:
        p = _period(period)
    except DomainError as exc:
        return render(request, "reports/preview.html", status_code=422, error=exc.message, doc=None, figures=None,
                      period=None, area=None, areas=_areas(db, scope), period_text=period)
    return _preview(request, db, scope, p, _area(db, scope, area_id), ask=bool(ask))


def _preview(request: Request, db: Session, scope: Scope, p, area, *, ask: bool = False, error: str = "",
             note: str = "", status_code: int = 200):
    figures = bulletin.figures_for(db, scope, p, area)
    head = bulletin.heading(db, bulletin.doc_kind(p), p, area)
    today = service.local_today()
    previous = service.latest_edition(db, p, area)
    doc = bulletin.compose(db, figures, head, number=bulletin.number_text(head.prefix, today.year, None), issued=today,
                           replaces=previous.number if previous else "", note=note or "（签发时填写）")
    confirm = None
    if ask:
        seq = service.next_seq(db, bulletin.doc_kind(p), today.year)
        confirm = {"number": bulletin.number_text(head.prefix, today.year, seq), "issued_on": today,
                   "title": doc.title, "previous": previous}
    return render(request, "reports/preview.html", status_code=status_code, error=error, doc=doc, figures=figures,
                  period=p, area=area, areas=_areas(db, scope), period_text=p.spec, kind_label=head.kind_label,
                  previous=previous, confirm=confirm, note=note)


@router.get("/reports/bulletin/draft")
def draft(db: ReadDb, period: str = PeriodQuery, area_id: IdQuery = None, fmt: str = Query("docx", pattern=FMT),
          scope: Scope = Depends(require(Perm.READ_CASES))):
    p = _period(period)
    area = _area(db, scope, area_id)
    out = service.render(db, scope, p, area, formats=(fmt,))
    return download(out.docx if fmt == "docx" else out.pdf, f"{out.title}（草稿）.{fmt}", fmt)


@router.post("/reports/bulletin", dependencies=[Depends(csrf_protect)])
def issue(request: Request, db: Db, period: str = Form(..., max_length=10), area_id: IdForm = 0,
          confirm: str = Form("", max_length=5), revision_note: str = Form("", max_length=300),
          revision: str = Form("", max_length=5),
          scope: Scope = Depends(require(Perm.ISSUE_DOCUMENTS))):
    """编号发出并存档, once confirmed (without `confirm` the confirmation is shown instead). A period issued already
    is issued again only as a revision with its 修订说明; a second submission of the same click lands on the first."""
    p = bulletin.parse_period(period)
    area = _area(db, scope, area_id or None)
    if confirm != "true":
        return _preview(request, db, scope, p, area, ask=True)
    try:
        doc = service.issue_bulletin(db, scope, p, area, revision_note=revision_note if revision == "true" else None)
    except service.AlreadyIssued as exc:
        db.rollback()
        if service.just_issued_by(exc.doc, scope):
            return RedirectResponse(f"/reports?issued={exc.doc.id}", status_code=303)
        return _preview(request, db, scope, p, area, ask=True, error=exc.message, note=revision_note,
                        status_code=exc.status_code)
    except DomainError as exc:
        db.rollback()
        return _preview(request, db, scope, p, area, ask=True, error=exc.message, note=revision_note,
                        status_code=exc.status_code)
    return RedirectResponse(f"/reports?issued={doc.id}", status_code=303)


@router.get("/reports/documents/{document_id}/{fmt}")
def document_file(document_id: IdPath, fmt: str, db: Db,
                  scope: Scope = Depends(require(Perm.READ_CASES))):
    data, name = service.file_of(db, scope, document_id, fmt)
    return download(data, name, fmt)


@router.get("/map")
def map_page(request: Request, db: ReadDb, area_id: IdQuery = None, period: str = MapPeriodQuery, metric: str = MetricQuery,
             scope: Scope = Depends(require(Perm.READ_CASES))):
    p = periods.parse(period) if period else periods.month(service.local_today())
    area = org.get_area(db, scope, area_id) if area_id else geo.default_parent(db, scope)
    areas = [a for a in _areas(db, scope) if a.chain == "admin"]
    return render(request, "reports/map.html", area=area, areas=areas, period=p, metric=metric, metrics=geo.METRICS,
                  basis=definitions.HEADLINE_BASIS)


@router.get("/screen")
def screen_page(request: Request, scope: Scope = Depends(require(Perm.READ_CASES))):
    return render(request, "reports/screen.html")
