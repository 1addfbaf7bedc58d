"""移交审核 pages: 移交 asked from the warning page (confirmed first), and /transfers, where the receiving station
accepts or returns what was sent to it (each confirmed first) and the sender sees what waits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import DomainError, Forbidden
from fanzha.common.privacy import identity
from fanzha.dissuasion.transfers import service
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import views as warning_pages
from fanzha.warnings.views import detail_asking, detail_with_error
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdPath, IdQuery
from fanzha.web.render import render

router = APIRouter()


@warning_pages.add_board_part
def _waiting(db: Session, scope: Scope, f, now) -> dict:
    """The board's 待接收移交 button, for a user whose station may receive transfers (None: no button)."""
    return {"transfers_waiting": service.incoming_count(db, scope) if service.may_receive(scope) else None}


@warning_pages.add_detail_part
def _pending(db: Session, scope: Scope, warning) -> dict:
    """The warning page's 移交 asked and not yet accepted or returned (移交待审)."""
    return {"transfer": service.pending_of(db, warning.id)}


def _kept(station_id: int, unit: str, reason: str) -> dict:
    return {"form": "transfer", "station_id": station_id, "unit": unit, "reason": reason}


@router.post("/warnings/{warning_id}/transfer/confirm", dependencies=[Depends(csrf_protect)])
def transfer_confirm(warning_id: IdPath, request: Request, db: Db, station_id: IdForm = 0,
                     unit: str = Form("", max_length=100), reason: str = Form("", max_length=200),
                     scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """移交, first press: checks what would be refused, then asks 将预警 … 移交至 … to confirm."""
    kept = _kept(station_id, unit, reason)
    try:
        plan = service.check_request(db, scope, warning_id, station_id=station_id, unit=unit, reason=reason)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    return detail_asking(request, db, scope, warning_id, "transfer", kept | {"sentence": plan.sentence()})


@router.post("/warnings/{warning_id}/transfer", dependencies=[Depends(csrf_protect)])
def transfer(warning_id: IdPath, request: Request, db: Db, station_id: IdForm = 0, unit: str = Form("", max_length=100),
             reason: str = Form("", max_length=200), scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    try:
        service.request(db, scope, warning_id, station_id=station_id, unit=unit, reason=reason)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, _kept(station_id, unit, reason))
    return RedirectResponse(f"/warnings/{warning_id}?done=transfer", status_code=303)


def _page(request: Request, db: Session, scope: Scope, *, error: str = "", status_code: int = 200, ask: str = "",
          asked=None, answer: str = "", done: str = ""):
    """待接收 (what others sent to the user's station) and 移交待审 (what it sent), summaries masked; viewed rows
    audited as the board's are."""
    incoming, outgoing = service.incoming(db, scope), service.outgoing(db, scope)
    warnings = service.warnings_of(db, incoming + outgoing)
    if warnings:
        audit.record(db, scope, "view", "warning", "", fields=["name"], detail={"ids": sorted(warnings)})
    masked = {i: identity(name=w.name, id_number=w.id_number, phone=w.phone, full=False, name_full=False)
              for i, w in warnings.items()}
    return render(request, "dissuasion/transfers.html", status_code=status_code, incoming=incoming,
                  outgoing=outgoing, warnings=warnings, masked=masked, error=error, ask=ask, asked=asked,
                  answer=answer, done=done, STATUSES=service.STATUSES)


def _receiver(scope: Scope = Depends(require(Perm.READ_WARNINGS))) -> Scope:
    if not service.may_receive(scope):
        raise Forbidden("您的角色不能接收或退回移交")
    return scope


@router.get("/transfers")
def transfers(request: Request, db: Db, done: IdQuery = None, scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """移交审核: the list, with the message of an answer just given (?done=<transfer id>)."""
    said = service.answered(db, scope, done) if done else None
    return _page(request, db, scope, done=said[2] if said else "")


def _refused(request: Request, db: Session, scope: Scope, exc: DomainError, answer: str = ""):
    if exc.status_code == 404:
        raise exc
    db.rollback()
    return _page(request, db, scope, error=exc.message, status_code=exc.status_code, answer=answer)


@router.post("/transfers/{transfer_id}/accept/confirm", dependencies=[Depends(csrf_protect)])
def accept_confirm(transfer_id: IdPath, request: Request, db: Db,
                   scope: Scope = Depends(_receiver)):
    """接收, first press: asks before the warning moves here."""
    try:
        t = service.check_answer(db, scope, transfer_id, accept=True)
    except DomainError as exc:
        return _refused(request, db, scope, exc)
    return _page(request, db, scope, ask="accept", asked=t)


@router.post("/transfers/{transfer_id}/accept", dependencies=[Depends(csrf_protect)])
def accept(transfer_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(_receiver)):
    try:
        t = service.accept(db, scope, transfer_id)
    except DomainError as exc:
        return _refused(request, db, scope, exc)
    return RedirectResponse(f"/transfers?done={t.id}", status_code=303)


@router.post("/transfers/{transfer_id}/return/confirm", dependencies=[Depends(csrf_protect)])
def return_confirm(transfer_id: IdPath, request: Request, db: Db, answer: str = Form("", max_length=200),
                   scope: Scope = Depends(_receiver)):
    """退回, first press: the reason is required; asks before the sender is told."""
    try:
        t = service.check_answer(db, scope, transfer_id, accept=False, answer=answer)
    except DomainError as exc:
        return _refused(request, db, scope, exc, answer)
    return _page(request, db, scope, ask="return", asked=t, answer=answer.strip())


@router.post("/transfers/{transfer_id}/return", dependencies=[Depends(csrf_protect)])
def give_back(transfer_id: IdPath, request: Request, db: Db, answer: str = Form("", max_length=200),
              scope: Scope = Depends(_receiver)):
    try:
        t = service.give_back(db, scope, transfer_id, answer=answer)
    except DomainError as exc:
        return _refused(request, db, scope, exc, answer)
    return RedirectResponse(f"/transfers?done={t.id}", status_code=303)
