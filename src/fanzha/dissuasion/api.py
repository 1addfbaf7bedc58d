"""JSON API for dissuasion steps (for field apps): sign, contact, outcome, timeline, notifications, calling the
person or a family member (拨打), registering family contacts (家属联系人)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from fanzha.common.identity import mask_phone
from fanzha.common.text import Id, NoteText, PlainText
from fanzha.dissuasion import help as cross_help
from fanzha.dissuasion import offline, service
from fanzha.dissuasion.models import Contact
from fanzha.notify import service as notify
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings import service as warnings
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath

router = APIRouter(tags=["劝阻"], dependencies=[Depends(csrf_protect)])


class Queued(Strict):
    """What the phone's offline queue adds: the submission's key (a repeat answers the same and records nothing
    more), when it was recorded on the phone and the phone's clock when sent (see docs/dissuasion.md)."""

    idempotency_key: str | None = Field(None, max_length=36, description="UUID，同一用户同一编号只记录一次")
    device_at: datetime | None = Field(None, description="手机记录时间（带时区）")
    sent_at: datetime | None = Field(None, description="发送时的手机时间（带时区），用于判断时钟偏差")

    def sent(self) -> offline.Sent:
        return offline.Sent.parse(self.idempotency_key, self.device_at, self.sent_at)


def _answer(result: offline.Result, response: Response, **recorded) -> dict:
    sub = result.submission
    out = {"status": result.status, "repeated": result.repeated, **recorded}
    if sub is not None:
        out |= {"device_at": sub.device_at, "received_at": sub.received_at, "recorded_at": sub.trusted_at,
                "clock_skew_seconds": sub.clock_skew, "clock_skew_flagged": sub.skew_flagged}
    if result.status == "conflict":
        response.status_code = 202
        out["conflict"] = {"id": sub.id, "reason": sub.reason, "message": offline.REASONS[sub.reason]}
    return out


class ContactIn(Queued):
    channel: str = Field(max_length=16, description="phone sms face_to_face visit family")
    result: str = Field(max_length=16, description="reached not_reached refused")
    no_answer_reason: str = Field("", max_length=16, description="未接原因 of a call not reached: powered_off 关机, "
                                  "out_of_service 停机/空号, no_answer 无人接听, rejected 拒接, other 其他; empty: not given")
    note: NoteText = ""
    location: PlainText = Field("", max_length=120)
    notice_signed: bool = False
    checklist: list[str] = Field(default_factory=list, max_length=8)
    family_contact_id: Id | None = None


class OutcomeIn(Queued):
    outcome: str = Field(max_length=16, description="dissuaded defrauded unreachable not_needed refused")
    amount_protected: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="劝阻金额 (避免损失), with dissuaded; null when not known "
                                        "(the metrics then estimate it from 拟转账金额), 0 counts as 0")
    amount_lost: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="受骗金额, with defrauded")
    note: NoteText = ""
    target: str = Field("", max_length=8, description="劝阻对象: self 本人, family 亲友; empty: read from the contacts")
    success_kind: str = Field("", max_length=16, description="with dissuaded: self_guarded 自主防范, stopped 及时劝阻; "
                              "empty: 及时劝阻 in the feedback file")


class StepOut(BaseModel):
    at: datetime
    kind: str
    text: str
    who: str


@router.post("/warnings/{warning_id}/sign", summary="签收")
def sign(warning_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> dict:
    w = service.sign(db, scope, warning_id)
    return {"id": w.id, "signed_at": w.signed_at}


class HelpOfferOut(BaseModel):
    warning_id: int
    grade: str
    kind: str
    amount: Decimal | None
    station: str = Field(description="预警所属派出所")
    community: str = Field(description="村/社区（不含姓名、号码、地址）")
    waited_minutes: int


@router.get("/help-offers", response_model=list[HelpOfferOut],
            summary="可协助首次联系：邻近派出所无人空闲的预警（仅值班且手头无待首次联系的劝阻员）")
def help_offers(db: Db,
                scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))) -> list[HelpOfferOut]:
    return [HelpOfferOut(warning_id=o.warning.id, grade=o.warning.risk_grade, kind=o.warning.kind,
                         amount=o.warning.amount, station=o.warning.station.label if o.warning.station else "",
                         community=o.warning.community.label if o.warning.community else "",
                         waited_minutes=int(o.waited.total_seconds() // 60)) for o in cross_help.offers(db, scope)]


@router.post("/warnings/{warning_id}/help", summary="协助首次联系：接手邻所预警的首次联系（见面仍由该所负责）")
def take_help(warning_id: IdPath, db: Db,
              scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))) -> dict:
    w = cross_help.take(db, scope, warning_id)
    return {"id": w.id, "helper_id": w.helper_id, "helped_at": w.helped_at}


@router.post("/warnings/{warning_id}/contacts", status_code=201, summary="登记联系（照片请用页面上传）")
def contact(warning_id: IdPath, body: ContactIn, response: Response, db: Db,
            scope: Scope = Depends(current_scope)) -> dict:
    def record(at: datetime) -> int:
        return service.add_contact(db, scope, warning_id, channel=body.channel, result=body.result, note=body.note,
                                   family_contact_id=body.family_contact_id, now=at,
                                   no_answer_reason=body.no_answer_reason,
                                   evidence=service.Evidence(location=body.location, notice_signed=body.notice_signed,
                                                             checklist=tuple(body.checklist))).id

    result = offline.submit(db, scope, warning_id, kind="contact", sent=body.sent(), record=record,
                            payload=body.model_dump(exclude={"idempotency_key", "device_at", "sent_at"}))
    c = db.get(Contact, result.record_id) if result.record_id else None
    return _answer(result, response, id=c.id if c else None, counts_as_face=c.counts_as_face if c else False)


@router.post("/warnings/{warning_id}/outcome", summary="反馈结果并结案")
def outcome(warning_id: IdPath, body: OutcomeIn, response: Response, db: Db,
            scope: Scope = Depends(current_scope)) -> dict:
    def record(at: datetime) -> int:
        return service.set_outcome(db, scope, warning_id, outcome=body.outcome, amount_protected=body.amount_protected,
                                   amount_lost=body.amount_lost, note=body.note, target=body.target,
                                   success_kind=body.success_kind, now=at).id

    result = offline.submit(db, scope, warning_id, kind="outcome", sent=body.sent(), record=record,
                            payload=body.model_dump(mode="json", exclude={"idempotency_key", "device_at", "sent_at"}))
    if result.status == "conflict":
        return _answer(result, response, id=warning_id, outcome=None, feedback_at=None)
    w = warnings.get(db, scope, warning_id)
    return _answer(result, response, id=w.id, outcome=w.outcome, feedback_at=w.feedback_at)


@router.get("/conflicts", summary="离线提交冲突（本人的；所长另见本所的）")
def conflicts(db: Db, scope: Scope = Depends(current_scope)) -> dict:
    return {"items": [{"id": c.id, "warning_id": c.warning_id, "kind": c.kind, "reason": c.reason,
                       "message": offline.REASONS.get(c.reason, ""), "submitted": c.payload, "device_at": c.device_at,
                       "received_at": c.received_at, "by_user_id": c.user_id}
                      for c in offline.conflicts(db, scope)]}


@router.get("/warnings/{warning_id}/timeline", response_model=list[StepOut], summary="处置过程")
def timeline(warning_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    w = warnings.get(db, scope, warning_id)
    return [StepOut(at=s.at, kind=s.kind, text=s.text, who=s.who) for s in service.timeline(db, w)]


class FamilyIn(Strict):
    name: PlainText = Field(max_length=32, description="家属姓名")
    relation: PlainText = Field(max_length=16, description="关系：父亲、女儿、配偶……")
    phone: str = Field(max_length=24, description="手机号或带区号的固定电话")


class FamilyOut(BaseModel):
    id: int
    person_id: int
    name: str
    relation: str
    phone_masked: str


@router.post("/people/{person_id}/family", response_model=FamilyOut, status_code=201, summary="登记家属联系人")
def add_family(person_id: IdPath, body: FamilyIn, db: Db,
               scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    f = service.add_family(db, scope, person_id, name=body.name, relation=body.relation, phone=body.phone)
    return FamilyOut(id=f.id, person_id=f.person_id, name=f.name, relation=f.relation, phone_masked=mask_phone(f.phone))


class CallIn(Strict):
    family_contact_id: Id | None = Field(None, description="拨打该人员登记的这名家属；不填则拨打预警对象本人")


class DialOut(BaseModel):
    tel: str = Field(description="完整号码（每次取号都记入审计）")
    label: str


@router.post("/warnings/{warning_id}/call", response_model=DialOut, summary="拨打：取完整号码（审计留痕）")
def call(warning_id: IdPath, body: CallIn, response: Response, db: Db,
         scope: Scope = Depends(require(Perm.PII_FULL))):
    found = service.dial(db, scope, warning_id, body.family_contact_id)
    response.headers["Cache-Control"] = "no-store"
    return DialOut(tel=found.tel, label=found.label)


@router.get("/notifications", summary="我的通知")
def notifications(db: Db, scope: Scope = Depends(current_scope)) -> dict:
    rows = notify.inbox(db, scope.user_id, limit=50)
    return {"unread": notify.unread_count(db, scope.user_id),
            "items": [{"id": n.id, "title": n.title, "body": n.body, "link": n.link, "created_at": n.created_at,
                       "read": n.read_at is not None} for n in rows]}


@router.post("/notifications/read", summary="全部标为已读")
def read_all(db: Db, scope: Scope = Depends(current_scope)) -> dict:
    notify.mark_read(db, scope.user_id)
    return {"unread": notify.unread_count(db, scope.user_id)}
