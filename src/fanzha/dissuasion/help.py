"""跨所协助首次联系 in the live platform, by the rule the replay simulator runs (dispatch/policy.py):

- a dissuader **on duty** (the roster, warnings/dispatch.duty_pool) with **no first contact of their own pending**
  is offered the warnings of **sibling stations** (same 分局/县局) that `policy.may_help` allows — a grade of the
  help rule, waited at least its minutes since 预警时间 — whose first contact nobody has made or taken over, and whose
  own station has **no free dissuader** on duty (free = on duty with no first contact pending), most urgent first
  (`policy.key`);
- taking one (`take`) names the helper on the warning: they open it, call the person and record contacts — not a
  见面, which stays with the person's station, as do the warning, its rates, its feedback and its 见面 deadline;
- the metrics page counts the help both ways: warnings of the user's areas first contacted with help, and first
  contacts the user's dissuaders made for other stations.

Offers show no name, number or address: the grade, the kind, the station and the village, and how long it has waited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import NotFound
from fanzha.db import utcnow
from fanzha.dispatch import policy
from fanzha.dissuasion.models import TimelineEvent
from fanzha.dissuasion.urgency import backlog_after, job_of, next_due, task_of
from fanzha.org import tree
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.warnings import open_set
from fanzha.warnings.dispatch import duty_pool
from fanzha.warnings.models import Warning, WarningHelp

OFFERS = 5
GONE = "该预警不在可协助的范围内（该所已有人空闲、已有人联系或已由他人协助）"


def _pending_contact(session: Session, now: datetime):
    """An open warning whose first contact nobody has made yet, and not 积压 (its next step overdue past the backlog
    line: that work has its own section and digest, and neither makes a dissuader busy nor is offered)."""
    line = now - backlog_after()
    due = next_due()
    return and_(open_set.clause(session), Warning.first_contact_at.is_(None), Warning.station_id.is_not(None),
                or_(due.is_(None), due > line))


def _busy(session: Session, uids: list[int], now: datetime) -> set[int]:
    """Of these dissuaders, those holding a first contact still to make (their own, or one they took over)."""
    if not uids:
        return set()
    held = session.scalars(select(Warning.assignee_id).where(_pending_contact(session, now),
                                                            Warning.assignee_id.in_(uids)))
    helping = session.scalars(select(WarningHelp.helper_id).join(Warning, Warning.id == WarningHelp.warning_id)
                              .where(_pending_contact(session, now), WarningHelp.helper_id.in_(uids)))
    return set(held) | set(helping)


def _siblings(session: Session, station_id: int) -> list[int]:
    station = session.get(Area, station_id)
    if station is None or station.level != Level.STATION or tree.is_top(station):
        return []
    return list(session.scalars(select(Area.id).where(Area.parent_id == station.parent_id,
                                                      Area.level == Level.STATION, Area.id != station_id)))


@dataclass
class Offer:
    warning: Warning
    waited: timedelta


def _eligible(session: Session, stations: list[int], pool: dict[int, list[int]], now: datetime,
              rules: policy.Rules) -> list[Warning]:
    """Open warnings of these stations the help rule allows now, whose station has nobody free."""
    if not stations:
        return []
    short = [sid for sid in stations if not set(pool.get(sid, [])) - _busy(session, pool.get(sid, []), now)]
    if not short:
        return []
    rows = session.scalars(select(Warning).where(
        _pending_contact(session, now), ~exists().where(WarningHelp.warning_id == Warning.id),
        Warning.station_id.in_(short),
        Warning.risk_grade.in_(sorted(rules.help_grades)), Warning.warned_at <= now - rules.help_after)
        .options(joinedload(Warning.station), joinedload(Warning.community)))
    return [w for w in rows if policy.may_help(job_of(task_of(w, now)), now, rules)]


def offers(session: Session, scope: Scope, *, now: datetime | None = None, limit: int = OFFERS) -> list[Offer]:
    """What the user may take over now, most urgent first; nothing unless they are an idle on-duty dissuader."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    if scope.role != Role.DISSUADER or scope.user_id is None:
        return []
    pool = duty_pool(session, now)
    if scope.user_id not in pool.get(scope.area_id, []) or _busy(session, [scope.user_id], now):
        return []
    rules = policy.current_rules()
    found = _eligible(session, _siblings(session, scope.area_id), pool, now, rules)
    found.sort(key=lambda w: policy.key(job_of(task_of(w, now)), now, rules))
    return [Offer(w, now - w.warned_at) for w in found[:limit]]


def take(session: Session, scope: Scope, warning_id: int, *, now: datetime | None = None) -> Warning:
    """协助首次联系: the user takes over the warning's first contact, if it is still on offer to them."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    w = session.scalar(select(Warning).where(Warning.id == warning_id).with_for_update())
    # Only a sibling station's warning is ever on offer: any other answers as if it did not exist.
    if w is None or scope.role != Role.DISSUADER or w.station_id not in _siblings(session, scope.area_id):
        raise NotFound(GONE)
    taken = session.get(WarningHelp, w.id)
    if taken is not None and taken.helper_id == scope.user_id:
        return w  # taken already (a second tap)
    if w.id not in {o.warning.id for o in offers(session, scope, now=now, limit=10_000)}:
        # Whether someone contacted or took it meanwhile is another station's business: one answer for all.
        raise NotFound(GONE)
    user = session.get(User, scope.user_id)
    station = session.get(Area, scope.area_id)
    session.add(WarningHelp(warning_id=w.id, helper_id=scope.user_id, helped_at=now))
    try:
        session.flush()  # one helper per warning: the key refuses a second at the same instant
    except IntegrityError as exc:
        raise NotFound(GONE) from exc
    session.add(TimelineEvent(warning_id=w.id, at=now, kind="help", by_user_id=scope.user_id,
                              text=f"协助首次联系：{user.display_name}（{station.label if station else ''}）"))
    audit.record(session, scope, "help", "warning", w.id,
                 detail={"station": w.station_id, "helper_station": scope.area_id})
    session.expire(w, ["help"])
    session.flush()
    return w


def helped_counts(session: Session, scope: Scope, since: datetime, until: datetime) -> tuple[int, int]:
    """(warnings of the user's areas first contacted with another station's help, first contacts the user's
    stations' dissuaders made for other stations), by when the help was taken, within [since, until)."""
    from fanzha.warnings.service import visible

    helps = (select(func.count()).select_from(WarningHelp).join(Warning, Warning.id == WarningHelp.warning_id)
             .where(WarningHelp.helped_at >= since, WarningHelp.helped_at < until))
    received = session.scalar(helps.where(visible(scope))) or 0
    helpers = select(User.id).join(Area, User.area_id == Area.id).where(scope.area_clause())
    given = session.scalar(helps.where(WarningHelp.helper_id.in_(helpers))) or 0
    return int(received), int(given)
