"""The audit-log search page."""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import APIRouter, Depends, Query, Request, Response

from fanzha.audit import service
from fanzha.common.localtime import zone
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, require
from fanzha.web.render import render

router = APIRouter()
PAGE = 50


@router.get("/admin/audit")
def audit_page(request: Request, db: Db, username: str = Query("", max_length=32), action: str = Query("", max_length=24),
               entity: str = Query("", max_length=32), day: date | None = None, page: int = Query(1, ge=1, le=100_000),
               scope: Scope = Depends(require(Perm.READ_AUDIT))) -> Response:
    since = until = None
    if day:
        tz = zone()
        since = datetime.combine(day, time.min, tz)
        until = datetime.combine(day, time.max, tz)
    rows, total = service.search(db, scope, username=username.strip(), action=action, entity=entity,
                                 since=since, until=until, limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "audit/list.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE)),
                  username=username, action=action, entity=entity, day=day)
