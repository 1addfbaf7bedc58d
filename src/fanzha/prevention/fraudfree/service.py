"""无诈社区: each community's status from the rules file, with reasons, and the history of gains and losses.

`recompute` is the one function that changes status; the worker calls it nightly, the page on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from pydantic import Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.cases.models import Case
from fanzha.common.localtime import day_start, local_day
from fanzha.common.rules import RulesModel, load_rules_file, one_of, register
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention.counting import counted
from fanzha.prevention.coverage import service as coverage
from fanzha.prevention.enums import DENOMINATORS, METRICS
from fanzha.prevention.models import Activity, FraudFreeChange, FraudFreeStatus

DEFAULT_RULES = Path(__file__).with_name("fraud_free_default.toml")


@dataclass(frozen=True)
class Rules:
    case_months: int | None = None
    metric: str | None = None
    denominator: str = "population"
    min_pct: float = 0.0
    activity_months: int | None = None
    activity_min: int = 1


class NoCasesRule(RulesModel):
    months: int | None = Field(None, ge=0, description="No case (立案) filed on the community in the last this many "
                                                        "months; empty or 0 switches the rule off.")


class CoverageRule(RulesModel):
    metric: str = Field(description="The coverage count (覆盖指标) that must reach `min_pct`: one of "
                                    f"{', '.join(METRICS)}.")
    denominator: str = Field("population", description="What the count is divided by (分母): "
                                                       f"{', '.join(DENOMINATORS)}.")
    min_pct: float = Field(0.0, ge=0, description="The least share, in percent, the community must reach (覆盖率).")

    _metric = field_validator("metric")(lambda v: one_of(v, METRICS))
    _denominator = field_validator("denominator")(lambda v: one_of(v, DENOMINATORS))


class ActivitiesRule(RulesModel):
    months: int | None = Field(None, ge=0, description="The window of the rule in months (近N个月宣传活动); empty or 0 "
                                                        "switches the rule off.")
    min_count: int = Field(1, ge=0, description="The least number of recorded 宣传活动 in the window.")


class FraudFreeFile(RulesModel):
    """fraud_free_default.toml: a community is 无诈社区 when every rule (table) present holds."""

    no_cases: NoCasesRule | None = Field(None, description="无立案: no case filed on the community lately.")
    coverage: CoverageRule | None = Field(None, description="覆盖率: a coverage count over the community's size.")
    activities: ActivitiesRule | None = Field(None, description="宣传活动: enough 宣传活动 on the community lately.")

    def rules(self) -> Rules:
        cov, act = self.coverage, self.activities
        return Rules(case_months=self.no_cases.months if self.no_cases else None,
                     metric=cov.metric if cov else None, denominator=cov.denominator if cov else "population",
                     min_pct=cov.min_pct if cov else 0.0,
                     activity_months=act.months if act else None, activity_min=act.min_count if act else 1)


FILE = register("fraud_free", "无诈社区规则文件", FraudFreeFile, DEFAULT_RULES,
                summary="Which communities are 无诈社区 (fraud-free), recomputed nightly.")


def load_rules(path: Path | None = None) -> Rules:
    return load_rules_file(FraudFreeFile, path or DEFAULT_RULES, what=FILE.title).rules()


def months_before(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in range(day.day, 0, -1):
        try:
            return date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def evaluate(session: Session, rules: Rules, now: datetime) -> dict[int, tuple[bool, list[str]]]:
    """Every community → (fraud-free?, reasons in Chinese, failures first)."""
    today = local_day(now)
    leaves = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY)))
    cases: dict[int, int] = {}
    if rules.case_months:  # the last N months exactly: from the day after the same day N months ago, as activities
        since = day_start(months_before(today, rules.case_months) + timedelta(days=1))
        cases = dict(session.execute(select(Case.community_id, func.count()).where(
            Case.community_id.is_not(None), Case.filed_at >= since, Case.filed_at <= now).group_by(Case.community_id)).all())
    reached: dict[int, int] = {}
    if rules.metric:  # counted as coverage targets count it: people where a registration list covers the leaf
        reached = coverage.achieved_by_leaf(session, rules.metric, None, today)
        if rules.metric in coverage.PERSON_METRICS and (nodes := coverage.listed_nodes(session)):
            people = coverage.achieved_by_leaf(session, rules.metric, None, today, source="people")
            reached |= {leaf.id: people.get(leaf.id, 0) for leaf in leaves if coverage.listed(nodes, leaf)}
    recent: dict[int, int] = {}
    if rules.activity_months:
        recent = dict(session.execute(select(Activity.community_id, func.count()).where(
            Activity.held_on > months_before(today, rules.activity_months), Activity.held_on <= today, counted())
            .group_by(Activity.community_id)).all())
    out = {}
    for leaf in leaves:
        good, bad = [], []
        if rules.case_months:
            n = cases.get(leaf.id, 0)
            (bad if n else good).append(f"近{rules.case_months}个月立案{n}起" if n else f"近{rules.case_months}个月无立案")
        if rules.metric:
            denominator = getattr(leaf, rules.denominator) or 0
            label = f"{METRICS[rules.metric]}/{DENOMINATORS[rules.denominator]}"
            if denominator <= 0:
                bad.append(f"{DENOMINATORS[rules.denominator]}为0，无法计算{label}")
            else:
                pct = Fraction(reached.get(leaf.id, 0) * 100, denominator)
                text = f"{label} {float(pct):.1f}%（要求≥{rules.min_pct:g}%）"
                (good if pct >= Fraction(str(rules.min_pct)) else bad).append(text)
        if rules.activity_months:
            n = recent.get(leaf.id, 0)
            text = f"近{rules.activity_months}个月宣传活动{n}次（要求≥{rules.activity_min}次）"
            (good if n >= rules.activity_min else bad).append(text)
        out[leaf.id] = (not bad, bad + good)
    return out


def recompute(session: Session, *, now: datetime, rules: Rules | None = None) -> dict[str, int]:
    """Writes each community's status; a change of verdict adds a history row. Returns counts."""
    verdicts = evaluate(session, rules or load_rules(), now)
    current = {s.community_id: s for s in session.scalars(select(FraudFreeStatus))}
    gained = lost = 0
    for cid, (ok, reasons) in verdicts.items():
        s = current.get(cid)
        if s is None:
            s = FraudFreeStatus(community_id=cid, fraud_free=ok, reasons=reasons, since=now, checked_at=now)
            session.add(s)
            if ok:
                session.add(FraudFreeChange(community_id=cid, at=now, gained=True, reasons=reasons))
                gained += 1
            continue
        if s.fraud_free != ok:
            session.add(FraudFreeChange(community_id=cid, at=now, gained=ok, reasons=reasons))
            s.since = now
            gained, lost = gained + ok, lost + (not ok)
        s.fraud_free, s.reasons, s.checked_at = ok, reasons, now
    session.flush()
    return {"communities": len(verdicts), "fraud_free": sum(ok for ok, _ in verdicts.values()), "gained": gained,
            "lost": lost}


def recompute_as(session: Session, scope: Scope, *, now: datetime) -> dict[str, int]:
    scope.require(Perm.MANAGE_CAMPAIGNS)
    result = recompute(session, now=now)
    audit.record(session, scope, "update", "fraud_free", "", detail=result)
    return result


def statuses(session: Session, scope: Scope) -> list[FraudFreeStatus]:
    scope.require(Perm.READ_PREVENTION)
    return list(session.scalars(select(FraudFreeStatus).where(scope.community_clause(FraudFreeStatus.community_id))
                                .options(joinedload(FraudFreeStatus.community))
                                .order_by(FraudFreeStatus.fraud_free.desc(), FraudFreeStatus.community_id)))


def history(session: Session, scope: Scope, *, limit: int = 100) -> list[FraudFreeChange]:
    scope.require(Perm.READ_PREVENTION)
    return list(session.scalars(select(FraudFreeChange).where(scope.community_clause(FraudFreeChange.community_id))
                                .options(joinedload(FraudFreeChange.community))
                                .order_by(FraudFreeChange.at.desc(), FraudFreeChange.id.desc()).limit(limit)))
