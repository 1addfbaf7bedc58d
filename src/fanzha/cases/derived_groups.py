"""Vulnerable groups (易受骗群体) derived from records on read; the words lists use for them are in org.groups.

They read warnings and cases, so they live here, at the lowest package that may read both: the victim's profile on a
case (cases.profile), the registry's risk and 三包 (registry) and member units' coverage all derive them here.
Declared groups come from member units' lists and stay in Person.groups. Derived groups are computed when read, at
a given day, so they are never stale: 老年人 (60 or older by the birth date of the ID number), 多次被预警 (warned at
least twice in the 12 months before the day) and 曾被骗 (a case with the person as victim, lost on or before the day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.common.ages import age_on
from fanzha.common.localtime import zone
from fanzha.org.groups import ELDERLY_AGE
from fanzha.warnings.models import Warning

REPEAT_WARNINGS = 2  # warnings in the last 12 months that make someone 多次被预警
DERIVED = ("elderly", "repeat_warned", "past_victim")


def day_end(today: date) -> datetime:
    """The first instant after `today` (local day) as aware UTC: records up to it count."""
    tz = zone()
    return datetime(today.year, today.month, today.day, tzinfo=tz) + timedelta(days=1)


@dataclass
class Derived:
    """Warnings in the last 12 months and victims (loss on or before the day), for the people asked about."""

    warnings: dict[int, int]
    victims: set[int]
    today: date
    warned_type: dict[int, str] = field(default_factory=dict)  # the fraud type of the latest typed warning
    victim_type: dict[int, str] = field(default_factory=dict)  # the fraud type of the latest case

    def groups(self, person_id: int, birth: date | None, declared: list | None) -> list[str]:
        out = set(declared or [])
        age = age_on(birth, self.today)
        if age is not None and age >= ELDERLY_AGE:
            out.add("elderly")
        if self.warnings.get(person_id, 0) >= REPEAT_WARNINGS:
            out.add("repeat_warned")
        if person_id in self.victims:
            out.add("past_victim")
        return sorted(out)


def load_derived(session: Session, today: date, person_ids=None) -> Derived:
    """`person_ids` may be a list or a subquery; None means everyone."""
    end = day_end(today)
    start = end - timedelta(days=365)
    w = (select(Warning.person_id, func.count()).where(Warning.person_id.is_not(None), Warning.warned_at >= start,
                                                       Warning.warned_at < end).group_by(Warning.person_id))
    c = select(Case.person_id).where(Case.person_id.is_not(None), Case.loss_at < end).distinct()
    wt = (select(Warning.person_id, Warning.fraud_type, func.max(Warning.warned_at))
          .where(Warning.person_id.is_not(None), Warning.fraud_type.is_not(None), Warning.warned_at >= start,
                 Warning.warned_at < end).group_by(Warning.person_id, Warning.fraud_type))
    ct = (select(Case.person_id, Case.fraud_type, func.max(Case.loss_at))
          .where(Case.person_id.is_not(None), Case.fraud_type.is_not(None), Case.loss_at < end)
          .group_by(Case.person_id, Case.fraud_type))
    if person_ids is not None:
        w = w.where(Warning.person_id.in_(person_ids))
        c = c.where(Case.person_id.in_(person_ids))
        wt = wt.where(Warning.person_id.in_(person_ids))
        ct = ct.where(Case.person_id.in_(person_ids))
    return Derived(warnings=dict(session.execute(w).all()), victims=set(session.scalars(c)), today=today,
                   warned_type=_latest(session.execute(wt)), victim_type=_latest(session.execute(ct)))


def _latest(rows) -> dict[int, str]:
    """person → the fraud type of their latest (person, type, when) row; ties go to the type's name."""
    best: dict[int, tuple] = {}
    for pid, fraud_type, when in rows:
        if when is not None and (pid not in best or (when, fraud_type) > best[pid]):
            best[pid] = (when, fraud_type)
    return {pid: t for pid, (_, t) in best.items()}
