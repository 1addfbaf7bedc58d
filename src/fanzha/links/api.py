"""JSON twins of 串并案: the centre's list by identifier and the links of one case or warning (links/service.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.links import service
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["串并案"], dependencies=[Depends(csrf_protect)])


class IdentifierOut(BaseModel):
    kind: str = Field(description="phone 对方电话 · account 对方账号 · url 对方网址 · app 涉诈APP · social 对方社交账号")
    value: str = Field(description="账号与电话脱敏")
    blocklisted: bool
    shared: int = Field(description="另有多少条记录（不论辖区）登记了它")


class LinkedOut(BaseModel):
    record_kind: str = Field(description="case 案件 · warning 预警")
    record_id: int
    number: str = Field(description="案件编号或预警编号")
    at: datetime = Field(description="立案时间或预警时间")
    area: str
    amount: Decimal | None = Field(description="案件的损失金额或预警的拟转账金额（元）")
    reasons: list[str]


class PanelOut(BaseModel):
    identifiers: list[IdentifierOut]
    linked: list[LinkedOut] = Field(description="您辖区内的串并记录")
    hidden: int = Field(description="外辖区串并记录条数（只计数，联系反诈中心）")


class BoardRowOut(BaseModel):
    kind: str
    value: str = Field(description="账号与电话脱敏")
    cases: int
    warnings: int
    loss: Decimal = Field(description="案件损失合计（元）")
    areas: list[str]
    blocklisted: bool


def _panel(p: service.Panel) -> PanelOut:
    return PanelOut(identifiers=[IdentifierOut(kind=o.kind, value=o.value, blocklisted=o.blocklisted, shared=o.shared)
                                 for o in p.identifiers],
                    linked=[LinkedOut(record_kind=x.record_kind, record_id=x.record_id, number=x.number, at=x.at,
                                      area=x.area, amount=x.loss, reasons=x.reasons) for x in p.linked],
                    hidden=p.hidden)


@router.get("/links", response_model=list[BoardRowOut], summary="串并案：按对方标识汇总（反诈中心）")
def board(db: Db, kind: str = Query("", pattern="^(phone|account|url|app|social)?$"),
          min_records: int = Query(2, ge=1, le=1000), limit: int = Query(service.BOARD_LIMIT, ge=1, le=1000),
          scope: Scope = Depends(current_scope)) -> list[BoardRowOut]:
    return [BoardRowOut(kind=r.kind, value=r.value, cases=r.cases, warnings=r.warnings, loss=r.loss, areas=r.areas,
                        blocklisted=r.blocklisted)
            for r in service.board(db, scope, kind=kind, min_records=min_records, limit=limit)]


@router.get("/cases/{case_id}/links", response_model=PanelOut, summary="案件的对方标识与串并记录")
def case_links(case_id: IdPath, db: Db,
               scope: Scope = Depends(current_scope)) -> PanelOut:
    return _panel(service.panel(db, scope, "case", case_id))


@router.get("/warnings/{warning_id}/links", response_model=PanelOut, summary="预警的对方标识与串并记录")
def warning_links(warning_id: IdPath, db: Db,
                  scope: Scope = Depends(current_scope)) -> PanelOut:
    return _panel(service.panel(db, scope, "warning", warning_id))
