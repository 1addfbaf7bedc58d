"""JSON twins of the 查询/止付/冻结 queue: list requests, raise one for a warning, answer one (cases/requests/service.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.cases.actions import mask_target
from fanzha.cases.models import CaseAction
from fanzha.cases.requests import service as requests
from fanzha.common.text import NoteText, PlainText
from fanzha.db import utcnow
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["查询/止付/冻结"], dependencies=[Depends(csrf_protect)])


class RequestOut(BaseModel):
    id: int
    kind: str = Field(description="query 快速查询 · stop_payment 止付 · freeze 冻结")
    status: str = Field(description="requested 待处理 · done 已查询/已止付/已冻结 · failed 未成功")
    status_label: str
    account: str = Field(description="账号（脱敏）")
    bank: str
    amount: Decimal
    warning_id: int | None
    case_id: int | None
    community_id: int | None
    requested_by: int | None
    requested_at: datetime
    deadline_at: datetime | None
    overdue: bool
    result: str
    result_amount: Decimal | None
    reference: str
    answered_by: int | None
    answered_at: datetime | None


def request_out(a: CaseAction, now: datetime) -> RequestOut:
    return RequestOut(id=a.id, kind=a.kind, status=a.status, status_label=requests.status_label(a),
                      account=mask_target(a.target), bank=a.institution, amount=a.amount, warning_id=a.warning_id,
                      case_id=a.case_id, community_id=a.community_id, requested_by=a.created_by,
                      requested_at=a.requested_at, deadline_at=a.deadline_at, overdue=requests.overdue(a, now),
                      result=a.result, result_amount=a.result_amount, reference=a.reference,
                      answered_by=a.answered_by, answered_at=a.done_at)


class AccountRequestIn(Strict):
    kind: Literal["query", "stop_payment", "freeze"]
    account: PlainText = Field(max_length=64, description="卡号、手机号或账户")
    bank: PlainText = Field("", max_length=64, description="开户行")
    amount: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="金额（元），查询可不填")


class AccountAnswerIn(Strict):
    outcome: Literal["done", "failed"] = Field(description="done 已查询/已止付/已冻结 · failed 未成功")
    result: NoteText = Field("", description="查询结果或说明")
    amount: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), description="银行确认的止付/冻结金额（元）")
    reference: PlainText = Field("", max_length=64, description="银行回执号")


@router.get("/requests", response_model=list[RequestOut], summary="查询/止付/冻结申请（待处理在前）")
def list_requests(db: Db, state: Literal["pending", "answered", "all"] = Query("all"),
                  scope: Scope = Depends(current_scope)):
    pending, answered = requests.queue(db, scope, answered=100)
    rows = (pending if state != "answered" else []) + (answered if state != "pending" else [])
    now = utcnow()
    return [request_out(a, now) for a in rows]


@router.post("/warnings/{warning_id}/requests", response_model=RequestOut, status_code=201,
             summary="为预警申请快速查询/止付/冻结")
def raise_request(warning_id: IdPath, body: AccountRequestIn, db: Db,
                  scope: Scope = Depends(current_scope)):
    a = requests.raise_for_warning(db, scope, warning_id, kind=body.kind, account=body.account, bank=body.bank,
                                   amount=body.amount)
    return request_out(a, utcnow())


@router.post("/requests/{request_id}/answer", response_model=RequestOut, summary="反诈中心回复申请")
def answer(request_id: IdPath, body: AccountAnswerIn, db: Db,
           scope: Scope = Depends(current_scope)):
    ans = requests.answer(db, scope, request_id, outcome=body.outcome, result=body.result, amount=body.amount,
                          reference=body.reference)
    return request_out(ans.request, utcnow())


@router.post("/requests/{request_id}/freeze", response_model=RequestOut, status_code=201,
             summary="止付即将失效：申请冻结同一账号")
def freeze(request_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return request_out(requests.freeze_from(db, scope, request_id), utcnow())
