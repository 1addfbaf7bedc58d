"""JSON twins of the station's tools: the 值班表 (warnings/roster.py) and 改派 (dissuasion/service.reassign)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from fanzha.common.text import Id, PlainText
from fanzha.db import utcnow
from fanzha.dissuasion import service as dissuasion
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings import roster as duty
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["值班与改派"], dependencies=[Depends(csrf_protect)])


class ShiftIn(Strict):
    user_id: Id = Field(description="本所在岗的劝阻员")
    starts_at: AwareDatetime = Field(description="开始（带时区）")
    ends_at: AwareDatetime = Field(description="结束（带时区），晚于开始，最长7天")


class ShiftOut(BaseModel):
    id: int
    user_id: int
    user: str
    station_id: int
    starts_at: datetime
    ends_at: datetime
    on_duty: bool


def _shift(s, now: datetime) -> ShiftOut:
    return ShiftOut(id=s.id, user_id=s.user_id, user=s.user.display_name, station_id=s.station_id,
                    starts_at=s.starts_at, ends_at=s.ends_at, on_duty=s.starts_at <= now < s.ends_at)


@router.get("/roster", response_model=list[ShiftOut], summary="值班表（本所；结束不足一天的班次也列出）")
def roster(db: Db, scope: Scope = Depends(current_scope)):
    r = duty.roster(db, scope)
    return [_shift(s, r.now) for s in r.shifts]


@router.post("/roster", response_model=ShiftOut, status_code=201, summary="新增班次")
def add_shift(body: ShiftIn, db: Db, scope: Scope = Depends(current_scope)):
    s = duty.add_shift(db, scope, user_id=body.user_id, starts_at=body.starts_at, ends_at=body.ends_at)
    db.refresh(s)
    return _shift(s, utcnow())


class ReassignIn(Strict):
    user_id: Id = Field(description="接手的人：本所的劝阻员或民警（反诈中心可改派给任何派出所的人，预警随之移交）")
    reason: PlainText = Field(max_length=200, description="改派原因（必填）")


@router.post("/warnings/{warning_id}/reassign", summary="改派（原指派保留在处置过程中）")
def reassign(warning_id: IdPath, body: ReassignIn, db: Db,
             scope: Scope = Depends(current_scope)) -> dict:
    done = dissuasion.reassign(db, scope, warning_id, user_id=body.user_id, reason=body.reason)
    w = done.warning
    return {"id": w.id, "assignee_id": w.assignee_id, "station_id": w.station_id, "moved": done.moves,
            "text": done.sentence()}
