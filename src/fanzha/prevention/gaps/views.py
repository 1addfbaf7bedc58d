"""宣防漏洞 pages: the summary by group and by township or station for a period, and the victims behind a number; and
the victim's panel on the case page (cases.views.PANELS, as `gap`).

Mounted before the case pages, so /cases/gaps is not read as a case id.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Query, Request

from fanzha.cases import views as case_pages
from fanzha.cases.views import filter_areas
from fanzha.common.errors import DomainError
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.org.enums import GROUPS
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention.gaps import service as gaps
from fanzha.web.deps import Db, require
from fanzha.web.params import IdQuery
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(GAP_CHECKS=gaps.CHECKS)
case_pages.PANELS["gap"] = gaps.for_case


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    """Default: the last 30 days up to today."""
    today = local_day(utcnow())
    end = end or today
    return start or end - timedelta(days=29), end


@router.get("/cases/gaps")
def gap_summary(request: Request, db: Db, start: date | None = None, end: date | None = None, area_id: IdQuery = None,
                chain: str = Query("admin", pattern="^(admin|police)$"), scope: Scope = Depends(require(Perm.READ_CASES))):
    start, end = _period(start, end)
    try:
        s = gaps.summary(db, scope, start, end, area_id=area_id, chain=chain)
    except DomainError as exc:
        return render(request, "cases/gaps.html", status_code=exc.status_code, s=None, error=exc.message, start=start,
                      end=end, area_id=area_id, chain=chain, areas=filter_areas(db, scope))
    return render(request, "cases/gaps.html", s=s, error="", start=start, end=end, area_id=area_id, chain=chain,
                  areas=filter_areas(db, scope))


@router.get("/cases/gaps/missed")
def gap_missed(request: Request, db: Db, check: str = Query("all", pattern="^(warned|visited|app|jzz|campaign|all)$"),
               start: date | None = None, end: date | None = None, area_id: IdQuery = None,
               group: str = Query("", max_length=32), row: int | None = Query(None, ge=0, le=2_147_483_647),
               chain: str = Query("admin", pattern="^(admin|police)$"), scope: Scope = Depends(require(Perm.READ_CASES))):
    start, end = _period(start, end)
    try:
        victims = gaps.missed(db, scope, start, end, check=check, group=group, area_key=row, area_id=area_id,
                              chain=chain)
    except DomainError as exc:
        victims, error = [], exc.message
    else:
        error = ""
    label = "各项均未触达" if check == "all" else f"未经{gaps.CHECKS[check]}触达"
    where = GROUPS.get(group, "无群体标记" if group == gaps.NO_GROUP else "") if group else ""
    return render(request, "cases/gaps_missed.html", victims=victims, label=label, where=where, start=start, end=end,
                  error=error)
