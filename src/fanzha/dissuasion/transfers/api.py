"""JSON API for 移交审核: ask for a 移交 (or 移交外地), list the pending ones for me, accept, return."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanzha.common.errors import Forbidden
from fanzha.common.privacy import identity
from fanzha.common.text import Id, PlainText
from fanzha.dissuasion.transfers import service
from fanzha.dissuasion.transfers.models import WarningTransfer
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["移交审核"], dependencies=[Depends(csrf_protect)])


class TransferIn(Strict):
    station_id: Id | None = Field(None, description="接收的派出所（本平台内）；移交外地时不填")
    unit: PlainText = Field("", max_length=100, description="外地接收单位（本平台辖区以外）：填写即以“已移交外地”结案")
    reason: PlainText = Field(max_length=200, description="移交原因")


class AnswerIn(Strict):
    answer: PlainText = Field(max_length=200, description="退回原因（必填）")


class TransferOut(BaseModel):
    id: int
    warning_id: int
    external_id: str
    status: str = Field(description="pending 移交待审 / accepted 已接收 / returned 已退回 / outside 已移交外地")
    from_station_id: int | None
    to_station_id: int | None
    to_unit: str
    reason: str
    answer: str
    requested_at: datetime
    decided_at: datetime | None
    name: str = Field("", description="预警对象姓名（脱敏）")


def _out(t: WarningTransfer, w: Warning) -> TransferOut:
    masked = identity(name=w.name, id_number=w.id_number, phone=w.phone, full=False, name_full=False)
    return TransferOut(id=t.id, warning_id=w.id, external_id=w.external_id, status=t.status,
                       from_station_id=t.from_station_id, to_station_id=t.to_station_id, to_unit=t.to_unit,
                       reason=t.reason, answer=t.answer, requested_at=t.requested_at, decided_at=t.decided_at,
                       name=masked.name or "")


def _one(db: Session, t: WarningTransfer) -> TransferOut:
    return _out(t, db.get(Warning, t.warning_id))


def _receiver(scope: Scope = Depends(current_scope)) -> Scope:
    if not service.may_receive(scope):
        raise Forbidden("您的角色不能接收或退回移交")
    return scope


@router.post("/warnings/{warning_id}/transfers", status_code=201, response_model=TransferOut,
             summary="申请移交（对方接收或退回）或移交外地（结案）")
def request_transfer(warning_id: IdPath, body: TransferIn, db: Db,
                     scope: Scope = Depends(current_scope)):
    t = service.request(db, scope, warning_id, station_id=body.station_id or 0, unit=body.unit, reason=body.reason)
    return _one(db, t)


@router.get("/transfers", summary="移交待审：发给我单位的（incoming）和我单位发出的（outgoing）")
def pending(db: Db, scope: Scope = Depends(current_scope)) -> dict:
    incoming, outgoing = service.incoming(db, scope), service.outgoing(db, scope)
    warnings = service.warnings_of(db, incoming + outgoing)
    if warnings:
        from fanzha.audit import service as audit

        audit.record(db, scope, "view", "warning", "", fields=["name"], detail={"ids": sorted(warnings)})
    return {"incoming": [_out(t, warnings[t.warning_id]) for t in incoming],
            "outgoing": [_out(t, warnings[t.warning_id]) for t in outgoing]}


@router.post("/transfers/{transfer_id}/accept", response_model=TransferOut, summary="接收移交")
def accept(transfer_id: IdPath, db: Db, scope: Scope = Depends(_receiver)):
    return _one(db, service.accept(db, scope, transfer_id))


@router.post("/transfers/{transfer_id}/return", response_model=TransferOut, summary="退回移交（须填原因）")
def give_back(transfer_id: IdPath, body: AnswerIn, db: Db,
              scope: Scope = Depends(_receiver)):
    return _one(db, service.give_back(db, scope, transfer_id, answer=body.answer))
