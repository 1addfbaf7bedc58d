"""Escalation on its own clock: every missed step is noticed by the worker and told to the next level up.

`run(session, now)` is all there is: the worker calls it every minute and tests call it with a frozen clock. It also
escalates 回访 left undone past their due time (dissuasion/followups/escalation.py); the centre's 查询/止付/冻结
requests left unanswered past their deadline escalate beside it, in the same minute of the worker
(cases/requests.escalate).
Each (warning, step, level) escalates once; the notification goes out through the notify service.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from fanzha.dissuasion.enums import LEVELS, STEPS
from fanzha.dissuasion.models import Escalation, TimelineEvent
from fanzha.dissuasion.urgency import STEP_COLUMNS, step_pending, step_pending_clause
from fanzha.notify.service import notify
from fanzha.warnings.enums import GRADES, warning_label
from fanzha.warnings.models import Warning
from fanzha.warnings.recipients import Recipients

DEFAULT_RULES = Path(__file__).with_name("escalation_default.toml")
LEVEL_ORDER = ("assignee", "head", "centre")


@dataclass(frozen=True)
class EscalationRules:
    steps: tuple[str, ...]
    backlog_after: timedelta  # a step overdue longer than this is 积压 (dissuasion.urgency)
    after_minutes: dict[str, dict[str, int]]
    # 回访 overdue: minutes after it fell due that the station head, then the centre, is told (dissuasion/followups)
    follow_up_after: dict[str, int] = field(default_factory=lambda: {"head": 1440, "centre": 4320})


def load_rules(path: Path | None = None) -> EscalationRules:
    path = Path(path or DEFAULT_RULES)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"升级规则文件 {path} 无法读取：{exc}") from exc
    steps = tuple(data.get("steps", STEPS))
    if bad := [s for s in steps if s not in STEPS]:
        raise ValueError(f"{path}: steps 中的 {bad} 不是 sign/contact/face/feedback")
    after = data.get("after_minutes", {})
    for grade in GRADES:
        levels = after.get(grade, {})
        if bad := [k for k in levels if k not in LEVELS or not isinstance(levels[k], int) or levels[k] < 0]:
            raise ValueError(f"{path}: [after_minutes.{grade}] 中的 {bad} 不对（应为 assignee/head/centre = 分钟数）")
    hours = data.get("backlog_after_hours", 48)
    if not isinstance(hours, int | float) or hours <= 0:
        raise ValueError(f"{path}: backlog_after_hours 应为正数（小时）")
    longest = max((m for levels in after.values() for m in levels.values()), default=0)
    if longest >= hours * 60:
        raise ValueError(f"{path}: after_minutes 中最长的 {longest} 分钟不短于 backlog_after_hours（{hours} 小时），"
                         "该级升级会在转入积压之后才到")
    follow_up = data.get("follow_up", {"head": 1440, "centre": 4320})
    if bad := [k for k in follow_up if k not in UPWARD_LEVELS or not isinstance(follow_up[k], int) or follow_up[k] < 0]:
        raise ValueError(f"{path}: [follow_up] 中的 {bad} 不对（应为 head/centre = 分钟数）")
    return EscalationRules(steps=steps, backlog_after=timedelta(hours=hours), after_minutes=after,
                           follow_up_after=follow_up)


@lru_cache
def current_rules() -> EscalationRules:
    from fanzha.config import get_settings

    return load_rules(get_settings().escalation_rules)


def _missed(w: Warning, now: datetime) -> list[tuple[str, datetime]]:
    return [(step, getattr(w, deadline)) for step, done, deadline, required in STEP_COLUMNS
            if step_pending(w, done, deadline, required) and getattr(w, deadline) <= now]


def missed_clause(now: datetime):
    """A step whose deadline has passed without the step done (_missed as SQL): what escalates, and the board's
    已超时."""
    return or_(*(and_(step_pending_clause(done, deadline, required), getattr(Warning, deadline) <= now)
                 for _, done, deadline, required in STEP_COLUMNS))


# Levels above the warning's own dissuader: a step escalated to one of them is 已升级 on the board.
UPWARD_LEVELS = ("head", "centre")


def escalated_clause():
    """The warning has a step escalated to the station head or the centre (an escalations row at such a level)."""
    return exists().where(Escalation.warning_id == Warning.id, Escalation.level.in_(UPWARD_LEVELS))


def run(session: Session, now: datetime, rules: EscalationRules | None = None) -> list[Escalation]:
    """Raises every escalation that is due at `now` and not yet raised. Idempotent."""
    from fanzha.dissuasion.followups import escalation as follow_ups

    rules = rules or current_rules()
    follow_ups.escalate(session, now, rules.follow_up_after)  # 回访 overdue
    steps = set(rules.steps)
    overdue = missed_clause(now)
    # A step overdue past the backlog line has escalated fully already (every delay is shorter) and is reported in
    # the station head's daily digest; the feedback deadline is the latest, so past it all of a warning is backlog.
    backlog_line = now - rules.backlog_after
    candidates = list(session.scalars(select(Warning).where(
        Warning.feedback_at.is_(None), Warning.feedback_deadline > backlog_line, overdue)))
    if not candidates:
        return []
    done = set(session.execute(select(Escalation.warning_id, Escalation.step, Escalation.level).where(
        Escalation.warning_id.in_([w.id for w in candidates]))).all())
    recipients = Recipients(session)
    raised = []
    for w in candidates:
        delays = rules.after_minutes.get(w.risk_grade, {})
        for step, deadline in _missed(w, now):
            if step not in steps or deadline <= backlog_line:
                continue
            for level in LEVEL_ORDER:
                if level not in delays or (w.id, step, level) in done:
                    continue
                if now < deadline + timedelta(minutes=delays[level]):
                    continue
                users = recipients.of(level, w)
                late = int((now - deadline).total_seconds() // 60)
                e = Escalation(warning_id=w.id, step=step, level=level, at=now, notified=users)
                session.add(e)
                text = (f"{GRADES[w.risk_grade]}风险{warning_label(w.kind)}「{STEPS[step]}」已超时{late}分钟，"
                        f"升级至{LEVELS[level]}")
                session.add(TimelineEvent(warning_id=w.id, at=now, kind="escalation", text=text))
                notify(session, users, f"预警超时：{STEPS[step]}", text, f"/warnings/{w.id}", now=now)
                done.add((w.id, step, level))
                raised.append(e)
    session.flush()
    return raised
