"""What a dissuader should do next: open warnings in order of urgency, and the 积压 (backlog) kept apart.

A warning's **next step** is the first one not done, in the order 签收 → 首次联系 → 见面劝阻 (when required) → 反馈,
with its deadline. Open work is ordered by the dispatch policy (dispatch/policy.py, the same code the replay
simulator runs): a warning past its grade's starvation bound first, then grade, unsigned before in hand, the nearest
deadline still within reach before missed ones, the larger amount, a 见面 still required.

A step overdue by more than the escalation rules' `backlog_after_hours` (48 by default) is **积压**: it has escalated to
every level already; it is listed in its own section under the open work, and the station heads get it once a day in a
digest (`digest`), instead of it pushing new work down. The dispatch work that follows reuses this order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from fanzha.common.localtime import zone
from fanzha.dispatch import policy
from fanzha.dispatch.policy import Job
from fanzha.dissuasion.enums import STEPS
from fanzha.warnings.models import Warning


@dataclass(frozen=True)
class Task:
    warning: Warning
    step: str | None  # sign, contact, face, feedback; None when nothing is left
    due: datetime | None
    backlog: bool

    @property
    def step_label(self) -> str:
        return STEPS.get(self.step, "") if self.step else ""

    def overdue(self, now: datetime) -> bool:
        return self.due is not None and self.due < now


# The steps in order, each as (step, the column that says it is done, its deadline, the flag that requires it or
# None when every warning has it). The one table next_step, next_due and escalation's missed steps read.
STEP_COLUMNS = (
    ("sign", "signed_at", "sign_deadline", None),
    ("contact", "first_contact_at", "contact_deadline", None),
    ("face", "face_at", "face_deadline", "face_required"),
    ("feedback", "feedback_at", "feedback_deadline", None),
)


def step_pending(w: Warning, done: str, deadline: str, required: str | None) -> bool:
    """The step is not done, and the warning has it (a deadline, and the flag when the step needs one)."""
    return getattr(w, done) is None and getattr(w, deadline) is not None and (required is None or getattr(w, required))


def step_pending_clause(done: str, deadline: str, required: str | None):
    """step_pending as an SQL condition on the warnings table."""
    parts = [getattr(Warning, done).is_(None), getattr(Warning, deadline).is_not(None)]
    if required is not None:
        parts.append(getattr(Warning, required).is_(True))
    return and_(*parts)


def next_step(w: Warning) -> tuple[str | None, datetime | None]:
    for step, done, deadline, required in STEP_COLUMNS:
        if step_pending(w, done, deadline, required):
            return step, getattr(w, deadline)
    return None, None


def next_due():
    """The deadline of the next step (next_step's) as an SQL expression; NULL when nothing is left."""
    return case(*((step_pending_clause(done, deadline, required), getattr(Warning, deadline))
                  for _, done, deadline, required in STEP_COLUMNS), else_=None)


def backlog_after() -> timedelta:
    from fanzha.dissuasion.escalation import current_rules

    return current_rules().backlog_after


def backlog_clause(now: datetime, backlog: timedelta | None = None):
    """积压 as an SQL condition: the next step's deadline at or before the backlog line (task_of's rule)."""
    line = now - (backlog if backlog is not None else backlog_after())
    return and_(Warning.feedback_at.is_(None), next_due() <= line)


def task_of(w: Warning, now: datetime, backlog: timedelta | None = None) -> Task:
    step, due = next_step(w)
    line = now - (backlog if backlog is not None else backlog_after())
    return Task(w, step, due, due is not None and due <= line)


def job_of(t: Task) -> Job:
    """The task as the dispatch policy sees it (dispatch/policy.py): the one order for 我的任务 and the simulator."""
    w = t.warning
    return Job(id=w.id, grade=w.risk_grade, warned_at=w.warned_at, due=t.due, amount=w.amount,
               face=bool(w.face_required and w.face_at is None), signed=w.signed_at is not None,
               station_id=w.station_id)


def sort_key(t: Task, now: datetime) -> tuple:
    return policy.key(job_of(t), now)


def order(warnings: list[Warning], now: datetime, backlog: timedelta | None = None) -> tuple[list[Task], list[Task]]:
    """(open work, 积压), each most urgent first (the backlog by how long it has waited)."""
    backlog = backlog if backlog is not None else backlog_after()
    tasks = [task_of(w, now, backlog) for w in warnings]
    active = sorted((t for t in tasks if not t.backlog), key=lambda t: sort_key(t, now))
    stale = sorted((t for t in tasks if t.backlog), key=lambda t: (t.due, -t.warning.id))
    return active, stale


@dataclass(frozen=True)
class Digest:
    station_id: int
    count: int
    oldest_due: datetime
    by_assignee: dict[int | None, int]


def digest(session: Session, now: datetime, backlog: timedelta | None = None) -> list[Digest]:
    """Per station, the open warnings whose next step is 积压: what the station head's daily digest says."""
    backlog = backlog if backlog is not None else backlog_after()
    line = now - backlog
    per: dict[int, list[Task]] = defaultdict(list)
    for w in session.scalars(select(Warning).where(Warning.feedback_at.is_(None), Warning.station_id.is_not(None),
                                                   Warning.sign_deadline <= line)):
        t = task_of(w, now, backlog)
        if t.backlog:
            per[w.station_id].append(t)
    out = []
    for station_id, tasks in sorted(per.items()):
        by: dict[int | None, int] = defaultdict(int)
        for t in tasks:
            by[t.warning.assignee_id] += 1
        out.append(Digest(station_id, len(tasks), min(t.due for t in tasks), dict(by)))
    return out


DIGEST_HOUR = 8  # local time (FANZHA_TIMEZONE): the station heads' morning digest of 积压


def send_digest(session: Session, now: datetime) -> int:
    """The daily 积压 digest to each station's heads, in the app (it is a summary, not an alarm); sent by the worker
    in the hour DIGEST_HOUR local time. Returns how many stations were told."""

    from fanzha.notify.service import notify
    from fanzha.warnings.recipients import Recipients

    tz = zone()
    if now.astimezone(tz).hour != DIGEST_HOUR:
        return 0
    recipients = Recipients(session)
    told = 0
    for d in digest(session, now):
        heads = recipients.station_heads(d.station_id)
        if not heads:
            continue
        days = max(1, int((now - d.oldest_due).total_seconds() // 86400))
        unassigned = d.by_assignee.get(None, 0)
        body = (f"本所积压预警 {d.count} 条（下一步已超期 {int(backlog_after().total_seconds() // 3600)} 小时以上），"
                f"最早一条已超期约 {days} 天" + (f"，其中 {unassigned} 条无人认领" if unassigned else "")
                + "。请安排处理、改派或反馈结案。")
        notify(session, heads, f"积压预警日报：{d.count} 条", body, f"/warnings?station_id={d.station_id}",
               now=now, outward=False)
        told += 1
    return told
