"""JSON API for dissuasion steps (for field apps): sign, contact, outcome, timeline, notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanzha.common.text import Id, NoteText, PlainText
from fanzha.dissuasion import service
from fanzha.notify import service as notify
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings import service as warnings
from fanzha.web.deps import csrf_protect, current_scope, get_db
from fanzha.web.params import IdPath

router = APIRouter(tags=["劝阻"], dependencies=[Depends(csrf_protect)])


class ContactIn(Strict):
    channel: str = Field(max_length=16, description="phone sms face_to_face visit family")
    result: str = Field(max_length=16, description="reached not_reached refused")
    note: NoteText = ""
    location: PlainText = Field("", max_length=120)
    notice_signed: bool = False
    checklist: list[str] = Field(default_factory=list, max_length=8)
    family_contact_id: Id | None = None


class OutcomeIn(Strict):
    outcome: str = Field(max_length=16, description="dissuaded defrauded unreachable not_needed refused")
    amount_protected: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="劝阻金额 (避免损失), with dissuaded; null when not known "
                                        "(the metrics then estimate it from 拟转账金额), 0 counts as 0")
    amount_lost: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="受骗金额, with defrauded")
    note: NoteText = ""


class StepOut(BaseModel):
    at: datetime
    kind: str
    text: str
    who: str


@router.post("/warnings/{warning_id}/sign", summary="签收")
def sign(warning_id: IdPath, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)) -> dict:
    w = service.sign(db, scope, warning_id)
    return {"id": w.id, "signed_at": w.signed_at}


@router.post("/warnings/{warning_id}/contacts", status_code=201, summary="登记联系（照片请用页面上传）")
def contact(warning_id: IdPath, body: ContactIn, db: Session = Depends(get_db, scope="function"),
            scope: Scope = Depends(current_scope)) -> dict:
    c = service.add_contact(db, scope, warning_id, channel=body.channel, result=body.result, note=body.note,
                            family_contact_id=body.family_contact_id,
                            evidence=service.Evidence(location=body.location, notice_signed=body.notice_signed,
                                                      checklist=tuple(body.checklist)))
    return {"id": c.id, "counts_as_face": c.counts_as_face}


@router.post("/warnings/{warning_id}/outcome", summary="反馈结果并结案")
def outcome(warning_id: IdPath, body: OutcomeIn, db: Session = Depends(get_db, scope="function"),
            scope: Scope = Depends(current_scope)) -> dict:
    w = service.set_outcome(db, scope, warning_id, outcome=body.outcome, amount_protected=body.amount_protected,
                            amount_lost=body.amount_lost, note=body.note)
    return {"id": w.id, "outcome": w.outcome, "feedback_at": w.feedback_at}


@router.get("/warnings/{warning_id}/timeline", response_model=list[StepOut], summary="处置过程")
def timeline(warning_id: IdPath, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    w = warnings.get(db, scope, warning_id)
    return [StepOut(at=s.at, kind=s.kind, text=s.text, who=s.who) for s in service.timeline(db, w)]


@router.get("/notifications", summary="我的通知")
def notifications(db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)) -> dict:
    rows = notify.inbox(db, scope.user_id, limit=50)
    return {"unread": notify.unread_count(db, scope.user_id),
            "items": [{"id": n.id, "title": n.title, "body": n.body, "link": n.link, "created_at": n.created_at,
                       "read": n.read_at is not None} for n in rows]}
