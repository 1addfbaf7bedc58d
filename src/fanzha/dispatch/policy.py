"""The dispatch policy (调度策略): which open warning a dissuader takes next, and when a sibling station's idle
dissuader takes over a first contact. Pure functions over `Job`s, so the live 我的任务 (dissuasion/urgency.py), the
dispatcher and the replay simulator (dispatch/simulate.py) decide with the same code.

A job's place in the queue (`key`), in turn:

0. **the starvation guard**: a job that has waited its grade's `fair_after_minutes` since 预警时间 goes first, the
   longest-waiting first — so under sustained high-grade load a low-grade warning is still taken within its bound;
1. grade (高 before 中 before 低): the grade already weighs the amount, the kind and the person's history (triage);
2. a job nobody has signed yet before one in hand, so a warning that just arrived is never under older work;
3. a next step still within its deadline before one already missed — the nearest deadline first, then the most
   recently missed (the longer a step has been missed, the likelier the money has moved);
4. the larger amount at risk (拟转账金额);
5. a 见面 still required before one that is not;
6. the newer warning (a stable, total order).

`fifo_key` is today's practice, for the simulator's comparison: arrival order, nothing else.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

GRADE_ORDER = {"low": 0, "medium": 1, "high": 2}
DEFAULT_RULES = Path(__file__).with_name("policy_default.toml")
FAR = timedelta(days=3650)


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Handling:
    call_attempt: float = 2
    reached_call: float = 6
    sms: float = 1
    face: float = 45
    reach_rate: float = 0.7
    retry_minutes: float = 15
    max_attempts: int = 3
    low_sms_first_contact: bool = False


@dataclass(frozen=True)
class Rules:
    fair_after: dict[str, timedelta]
    help_grades: frozenset[str]
    help_after: timedelta
    handling: Handling


@dataclass(frozen=True)
class Job:
    """What the policy knows of one open warning."""

    id: int
    grade: str  # high / medium / low
    warned_at: datetime
    due: datetime | None = None  # the deadline of the next step
    amount: Decimal | float | None = None
    face: bool = False  # a 见面 still required
    signed: bool = False  # someone has it in hand
    station_id: int | None = None


def load_rules(path: Path | None = None) -> Rules:
    path = Path(path or DEFAULT_RULES)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"调度策略文件 {path} 无法读取：{exc}") from exc
    fair = data.get("fair_after_minutes", {})
    out = {}
    for grade in GRADE_ORDER:
        value = fair.get(grade, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyError(f"{path}: [fair_after_minutes] {grade} 应为非负整数（分钟）")
        out[grade] = timedelta(minutes=value)
    help_ = data.get("help", {})
    grades = help_.get("grades", [])
    if not isinstance(grades, list) or any(g not in GRADE_ORDER for g in grades):
        raise PolicyError(f"{path}: [help] grades 应为 high/medium/low 的列表")
    after = help_.get("after_minutes", 3)
    if isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0:
        raise PolicyError(f"{path}: [help] after_minutes 应为非负数（分钟）")
    h = data.get("handling", {})
    try:
        handling = Handling(**h)
    except TypeError as exc:
        raise PolicyError(f"{path}: [handling] 有不认识的项：{exc}") from exc
    for name in ("call_attempt", "reached_call", "sms", "face", "retry_minutes"):
        if not isinstance(getattr(handling, name), (int, float)) or getattr(handling, name) < 0:
            raise PolicyError(f"{path}: [handling] {name} 应为非负数（分钟）")
    if not 0 < handling.reach_rate <= 1 or handling.max_attempts < 1:
        raise PolicyError(f"{path}: [handling] reach_rate 应在 0 到 1 之间，max_attempts 至少为 1")
    return Rules(fair_after=out, help_grades=frozenset(grades), help_after=timedelta(minutes=after), handling=handling)


@lru_cache(maxsize=4)
def _cached(path: str) -> Rules:
    return load_rules(Path(path) if path else None)


def current_rules() -> Rules:
    from fanzha.config import get_settings

    return _cached(str(get_settings().dispatch_rules or ""))


def starving(job: Job, now: datetime, rules: Rules) -> bool:
    bound = rules.fair_after.get(job.grade, timedelta(0))
    return bound > timedelta(0) and now - job.warned_at >= bound


def key(job: Job, now: datetime, rules: Rules | None = None) -> tuple:
    """The job's place in a dissuader's queue: smaller goes first (the module's order)."""
    rules = rules or current_rules()
    hungry = starving(job, now, rules)
    due = (job.due or now + FAR).timestamp()
    overdue = job.due is not None and job.due < now
    return (not hungry, job.warned_at.timestamp() if hungry else 0.0, -GRADE_ORDER.get(job.grade, 0), job.signed,
            overdue, -due if overdue else due, -float(job.amount or 0), not job.face, -job.id)


def fifo_key(job: Job, now: datetime, rules: Rules | None = None) -> tuple:
    """Today's practice: arrival order."""
    return (job.warned_at.timestamp(), job.id)


POLICIES = {"fifo": fifo_key, "ours": key}
POLICY_LABELS = {"fifo": "先到先办（现行做法）", "ours": "平台调度策略"}


def pick(jobs, now: datetime, rules: Rules | None = None, policy: str = "ours") -> Job | None:
    """The job to take next among `jobs`, or None."""
    rules = rules or current_rules()
    order = POLICIES[policy]
    return min(jobs, key=lambda j: order(j, now, rules), default=None)


def may_help(job: Job, now: datetime, rules: Rules | None = None) -> bool:
    """Whether a sibling station's idle dissuader may take this job's first contact now (its own station has nobody
    free: the caller knows that)."""
    rules = rules or current_rules()
    return job.grade in rules.help_grades and now - job.warned_at >= rules.help_after
