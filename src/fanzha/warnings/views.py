"""Warning pages: the board (centre sees all, a station its own), import, 待分配 queue, detail, duty roster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.audit import exports
from fanzha.common.errors import Conflict, DomainError
from fanzha.db import utcnow
from fanzha.imports.api import save_upload, start_import
from fanzha.imports.values import parse_datetime
from fanzha.links import service as links
from fanzha.org import service as org
from fanzha.org.enums import Level
from fanzha.org.models import User
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import metrics, placing, service
from fanzha.warnings import roster as duty
from fanzha.warnings.enums import GRADES, KINDS, STATUSES
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdPath, IdQuery
from fanzha.web.render import env, render
from fanzha.web.replica import ReadDb

router = APIRouter()
PAGE = 50

# What packages above warnings show on its pages (the 止付/冻结 requests of cases; the board's figures, the 协助
# counts, a warning's timeline, holders and transfer of dissuasion): each registers a function from its own views
# module, which the app mounts beside this one, and the page hands what the functions return to its template.
MetricsPart = Callable[[Session, Scope, Any, datetime, datetime], dict[str, Any]]  # (db, scope, area, since, until)
DetailPart = Callable[[Session, Scope, Any], dict[str, Any]]  # (db, scope, warning)
BoardPart = Callable[[Session, Scope, service.Filters, datetime], dict[str, Any]]  # (db, scope, filters, now)
_metrics_parts: list[MetricsPart] = []
_detail_parts: list[DetailPart] = []
_board_parts: list[BoardPart] = []


def add_metrics_part(part: MetricsPart) -> MetricsPart:
    """Registers what the metrics page (/metrics) shows of a package above warnings, for the user's areas and period."""
    _metrics_parts.append(part)
    return part


def add_detail_part(part: DetailPart) -> DetailPart:
    """Registers what the warning page (/warnings/{id}) shows of a package above warnings."""
    _detail_parts.append(part)
    return part


def add_board_part(part: BoardPart) -> BoardPart:
    """Registers what the board (/warnings, and its minute refresh) shows of a package above warnings, for the
    board's filters."""
    _board_parts.append(part)
    return part


env.globals.update(KINDS=KINDS, GRADES=GRADES, STATUSES=STATUSES)


def _left(deadline: datetime | None, now: datetime | None = None) -> str:
    if deadline is None:
        return ""
    minutes = int((deadline - (now or utcnow())).total_seconds() // 60)
    if minutes < 0:
        m = -minutes
        return f"已超时 {m // 1440}天{m % 1440 // 60}小时" if m >= 1440 else f"已超时 {m // 60}小时{m % 60}分"
    return f"剩余 {minutes // 60}小时{minutes % 60}分" if minutes >= 60 else f"剩余 {minutes}分钟"


def _key_reason(reasons: list[str] | None) -> str:
    """The reason that decided the grade: a raise if there was one, else where the grade came from."""
    reasons = reasons or []
    return next((r for r in reasons if r.startswith("升为")), reasons[0] if reasons else "")


env.filters["left"] = _left
env.filters["key_reason"] = _key_reason
env.globals["utcnow"] = utcnow
env.globals["loss_avoided_of"] = metrics.loss_avoided_of
env.globals["RESPONSE_TEXT"] = metrics.RESPONSE_TEXT


FLAG_PATTERN = "^(unsigned|overdue|escalated|backlog)?$"


@dataclass
class BoardQuery:
    """The board's filters as the query string carries them (the list, its minute refresh and its export)."""

    status: str = Query("", max_length=12)
    grade: str = Query("", max_length=8)
    kind: str = Query("", max_length=16)
    station_id: IdQuery = None
    q: str = Query("", max_length=64)
    mine: bool = False
    metric: str = Query("", max_length=20)
    part: str = Query("", max_length=3)
    area_id: IdQuery = None
    since: str = Query("", max_length=10)
    until: str = Query("", max_length=10)
    state: str = Query("open", pattern="^(open|closed|all)$")
    flag: str = Query("", pattern=FLAG_PATTERN)
    assignee_id: IdQuery = None

    def filters(self, db: Session, scope: Scope) -> tuple[service.Filters, str | None, str]:
        """(filters, the metric drill's label or None, the state shown). An empty value is no filter; since/until
        are local days of 预警时间 (until included), except in a metric's click-through, where they are the
        metric's period."""
        condition = drill = start = end = None
        state = self.state
        if (label := metrics.drill_label(self.metric, self.part)) is not None:
            first, last = metrics.period(self.since, self.until)
            area = org.get_area(db, scope, self.area_id) if self.area_id else None
            condition = metrics.drill(db, scope, self.metric, self.part, since=first, until=last, area=area)
            drill = label
        else:
            start, end = _day(self.since), _day(self.until)
            end = end + timedelta(days=1) if end else None
        if drill or self.q.strip():
            state = "all"
        f = service.Filters(status=self.status, grade=self.grade, kind=self.kind, station_id=self.station_id,
                            q=self.q.strip(), mine=self.mine, condition=condition,
                            state="" if state == "all" else state, flag=self.flag, assignee_id=self.assignee_id,
                            since=start, until=end)
        return f, drill, state


def _day(text: str) -> datetime | None:
    """The start of a local day given as 2026-03-01; None when empty."""
    from datetime import date

    from fanzha.common.errors import Invalid
    from fanzha.common.localtime import day_start

    if not text.strip():
        return None
    try:
        return day_start(date.fromisoformat(text.strip()))
    except ValueError as exc:
        raise Invalid("日期格式应为 2026-03-01") from exc


@router.get("/warnings")
def board(request: Request, db: Db, params: BoardQuery = Depends(), page: int = Query(1, ge=1, le=100_000),
          scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """The board opens on 在办 (warnings without feedback): today's work, whatever the length of the history.
    已反馈 and 全部 reach the rest; a metric's click-through always lists everything behind the figure. At the top,
    the four figures of dissuasion.board (未签收, 已超时, 已升级, 积压), each a link to exactly its warnings, and the
    移交 waiting (both board parts registered by dissuasion's views)."""
    f, drill, state = params.filters(db, scope)
    now = utcnow()
    rows, total = service.search(db, scope, f, limit=PAGE, offset=(page - 1) * PAGE)
    context = dict(rows=rows, total=total, f=f, page=page, state=state, count_cap=service.COUNT_CAP,
                   pages=max(1, -(-total // PAGE)), now=now, drill=drill,
                   **{k: v for part in _board_parts for k, v in part(db, scope, f, now).items()},
                   stations=[a for a in org.list_areas(db, scope, level=Level.STATION.value, limit=1000)
                             if scope.covers(a)])
    if request.headers.get("hx-request"):  # the minute refresh: the table, and the figures out of band
        return render(request, "warnings/_refresh.html", **context)
    return render(request, "warnings/board.html", **context, counts=service.counts(db, scope, f),
                  holders=service.holders(db, scope))


@router.get("/warnings.xlsx")
def board_export(db: ReadDb, params: BoardQuery = Depends(), full: bool = False,
                 scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """导出 Excel: the board's list with the same filters (the link carries them); masked unless `full`."""
    from fanzha.common import tabular

    f, _, _ = params.filters(db, scope)
    name, ascii_name = exports.file_names("预警指令", "warnings")
    return tabular.download(service.export(db, scope, f, full=full), name, ascii_name=ascii_name)


@router.get("/metrics")
def metrics_page(request: Request, db: ReadDb, area_id: IdQuery = None, since: str = Query("", max_length=10),
                 until: str = Query("", max_length=10), by: str = Query("month", pattern="^(day|week|month)$"),
                 scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    import json

    start, end = metrics.period(since, until)
    area = org.get_area(db, scope, area_id) if area_id else None
    figures = metrics.overview(db, scope, since=start, until=end, area=area, by=by)
    report, ranking, points = figures.report, figures.ranking, figures.trend
    done = metrics.activity(db, scope, since=start, until=end, area=area)
    parts = {k: v for part in _metrics_parts for k, v in part(db, scope, area, start, end).items()}
    ranking.sort(key=lambda r: (-(r["figures"]["timely_sign_rate"].rate or 0), r["station"]))
    areas = [a for a in org.list_areas(db, scope, limit=5000) if a.level != Level.COMMUNITY]
    period = {"since": start.date().isoformat(), "until": (end - timedelta(days=1)).date().isoformat()}
    return render(request, "warnings/metrics.html", report=report, ranking=ranking, areas=areas, area=area, by=by,
                  period=period, rates=metrics.RATES, activity=done, events=metrics.EVENTS, **parts,
                  loss_avoided_text=metrics.LOSS_AVOIDED_TEXT, estimated_text=metrics.ESTIMATED_TEXT, chart=json.dumps({"points": points, "rates": [
                      {"key": r.key, "label": r.label} for r in metrics.RATES]}, ensure_ascii=False))


@router.get("/warnings/import")
def import_page(request: Request, scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    return render(request, "warnings/import.html", error="")


@router.post("/warnings/import", dependencies=[Depends(csrf_protect)])
async def import_upload(request: Request, db: Db, file: UploadFile = File(...), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    try:
        temp = await save_upload(file)
        batch = start_import(db, scope, "warning", file.filename or "upload", temp)
    except DomainError as exc:
        return render(request, "warnings/import.html", status_code=422, error=exc.message)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/warnings/unplaced")
def unplaced(request: Request, db: Db, page: int = Query(1, ge=1, le=100_000), q: str = Query("", max_length=64),
             placed: IdQuery = None, scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """待分配: searched and paged; each row's picker searches the communities by name, township or station."""
    from fanzha.common.identity import mask_name

    rows, total = placing.unplaced(db, scope, q, limit=PAGE, offset=(page - 1) * PAGE)
    just = placing.placed_warning(db, scope, placed) if placed else None
    return render(request, "warnings/unplaced.html", rows=rows, total=total, page=page, q=q.strip(),
                  pages=max(1, -(-total // PAGE)), choices=placing.choices(db, scope), now=utcnow(),
                  masked_name=mask_name, placed=placing.placed_sentence(just) if just and just.station_id else "",
                  back=_unplaced_link(request))


def _unplaced_link(request: Request) -> str:
    """This 待分配 page (its search and page) for the 分配 forms to come back to."""
    from urllib.parse import urlencode

    keep = [(k, v) for k, v in request.query_params.multi_items() if k in ("q", "page") and v]
    return UNPLACED + (f"?{urlencode(keep)}" if keep else "")


@router.get("/warnings/roster")
def roster_page(request: Request, db: Db,
                scope: Scope = Depends(require(Perm.MANAGE_ROSTER))):
    return render(request, "warnings/roster.html", r=duty.roster(db, scope), error="")


@router.post("/warnings/roster", dependencies=[Depends(csrf_protect)])
def add_shift(request: Request, db: Db, user_id: IdForm = 0, starts_at: str = Form("", max_length=20),
              ends_at: str = Form("", max_length=20), scope: Scope = Depends(require(Perm.MANAGE_ROSTER))):
    def when(text: str) -> datetime | None:
        try:
            return parse_datetime(text) if text.strip() else None
        except ValueError:
            return None

    try:
        duty.add_shift(db, scope, user_id=user_id, starts_at=when(starts_at), ends_at=when(ends_at))
    except DomainError as exc:
        return render(request, "warnings/roster.html", status_code=422, r=duty.roster(db, scope), error=exc.message,
                      kept={"user_id": user_id, "starts_at": starts_at, "ends_at": ends_at})
    return RedirectResponse("/warnings/roster", status_code=303)


@router.get("/warnings/{warning_id}")
def detail(warning_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    return _detail(request, db, scope, service.get(db, scope, warning_id), reveal=False)


def _detail(request, db, scope, warning, *, reveal: bool, error: str = "", status_code: int = 200,
            kept: dict | None = None, ask: str = "", dial: dict | None = None):
    """The warning page. `kept` holds what the user typed into its forms (shown again after a refusal or a question),
    `ask` a question the server puts before saving ('no_evidence', 'close'), `dial` a number just revealed to call."""
    from fanzha.common.privacy import identity

    communities = placing.choices(db, scope) \
        if warning.status == "unplaced" and scope.can(Perm.INTAKE_WARNINGS) else []
    # 跨所协助: a sibling station's helper sees the warning to call and record the first contact, not its 串并 links or
    # the station's own actions (dissuasion/help.py).
    helping = service.helping_only(db, scope, warning)
    stations = org.list_areas(db, scope if scope.is_centre else Scope.system(db), level=Level.STATION.value, limit=1000)
    return render(request, "warnings/detail.html", status_code=status_code, w=warning, reveal=reveal,
                  who=service.shown_identity(warning, full=reveal),
                  communities=communities, now=utcnow(), error=error, stations=stations,
                  handed=_handed(db, warning) if request.query_params.get("done") == "reassign" else "",
                  placed=placing.placed_sentence(warning)
                  if request.query_params.get("done") == "place" and warning.station_id else "",
                  **{k: v for part in _detail_parts for k, v in part(db, scope, warning).items()},
                  links=None if helping else links.panel(db, scope, "warning", warning.id), helping=helping,
                  done=request.query_params.get("done", "")[:20],
                  masked=identity(name=warning.name, id_number=warning.id_number, phone=warning.phone, full=False,
                                  name_full=False),
                  kept=kept or {}, ask=ask, dial=dial)


def _handed(db: Session, warning) -> str:
    """What a 改派 just did, from the warning's last hand-over (the message after 确认)."""
    from fanzha.warnings.assignments import history

    last = next((a for a in reversed(history(db, warning.id)) if a.kind == "reassign"), None)
    if last is None:
        return ""
    names = dict(db.execute(select(User.id, User.display_name).where(User.id.in_([last.user_id, last.from_user_id
                                                                                  or 0]))).all())
    origin = f"由 {names[last.from_user_id]} " if last.from_user_id in names else ""
    return f"已将预警 {warning.external_id} {origin}改派给 {names.get(last.user_id, '')}"


def detail_with_error(request: Request, db: Session, scope: Scope, warning_id: int, exc: DomainError,
                      kept: dict | None = None):
    """A refused action on a warning shows the warning again with the reason and what was typed; not-found stays a
    404."""
    if exc.status_code == 404:
        raise exc
    db.rollback()
    return _detail(request, db, scope, service.get(db, scope, warning_id), reveal=False, error=exc.message,
                   status_code=exc.status_code, kept=kept)


def detail_asking(request: Request, db: Session, scope: Scope, warning_id: int, ask: str, kept: dict):
    """The warning page with a question to answer before saving, the typed values in place (nothing is saved)."""
    db.rollback()
    return _detail(request, db, scope, service.get(db, scope, warning_id), reveal=False, kept=kept, ask=ask)


def detail_dialling(request: Request, db: Session, scope: Scope, warning: object, dial: dict):
    """The page again after a 拨打 without script: the number just revealed (audited) as a tel: link."""
    return _detail(request, db, scope, warning, reveal=False, dial=dial)


@router.post("/warnings/{warning_id}/reveal", dependencies=[Depends(csrf_protect)])
def reveal(warning_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.PII_FULL))):
    return _detail(request, db, scope, service.get(db, scope, warning_id, reveal=True), reveal=True)


@router.post("/warnings/{warning_id}/claim", dependencies=[Depends(csrf_protect)])
def claim(warning_id: IdPath, request: Request, db: Db,
          scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    try:
        service.claim(db, scope, warning_id)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc)
    return RedirectResponse(f"/warnings/{warning_id}", status_code=303)


def _place_kept(community: str, community_id: int, add_address: str, back: str) -> dict:
    return {"form": "place", "community": community, "community_id": community_id, "add_address": add_address == "on",
            "back": back if back.startswith(UNPLACED) else ""}


UNPLACED = "/warnings/unplaced"


@router.post("/warnings/{warning_id}/place/confirm", dependencies=[Depends(csrf_protect)])
def place_confirm(warning_id: IdPath, request: Request, db: Db, community: str = Form("", max_length=200),
                  community_id: IdForm = 0, add_address: str = Form("", max_length=4),
                  back: str = Form("", max_length=300), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """分配, first press: the picker's text read back (nothing chosen is refused), then 将预警 … 分配到 … to confirm."""
    kept = _place_kept(community, community_id, add_address, back)
    try:
        w = service.get(db, scope, warning_id)
        if w.status != "unplaced":
            raise Conflict("该预警已分配到派出所，不能重复分配")
        choice = placing.resolve(db, scope, community, community_id)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    return detail_asking(request, db, scope, warning_id, "place",
                         kept | {"community_id": choice.id, "community": choice.text,
                                 "sentence": placing.confirm_sentence(w, choice)})


@router.post("/warnings/{warning_id}/place", dependencies=[Depends(csrf_protect)])
def place(warning_id: IdPath, request: Request, db: Db, community_id: IdForm = 0, add_address: str = Form("", max_length=4),
          back: str = Form("", max_length=300), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """分配, confirmed: back to 待分配 (the page and search it came from) or to the warning, with a message naming
    the community, the station and the dissuader it went to."""
    try:
        service.place(db, scope, warning_id, community_id, add_address=add_address == "on")
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, _place_kept("", community_id, add_address, back))
    if back.startswith(UNPLACED):
        return RedirectResponse(f"{back}{'&' if '?' in back else '?'}placed={warning_id}", status_code=303)
    return RedirectResponse(f"/warnings/{warning_id}?done=place", status_code=303)


