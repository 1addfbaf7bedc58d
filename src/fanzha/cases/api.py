"""JSON API for cases (立案)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanzha.cases import service
from fanzha.cases.models import Case
from fanzha.common.identity import mask_id_number, mask_phone
from fanzha.common.text import NoteText, PlainText
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import csrf_protect, current_scope, get_db
from fanzha.web.params import IdPath

router = APIRouter(tags=["案件"], dependencies=[Depends(csrf_protect)])


class CaseIn(Strict):
    case_number: str = Field(min_length=1, max_length=64)
    filed_at: datetime | str
    loss_at: datetime | str | None = None
    name: PlainText = ""
    id_number: str | None = Field(None, max_length=24)
    phone: str | None = Field(None, max_length=24)
    address: PlainText = ""
    fraud_type: PlainText = ""
    loss_amount: Decimal | str = "0"
    narrative: NoteText = ""


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
    loss_amount: Decimal


def to_out(c: Case) -> CaseOut:
    return CaseOut(id=c.id, case_number=c.case_number, name=c.name, id_number=mask_id_number(c.id_number),
                   phone=mask_phone(c.phone), community_id=c.community_id, person_id=c.person_id, filed_at=c.filed_at,
                   loss_at=c.loss_at, fraud_type=c.fraud_type, loss_amount=c.loss_amount)


FIELDS = {"case_number": "案件编号", "filed_at": "立案时间", "loss_at": "被骗时间", "name": "姓名", "id_number": "身份证号",
          "phone": "手机号", "address": "发案地址", "fraud_type": "诈骗类型", "loss_amount": "损失金额", "narrative": "简要案情"}


@router.post("/cases", response_model=CaseOut, status_code=201, summary="登记案件")
def create(body: CaseIn, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    raw = {FIELDS[k]: v for k, v in body.model_dump().items() if v is not None}
    return to_out(service.create(db, scope, raw))


@router.get("/cases", response_model=list[CaseOut], summary="案件列表")
def list_cases(q: str = Query("", max_length=64), limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
               db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    rows, _ = service.search(db, scope, q=q, limit=limit, offset=offset)
    return [to_out(c) for c in rows]


@router.get("/cases/{case_id}", response_model=CaseOut, summary="案件详情")
def get_case(case_id: IdPath, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    return to_out(service.get(db, scope, case_id))
