"""The centre's queue of 快速查询/止付/冻结 requests (/requests): 待处理 first, oldest first, each with its minute
deadline and 已超时 shown; an answer per request, confirmed before it is recorded; 止付 nearing their lapse prompt a
冻结. Stations see their own requests (read only)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.cases.actions import mask_target
from fanzha.cases.requests import service as requests
from fanzha.common.errors import DomainError, Invalid
from fanzha.common.money import parse_money
from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import views as warning_pages
from fanzha.warnings.views import detail_with_error
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath, IdQuery
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(REQUEST_KINDS=requests.REQUEST_KINDS, request_rules=requests.current_rules,
                   request_status=requests.status_label, request_overdue=requests.overdue,
                   request_lapses_at=requests.lapses_at)


@warning_pages.add_metrics_part
def _handling(db: Session, scope: Scope, area, since, until) -> dict:
    """The metrics page's 止付/冻结 handling figures, for the user's areas (or one node) and the period."""
    return {"handling": requests.performance(db, requests.within(scope, area), since, until)}


@warning_pages.add_detail_part
def _of_warning(db: Session, scope: Scope, warning) -> dict:
    """The warning page's 查询/止付/冻结 requests."""
    return {"requests": requests.of_warning(db, warning.id)}


def _amount(text: str) -> Decimal | None:
    try:
        return parse_money(text)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["amount"], "msg": "金额不对"}]) from exc


@router.post("/warnings/{warning_id}/requests", dependencies=[Depends(csrf_protect)])
def payment_request(warning_id: IdPath, request: Request, db: Db, kind: str = Form("", max_length=16),
                    account: str = Form("", max_length=64), bank: str = Form("", max_length=64),
                    amount: str = Form("", max_length=20),
                    scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """申请快速查询/止付/冻结 from the warning page: one request the centre answers within minutes (cases/requests/service.py)."""
    try:
        requests.raise_for_warning(db, scope, warning_id, kind=kind, account=account, bank=bank, amount=_amount(amount))
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc)
    return RedirectResponse(f"/warnings/{warning_id}?done=request", status_code=303)


def _page(request: Request, db: Session, scope: Scope, *, error: str = "", status_code: int = 200,
          ask: dict | None = None, recorded: str = ""):
    now = utcnow()
    pending, answered = requests.queue(db, scope)
    lapsing = requests.lapsing(db, scope, now) if scope.can(Perm.INTAKE_WARNINGS) else []
    return render(request, "cases/requests.html", status_code=status_code, pending=pending, answered=answered,
                  lapsing=lapsing, now=now, error=error, ask=ask or {}, recorded=recorded,
                  overdue_count=sum(requests.overdue(a, now) for a in pending))


def _kept(request_id: int, outcome: str, result: str, amount: str, reference: str) -> dict:
    return {"id": request_id, "outcome": outcome, "result": result, "amount": amount, "reference": reference}


@router.get("/requests")
def queue(request: Request, db: Db, done: IdQuery = None, froze: IdQuery = None,
          scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    recorded = ""
    try:
        if done:
            a = requests.get(db, scope, done)
            recorded = "已记录：" + requests.Answer(a, a.status, a.result, a.result_amount, a.reference).sentence() \
                if a.status in requests.ANSWERS else ""
        elif froze:
            a = requests.get(db, scope, froze)
            recorded = f"已申请冻结：账号 {mask_target(a.target)}，请于 {requests.current_rules().answer_minutes['freeze']} " \
                       "分钟内办理"
    except DomainError:
        recorded = ""
    return _page(request, db, scope, recorded=recorded)


@router.post("/requests/{request_id}/answer/confirm", dependencies=[Depends(csrf_protect)])
def answer_confirm(request_id: IdPath, request: Request, db: Db, outcome: str = Form("", max_length=8),
                   result: str = Form("", max_length=1000), amount: str = Form("", max_length=20),
                   reference: str = Form("", max_length=64), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """回复, first press: checks what would be refused, then asks to confirm what will be recorded."""
    kept = _kept(request_id, outcome, result, amount, reference)
    try:
        plan = requests.check_answer(db, scope, request_id, outcome=outcome, result=result, amount=_amount(amount),
                                     reference=reference)
    except DomainError as exc:
        return _page(request, db, scope, error=exc.message, status_code=exc.status_code, ask=kept | {"failed": True})
    return _page(request, db, scope, ask=kept | {"sentence": plan.sentence()})


@router.post("/requests/{request_id}/answer", dependencies=[Depends(csrf_protect)])
def answer(request_id: IdPath, request: Request, db: Db, outcome: str = Form("", max_length=8),
           result: str = Form("", max_length=1000), amount: str = Form("", max_length=20),
           reference: str = Form("", max_length=64), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    try:
        requests.answer(db, scope, request_id, outcome=outcome, result=result, amount=_amount(amount),
                        reference=reference)
    except DomainError as exc:
        return _page(request, db, scope, error=exc.message, status_code=exc.status_code,
                     ask=_kept(request_id, outcome, result, amount, reference) | {"failed": True})
    return RedirectResponse(f"/requests?done={request_id}#recorded", status_code=303)


@router.post("/requests/{request_id}/freeze", dependencies=[Depends(csrf_protect)])
def freeze(request_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """申请冻结 of a 止付 nearing its lapse."""
    try:
        a = requests.freeze_from(db, scope, request_id)
    except DomainError as exc:
        return _page(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/requests?froze={a.id}#recorded", status_code=303)

