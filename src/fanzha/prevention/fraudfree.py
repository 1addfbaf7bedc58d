"""无诈社区: each community's status from the rules file, with reasons, and the history of gains and losses.

`recompute` is the one function that changes status; the worker calls it nightly, the page on demand.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.cases.models import Case
from fanzha.common.errors import Invalid
from fanzha.common.localtime import day_start, local_day
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention import coverage
from fanzha.prevention.counting import counted
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


def load_rules(path: Path | None = None) -> Rules:
    data = tomllib.loads((path or DEFAULT_RULES).read_text(encoding="utf-8"))
    unknown = set(data) - {"no_cases", "coverage", "activities"}
    if unknown:
        raise Invalid(f"无诈社区规则文件中有未知的规则：{sorted(unknown)}")
    cov = data.get("coverage")
    if cov and (cov.get("metric") not in METRICS or cov.get("denominator", "population") not in DENOMINATORS):
        raise Invalid("无诈社区规则 coverage 的 metric 或 denominator 不对")
    return Rules(case_months=data.get("no_cases", {}).get("months"),
                 metric=cov.get("metric") if cov else None, denominator=(cov or {}).get("denominator", "population"),
                 min_pct=float((cov or {}).get("min_pct", 0)),
                 activity_months=data.get("activities", {}).get("months"),
                 activity_min=int(data.get("activities", {}).get("min_count", 1)))


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
