"""Who may hold a warning, for 改派: the active users of a station whose role takes warnings (the board's rule,
warnings.service.holders: 劝阻员, 民警, 社区民警, 所长, offered in that order), who of them is on duty now (值班表)
and how many open warnings each holds. A station head chooses among the warning's own station; the centre among
every station it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.common.errors import Invalid
from fanzha.org.models import Area, User
from fanzha.org.roles import ROLE_LABELS, Perm, Role
from fanzha.org.scope import Scope
from fanzha.warnings import open_set
from fanzha.warnings.dispatch import duty_at
from fanzha.warnings.models import Warning
from fanzha.warnings.service import holders as station_holders

# The order the choices are offered in (who may hold a warning at all is warnings.service.holders' rule).
ROLE_ORDER = (Role.DISSUADER, Role.STATION_OFFICER, Role.COMMUNITY_POLICE, Role.STATION_HEAD)


@dataclass
class Holder:
    user: User
    station: Area
    on_duty: bool | None  # a dissuader on the roster now; None: not a dissuader, or the station keeps no roster
    open_count: int
    current: bool  # holds this warning now

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.user.role), "")


def may_reassign(scope: Scope) -> bool:
    """改派 and 移交: the station head (MANAGE_ROSTER) or the centre's dispatch (INTAKE_WARNINGS)."""
    return scope.can(Perm.MANAGE_ROSTER) or scope.can(Perm.INTAKE_WARNINGS)


def holders(session: Session, scope: Scope, w: Warning, *, now: datetime) -> list[Holder]:
    """The users the warning may be handed to, grouped by station (its own first), dissuaders and those on duty
    first; the current holder is in the list, marked, so the page can show who has it."""
    groups = [(a, users) for a, users in station_holders(session, scope) if scope.is_centre or a.id == w.station_id]
    groups.sort(key=lambda g: g[0].id != w.station_id)
    ids = [u.id for _, users in groups for u in users]
    if not ids:
        return []
    load = dict(session.execute(select(Warning.assignee_id, func.count()).where(
        open_set.clause(session), Warning.assignee_id.in_(ids)).group_by(Warning.assignee_id)).all())
    rostered, shifts = duty_at(session, now)
    out = []
    for order, (station, users) in enumerate(groups):
        for u in users:
            on_duty = (u.id in shifts.get(station.id, set())) \
                if station.id in rostered and u.role == Role.DISSUADER else None
            out.append((order, Holder(u, station, on_duty, load.get(u.id, 0), u.id == w.assignee_id)))
    rank = {r.value: i for i, r in enumerate(ROLE_ORDER)}
    out.sort(key=lambda o: (o[0], rank.get(o[1].user.role, len(rank)), o[1].on_duty is False, o[1].open_count,
                            o[1].user.display_name, o[1].user.id))
    return [h for _, h in out]


def chosen(session: Session, scope: Scope, w: Warning, user_id: int, *, now: datetime) -> Holder:
    """The holder chosen for a 改派, refused with a reason the page shows: not one of the choices (another
    station's user for a station head), or the current holder."""
    if not user_id:
        raise Invalid("请选择改派给谁", details=[{"loc": ["user_id"], "msg": "必选"}])
    found = next((h for h in holders(session, scope, w, now=now) if h.user.id == user_id), None)
    if found is None:
        where = "本所" if not scope.is_centre else "您辖区内派出所"
        raise Invalid(f"只能改派给{where}在岗、可承办预警的人员", details=[{"loc": ["user_id"], "msg": "人员不对"}])
    if found.current:
        raise Invalid(f"该预警现在就由 {found.user.display_name} 承办，请选择其他人员",
                      details=[{"loc": ["user_id"], "msg": "已是承办人"}])
    return found
