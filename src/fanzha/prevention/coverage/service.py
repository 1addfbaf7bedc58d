"""Coverage against dated targets (注册率, 覆盖率): a metric over a leaf denominator, per area of either chain.

A leaf whose denominator is 0 has no rate ("—") and is left out of every sum that makes a rate, numerator and
denominator alike; the same holds for population 0 in 万人 rates. docs/prevention.md states it.

The two registration metrics (APP注册, 金钟罩注册) count people, not reports: once an APP/金钟罩注册名单 has been
imported by a user whose node covers any leaf of the target (people.registration keeps each person's earliest date),
the numerator is the number of people of each leaf registered between the target's start and the day judged — each
person once, however many activities reported them. Until then the activities' reported counts stand in, labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from math import ceil

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import Invalid, NotFound
from fanzha.common.localtime import local_day
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import children, communities_under, contains
from fanzha.people.models import Person
from fanzha.prevention.counting import counted
from fanzha.prevention.enums import DENOMINATORS, METRICS
from fanzha.prevention.models import Activity, CoverageTarget


def target_visible(scope: Scope):
    """Targets set on the user's nodes and on those above (they apply to the user's area). They are plans, not
    records: the figures coverage() shows for one are limited to the user's own subtree."""
    return CoverageTarget.area_id.in_(select(Area.id).where(scope.area_clause()))


def list_targets(session: Session, scope: Scope) -> list[CoverageTarget]:
    scope.require(Perm.READ_PREVENTION)
    return list(session.scalars(select(CoverageTarget).where(target_visible(scope))
                                .options(joinedload(CoverageTarget.area))
                                .order_by(CoverageTarget.metric, CoverageTarget.due_on)))


def get_target(session: Session, scope: Scope, target_id: int) -> CoverageTarget:
    scope.require(Perm.READ_PREVENTION)
    t = session.scalar(select(CoverageTarget).where(CoverageTarget.id == target_id, target_visible(scope)))
    if t is None:
        raise NotFound("目标不存在或不在您的管辖范围内")
    return t


def create_target(session: Session, scope: Scope, *, area_id: int, metric: str, denominator: str, target_pct: Decimal,
                  due_on: date, counts_from: date | None = None, label: str = "") -> CoverageTarget:
    scope.require(Perm.MANAGE_CAMPAIGNS)
    area = scope.get_own_area(session, area_id)
    if metric not in METRICS:
        raise Invalid(f"未知的指标：{metric}", details=[{"loc": ["metric"], "msg": "未知"}])
    if denominator not in DENOMINATORS:
        raise Invalid("分母应为 常住人口、户数、商铺/企业数 之一", details=[{"loc": ["denominator"], "msg": "未知"}])
    if not Decimal(0) < target_pct <= Decimal(100):
        raise Invalid("目标比例应在 0 到 100 之间", details=[{"loc": ["target_pct"], "msg": "超出范围"}])
    if counts_from is not None and counts_from > due_on:
        raise Invalid("起算日期晚于截止日期", details=[{"loc": ["counts_from"], "msg": "顺序不对"}])
    t = CoverageTarget(area_id=area.id, metric=metric, denominator=denominator, target_pct=target_pct, due_on=due_on,
                       counts_from=counts_from, label=label.strip()[:100], created_by=scope.user_id)
    session.add(t)
    session.flush()
    audit.record(session, scope, "create", "coverage_target", t.id,
                 detail={"area": area.id, "metric": metric, "pct": str(target_pct), "due": due_on.isoformat()})
    return t


@dataclass
class CoverageRow:
    area: Area
    achieved: int  # over leaves with a denominator > 0
    denominator: int
    population: int  # over leaves with population > 0, for the 万人 rate
    achieved_pop: int  # achieved over those same leaves
    excluded: int  # leaves left out of the rate (denominator 0)
    target_pct: Decimal

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.achieved, self.denominator) if self.denominator else None

    @property
    def per_10k(self) -> Fraction | None:
        return Fraction(self.achieved_pop * 10_000, self.population) if self.population else None

    @property
    def needed(self) -> int | None:
        """How many the target asks for: ⌈pct% × denominator⌉."""
        return ceil(Fraction(self.target_pct) * self.denominator / 100) if self.denominator else None

    @property
    def gap(self) -> int:
        return max(0, self.needed - self.achieved) if self.needed is not None else 0

    @property
    def behind(self) -> bool:
        return self.needed is not None and self.achieved < self.needed


# The metrics a per-person registration list counts, and the person's date column for each.
PERSON_METRICS = {"app_installs": "app_registered_on", "jzz_registrations": "jzz_registered_on"}
SOURCES = {"people": "按注册名单去重计人（每人只计一次）",
           "activities": "按宣防活动上报的数量（尚未导入注册名单，可能重复计数）"}


def listed_nodes(session: Session) -> list[Area]:
    """The nodes whose users have imported an APP/金钟罩注册名单 that named at least one person on file (new dates or
    ones already known): the leaves under them are counted from people (people.registration)."""
    from fanzha.imports.models import ImportBatch

    ids = select(ImportBatch.area_id).where(ImportBatch.kind == "app_registration", ImportBatch.status == "done",
                                            ImportBatch.updated + ImportBatch.duplicates > 0,
                                            ImportBatch.area_id.is_not(None)).distinct()
    return list(session.scalars(select(Area).where(Area.id.in_(ids))))


def listed(nodes: list[Area], leaf: Area) -> bool:
    """Whether a registration list covers the leaf (uploaded at the leaf or a node above it, in either chain)."""
    return any(contains(node, leaf) for node in nodes)


def source_of(session: Session, metric: str, leaves: list[Area]) -> str:
    """people when the metric is a registration and a registration list covers any of the leaves; activities
    otherwise (the labelled fallback)."""
    if metric not in PERSON_METRICS:
        return "activities"
    nodes = listed_nodes(session)
    return "people" if nodes and any(listed(nodes, leaf) for leaf in leaves) else "activities"


def achieved_by_leaf(session: Session, metric: str, leaf_ids: list[int] | None, until: date, *,
                     since: date | None = None, source: str = "activities") -> dict[int, int]:
    """The numerator of each leaf (all leaves when `leaf_ids` is None) over the days [since, until]: registered
    people counted once each (source people), else the activities' reported counts. The one count coverage targets
    and the 无诈社区 rule use."""
    if source == "people":
        day = getattr(Person, PERSON_METRICS[metric])
        stmt = select(Person.community_id, func.count(Person.id)).where(day <= until).group_by(Person.community_id)
        if leaf_ids is not None:
            stmt = stmt.where(Person.community_id.in_(leaf_ids))
    else:
        day = Activity.held_on
        stmt = (select(Activity.community_id, func.sum(getattr(Activity, metric))).where(day <= until, counted())
                .group_by(Activity.community_id))
        if leaf_ids is not None:
            stmt = stmt.where(Activity.community_id.in_(leaf_ids))
    if since is not None:
        stmt = stmt.where(day >= since)
    return {cid: int(n or 0) for cid, n in session.execute(stmt)}


@dataclass
class Coverage:
    target: CoverageTarget
    node: Area
    chain: str
    today: date
    as_of: date  # what the target is judged on: activities held up to min(today, due_on)
    total: CoverageRow
    rows: list[CoverageRow]
    behind_leaves: list[CoverageRow]
    zero_leaves: list[Area]
    total_today: CoverageRow | None = None  # after the due date: the node's figure counted up to today, for reference
    source: str = "activities"  # SOURCES: what the numerator counts

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]


def _row(node: Area, leaves: list[Area], achieved: dict[int, int], t: CoverageTarget) -> CoverageRow:
    row = CoverageRow(area=node, achieved=0, denominator=0, population=0, achieved_pop=0, excluded=0,
                      target_pct=Decimal(t.target_pct))
    for leaf in leaves:
        if not contains(node, leaf):
            continue
        got = achieved.get(leaf.id, 0)
        denominator = getattr(leaf, t.denominator) or 0
        if denominator > 0:
            row.achieved += got
            row.denominator += denominator
        else:
            row.excluded += 1
        if leaf.population > 0:
            row.population += leaf.population
            row.achieved_pop += got
    return row


def coverage(session: Session, scope: Scope, target_id: int, *, now: datetime, node_id: int | None = None,
             chain: str | None = None) -> Coverage:
    """Rates under `node_id` (default: the target's area when the user may see all of it, else the user's node),
    judged on the activities held up to the due date once it has passed ("was 80 % reached by 06-30")."""
    t = get_target(session, scope, target_id)
    def may(a: Area) -> bool:
        return scope.at_root or scope.covers(a)

    node = session.get(Area, node_id) if node_id else t.area if may(t.area) else session.get(Area, scope.area_id)
    if node is None or not may(node):
        raise NotFound("辖区不存在或不在您的管辖范围内")
    chain = chain if chain in ("admin", "police") else node.chain
    today = local_day(now)
    as_of = min(today, t.due_on)
    leaves = list(session.scalars(select(Area).where(communities_under(node), communities_under(t.area))))
    leaf_ids = [a.id for a in leaves]
    source = source_of(session, t.metric, leaves)

    def achieved_until(day: date) -> dict[int, int]:
        return achieved_by_leaf(session, t.metric, leaf_ids, day, since=t.counts_from, source=source) if leaves else {}

    achieved = achieved_until(as_of)
    total_today = _row(node, leaves, achieved_until(today), t) if as_of < today else None
    rows = [_row(a, leaves, achieved, t) for a in children(session, node, chain) if may(a)]
    per_leaf = [_row(a, leaves, achieved, t) for a in leaves]
    behind = sorted((r for r in per_leaf if r.behind), key=lambda r: (-r.gap, r.area.code))
    zero = sorted((r.area for r in per_leaf if r.excluded), key=lambda a: a.code)
    return Coverage(target=t, node=node, chain=chain, today=today, as_of=as_of, total=_row(node, leaves, achieved, t),
                    rows=[r for r in rows if r.denominator or r.excluded], behind_leaves=behind, zero_leaves=zero,
                    total_today=total_today, source=source)
