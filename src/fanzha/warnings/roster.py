"""值班表: the station's dissuaders on duty, from which dispatch picks (warnings/dispatch.py). A station head (or the
centre, for the stations it covers) adds a shift of one of the station's active dissuaders, at most 7 days long.
The page (/warnings/roster) and the API (/api/v1/roster) both go through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import Invalid
from fanzha.db import utcnow
from fanzha.org import service as org
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.warnings.models import DutyShift

MAX_SHIFT = timedelta(days=7)


@dataclass
class Roster:
    stations: list[Area]
    dissuaders: list[User]
    shifts: list[DutyShift]  # those not ended more than a day ago
    now: datetime


def _staff(session: Session, scope: Scope) -> tuple[list[Area], list[User]]:
    """The user's stations and their active dissuaders."""
    scope.require(Perm.MANAGE_ROSTER)
    stations = [a for a in org.list_areas(session, scope, level=Level.STATION.value, limit=1000) if scope.covers(a)]
    dissuaders = list(session.scalars(select(User).where(
        User.role == Role.DISSUADER, User.area_id.in_([s.id for s in stations]), User.is_active.is_(True))
        .order_by(User.area_id, User.id)))
    return stations, dissuaders


def roster(session: Session, scope: Scope, now: datetime | None = None) -> Roster:
    now = now or utcnow()
    stations, dissuaders = _staff(session, scope)
    shifts = list(session.scalars(select(DutyShift).where(DutyShift.station_id.in_([s.id for s in stations]),
                                                          DutyShift.ends_at > now - timedelta(days=1))
                                  .order_by(DutyShift.starts_at)))
    return Roster(stations=stations, dissuaders=dissuaders, shifts=shifts, now=now)


def add_shift(session: Session, scope: Scope, *, user_id: int, starts_at: datetime | None,
              ends_at: datetime | None) -> DutyShift:
    """A shift for one of the user's stations' active dissuaders; refused with the reason otherwise."""
    user = next((u for u in _staff(session, scope)[1] if u.id == user_id), None)
    if user is None:
        raise Invalid("请选择本所的劝阻员", details=[{"loc": ["user_id"], "msg": "不是本所在岗的劝阻员"}])
    if starts_at is None or ends_at is None:
        raise Invalid("请填写正确的起止时间", details=[{"loc": ["starts_at" if starts_at is None else "ends_at"],
                                                     "msg": "时间格式不对"}])
    if ends_at <= starts_at or ends_at - starts_at > MAX_SHIFT:
        raise Invalid("结束时间应晚于开始时间，且一班最长7天", details=[{"loc": ["ends_at"], "msg": "起止不对"}])
    shift = DutyShift(user_id=user.id, station_id=user.area_id, starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    session.flush()
    audit.record(session, scope, "create", "duty_shift", shift.id,
                 detail={"user": user.id, "from": starts_at.isoformat(), "to": ends_at.isoformat()})
    return shift
