"""Risk of a person in the registry: smoothed victimisation rates by group × fraud type, times warning history.

For group g and fraud type t, over the window (cases by loss time, people as registered at the day):

    rate(g, t) = (V[g, t] + m · p0(t)) / (N[g] + m),    p0(t) = V[t] / N

N is everyone in the people table, N[g] those in group g, V[t] the people defrauded by type t in the window and
V[g, t] those of them in group g; m is the prior strength (people's worth of belief in the county-wide rate). A
group with few members stays near p0; a large group's own record wins. 曾被骗 is not used as a rate group (its rate
would be defined by the cases themselves); it multiplies the score instead.

A person's score is a rate per 1,000 people like them, so it can never exceed 1,000:

    P     = 1 − Π_t (1 − max_{g ∈ groups} rate(g, t))      the chance of being defrauded by any type in the window
    f     = (1 + 0.5 · min(k, 4)) × (1.5 if 曾被骗)          k: their warnings in the 12 months before the day
    score = 1000 × (1 − (1 − P)^f)

No group → p0(t). The personal factor f counts as f windows' worth of exposure, which for a small P is P × f and never
passes 1. Every term is shown as a reason.

A person's 主要风险 is their own: the fraud type of their latest warning in the 12 months, else of their latest case,
else the type with the highest rate among their groups; the reason says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.derived_groups import Derived, day_end, load_derived
from fanzha.cases.models import Case
from fanzha.detect.taxonomy import FRAUD_TYPE_NAMES, FRAUD_TYPES
from fanzha.org.enums import GROUPS
from fanzha.people.models import Person

RATE_EXCLUDED = ("past_victim",)
WARNING_STEP = 0.5
WARNING_CAP = 4
VICTIM_FACTOR = 1.5
SHOWN_TYPES = 3


def pct(x: float) -> str:
    return f"{x * 100:.2f}%"


@dataclass
class Rates:
    """The counts behind every rate, so each can be shown with its numerator, denominator and prior."""

    population: int
    members: dict[str, int]
    victims_all: dict[str, int]
    victims: dict[tuple[str, str], int]
    prior_strength: float
    window_days: int
    today: date

    def prior(self, fraud_type: str) -> float:
        return self.victims_all.get(fraud_type, 0) / self.population if self.population else 0.0

    def rate(self, group: str, fraud_type: str) -> float:
        m = self.prior_strength
        n = self.members.get(group, 0)
        if n + m == 0:
            return 0.0
        return (self.victims.get((group, fraud_type), 0) + m * self.prior(fraud_type)) / (n + m)

    def explain(self, group: str | None, fraud_type: str) -> str:
        name = FRAUD_TYPE_NAMES[fraud_type]
        p0 = self.prior(fraud_type)
        base = f"全体 {self.population} 人中 {self.victims_all.get(fraud_type, 0)} 人被骗，先验 {pct(p0)}"
        if group is None:
            return f"未列入群体 × {name}：按{base} → {pct(p0)}"
        v, n, m = self.victims.get((group, fraud_type), 0), self.members.get(group, 0), self.prior_strength
        return (f"{GROUPS[group]} × {name}：近{self.window_days}天 {n} 人中 {v} 人被骗；{base}，强度 {m:g}"
                f" → ({v} + {m:g}×{pct(p0)}) ÷ ({n} + {m:g}) = {pct(self.rate(group, fraud_type))}")

    def top_types(self, group: str, k: int = 3) -> list[str]:
        """The fraud types that hit the group most: by smoothed rate, then by victims, then by name."""
        ranked = sorted(FRAUD_TYPES, key=lambda t: (-self.rate(group, t), -self.victims.get((group, t), 0), t))
        return ranked[:k]


@dataclass
class Score:
    value: float
    per_type: list[tuple[str, float, str | None]]  # (fraud type, rate, the group giving it), highest first
    warnings: int
    victim: bool
    reasons: list[str] = field(default_factory=list)
    main_type: str = "other"
    main_basis: str = ""  # why main_type: 近12个月被预警, 曾被骗, or the group whose rate is highest

    @property
    def main_risk(self) -> str:
        return f"{FRAUD_TYPE_NAMES[self.main_type]}（{self.main_basis}）"


def score(rates: Rates, groups: list[str], warnings: int = 0, victim: bool = False, *,
          warned_type: str | None = None, victim_type: str | None = None) -> Score:
    usable = [g for g in groups if g not in RATE_EXCLUDED and g in GROUPS]
    per_type = []
    for t in FRAUD_TYPES:
        if usable:
            best = max(usable, key=lambda g: (rates.rate(g, t), g))
            per_type.append((t, rates.rate(best, t), best))
        else:
            per_type.append((t, rates.prior(t), None))
    per_type.sort(key=lambda x: (-x[1], x[0]))
    spared = 1.0
    for _, r, _ in per_type:
        spared *= 1 - min(r, 1.0)
    total = 1 - spared
    w_factor = 1 + WARNING_STEP * min(warnings, WARNING_CAP)
    v_factor = VICTIM_FACTOR if victim else 1.0
    factor = w_factor * v_factor
    value = round(1000 * (1 - spared ** factor), 1)
    reasons = [rates.explain(g, t) for t, r, g in per_type[:SHOWN_TYPES] if r > 0]
    rest = sum(r for _, r, _ in per_type[SHOWN_TYPES:])
    if rest > 0:
        reasons.append(f"其余 {len(per_type) - SHOWN_TYPES} 类合计 {pct(rest)}")
    if warnings:
        reasons.append(f"近12个月被预警 {warnings} 次 → ×{w_factor:g}（每次 +{WARNING_STEP:g}，最多计 {WARNING_CAP} 次）")
    if victim:
        reasons.append(f"曾被骗（有立案记录）→ ×{VICTIM_FACTOR:g}")
    reasons.append(f"各类合计被骗概率 P = 1 − Π(1 − 各类被骗率) = {pct(total)}")
    if factor == 1:
        reasons.append(f"风险分 = 1000 × P = {value:g}‰（每千名同类人员预计被骗人数，最多 1000）")
    else:
        reasons.append(f"风险分 = 1000 × (1 − (1 − P)^{factor:g}) = {value:g}‰（个人系数 {factor:g} 按暴露 {factor:g} 倍时长计，"
                       "不超过 1000）")
    if warned_type in FRAUD_TYPE_NAMES:
        main_type, basis = warned_type, "近12个月被预警"
    elif victim_type in FRAUD_TYPE_NAMES:
        main_type, basis = victim_type, "曾被骗"
    elif per_type and per_type[0][1] > 0:
        main_type, g = per_type[0][0], per_type[0][2]
        basis = f"{GROUPS[g]}群体最高发" if g else "全体最高发"
    else:
        main_type, basis = "other", "暂无数据"
    return Score(value=value, per_type=per_type, warnings=warnings, victim=victim, reasons=reasons,
                 main_type=main_type, main_basis=basis)


@dataclass
class Population:
    """Everyone with their groups at the day: what the rates count and what scores are read from."""

    rates: Rates
    derived: Derived
    groups: dict[int, list[str]]

    def score_of(self, person_id: int) -> Score:
        groups = self.groups.get(person_id, [])
        return score(self.rates, groups, self.derived.warnings.get(person_id, 0),
                     person_id in self.derived.victims, warned_type=self.derived.warned_type.get(person_id),
                     victim_type=self.derived.victim_type.get(person_id))


def load_population(session: Session, today: date, *, window_days: int, prior_strength: float) -> Population:
    """Rates are counted over the whole county (counts only, no one's record leaves its area through them)."""
    derived = load_derived(session, today)
    groups: dict[int, list[str]] = {}
    members: dict[str, int] = {}
    for pid, birth, declared in session.execute(select(Person.id, Person.birth_date, Person.groups)):
        gs = derived.groups(pid, birth, declared)
        groups[pid] = gs
        for g in gs:
            members[g] = members.get(g, 0) + 1
    end = day_end(today)
    rows = session.execute(select(Case.person_id, Case.fraud_type).where(
        Case.person_id.is_not(None), Case.loss_at >= end - timedelta(days=window_days), Case.loss_at < end)
        .distinct()).all()
    victims_all: dict[str, int] = {}
    victims: dict[tuple[str, str], int] = {}
    for pid, t in rows:
        t = t if t in FRAUD_TYPE_NAMES else "other"
        victims_all[t] = victims_all.get(t, 0) + 1
        for g in groups.get(pid, []):
            victims[(g, t)] = victims.get((g, t), 0) + 1
    rates = Rates(population=len(groups), members=members, victims_all=victims_all, victims=victims,
                  prior_strength=prior_strength, window_days=window_days, today=today)
    return Population(rates=rates, derived=derived, groups=groups)
