"""Escalation on its own clock: every missed step is noticed by the worker and told to the next level up.

`run(session, now)` is all there is: the worker calls it every minute and tests call it with a frozen clock. It also
escalates 回访 left undone past their due time (dissuasion/followups/escalation.py); the centre's 查询/止付/冻结
requests left unanswered past their deadline escalate beside it, in the same minute of the worker
(cases/requests.escalate).
Each (warning, step, level) escalates once; the notification goes out through the notify service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, StrictInt, field_validator, model_validator
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from fanzha.common.rules import RulesModel, all_of, load_rules_file, register
from fanzha.dissuasion.enums import LEVELS, STEPS
from fanzha.dissuasion.models import Escalation, TimelineEvent
from fanzha.dissuasion.urgency import STEP_COLUMNS, step_pending, step_pending_clause
from fanzha.notify.service import notify
from fanzha.warnings import open_set
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


Minutes = Annotated[StrictInt, Field(ge=0)]


class LevelDelays(RulesModel):
    """Minutes after a missed deadline at which each level is told; a level left out is never told."""

    assignee: Minutes | None = Field(None, description="The warning's dissuader (劝阻员; every dissuader of the station "
                                                       "if nobody holds it).")
    head: Minutes | None = Field(None, description="The station head (所长).")
    centre: Minutes | None = Field(None, description="The centre (反诈中心研判/管理员).")


class GradeDelays(RulesModel):
    """Per grade; a grade left out never escalates."""

    high: LevelDelays | None = Field(None, description="高 (high grade).")
    medium: LevelDelays | None = Field(None, description="中 (medium grade).")
    low: LevelDelays | None = Field(None, description="低 (low grade).")


class FollowUpDelays(RulesModel):
    """回访 overdue: minutes after it fell due; a level left out is never told."""

    head: Minutes | None = Field(None, description="The station head (所长).")
    centre: Minutes | None = Field(None, description="The centre (反诈中心).")


class EscalationFile(RulesModel):
    """escalation_default.toml: the escalation rules (超时升级)."""

    steps: list[str] = Field(list(STEPS), description="Steps that escalate at all: sign (签收), contact (首次联系), "
                                                      "face (见面劝阻), feedback (反馈).")
    backlog_after_hours: float = Field(48, gt=0, description="A step overdue longer than this is 积压 (backlog): it "
                                                             "leaves the top of 我的任务 for the daily digest; every "
                                                             "delay must be shorter.")
    after_minutes: GradeDelays = Field(GradeDelays(), description="Delays per grade and level (升级时限).")
    follow_up: FollowUpDelays = Field(FollowUpDelays(head=1440, centre=4320),
                                      description="Overdue 回访: delays per level; without the table 1440 and 4320.")

    _steps = field_validator("steps")(lambda v: all_of(v, STEPS))

    @field_validator("backlog_after_hours", mode="before")
    @classmethod
    def _a_number(cls, v: object) -> object:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError("应为正数（小时）")
        return v

    def delays(self) -> dict[str, dict[str, int]]:
        return {g: d.model_dump(exclude_none=True) for g in GRADES if (d := getattr(self.after_minutes, g))}

    @model_validator(mode="after")
    def _escalate_before_backlog(self) -> EscalationFile:
        longest = max((m for levels in self.delays().values() for m in levels.values()), default=0)
        if longest >= self.backlog_after_hours * 60:
            hours = f"{self.backlog_after_hours:g}"
            raise ValueError(f"after_minutes 中最长的 {longest} 分钟不短于 backlog_after_hours（{hours} 小时），"
                             "该级升级会在转入积压之后才到")
        return self

    def rules(self) -> EscalationRules:
        return EscalationRules(steps=tuple(self.steps), backlog_after=timedelta(hours=self.backlog_after_hours),
                               after_minutes=self.delays(), follow_up_after=self.follow_up.model_dump(exclude_none=True))


FILE = register("escalation", "升级规则文件", EscalationFile, DEFAULT_RULES, setting="FANZHA_ESCALATION_RULES",
                summary="When a missed step (签收, 首次联系, 见面劝阻, 反馈) or an overdue 回访 is told to the next level up, "
                        "and when it becomes backlog (积压).")


def load_rules(path: Path | None = None) -> EscalationRules:
    return load_rules_file(EscalationFile, path or DEFAULT_RULES, what=FILE.title).rules()


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
        open_set.clause(session), Warning.feedback_deadline > backlog_line, overdue)))
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
