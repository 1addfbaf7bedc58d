"""JSON API for cases (立案): the register with its 打 side, type confirmation, actions, and 宣防漏洞."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.audit import service as audit
from fanzha.cases import actions, service
from fanzha.cases.models import Case, CaseAction
from fanzha.common.text import NoteText, PlainText
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery, Offset

router = APIRouter(tags=["案件"], dependencies=[Depends(csrf_protect)])
Money = Decimal | str


class CaseFields(Strict):
    """Every field but the number and filing time; each optional (a blank leaves derived values to the system)."""

    loss_at: datetime | str | None = None
    name: PlainText | None = None
    id_number: str | None = Field(None, max_length=24)
    phone: str | None = Field(None, max_length=24)
    address: PlainText | None = None
    fraud_type: PlainText | None = None
    loss_amount: Money | None = None
    narrative: NoteText | None = None
    recovered_amount: Money | None = None
    frozen_amount: Money | None = None
    stop_amount: Money | None = None
    solved_at: datetime | str | None = None
    suspects_caught: int | None = Field(None, ge=0, le=1000)
    caught_at: datetime | str | None = None
    channel: PlainText | None = None
    victim_sex: PlainText | None = None
    victim_age: int | None = Field(None, ge=0, le=120)
    victim_occupation: PlainText | None = None
    employer: PlainText | None = None
    preventable: bool | None = None
    counterparty_phones: NoteText | None = Field(None, max_length=1000, description="对方电话，多个以、，,;；或空格分隔")
    counterparty_accounts: NoteText | None = Field(None, max_length=1000, description="对方账号（银行卡、支付账号）")
    counterparty_urls: NoteText | None = Field(None, max_length=1000, description="对方网址")
    counterparty_apps: NoteText | None = Field(None, max_length=1000, description="涉诈APP名称，多个以、，,;；分隔")
    counterparty_social: NoteText | None = Field(None, max_length=1000, description="对方QQ号或微信号")


class CaseIn(CaseFields):
    case_number: str = Field(min_length=1, max_length=64)
    filed_at: datetime | str


class CasePatch(CaseFields):
    filed_at: datetime | str | None = None


class TypeIn(Strict):
    fraud_type: str = Field(pattern=r"^[a-z_]{2,32}$")


class ActionIn(Strict):
    kind: PlainText = Field(min_length=1)
    target: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_@.+\- ]+$")
    target_type: PlainText = ""
    holder_name: PlainText = ""
    holder_id_number: str | None = Field(None, max_length=24, pattern=r"^[0-9Xx ]*$")
    institution: PlainText = ""
    amount: Money = "0"
    status: PlainText = ""
    requested_at: datetime | str | None = None
    done_at: datetime | str | None = None
    note: NoteText = ""


class CaseOut(BaseModel):
    id: int
    case_number: str
    name: str
    id_number: str
    phone: str
    community_id: int | None
    person_id: int | None
    filed_at: datetime
    loss_at: datetime
    fraud_type: str
    type_status: str
    type_confidence: float | None
    loss_amount: Decimal
    recovered_amount: Decimal
    frozen_amount: Decimal
    solved_at: datetime | None
    suspects_caught: int
    caught_at: datetime | None
    channel: str
    victim_sex: str
    victim_age: int | None
    victim_occupation: str
    victim_groups: list[str]
    employer_unit_id: int | None
    employer_name: str
    preventable: bool | None
    narrative: str


class ActionOut(BaseModel):
    id: int
    kind: str
    case_id: int | None
    community_id: int | None
    target_type: str
    target: str
    holder_name: str
    holder_id_number: str
    institution: str
    amount: Decimal
    status: str
    requested_at: datetime
    done_at: datetime | None
    note: str


def to_out(c: Case) -> CaseOut:
    shown = service.shown_identity(c)
    return CaseOut(id=c.id, case_number=c.case_number, name=shown.name, id_number=shown.id_number,
                   phone=shown.phone, community_id=c.community_id, person_id=c.person_id, filed_at=c.filed_at,
                   loss_at=c.loss_at, fraud_type=c.fraud_type, type_status=c.type_status,
                   type_confidence=c.type_confidence, loss_amount=c.loss_amount, recovered_amount=c.recovered_amount,
                   frozen_amount=c.frozen_amount, solved_at=c.solved_at, suspects_caught=c.suspects_caught,
                   caught_at=c.caught_at, channel=c.channel, victim_sex=c.victim_sex, victim_age=c.victim_age,
                   victim_occupation=c.victim_occupation, victim_groups=list(c.victim_groups or []),
                   employer_unit_id=c.employer_unit_id, employer_name=c.employer_name, preventable=c.preventable,
                   narrative=c.narrative)


def action_out(a: CaseAction, reveal: bool = False) -> ActionOut:
    shown = actions.shown(a, reveal)
    return ActionOut(id=a.id, kind=a.kind, case_id=a.case_id, community_id=a.community_id, target_type=a.target_type,
                     target=shown["target"], holder_name=a.holder_name, holder_id_number=shown["holder_id_number"],
                     institution=a.institution, amount=a.amount, status=a.status, requested_at=a.requested_at,
                     done_at=a.done_at, note=a.note)


FIELDS = {"case_number": "案件编号", "filed_at": "立案时间", "loss_at": "被骗时间", "name": "姓名", "id_number": "身份证号",
          "phone": "手机号", "address": "发案地址", "fraud_type": "诈骗类型", "loss_amount": "损失金额", "narrative": "简要案情",
          "recovered_amount": "追回金额", "frozen_amount": "冻结金额", "stop_amount": "止付金额", "solved_at": "破案时间",
          "suspects_caught": "抓获人数", "caught_at": "抓获时间", "channel": "诈骗渠道", "victim_sex": "受害人性别",
          "victim_age": "受害人年龄", "victim_occupation": "受害人职业", "employer": "工作单位", "preventable": "可防性",
          "counterparty_phones": "对方电话", "counterparty_accounts": "对方账号", "counterparty_urls": "对方网址",
          "counterparty_apps": "涉诈APP", "counterparty_social": "对方社交账号"}
ACTION_FIELDS = {"kind": "类别", "target": "账号", "target_type": "对象类型", "holder_name": "户主姓名",
                 "holder_id_number": "户主身份证号", "institution": "机构", "amount": "金额", "status": "状态",
                 "requested_at": "申请时间", "done_at": "完成时间", "note": "备注"}


def _raw(body: BaseModel, names: dict[str, str]) -> dict[str, object]:
    out = {}
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        out[names[key]] = str(value) if not isinstance(value, datetime) else value
    return out


@router.post("/cases", response_model=CaseOut, status_code=201, summary="登记案件")
def create(body: CaseIn, db: Db, scope: Scope = Depends(current_scope)):
    return to_out(service.create(db, scope, _raw(body, FIELDS)))


@router.get("/cases", response_model=list[CaseOut], summary="案件列表")
def list_cases(db: Db, q: str = Query("", max_length=64), fraud_type: str = Query("", max_length=32),
               pending_type: bool = False, solved: str = Query("", pattern="^(yes|no)?$"),
               start: date | None = None, end: date | None = None, area_id: IdQuery = None,
               limit: int = Query(50, ge=1, le=1000), offset: Offset = 0,
               scope: Scope = Depends(current_scope)):
    f = service.Filters(q=q.strip(), fraud_type=fraud_type, pending_type=pending_type, solved=solved, start=start,
                        end=end, area_id=area_id)
    rows, _ = service.search(db, scope, limit=limit, offset=offset, filters=f)
    return [to_out(c) for c in rows]


@router.get("/cases/{case_id}", response_model=CaseOut, summary="案件详情")
def get_case(case_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return to_out(service.get(db, scope, case_id))


@router.patch("/cases/{case_id}", response_model=CaseOut, summary="修改案件（破案、抓获、追回等）")
def update_case(case_id: IdPath, body: CasePatch, db: Db,
                scope: Scope = Depends(current_scope)):
    return to_out(service.update(db, scope, case_id, _raw(body, FIELDS)))


@router.post("/cases/{case_id}/type", response_model=CaseOut, summary="确认或更改诈骗类型")
def confirm_type(case_id: IdPath, body: TypeIn, db: Db,
                 scope: Scope = Depends(current_scope)):
    return to_out(service.confirm_type(db, scope, case_id, body.fraud_type))


@router.get("/cases/{case_id}/actions", response_model=list[ActionOut], summary="案件的止付/冻结/断卡/封号记录")
def list_actions(case_id: IdPath, db: Db, reveal: bool = False, scope: Scope = Depends(current_scope)):
    rows = actions.list_for_case(db, scope, case_id)
    if reveal:
        scope.require(Perm.PII_FULL)
        audit.record(db, scope, "reveal", "case_action", "", fields=["id_number"], detail={"case_id": case_id})
    return [action_out(a, reveal) for a in rows]


@router.post("/cases/{case_id}/actions", response_model=ActionOut, status_code=201, summary="登记止付/冻结/断卡/封号")
def add_action(case_id: IdPath, body: ActionIn, db: Db,
               scope: Scope = Depends(current_scope)):
    return action_out(actions.add(db, scope, case_id, _raw(body, ACTION_FIELDS)))


@router.get("/case-actions", response_model=list[ActionOut], summary="止付/冻结/断卡线索/封号记录（含未关联案件的线索）")
def search_actions(db: Db, kind: str = Query("", pattern="^(stop_payment|freeze|card_lead|account_block)?$"),
                   limit: int = Query(50, ge=1, le=1000), offset: Offset = 0,
                   scope: Scope = Depends(current_scope)):
    return [action_out(a) for a in actions.search(db, scope, kind=kind, limit=limit, offset=offset)]
