"""JSON API for 回访: the queue of the user's areas, one 回访, and recording it (state and 宣防漏洞)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.common.text import NoteText, PlainText
from fanzha.db import utcnow
from fanzha.dissuasion.followups import rules, service
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["回访"], dependencies=[Depends(csrf_protect)])


class FollowUpOut(BaseModel):
    id: int
    reason: str = Field(description="defrauded 被骗回访 / repeat 重复预警回访 / sample 劝阻成功抽样回访 / case 立案受害人回访")
    warning_id: int | None
    case_id: int | None
    subject: str = Field(description="预警编号或案件编号")
    name: str = Field(description="回访对象姓名（脱敏）")
    phone: str = Field(description="手机号（脱敏）")
    place: str = Field(description="所在村/社区")
    station_id: int | None = Field(description="办理回访的派出所")
    due_at: datetime
    overdue: bool
    state: str | None = Field(description=" ".join(f"{k} {v}" for k, v in rules.STATES.items()) + "；null 未回访")
    tries: int = Field(description="暂时找不到的次数")
    done_at: datetime | None
    gaps: list[str] = Field(description="宣防漏洞：" + " ".join(f"{k} {v}" for k, v in rules.GAPS.items()))
    gap_other: str = Field(description="“其他”漏洞的说明")
    note: str
    escalated: str = Field(description="超期已升级至：head 所长 / centre 反诈中心；空 未升级")


class FollowUpRecordIn(Strict):
    state: str = Field(max_length=16, description=" ".join(f"{k} {v}" for k, v in rules.STATES.items()))
    gaps: list[str] = Field(default_factory=list, max_length=len(rules.GAPS),
                            description="宣防漏洞（见到本人时）：" + " ".join(rules.GAPS))
    gap_other: PlainText = Field("", max_length=500, description="选择 other 时必填")
    note: NoteText = ""


def _out(row: service.Row, now: datetime) -> FollowUpOut:
    f = row.f
    return FollowUpOut(id=f.id, reason=f.reason, warning_id=f.warning_id, case_id=f.case_id, subject=row.subject,
                       name=row.name, phone=row.phone, place=row.place, station_id=f.station_id, due_at=f.due_at,
                       overdue=row.overdue(now), state=f.outcome, tries=f.tries, done_at=f.done_at,
                       gaps=list(f.gaps or []), gap_other=f.missed_outreach, note=f.note, escalated=f.escalated)


@router.get("/follow-ups", response_model=list[FollowUpOut], summary="回访列表（本辖区）")
def queue(db: Db, state: str = Query("open", max_length=8, description="open 待回访 / overdue 已超期 / done 已完成 / 空 全部"),
          reason: str = Query("", max_length=12), scope: Scope = Depends(current_scope)):
    now = utcnow()
    return [_out(r, now) for r in service.search(db, scope, service.Filters(state=state, reason=reason), now=now)]


@router.get("/follow-ups/{follow_up_id}", response_model=FollowUpOut, summary="一条回访")
def one(follow_up_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return _out(service.get(db, scope, follow_up_id), utcnow())


@router.post("/follow-ups/{follow_up_id}", response_model=FollowUpOut, summary="登记回访（状态与宣防漏洞）")
def record(follow_up_id: IdPath, body: FollowUpRecordIn, db: Db,
           scope: Scope = Depends(current_scope)):
    now = utcnow()
    service.record(db, scope, follow_up_id, outcome=body.state, gaps=body.gaps, missed_outreach=body.gap_other,
                   note=body.note, now=now)
    return _out(service.get(db, scope, follow_up_id), now)
