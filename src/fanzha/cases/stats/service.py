"""Case statistics (案件研判) for any node of either hierarchy and any period, read from the exact roll-up.

`case_stats` is the one function the page, the API, the CLI and the bulletins call: it returns a `CaseStats` with
every figure. `cases_behind` lists the cases behind any one figure (masked, audited), with the same conditions the
roll-up counts by. Definitions are in docs/case-stats.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, literal_column, select, text, union_all
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.cases.enums import CHANNELS
from fanzha.cases.models import Case
from fanzha.cases.stats import definitions, rollup
from fanzha.cases.stats import rules as key_rules
from fanzha.cases.stats.definitions import AGE_BAND_SQL, AGE_BANDS, LOSS_BAND_LABELS, LOSS_BAND_SQL
from fanzha.cases.stats.rollup import DIMS, PREVENTABLE_SQL, WHOLE, CaseStatCell, cover
from fanzha.cases.stats.rollup import MEASURES as MEASURE_COLUMNS
from fanzha.common.errors import Invalid, NotFound
from fanzha.common.periods import Period
from fanzha.db import is_read_only
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org import tree
from fanzha.org.enums import GROUPS, LEVEL_LABELS, Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import children as child_nodes
from fanzha.org.tree import communities_under, contains

UNKNOWN = "未填写"
# dimension → (label, value labels, keep the labels' order rather than sort by cases)
DIMENSIONS: dict[str, tuple[str, dict[str, str], bool]] = {
    "type": ("诈骗类型", FRAUD_TYPE_LABELS, False),
    "age": ("年龄段", AGE_BANDS, True),
    "sex": ("性别", {"男": "男", "女": "女"}, True),
    "occupation": ("职业", {}, False),
    "group": ("易受骗群体", GROUPS, False),
    "channel": ("诈骗渠道", CHANNELS, False),
    "loss": ("损失金额段", LOSS_BAND_LABELS, True),
    "preventable": ("可防性", {"yes": "可防性案件", "no": "非可防性案件"}, True),
}
MEASURES = {k: (m.label, m.unit) for k, m in definitions.MEASURES.items()}
RANK_BY = {"cases": "立案数", "loss": "损失金额", "rate": "万人发案率"}
C = CaseStatCell


def value_label(dim: str, value: str) -> str:
    if value == "":
        return UNKNOWN
    return DIMENSIONS[dim][1].get(value, value) if dim in DIMENSIONS else value


@dataclass
class Totals:
    """Figures of one set of cells, each counted by its time (definitions.MEASURES): cases/loss/recovered/frozen
    by 立案时间, solved by 破案时间, suspects by 抓获时间."""

    cases: int = 0
    loss: Decimal = Decimal("0.00")
    recovered: Decimal = Decimal("0.00")
    frozen: Decimal = Decimal("0.00")
    solved: int = 0
    suspects: int = 0

    @classmethod
    def of(cls, row) -> Totals:
        cents = [Decimal(int(v or 0)) / 100 for v in row[1:4]]
        return cls(int(row[0] or 0), *cents, int(row[4] or 0), int(row[5] or 0))

    def __iadd__(self, other: Totals) -> Totals:
        for k in MEASURES:
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self

    @property
    def empty(self) -> bool:
        return not any(getattr(self, k) for k in MEASURES)


def rate(cases: int, population: int) -> float | None:
    """万人发案率: cases per 10,000 residents (the leaves' 常住人口), for the period as given (not annualised)."""
    return cases * 10000 / population if population else None


@dataclass
class Change:
    """A figure against its base: 同比 (year_ago) or 环比 (previous). `pct` None when the base is zero; `text` is
    what the page shows: 上升12.5% / 下降3.0% / 持平 / 新增 (zero base, now above zero) / — (both zero)."""

    base: float | int | Decimal | None
    diff: float | int | Decimal | None
    pct: float | None
    text: str

    @classmethod
    def of(cls, cur, base) -> Change:
        if cur is None or base is None:
            return cls(base, None, None, "—")
        diff = cur - base
        if not base:
            return cls(base, diff, None, "新增" if cur else "—")
        pct = round(float(diff) * 100 / float(base), 1)
        if pct == 0 and diff == 0:
            return cls(base, diff, 0.0, "持平")
        return cls(base, diff, pct, f"{'上升' if diff > 0 else '下降'}{abs(pct):.1f}%")


@dataclass
class Headline:
    key: str
    label: str
    unit: str
    value: int | Decimal | float | None
    yoy: Change  # 同比
    mom: Change  # 环比
    basis: str = ""  # 统计口径: 破案数按破案时间统计


@dataclass
class BreakdownRow:
    key: str  # the stored value ('' = 未填写)
    label: str
    totals: Totals
    share_pct: float | None  # of the period's cases (a case in two groups counts in both)
    yoy: Change  # cases 同比
    mom: Change  # cases 环比


@dataclass
class Breakdown:
    dim: str
    label: str
    rows: list[BreakdownRow]


@dataclass
class AreaRow:
    """One child area in the ranking. rank: 1 = highest by `CaseStats.rank_by` (ties share a rank); arrow ↑ when
    it stands higher than in the previous period (环比), ↓ lower, — the same."""

    area_id: int
    code: str
    name: str
    level: str
    population: int
    totals: Totals
    rate: float | None
    rank: int
    previous_rank: int
    arrow: str
    yoy: Change
    mom: Change


@dataclass
class KeyItem:
    """A key community (kind 'community', key = area code) or key group (kind = the dimension, key = its value)."""

    kind: str
    key: str
    label: str
    cases: int
    previous_cases: int
    rate: float | None = None
    share_pct: float | None = None
    area_id: int | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class CaseStats:
    """Everything the 案件研判 page shows for one node and period.

    * area_*: the node (either chain); communities/population: its leaves within the caller's scope.
    * period / previous (环比) / year_ago (同比): `periods.Period` (local days, both ends included).
    * totals / previous_totals / year_ago_totals: `Totals`; rate / previous_rate / year_ago_rate: 万人发案率.
    * headline: the six measures and 万人发案率 with 同比 and 环比 (`Change`).
    * breakdowns: dimension → `Breakdown` (type, age, sex, occupation, group, channel, loss, preventable).
    * children: the ranking of the next level down (`AreaRow`), in `child_chain`, by `rank_by`.
    * key_communities / key_groups: `KeyItem`s for next month, by `rules` (rules.KeyRules).
    * unplaced_cases: for a centre user at a root node, the period's cases on no community (not in any figure).
    * basis: which time each figure is counted by (definitions.basis()); each headline carries its own.
    """

    area_id: int
    area_code: str
    area_name: str
    chain: str
    level: str
    period: Period
    previous: Period
    year_ago: Period
    communities: int
    population: int
    totals: Totals
    previous_totals: Totals
    year_ago_totals: Totals
    rate: float | None
    previous_rate: float | None
    year_ago_rate: float | None
    headline: list[Headline]
    breakdowns: dict[str, Breakdown]
    child_chain: str
    child_level: str
    children: list[AreaRow]
    rank_by: str
    key_communities: list[KeyItem]
    key_groups: list[KeyItem]
    rules: key_rules.KeyRules
    unplaced_cases: int | None = None
    basis: str = definitions.basis()  # 统计口径 of every figure, as the page shows it

    def as_dict(self) -> dict:
        """JSON-ready: amounts as strings (exact yuan), periods as {kind, from, to, label}."""

        def conv(v):
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, date):
                return v.isoformat()
            if isinstance(v, float):
                return round(v, 4)
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        out = conv(asdict(self))
        for k in ("period", "previous", "year_ago"):
            p: Period = getattr(self, k)
            out[k] = {"kind": p.kind, "from": p.start.isoformat(), "to": p.end.isoformat(), "label": p.label,
                      "spec": p.spec}
        return out


# -- reading the roll-up ---------------------------------------------------------------------------------------------
def _read(session: Session, leaf_ids: list[int], *spans: Period, dims: bool = True, whole: bool = False):
    """For each period: ((dimension, value) → Totals, community → Totals) over its cells of these leaves.

    One statement. Per period and run of cells (`periods.cover`): the leaves' `all` cells, and the dimension cells —
    of the leaves, or when they are every community (`whole`) the city-wide cells (community −1), a few hundred rows
    instead of one set per community. Each part is short ranges of the key (grain, dim, community, day, value).
    Equal periods (a year's 环比 and 同比) are read once. Changes not yet folded into the cells (the PostgreSQL
    journal) are folded first, so the cells are exact; a read-only session (the read replica) cannot fold them and
    adds them as it reads instead."""
    if is_read_only(session):
        C = rollup.cells_with_pending(session.connection())
    else:
        rollup.fold_pending(session.connection())
        C = CaseStatCell
    uniq = list(dict.fromkeys(spans))
    found = [({}, {}) for _ in uniq]
    if leaf_ids:
        parts = []
        for i, p in enumerate(uniq):
            for g, a, b in cover(p.start, p.end):
                q = select(literal(i).label("p"), C.dim, C.value, C.community_id,
                           *[getattr(C, m) for m in MEASURE_COLUMNS]).where(C.grain == g, C.day >= a, C.day <= b)
                parts.append(q.where(C.dim == "all", C.community_id.in_(leaf_ids)))
                if dims:
                    parts.append(q.where(C.dim.in_(DIMS[1:]),
                                         C.community_id == WHOLE if whole else C.community_id.in_(leaf_ids)))
        u = union_all(*parts).subquery()
        leaf = case((u.c.dim == "all", u.c.community_id), else_=-1)
        rows = session.execute(select(u.c.p, u.c.dim, u.c.value, leaf, *[func.sum(u.c[m]) for m in MEASURE_COLUMNS])
                               .group_by(u.c.p, u.c.dim, u.c.value, leaf))
        for p_index, dim, value, community, *sums in rows:
            t = Totals.of(sums)
            if t.empty:
                continue
            by_dim, by_leaf = found[p_index]
            if dim == "all":
                by_leaf[community] = t
            else:
                by_dim[(dim, value)] = t
    return [found[uniq.index(p)] for p in spans]


def leaf_totals(session: Session, leaf_ids: list[int], *spans: Period) -> list[dict[int, Totals]]:
    """For each period, community → `Totals`, from the same cells `case_stats` reads (for reports that group the
    communities otherwise: a bulletin's townships and stations, the map's areas)."""
    return [by_leaf for _, by_leaf in _read(session, leaf_ids, *spans, dims=False)]


def _total(by_leaf: dict[int, Totals]) -> Totals:
    out = Totals()
    for t in by_leaf.values():
        out += t
    return out


def scoped_leaves(session: Session, scope: Scope, area: Area) -> list[Area]:
    """The communities under `area` (in its chain) that the caller may see: what every figure counts."""
    return list(session.scalars(select(Area).where(communities_under(area), scope.community_clause(Area.id))
                                .order_by(Area.code)))


def default_area(session: Session, scope: Scope) -> Area:
    """The caller's own node; for the system, the admin root (市)."""
    if scope.is_system:
        area = tree.top_area(session, Chain.ADMIN)
        if area is None:
            raise Invalid("还没有辖区")
        return area
    return session.get(Area, scope.area_id)


def _ranks(values: dict[int, float]) -> dict[int, int]:
    """Competition ranks, highest first: 1, 2, 2, 4."""
    ordered = sorted(values.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in values.items()}


def case_stats(session: Session, scope: Scope, *, area: Area | None = None, period: Period,
               child_chain: str = "", rank_by: str = "cases", rules: key_rules.KeyRules | None = None) -> CaseStats:
    """All statistics of `area` (a node of either chain, default the caller's own) for `period`.

    Counts only cases on communities under the node that the caller's scope covers; aggregates only (no personal
    data). `child_chain` ('admin'/'police', default the node's own) picks the hierarchy of the ranking's rows: a
    county by its townships, or by the stations holding its communities. One grouped read of the roll-up
    (one statement: the period, 环比 and 同比), the rest in Python.
    """
    scope.require(Perm.READ_CASES)
    if rank_by not in RANK_BY:
        raise Invalid(f"排名依据应为 {list(RANK_BY)} 之一")
    area = area or default_area(session, scope)
    child_chain = child_chain or area.chain
    if child_chain not in (Chain.ADMIN, Chain.POLICE):
        raise Invalid("层级应为 admin 或 police")
    rules = rules or key_rules.load_rules()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
    leaves = scoped_leaves(session, scope, area)
    ids = [leaf.id for leaf in leaves]
    population = sum(leaf.population for leaf in leaves)
    prev_p, ago_p = period.previous(), period.year_ago()
    whole = len(ids) == session.scalar(select(func.count()).select_from(Area).where(Area.level == Level.COMMUNITY))
    (cur_dim, cur_leaf), (prev_dim, prev_leaf), (ago_dim, ago_leaf) = _read(session, ids, period, prev_p, ago_p,
                                                                             whole=whole)
    cur, prev, ago = _total(cur_leaf), _total(prev_leaf), _total(ago_leaf)
    r_cur, r_prev, r_ago = rate(cur.cases, population), rate(prev.cases, population), rate(ago.cases, population)

    headline = [Headline(k, m.label, m.unit, getattr(cur, k), Change.of(getattr(cur, k), getattr(ago, k)),
                         Change.of(getattr(cur, k), getattr(prev, k)), m.basis)
                for k, m in definitions.MEASURES.items()]
    headline.append(Headline("rate", "万人发案率", "起/万人", r_cur, Change.of(r_cur, r_ago), Change.of(r_cur, r_prev),
                             definitions.RATE_NOTE))

    breakdowns = {}
    for dim, (label, labels, ordered) in DIMENSIONS.items():
        keys = {v for (d, v) in (*cur_dim, *prev_dim, *ago_dim) if d == dim}
        rows = []
        for v in keys:
            t = cur_dim.get((dim, v), Totals())
            rows.append(BreakdownRow(v, value_label(dim, v), t,
                                     round(t.cases * 100 / cur.cases, 1) if cur.cases else None,
                                     Change.of(t.cases, ago_dim.get((dim, v), Totals()).cases),
                                     Change.of(t.cases, prev_dim.get((dim, v), Totals()).cases)))
        order = list(labels)
        if ordered:
            rows.sort(key=lambda r: (order.index(r.key) if r.key in order else len(order), r.key))
        else:
            rows.sort(key=lambda r: (-r.totals.cases, r.key == "", -r.totals.loss, r.key))
        breakdowns[dim] = Breakdown(dim, label, rows)

    kids, child_level = _children(session, area, child_chain, leaves, cur_leaf, prev_leaf, ago_leaf, rank_by)
    key_communities = _key_communities(leaves, cur_leaf, prev_leaf, period, rules)
    key_groups = _key_groups(cur_dim, prev_dim, cur.cases, period, rules)
    unplaced = None
    if scope.is_centre and tree.is_top(area):
        ((_, zero),) = _read(session, [0], period, dims=False)
        unplaced = zero.get(0, Totals()).cases
    return CaseStats(area.id, area.code, area.label, area.chain, area.level, period, prev_p, ago_p, len(leaves),
                     population, cur, prev, ago, r_cur, r_prev, r_ago, headline, breakdowns, child_chain, child_level,
                     kids, rank_by, key_communities, key_groups, rules, unplaced)


def _children(session, area, chain, leaves, cur_leaf, prev_leaf, ago_leaf, rank_by):
    nodes = child_nodes(session, area, chain)
    rows, members = [], {}
    for node in nodes:
        mine = [leaf for leaf in leaves if contains(node, leaf)]
        if mine:  # a child with none of the caller's communities is not theirs to rank
            members[node.id] = (node, mine)
    if not members:
        return [], ""

    def sums(by_leaf, mine):
        out = Totals()
        for leaf in mine:
            out += by_leaf.get(leaf.id, Totals())
        return out

    figures = {}
    for nid, (node, mine) in members.items():
        pop = sum(leaf.population for leaf in mine)
        c, p, a = sums(cur_leaf, mine), sums(prev_leaf, mine), sums(ago_leaf, mine)
        figures[nid] = (node, pop, c, p, a)

    def key(t: Totals, pop: int) -> float:
        if rank_by == "rate":
            return rate(t.cases, pop) or 0.0
        return float(getattr(t, rank_by))

    now = _ranks({nid: key(f[2], f[1]) for nid, f in figures.items()})
    before = _ranks({nid: key(f[3], f[1]) for nid, f in figures.items()})
    for nid, (node, pop, c, p, a) in figures.items():
        arrow = "↑" if now[nid] < before[nid] else "↓" if now[nid] > before[nid] else "—"
        rows.append(AreaRow(nid, node.code, node.label, node.level, pop, c, rate(c.cases, pop), now[nid], before[nid],
                            arrow, Change.of(c.cases, a.cases), Change.of(c.cases, p.cases)))
    rows.sort(key=lambda r: (r.rank, r.code))
    level = LEVEL_LABELS.get(rows[0].level, "") if rows else ""
    return rows, level


def _scale(p: Period, on: bool) -> float:
    return p.days / 30 if on else 1.0


def _num(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


def _key_communities(leaves, cur_leaf, prev_leaf, p: Period, rules) -> list[KeyItem]:
    f = _scale(p, rules.community_scale)
    min_rate, min_cases, rise_min = rules.min_rate * f, rules.min_cases * f, rules.rise_min_cases * f
    out = []
    for leaf in leaves:
        c, b = cur_leaf.get(leaf.id, Totals()).cases, prev_leaf.get(leaf.id, Totals()).cases
        r = rate(c, leaf.population)
        item = KeyItem("community", leaf.code, leaf.label, c, b, rate=r, area_id=leaf.id)
        if r is not None and c and r >= min_rate:
            item.reasons.append(f"万人发案率{r:.2f}，达到{_num(min_rate)}")
        if c and c >= min_cases:
            item.reasons.append(f"立案{c}起，达到{_num(min_cases)}起")
        if c and c >= rise_min:
            if b == 0:
                item.reasons.append(f"上期无案，本期新增{c}起")
            elif (c - b) * 100 / b >= rules.min_rise_pct:
                item.reasons.append(f"环比上升{(c - b) * 100 / b:.1f}%，达到{_num(rules.min_rise_pct)}%")
        if item.reasons:
            out.append(item)
    out.sort(key=lambda i: (-i.cases, -(i.rate or 0), i.key))
    return out[: rules.limit]


def _key_groups(cur_dim, prev_dim, total: int, p: Period, rules) -> list[KeyItem]:
    f = _scale(p, rules.group_scale)
    min_cases = rules.group_min_cases * f
    out = []
    for (dim, v), t in cur_dim.items():
        if dim not in rules.group_dims or v == "" or t.cases < min_cases:
            continue
        b = prev_dim.get((dim, v), Totals()).cases
        share = t.cases * 100 / total if total else 0.0
        item = KeyItem(dim, v, f"{DIMENSIONS[dim][0]}：{value_label(dim, v)}", t.cases, b, share_pct=round(share, 1))
        if share >= rules.group_min_share_pct:
            item.reasons.append(f"占立案{share:.1f}%，达到{_num(rules.group_min_share_pct)}%")
        if b and (t.cases - b) * 100 / b >= rules.group_min_rise_pct:
            item.reasons.append(f"环比上升{(t.cases - b) * 100 / b:.1f}%")
        elif not b:
            item.reasons.append(f"上期无案，本期新增{t.cases}起")
        if item.reasons:
            out.append(item)
    out.sort(key=lambda i: (-i.cases, i.kind, i.key))
    return out


# -- the cases behind a figure ---------------------------------------------------------------------------------------
def dimension_clause(session: Session, dim: str, value: str):
    """The condition on cases that the roll-up counts under (dim, value)."""
    if dim in ("", "all"):
        return None
    if dim == "type":
        return Case.fraud_type == value
    if dim in ("channel", "occupation"):
        return (Case.channel if dim == "channel" else Case.victim_occupation) == value
    if dim == "sex":
        return Case.victim_sex == value
    if dim in ("age", "loss", "preventable"):
        sql = {"age": AGE_BAND_SQL, "loss": LOSS_BAND_SQL, "preventable": PREVENTABLE_SQL}[dim]
        return literal_column(sql.format(c="cases")) == value
    if dim == "group":
        if session.get_bind().dialect.name == "postgresql":
            return text("(CASE WHEN json_typeof(cases.victim_groups) = 'array' THEN cases.victim_groups::jsonb "
                        "ELSE '[]'::jsonb END) ? :grp").bindparams(grp=value)
        return text("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_type(cases.victim_groups) = 'array' "
                    "THEN cases.victim_groups ELSE '[]' END) AS j WHERE j.value = :grp)").bindparams(grp=value)
    raise Invalid(f"未知的分类：{dim}")


def behind_clause(session: Session, leaf_ids: list[int], period: Period, measure: str, dim: str = "",
                  value: str = ""):
    """Cases counted by one figure: on these communities, dated in the period by the measure's event."""
    if measure not in definitions.MEASURES:
        raise Invalid(f"未知的指标：{measure}")
    since, until = period.bounds()
    column = getattr(Case, definitions.MEASURES[measure].counted_by)
    parts = [Case.community_id.in_(leaf_ids or [-1]), column >= since, column < until]
    if measure == "suspects":
        parts.append(Case.suspects_caught != 0)
    extra = dimension_clause(session, dim, value)
    if extra is not None:
        parts.append(extra)
    return and_(*parts)


def cases_behind(session: Session, scope: Scope, *, area: Area | None = None, period: Period,
                 measure: str = "cases", dim: str = "", value: str = "", sub: Area | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
    """The cases behind one figure of `case_stats` (same node, period, measure; optionally one dimension value and
    one child area or community `sub`), newest first. Each listing is audited; callers show names masked."""
    scope.require(Perm.READ_CASES)
    area = area or default_area(session, scope)
    leaves = scoped_leaves(session, scope, area)
    if sub is not None:
        leaves = [leaf for leaf in leaves if contains(sub, leaf)]
    where = behind_clause(session, [leaf.id for leaf in leaves], period, measure, dim, value)
    total = session.scalar(select(func.count()).select_from(Case).where(where))
    rows = list(session.scalars(select(Case).where(where).options(joinedload(Case.community))
                                .order_by(Case.filed_at.desc(), Case.id.desc()).limit(limit).offset(offset)))
    audit.record(session, scope, "view", "case", "", fields=["name"],
                 detail={"ids": [c.id for c in rows], "stats": {"area": area.code, "period": period.spec,
                                                                "measure": measure, "dim": dim, "value": value,
                                                                "sub": sub.code if sub else ""}})
    return rows, int(total or 0)


def resolve_area(session: Session, scope: Scope, code: str) -> Area:
    """A node by its code, if the caller may see it; no code: the caller's own node (`default_area`)."""
    if not code.strip():
        return default_area(session, scope)
    area_id = session.scalar(select(Area.id).where(Area.code == code.strip()))
    if area_id is None:
        raise NotFound(f"辖区编码 {code} 不存在")
    return scope.get_area(session, area_id)


