"""Where a bulletin's figures come from.

`BulletinFigures` (figures.py) is the contract; a provider is anything with
`figures(session, scope, period, area) -> BulletinFigures`. `StatsProvider` takes every case figure from 案件研判
(`case_stats` and the roll-up it reads, counted as `cases.stats.definitions` says), so a bulletin, the statistics
page, the API, the map and the wall screen give the same 立案, 损失, 破案 and 抓获 for the same node and period;
the warning figures come from `fanzha.warnings.metrics.overview` (docs/bulletins.md, "Where the figures come from").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.cases.requests import service as account_requests
from fanzha.cases.stats import definitions
from fanzha.cases.stats.service import CaseStats, Totals, case_stats, leaf_totals, scoped_leaves
from fanzha.common.ages import age_on
from fanzha.common.errors import Forbidden
from fanzha.common.periods import Period
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under, top_area
from fanzha.people.models import Person
from fanzha.reports.figures import AreaRow, BulletinFigures, Compared, TypeRow, TypicalCase, WarningFigures


class FiguresProvider(Protocol):
    def figures(self, session: Session, scope: Scope, period: Period, area: Area | None) -> BulletinFigures: ...


def node_of(session: Session, area: Area | None) -> Area:
    """The node a report is about: `area`, or for the whole jurisdiction the top of the administrative chain (市),
    whose communities are every community (the reader's scope then narrows them)."""
    node = area or top_area(session)
    if node is None:
        from fanzha.common.errors import Invalid

        raise Invalid("还没有辖区")
    return node


def leaves(session: Session, scope: Scope, area: Area | None = None):
    """A subquery of the communities whose cases a report about `area` (None: the whole jurisdiction) counts: those
    under the node that the reader's scope covers, as `case_stats` counts them."""
    return select(Area.id).where(communities_under(node_of(session, area)), scope.community_clause(Area.id))


class _Tree:
    """Every area by id, to put a community under its township and its station without a query per community."""

    def __init__(self, session: Session):
        rows = session.execute(select(Area.id, Area.level, Area.label, Area.code, Area.path, Area.police_path,
                                      Area.population)).all()
        self.by_id = {r.id: r for r in rows}

    def ancestor(self, community_id: int | None, level: str, police: bool = False):
        leaf = self.by_id.get(community_id)
        if leaf is None:
            return None
        if leaf.level == level:
            return leaf
        path = leaf.police_path if police else leaf.path
        for part in (path or "").strip("/").split("/"):
            node = self.by_id.get(int(part)) if part else None
            if node is not None and node.level == level:
                return node
        return None


def ranking(tree: _Tree, leaves: list[Area], now: dict[int, Totals], last_year: dict[int, Totals], level: str, *,
            police: bool = False) -> list[AreaRow]:
    """The sub-areas at `level` holding these communities (by the admin path, or the police path for stations),
    most cases first; every one appears, with 0 when it had no case (the 零发案 towns are news too)."""
    rows: dict[int, AreaRow] = {}
    total_loss = sum((t.loss for t in now.values()), Decimal(0))
    for leaf in leaves:
        node = tree.ancestor(leaf.id, level, police=police)
        if node is None:
            continue
        row = rows.setdefault(node.id, AreaRow(node.id, node.code, node.label, 0, Decimal(0)))
        t, ly = now.get(leaf.id, Totals()), last_year.get(leaf.id, Totals())
        row.cases += t.cases
        row.loss += t.loss
        row.solved += t.solved
        row.suspects += t.suspects
        row.cases_last_year += ly.cases
        if not police:
            row.population += leaf.population or 0
    for row in rows.values():
        row.loss_share = float(row.loss / total_loss) if total_loss else None
    return sorted(rows.values(), key=lambda r: (-r.cases, -r.loss, r.code))


class StatsProvider:
    """Case figures from 案件研判 for the node (`area`, or the whole jurisdiction), counted as
    `cases.stats.definitions` says: 立案 and 损失 by 立案时间, 破案 by 破案时间, 抓获 by 抓获时间."""

    def figures(self, session: Session, scope: Scope, period: Period, area: Area | None) -> BulletinFigures:
        scope.require(Perm.READ_CASES)
        node = node_of(session, area)
        st = case_stats(session, scope, area=node, period=period)
        leaves = scoped_leaves(session, scope, node)
        now, last_year = leaf_totals(session, [leaf.id for leaf in leaves], period, st.year_ago)
        tree = _Tree(session)
        cur, prev, ago = st.totals, st.previous_totals, st.year_ago_totals
        fig = BulletinFigures(
            period=period, area_code=area.code if area else None, area_name=node.label,
            cases=Compared(cur.cases, prev.cases, ago.cases), loss=Compared(cur.loss, prev.loss, ago.loss),
            recovered=cur.recovered, solved=cur.solved, suspects=cur.suspects,
            solved_compared=Compared(cur.solved, prev.solved, ago.solved),
            suspects_compared=Compared(cur.suspects, prev.suspects, ago.suspects),
            unplaced=st.unplaced_cases)

        fig.by_type = [TypeRow(r.key, FRAUD_TYPE_LABELS.get(r.key, r.label), r.totals.cases, r.totals.loss,
                               r.totals.cases / cur.cases if cur.cases else None,
                               float(r.totals.loss / cur.loss) if cur.loss else None)
                       for r in st.breakdowns["type"].rows if r.totals.cases]
        fig.by_type.sort(key=lambda t: (-t.cases, -t.loss, t.key))

        sub_level = Level.COMMUNITY if node.level in (Level.TOWNSHIP, Level.COMMUNITY, Level.STATION,
                                                      Level.BEAT) else Level.TOWNSHIP
        fig.area_level_label = "村（社区）" if sub_level == Level.COMMUNITY else "乡镇（街道）"
        fig.by_area = ranking(tree, leaves, now, last_year, sub_level)
        fig.by_station = ranking(tree, leaves, now, last_year, Level.STATION, police=True)
        fig.areas_without_cases = [r.name for r in fig.by_area if r.cases == 0]
        _profile(st, fig)
        fig.typical_cases = _typical(session, [leaf.id for leaf in leaves], period, tree)
        fig.warnings = _warnings(session, scope, period, area)
        return fig


def _profile(st: CaseStats, fig: BulletinFigures) -> None:
    """发案规律 from the statistics' breakdowns: the same loss bands, age bands and groups as 案件研判 (the victim
    as recorded on the case)."""
    def counts(dim: str) -> dict[str, int]:
        return {r.label: r.totals.cases for r in st.breakdowns[dim].rows if r.totals.cases}

    bands = counts("loss")
    fig.loss_bands = {b.label: bands.get(b.label, 0) for b in definitions.LOSS_BANDS}
    fig.victims_by_sex = dict(sorted(counts("sex").items(), key=lambda kv: -kv[1]))
    fig.victims_by_age = counts("age")  # in the bands' order, 未填写 last
    fig.victims_by_group = dict(sorted(counts("group").items(), key=lambda kv: -kv[1]))


def _typical(session: Session, leaf_ids: list[int], period: Period, tree: _Tree, limit: int = 3) -> list[TypicalCase]:
    """The largest losses among the cases counted in the period's 立案数."""
    since, until = period.bounds()
    filed = getattr(Case, definitions.MEASURES["cases"].counted_by)
    rows = session.execute(select(Case.filed_at, Case.community_id, Case.fraud_type, Case.loss_amount,
                                  Case.victim_sex, Case.victim_age, Case.narrative, Case.loss_at, Person.gender,
                                  Person.birth_date)
                           .outerjoin(Person, Person.id == Case.person_id)
                           .where(Case.community_id.in_(leaf_ids or [-1]), filed >= since, filed < until)
                           .order_by(Case.loss_amount.desc(), Case.filed_at, Case.id).limit(limit)).all()
    out = []
    for filed_at, community_id, ftype, loss, sex, age, narrative, loss_at, p_sex, p_birth in rows:
        # A case entered before the victim profile was kept on the case is told from the linked person.
        sex = sex or p_sex
        if age is None and p_birth is not None:
            age = age_on(p_birth, loss_at.date())
        place = tree.ancestor(community_id, Level.TOWNSHIP)
        victim = "某" + (sex or "人") + (f"，{age}岁" if age is not None else "")
        out.append(TypicalCase(filed_at, place.label if place else "", FRAUD_TYPE_LABELS.get(ftype, ftype),
                               Decimal(loss or 0), victim, (narrative or "").strip()[:160]))
    return out


def _warnings(session: Session, scope: Scope, period: Period, area: Area | None) -> WarningFigures | None:
    from fanzha.warnings import metrics

    since, until = period.bounds()
    try:
        rep = metrics.overview(session, scope, since=since, until=until, area=area).report
    except Forbidden:
        return None
    rates = {f.key: f for f in rep.rates}
    out = WarningFigures(warnings=rep.warnings, signed=rates["sign_rate"].num, sign_rate=rates["sign_rate"].rate,
                         timely_sign_rate=rates["timely_sign_rate"].rate, dissuaded=rates["success_rate"].num,
                         success_rate=rates["success_rate"].rate, face_rate=rates["face_rate"].rate,
                         overdue=rates["overdue_rate"].num, overdue_rate=rates["overdue_rate"].rate,
                         loss_avoided=rep.loss_avoided, loss_avoided_estimated=rep.loss_avoided_estimated,
                         estimated_text=metrics.ESTIMATED_TEXT)
    handled = account_requests.counts(session, account_requests.within(scope, area), since, until)  # 反诈中心处理情况
    out.queries, out.stop_payments, out.stop_amount = handled.queries, handled.stops, handled.stop_amount
    out.freezes, out.frozen_amount = handled.freezes, handled.frozen_amount
    return out


def get_provider() -> FiguresProvider:
    """The provider bulletins use."""
    return StatsProvider()
