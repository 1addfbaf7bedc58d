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

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, Strict, StrictBool, StrictInt

from fanzha.common.rules import RulesModel, load_rules_file, register

GRADE_ORDER = {"low": 0, "medium": 1, "high": 2}
DEFAULT_RULES = Path(__file__).with_name("policy_default.toml")
FAR = timedelta(days=3650)


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


Grade = Literal["high", "medium", "low"]
Minutes = Annotated[float, Strict(), Field(ge=0)]


class FairAfter(RulesModel):
    """The starvation guard (防饿死), minutes since 预警时间 per grade; 0 = no guard for the grade."""

    high: StrictInt = Field(0, ge=0, description="高: minutes after which a high-grade warning goes first.")
    medium: StrictInt = Field(0, ge=0, description="中: minutes after which a medium-grade warning goes first.")
    low: StrictInt = Field(0, ge=0, description="低: minutes after which a low-grade warning goes first.")


class HelpRule(RulesModel):
    """Help from a sibling station (跨所协助首次联系)."""

    grades: list[Grade] = Field([], description="Grades whose first contact an idle dissuader of a sibling station "
                                                "may take.")
    after_minutes: Minutes = Field(3, description="… once the warning has waited this many minutes with nobody at "
                                                  "its station free.")


class HandlingTimes(RulesModel):
    """The replay simulator's handling times, minutes: the mean of an exponential draw."""

    call_attempt: Minutes = Field(Handling.call_attempt, description="A call attempt (拨打).")
    reached_call: Minutes = Field(Handling.reached_call, description="A call that reaches the person (接通).")
    sms: Minutes = Field(Handling.sms, description="An SMS (短信).")
    face: Minutes = Field(Handling.face, description="A 见面, travel included.")
    reach_rate: float = Field(Handling.reach_rate, gt=0, le=1, description="The share of call attempts that reach "
                                                                           "the person (接通率), above 0 and at most 1.")
    retry_minutes: Minutes = Field(Handling.retry_minutes, description="Minutes before an unanswered call is retried.")
    max_attempts: StrictInt = Field(Handling.max_attempts, ge=1, description="At most this many call attempts.")
    low_sms_first_contact: StrictBool = Field(Handling.low_sms_first_contact,
                                              description="Low-grade first contacts go as an automatic SMS through "
                                                          "the gateway (counted as SMS, not as a call).")


class PolicyFile(RulesModel):
    """policy_default.toml: the dispatch policy (调度策略)."""

    fair_after_minutes: FairAfter = Field(FairAfter(), description="The starvation guard (防饿死).")
    help: HelpRule = Field(HelpRule(), description="Help from another station (跨所协助).")
    handling: HandlingTimes = Field(HandlingTimes(), description="Handling times for the replay simulator (调度回放).")

    def rules(self) -> Rules:
        fair = self.fair_after_minutes
        return Rules(fair_after={g: timedelta(minutes=getattr(fair, g)) for g in GRADE_ORDER},
                     help_grades=frozenset(self.help.grades), help_after=timedelta(minutes=self.help.after_minutes),
                     handling=Handling(**self.handling.model_dump()))


FILE = register("dispatch", "调度策略文件", PolicyFile, DEFAULT_RULES, setting="FANZHA_DISPATCH_RULES",
                summary="The dispatch policy: the starvation guard, help from sibling stations and the replay "
                        "simulator's handling times.")


def load_rules(path: Path | None = None) -> Rules:
    return load_rules_file(PolicyFile, path or DEFAULT_RULES, what=FILE.title).rules()


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
