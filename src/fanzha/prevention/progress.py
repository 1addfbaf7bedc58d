"""Campaign progress: daily roll-ups by area in either hierarchy and the laggard list, on an injectable clock.

Definitions (docs/prevention.md): an activity counts for a campaign when counting.py links it to it (every running
campaign covering its community and day; none once withdrawn) and it is held on a day up to today; the elapsed
share is the part of the campaign's local days [first 00:00, last+1 00:00) that has passed at `now`; an area lags
in a metric when achieved < quota × elapsed share, i.e. achieved < ⌈quota × share⌉ = expected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from math import ceil

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.common.errors import NotFound
from fanzha.common.localtime import day_start, days, local_day
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.org.tree import children, contains, node_contains
from fanzha.prevention import counting
from fanzha.prevention.enums import METRICS
from fanzha.prevention.models import Activity, Campaign, Quota
from fanzha.prevention.service import covered_areas, get_campaign


def elapsed_share(c: Campaign, now: datetime) -> Fraction:
    start, end = day_start(c.starts_on), day_start(c.ends_on + timedelta(days=1))
    passed = Fraction(int((now - start).total_seconds()), int((end - start).total_seconds()))
    return min(Fraction(1), max(Fraction(0), passed))


def expected(target: int, share: Fraction) -> int:
    return ceil(target * share)


@dataclass
class Figures:
    """One area's figures in one campaign: quota and achieved per metric, and per-day increments."""

    area: Area
    quota: dict[str, int] = field(default_factory=dict)  # only metrics with a quota
    achieved: dict[str, int] = field(default_factory=dict)
    daily: dict[str, list[int]] = field(default_factory=dict)

    def expected(self, metric: str, share: Fraction) -> int | None:
        return expected(self.quota[metric], share) if metric in self.quota else None

    def gap(self, metric: str, share: Fraction) -> int:
        e = self.expected(metric, share)
        return max(0, e - self.achieved.get(metric, 0)) if e is not None else 0

    def rate(self, metric: str) -> float | None:
        q = self.quota.get(metric)
        return self.achieved.get(metric, 0) / q if q else None


@dataclass
class Progress:
    campaign: Campaign
    now: datetime
    share: Fraction
    days: list[date]
    node: Area
    chain: str
    total: Figures
    rows: list[Figures]
    metrics: list[str]


@dataclass
class Laggard:
    area: Area
    metric: str
    quota: int
    achieved: int
    expected: int

    @property
    def gap(self) -> int:
        return self.expected - self.achieved


class _Data:
    """Everything a campaign's figures are made of, loaded once: quotas with their areas, daily sums per leaf."""

    def __init__(self, session: Session, c: Campaign, now: datetime):
        self.today = min(local_day(now), c.ends_on)
        self.days = days(c.starts_on, self.today) if self.today >= c.starts_on else []
        self.quotas = list(session.execute(select(Quota, Area).join(Area, Quota.area_id == Area.id)
                                           .where(Quota.campaign_id == c.id)))
        cols = [func.sum(getattr(Activity, m)) for m in METRICS]
        sums = session.execute(select(Activity.community_id, Activity.held_on, *cols)
                               .where(counting.in_campaign(c.id), Activity.held_on >= c.starts_on,
                                      Activity.held_on <= self.today)
                               .group_by(Activity.community_id, Activity.held_on)).all()
        leaf_ids = {r[0] for r in sums}
        self.leaves = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(leaf_ids)))} if leaf_ids else {}
        self._cache: dict[int, Figures] = {}
        self.sums: dict[int, dict[date, dict[str, int]]] = defaultdict(dict)
        for community_id, held_on, *values in sums:
            self.sums[community_id][held_on] = {m: int(v or 0) for m, v in zip(METRICS, values, strict=True)}

    def quota_of(self, node: Area) -> dict[str, int]:
        """Explicit quota on the node; else the sum of the topmost quotas beneath it (in the node's chain, or on its
        communities). A township's quota is not split among stations: stations show only what was set on them or on
        their communities."""
        out: dict[str, int] = {}
        by_metric: dict[str, list[tuple[Quota, Area]]] = defaultdict(list)
        for q, a in self.quotas:
            by_metric[q.metric].append((q, a))
        for metric, rows in by_metric.items():
            own = [q for q, a in rows if a.id == node.id]
            if own:
                out[metric] = own[0].target
                continue
            under = [(q, a) for q, a in rows if node_contains(node, a)]
            top = [(q, a) for q, a in under if not any(node_contains(b, a) for _, b in under if b.id != a.id)]
            if top:
                out[metric] = sum(q.target for q, _ in top)
        return out

    def figures(self, node: Area) -> Figures:
        if node.id not in self._cache:
            self._cache[node.id] = self._figures(node)
        return self._cache[node.id]

    def _figures(self, node: Area) -> Figures:
        f = Figures(area=node, quota=self.quota_of(node))
        daily = {m: [0] * len(self.days) for m in METRICS}
        index = {d: i for i, d in enumerate(self.days)}
        for leaf_id, per_day in self.sums.items():
            if not contains(node, self.leaves[leaf_id]):
                continue
            for day, values in per_day.items():
                for m, v in values.items():
                    daily[m][index[day]] += v
        f.daily = daily
        f.achieved = {m: sum(v) for m, v in daily.items()}
        return f


def _may_see(scope: Scope, node: Area) -> bool:
    return scope.at_root or scope.covers(node)


def default_node(session: Session, scope: Scope, c: Campaign) -> Area:
    covered = [a for a in covered_areas(session, c) if _may_see(scope, a)]
    if len(covered) == 1:
        return covered[0]
    return session.get(Area, scope.area_id) if scope.area_id else c.area


def progress(session: Session, scope: Scope, campaign_id: int, *, now: datetime, node_id: int | None = None,
             chain: str | None = None) -> Progress:
    """The roll-up one level below `node_id` (default: the campaign's area, or the user's own node) in `chain`."""
    c = get_campaign(session, scope, campaign_id)
    node = session.get(Area, node_id) if node_id else default_node(session, scope, c)
    if node is None or not _may_see(scope, node):
        raise NotFound("辖区不存在或不在您的管辖范围内")
    chain = chain if chain in ("admin", "police") else node.chain
    data = _Data(session, c, now)
    rows = [data.figures(a) for a in children(session, node, chain) if _may_see(scope, a)]
    total = data.figures(node)
    metrics = [m for m in METRICS if m in total.quota or any(m in r.quota for r in rows)]
    metrics += [m for m in METRICS if m not in metrics and total.achieved.get(m)]
    return Progress(campaign=c, now=now, share=elapsed_share(c, now), days=data.days, node=node, chain=chain,
                    total=total, rows=rows, metrics=metrics)


def laggards(session: Session, scope: Scope, campaign_id: int, *, now: datetime) -> list[Laggard]:
    """Every area with a quota (that the user may see) behind quota × elapsed share, largest gap first."""
    c = get_campaign(session, scope, campaign_id)
    data = _Data(session, c, now)
    share = elapsed_share(c, now)
    out = []
    for q, area in data.quotas:
        if not _may_see(scope, area):
            continue
        achieved = data.figures(area).achieved[q.metric]
        e = expected(q.target, share)
        if achieved < e:
            out.append(Laggard(area=area, metric=q.metric, quota=q.target, achieved=achieved, expected=e))
    level_order = {Level.COUNTY: 0, Level.BRANCH: 0, Level.TOWNSHIP: 1, Level.STATION: 1, Level.BEAT: 2,
                   Level.COMMUNITY: 3}
    out.sort(key=lambda g: (level_order.get(g.area.level, 9), -(g.gap / g.quota if g.quota else 0), g.area.code))
    return out
