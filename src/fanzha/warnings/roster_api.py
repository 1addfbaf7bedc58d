"""JSON twin of the station's 值班表 (warnings/roster.py); 改派 shares its tag (dissuasion/reassign_api.py)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from fanzha.common.text import Id
from fanzha.db import utcnow
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings import roster as duty
from fanzha.web.deps import Db, csrf_protect, current_scope

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

