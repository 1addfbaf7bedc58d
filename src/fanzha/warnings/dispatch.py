"""Dispatch (分流): leaf → station, and within a station the on-duty dissuader with the fewest open warnings."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Role
from fanzha.warnings import open_set
from fanzha.warnings.models import DutyShift, Warning

OPEN_STATUSES = ("dispatched", "assigned")


def station_of_communities(session: Session) -> dict[int, int]:
    """community id → station id (a community covered by a 警务区 belongs to that beat's station)."""
    police = {a.id: a for a in session.scalars(select(Area).where(Area.level.in_([Level.STATION, Level.BEAT])))}
    out = {}
    for cid, pid in session.execute(select(Area.id, Area.police_area_id).where(Area.level == Level.COMMUNITY)):
        node = police.get(pid)
        if node is None:
            continue
        out[cid] = node.id if node.level == Level.STATION else node.parent_id
    return out


def duty_at(session: Session, at: datetime) -> tuple[set[int], dict[int, set[int]]]:
    """The roster (值班表) at `at`: the stations that keep one at all, and per station the users on a shift then."""
    rostered = set(session.scalars(select(DutyShift.station_id).distinct()))
    on_duty: dict[int, set[int]] = defaultdict(set)
    for uid, station_id in session.execute(select(DutyShift.user_id, DutyShift.station_id).where(
            DutyShift.starts_at <= at, DutyShift.ends_at > at)):
        on_duty[station_id].add(uid)
    return rostered, on_duty


def duty_pool(session: Session, at: datetime) -> dict[int, list[int]]:
    """Per station, the dissuaders on duty at `at`: those on a shift then, or every active one where the station
    keeps no roster at all (so warnings never wait for a roster nobody filled in)."""
    dissuaders: dict[int, list[int]] = defaultdict(list)
    for uid, area_id in session.execute(select(User.id, User.area_id).where(User.role == Role.DISSUADER,
                                                                          User.is_active.is_(True))):
        dissuaders[area_id].append(uid)
    rostered, shifts = duty_at(session, at)
    on_duty: dict[int, list[int]] = defaultdict(list)
    for station_id, uids in shifts.items():
        on_duty[station_id] = [uid for uid in uids if uid in dissuaders.get(station_id, [])]
    pool = {sid: sorted(set(on_duty.get(sid, []))) if sid in rostered else sorted(uids)
            for sid, uids in dissuaders.items()}
    for sid in rostered - set(pool):
        pool[sid] = sorted(set(on_duty.get(sid, [])))
    return pool


class Assigner:
    """Least-loaded on-duty dissuader per station, keeping its own tally while a batch is dispatched.

    On duty = a shift in the roster covering `at`; a station that keeps no roster at all has every active
    dissuader on duty, so warnings never wait for a roster nobody filled in.
    """

    def __init__(self, session: Session, at: datetime):
        self.session = session
        self.at = at
        self._pool: dict[int, list[int]] | None = None
        self._load: dict[int, int] = defaultdict(int)

    def _build(self) -> dict[int, list[int]]:
        s = self.session
        pool = duty_pool(s, self.at)
        for uid, n in s.execute(select(Warning.assignee_id, func.count()).where(  # open load: what they hold now
                open_set.clause(s), Warning.assignee_id.is_not(None)).group_by(Warning.assignee_id)):
            if uid is not None:
                self._load[uid] = n
        return pool

    def ready(self) -> Assigner:
        """Loads the pool and the loads now, so that pick() never touches the database."""
        if self._pool is None:
            self._pool = self._build()
        return self

    def pick(self, station_id: int) -> int | None:
        self.ready()
        candidates = self._pool.get(station_id) or []
        if not candidates:
            return None
        chosen = min(candidates, key=lambda uid: (self._load[uid], uid))
        self._load[chosen] += 1
        return chosen
