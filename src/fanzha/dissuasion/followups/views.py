"""回访 pages: the station's 回访 queue (/follow-ups) and one 回访 with its form, built for a phone: the state as big
toggles, the 宣防漏洞 as checkboxes, a refused value answered on the same page in Chinese with what was typed kept."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.common.errors import DomainError
from fanzha.db import utcnow
from fanzha.dissuasion.followups import rules, service
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(FOLLOW_UP_REASONS=rules.REASONS, FOLLOW_UP_STATES=rules.STATES, FOLLOW_UP_GAPS=rules.GAPS,
                   FOLLOW_UP_REACHED=rules.REACHED_STATES)


@router.get("/follow-ups")
def queue(request: Request, db: Db, state: str = Query("open", max_length=8), reason: str = Query("", max_length=12),
          scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """回访: the queue of the user's areas — open ones soonest due first (超期 marked), or the done ones."""
    now = utcnow()
    try:
        rows, error = service.search(db, scope, service.Filters(state=state, reason=reason), now=now), ""
    except DomainError as exc:
        rows, error = [], exc.message
    return render(request, "dissuasion/follow_ups.html", rows=rows, now=now, state=state, reason=reason, error=error,
                  STATE_FILTERS=service.STATE_FILTERS, done=request.query_params.get("done", ""))


def _page(request: Request, db: Session, scope: Scope, follow_up_id: int, *, kept: dict | None = None,
          error: str = "", status_code: int = 200):
    row = service.get(db, scope, follow_up_id)
    return render(request, "dissuasion/follow_up.html", status_code=status_code, row=row, now=utcnow(),
                  k=kept or {"gaps": []}, error=error)


@router.get("/follow-ups/{follow_up_id}")
def one(follow_up_id: IdPath, request: Request, db: Db,
        scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    return _page(request, db, scope, follow_up_id)


@router.post("/follow-ups/{follow_up_id}", dependencies=[Depends(csrf_protect)])
async def record(follow_up_id: IdPath, request: Request, db: Db, outcome: str = Form("", max_length=16),
                 missed_outreach: str = Form("", max_length=500), note: str = Form("", max_length=1000),
                 scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    gaps = [str(g)[:16] for g in (await request.form()).getlist("gaps")][:len(rules.GAPS) + 1]
    try:
        f = service.record(db, scope, follow_up_id, outcome=outcome, gaps=gaps, missed_outreach=missed_outreach,
                           note=note)
    except DomainError as exc:
        db.rollback()
        kept = {"outcome": outcome, "gaps": gaps, "missed_outreach": missed_outreach, "note": note}
        return _page(request, db, scope, follow_up_id, kept=kept, error=exc.message, status_code=exc.status_code)
    if f.warning_id:
        return RedirectResponse(f"/warnings/{f.warning_id}?done=follow_up", status_code=303)
    return RedirectResponse("/follow-ups?done=1", status_code=303)
