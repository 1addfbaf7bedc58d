"""Who is told about a warning at each level: its dissuader (or the station's dissuaders when nobody holds it), the
station's heads, the centre. Alerts at arrival (warnings/alerts.py), escalations (dissuasion/escalation.py), the 积压
digest and the centre's 查询/止付/冻结 queue all tell these people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Role
from fanzha.warnings.models import Warning


class Recipients:
    """Who is told at each level of a warning (alerts at arrival use the same people)."""

    def __init__(self, session: Session):
        self.session = session
        self._by_station: dict[tuple[str, int], list[int]] = {}
        self._centre: list[int] | None = None

    def of(self, level: str, w: Warning) -> list[int]:
        if level == "assignee":
            if w.assignee_id:
                return [w.assignee_id]
            return self._station(Role.DISSUADER, w.station_id)
        if level == "head":
            return self._station(Role.STATION_HEAD, w.station_id)
        if self._centre is None:
            self._centre = list(self.session.scalars(
                select(User.id).join(Area, User.area_id == Area.id).where(
                    User.role.in_([Role.CENTRE_ANALYST, Role.CENTRE_ADMIN]), User.is_active.is_(True),
                    Area.level.in_([Level.BUREAU, Level.BRANCH]))))
        return self._centre

    def station_heads(self, station_id: int) -> list[int]:
        return self._station(Role.STATION_HEAD, station_id)

    def _station(self, role: Role, station_id: int | None) -> list[int]:
        if station_id is None:
            return []
        key = (role.value, station_id)
        if key not in self._by_station:
            self._by_station[key] = list(self.session.scalars(select(User.id).where(
                User.role == role, User.area_id == station_id, User.is_active.is_(True))))
        return self._by_station[key]
