"""Demo 回访, as if 回访 complete had come 40 days ago: every victim of a case filed since 70 days ago got a 回访 (those
filed before the upgrade as its backfill did, not escalating); the due ones mostly recorded — in each of the field's
states, with the 宣防漏洞 found — a few 暂时找不到 and waiting again, a few left undone and escalated by the worker to the
station head or the centre. Warning 回访 overdue at the upgrade do not escalate either (migration 0030); those done get
states and 漏洞 of the same kind."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.dissuasion.followups import escalation, rules, service
from fanzha.dissuasion.models import FollowUp
from fanzha.org.models import User
from fanzha.org.roles import Role

# How often each final state is recorded at a case victim's 回访 (the victims are defrauded already: 已被骗 leads).
CASE_STATES = {"defrauded": 60, "not_defrauded": 6, "dissuaded": 6, "not_found": 8, "mismatch": 5, "repeat": 5}
# How often each state closes a warning's 回访 (most people called back were not defrauded).
WARNING_STATES = {"not_defrauded": 70, "dissuaded": 10, "not_found": 8, "mismatch": 4, "repeat": 5, "defrauded": 3}
GAP_WEIGHTS = {"no_app": 40, "no_alert": 20, "no_outreach": 30, "not_met": 25, "family_unaware": 20, "other": 6}
UPGRADED_DAYS_AGO = 40
OTHER_TEXTS = ("外出务工，宣传时不在家", "独居，子女在外地", "租住人员，未登记在册", "只接听熟人电话")


def _gaps(r: random.Random) -> tuple[list[str], str]:
    picked = sorted(set(r.choices(list(GAP_WEIGHTS), weights=list(GAP_WEIGHTS.values()), k=r.choice((1, 1, 2, 2, 3)))))
    return picked, r.choice(OTHER_TEXTS) if "other" in picked else ""


def _record(f: FollowUp, r: random.Random, state: str, at: datetime, by: int | None) -> None:
    f.outcome, f.by_user_id = state, by
    if state in rules.OPEN_STATES:
        f.tries, f.due_at = 1, at + timedelta(days=rules.RETRY_DAYS)
        return
    f.done_at = at
    if state in rules.REACHED_STATES and (state in rules.GAPS_REQUIRED or r.random() < 0.5):
        f.gaps, f.missed_outreach = _gaps(r)


def play_follow_ups(session: Session, *, seed: int, now: datetime) -> dict[str, int]:
    r = random.Random(seed + 30)
    staff: dict[int, list[int]] = {}
    for uid, station in session.execute(select(User.id, User.area_id).where(
            User.role.in_([Role.DISSUADER, Role.STATION_OFFICER]), User.is_active.is_(True)).order_by(User.id)):
        staff.setdefault(station, []).append(uid)
    upgraded = now - timedelta(days=UPGRADED_DAYS_AGO)
    cases = session.scalars(select(Case).where(
        Case.filed_at >= upgraded - timedelta(days=rules.CASE_WINDOW_DAYS)).order_by(Case.filed_at, Case.id)).all()
    made = [f for c in cases
            if (f := service.schedule_for_case(session, c, max(c.filed_at, upgraded),
                                               escalates=c.filed_at >= upgraded)) is not None]
    for f in session.scalars(select(FollowUp).where(FollowUp.warning_id.is_not(None), FollowUp.done_at.is_(None),
                                                    FollowUp.due_at < upgraded)):
        f.escalates = False
    session.flush()
    states = list(CASE_STATES)
    # Two the station has still not reached: 暂时找不到 at the first visit, due again three days later and left
    # undone since — two days (the 所长 is told) and four days (the centre too).
    filed = {c.id: c.filed_at for c in cases}
    waiting = [f for f in made if f.escalates and filed[f.case_id] <= now - timedelta(days=14)][:2]
    for f, late in zip(waiting, (2, 4), strict=False):
        f.outcome, f.tries, f.due_at = "not_found_yet", 1, now - timedelta(days=late)
        f.by_user_id = r.choice(staff.get(f.station_id) or [None])
    due = [f for f in made if f.due_at < now and f not in waiting]
    for n, f in enumerate(due):
        roll = r.random()
        by = r.choice(staff.get(f.station_id) or [None])
        at = min(now, f.due_at + timedelta(hours=r.randint(1, 60)))
        if n < len(states) + 1:  # the first due ones show every state, 暂时找不到 among them
            _record(f, r, (states + ["not_found_yet"])[n], at, by)
        elif roll < 0.78:
            _record(f, r, r.choices(states, weights=list(CASE_STATES.values()))[0], at, by)
        elif roll < 0.86:
            _record(f, r, "not_found_yet", at, by)
        # the rest stay overdue: the worker's run below tells the 所长, and the centre for the oldest
    # The warnings' 回访 fell due through the year and the stations did most of them then; one in ten left over from
    # before the upgrade stays open (not escalating, as migration 0030 left them).
    for f in session.scalars(select(FollowUp).where(FollowUp.warning_id.is_not(None), FollowUp.done_at.is_(None),
                                                    FollowUp.due_at < upgraded).order_by(FollowUp.id)).all():
        if r.random() < 0.9:
            state = r.choices(list(WARNING_STATES), weights=list(WARNING_STATES.values()))[0]
            by = r.choice(staff.get(f.station_id) or [None])
            _record(f, r, state, f.due_at + timedelta(hours=r.randint(1, 72)), by)
    for f in session.scalars(select(FollowUp).where(FollowUp.warning_id.is_not(None), FollowUp.done_at.is_not(None),
                                                    FollowUp.outcome.in_(rules.REACHED_STATES))).all():
        if f.outcome == "defrauded" or r.random() < 0.3:
            f.gaps, f.missed_outreach = _gaps(r)
    session.flush()
    from fanzha.dissuasion.escalation import current_rules

    raised = escalation.escalate(session, now, current_rules().follow_up_after)
    return {"follow_ups_case": len(made), "follow_ups_escalated": len(raised)}
