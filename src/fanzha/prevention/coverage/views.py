"""宣传覆盖目标 pages: coverage against dated targets, per community."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.common.errors import DomainError, Invalid
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention.coverage import service as cov
from fanzha.prevention.views import _date
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import form_fields
from fanzha.web.params import IdPath, IdQuery
from fanzha.web.render import render

router = APIRouter()


# -- coverage -----------------------------------------------------------------------------------------------------

def _targets_page(request: Request, db: Session, scope: Scope, *, error: str = "", form: dict | None = None,
                  status_code: int = 200):
    own = db.get(Area, scope.area_id) if scope.area_id else None
    return render(request, "prevention/targets.html", status_code=status_code, targets=cov.list_targets(db, scope),
                  error=error, form=form or {}, own=own, today=local_day(utcnow()))


@router.get("/prevention/coverage")
def targets(request: Request, db: Db,
            scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _targets_page(request, db, scope)


@router.post("/prevention/coverage", dependencies=[Depends(csrf_protect)])
async def create_target(request: Request, db: Db,
                        scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    form = await request.form()
    raw = form_fields(form, ("label", "metric", "denominator", "target_pct", "due_on",
                            "counts_from"), 100)
    try:
        try:
            pct = Decimal(raw["target_pct"].strip().rstrip("%") or "x")
        except InvalidOperation as exc:
            raise Invalid("目标比例应为数字，如 80", details=[{"loc": ["target_pct"], "msg": "数字"}]) from exc
        t = cov.create_target(db, scope, area_id=scope.area_id, metric=raw["metric"], denominator=raw["denominator"],
                              target_pct=pct, due_on=_date(raw["due_on"], "due_on", "截止日期"),
                              counts_from=_date(raw["counts_from"], "counts_from", "起算日期", required=False),
                              label=raw["label"])
    except DomainError as exc:
        db.rollback()
        return _targets_page(request, db, scope, error=exc.message, form=raw, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/coverage/{t.id}", status_code=303)


@router.get("/prevention/coverage/{target_id}")
def target(target_id: IdPath, request: Request, db: Db, area_id: IdQuery = None, chain: str = Query("", max_length=8),
           scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    c = cov.coverage(db, scope, target_id, now=utcnow(), node_id=area_id, chain=chain or None)
    return render(request, "prevention/coverage.html", c=c, t=c.target)


# -- 无诈社区 -------------------------------------------------------------------------------------------------------
