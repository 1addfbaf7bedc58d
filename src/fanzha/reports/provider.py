"""Where a bulletin's figures come from.

`BulletinFigures` (figures.py) is the contract; a provider is anything with
`figures(session, scope, period, area) -> BulletinFigures`. `CaseTableProvider` computes the headline figures straight
from the `cases` table and the warning figures from `fanzha.warnings.metrics.overview`. When the case statistics
service lands, a provider that asks it instead replaces this one in `get_provider()` — the templates, charts,
register and CLI stay as they are (docs/bulletins.md, "Where the figures come from").
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Protocol

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case, CaseAction
from fanzha.cases.service import visible as cases_visible
from fanzha.common.errors import Forbidden
from fanzha.org.enums import GROUPS, Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.reports.figures import AreaRow, BulletinFigures, Compared, TypeRow, TypicalCase, WarningFigures
from fanzha.reports.periods import Period
from fanzha.warnings.enums import FRAUD_TYPES

LOSS_BANDS = (("10万元以上", Decimal(100_000)), ("5万至10万元", Decimal(50_000)), ("1万至5万元", Decimal(10_000)),
              ("1万元以下", Decimal(0)))
AGE_BANDS = (("18岁以下", 0, 17), ("18至30岁", 18, 30), ("31至45岁", 31, 45), ("46至60岁", 46, 60), ("60岁以上", 61, 200))


class FiguresProvider(Protocol):
    def figures(self, session: Session, scope: Scope, period: Period, area: Area | None) -> BulletinFigures: ...


def leaves_under(area: Area | None):
    """The leaf communities under `area` in its own chain (a police node through the communities it covers)."""
    q = select(Area.id).where(Area.level == Level.COMMUNITY)
    if area is None:
        return q
    column = Area.police_path if area.chain == Chain.POLICE else Area.path
    return q.where(column.startswith(area.path, autoescape=True))


def case_clause(scope: Scope, area: Area | None):
    """The cases a reader may count for `area` (the whole jurisdiction, with unplaced cases, when None)."""
    clause = cases_visible(scope)
    return clause if area is None else clause & Case.community_id.in_(leaves_under(area))


class _Tree:
    """Every area by id, to put a community under its township and its station without a query per case."""

    def __init__(self, session: Session):
        rows = session.execute(select(Area.id, Area.level, Area.name, Area.code, Area.path, Area.police_path,
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


class CaseTableProvider:
    """Headline figures from the cases table, counted by 立案时间 (filed_at) within the period."""

    def figures(self, session: Session, scope: Scope, period: Period, area: Area | None) -> BulletinFigures:
        scope.require(Perm.READ_CASES)
        where = case_clause(scope, area)
        tree = _Tree(session)
        cur = self._by_community_type(session, where, period)
        prev = self._by_community(session, where, period.previous())
        last = self._by_community(session, where, period.last_year())

        total_cases = sum(r[2] for r in cur)
        total_loss = sum((r[3] for r in cur), Decimal(0))
        fig = BulletinFigures(
            period=period, area_code=area.code if area else None, area_name=area.name if area else _root_name(session),
            cases=Compared(total_cases, sum(v[0] for v in prev.values()), sum(v[0] for v in last.values())),
            loss=Compared(total_loss, sum((v[1] for v in prev.values()), Decimal(0)),
                          sum((v[1] for v in last.values()), Decimal(0))),
            recovered=sum((r[4] for r in cur), Decimal(0)), solved=sum(r[5] for r in cur))

        types: dict[str, TypeRow] = {}
        for _, ftype, n, loss, *_ in cur:
            row = types.setdefault(ftype, TypeRow(ftype, FRAUD_TYPES.get(ftype, ftype), 0, Decimal(0)))
            row.cases += n
            row.loss += loss
        for row in types.values():
            row.case_share = row.cases / total_cases if total_cases else None
            row.loss_share = float(row.loss / total_loss) if total_loss else None
        fig.by_type = sorted(types.values(), key=lambda t: (-t.cases, -t.loss, t.key))

        sub_level = Level.COMMUNITY if area is not None and area.level in (
            Level.TOWNSHIP, Level.COMMUNITY, Level.STATION, Level.BEAT) else Level.TOWNSHIP
        fig.area_level_label = "村（社区）" if sub_level == Level.COMMUNITY else "乡镇（街道）"
        fig.by_area = self._ranking(session, scope, tree, area, cur, last, sub_level, police=False, total_loss=total_loss)
        fig.by_station = self._ranking(session, scope, tree, area, cur, last, Level.STATION, police=True,
                                       total_loss=total_loss)
        fig.areas_without_cases = [r.name for r in fig.by_area if r.cases == 0]
        self._profile(session, where, period, fig)
        fig.typical_cases = self._typical(session, where, period, tree)
        fig.warnings = self._warnings(session, scope, period, area)
        return fig

    # -- queries -------------------------------------------------------------------------
    @staticmethod
    def _in(period: Period):
        since, until = period.bounds()
        return (Case.filed_at >= since) & (Case.filed_at < until)

    def _by_community_type(self, session, where, period):
        solved = func.sum(case((Case.solved_at.is_not(None), 1), else_=0))
        rows = session.execute(
            select(Case.community_id, Case.fraud_type, func.count(), func.coalesce(func.sum(Case.loss_amount), 0),
                   func.coalesce(func.sum(Case.recovered_amount), 0), solved)
            .where(where, self._in(period)).group_by(Case.community_id, Case.fraud_type)).all()
        return [(r[0], r[1], int(r[2]), Decimal(r[3] or 0), Decimal(r[4] or 0), int(r[5] or 0)) for r in rows]

    def _by_community(self, session, where, period) -> dict:
        rows = session.execute(select(Case.community_id, func.count(), func.coalesce(func.sum(Case.loss_amount), 0))
                               .where(where, self._in(period)).group_by(Case.community_id)).all()
        return {r[0]: (int(r[1]), Decimal(r[2] or 0)) for r in rows}

    def _ranking(self, session, scope, tree, area, cur, last, level, *, police, total_loss) -> list[AreaRow]:
        # Every sub-area the reader covers appears, with 0 when it had no case (the 零发案 towns are news too).
        leaf_ids = set(session.scalars(leaves_under(area).where(Area.id.in_(scope.community_ids()))))
        rows: dict[int, AreaRow] = {}
        for leaf in leaf_ids:
            node = tree.ancestor(leaf, level, police=police)
            if node is not None and node.id not in rows:
                rows[node.id] = AreaRow(node.id, node.code, node.name, 0, Decimal(0))
        for leaf in leaf_ids:
            node = tree.ancestor(leaf, level, police=police)
            if node is not None and not police:
                rows[node.id].population += tree.by_id[leaf].population or 0
        for community_id, _, n, loss, *_ in cur:
            node = tree.ancestor(community_id, level, police=police)
            if node is not None:
                row = rows.setdefault(node.id, AreaRow(node.id, node.code, node.name, 0, Decimal(0)))
                row.cases += n
                row.loss += loss
        for community_id, (n, _) in last.items():
            node = tree.ancestor(community_id, level, police=police)
            if node is not None and node.id in rows:
                rows[node.id].cases_last_year += n
        for row in rows.values():
            row.loss_share = float(row.loss / total_loss) if total_loss else None
        return sorted(rows.values(), key=lambda r: (-r.cases, -r.loss, r.code))

    def _profile(self, session, where, period, fig: BulletinFigures) -> None:
        bands = Counter()
        sexes = Counter()
        ages = Counter()
        groups = Counter()
        rows = session.execute(select(Case.loss_amount, Case.victim_sex, Case.victim_age, Case.victim_groups,
                                      Case.loss_at, Person.gender, Person.birth_date, Person.groups)
                               .outerjoin(Person, Person.id == Case.person_id).where(where, self._in(period)))
        for loss, sex, age, grp, loss_at, p_sex, p_birth, p_groups in rows:
            # Cases entered before the victim profile was kept on the case fall back on the linked person.
            sex = sex or p_sex
            if age is None and p_birth is not None:
                age = _age(p_birth, loss_at)
            grp = grp or p_groups
            loss = Decimal(loss or 0)
            bands[next(label for label, floor in LOSS_BANDS if loss >= floor)] += 1
            sexes[sex or "未登记"] += 1
            ages[next((label for label, lo, hi in AGE_BANDS if age is not None and lo <= age <= hi), "未登记")] += 1
            for g in grp or []:
                groups[GROUPS.get(g, g)] += 1
        fig.loss_bands = {label: bands.get(label, 0) for label, _ in LOSS_BANDS}
        fig.victims_by_sex = dict(sorted(sexes.items(), key=lambda kv: -kv[1]))
        fig.victims_by_age = {label: ages[label] for label, *_ in AGE_BANDS if ages.get(label)}
        if ages.get("未登记"):
            fig.victims_by_age["未登记"] = ages["未登记"]
        fig.victims_by_group = dict(groups.most_common())

    def _typical(self, session, where, period, tree, limit: int = 3) -> list[TypicalCase]:
        rows = session.execute(select(Case.filed_at, Case.community_id, Case.fraud_type, Case.loss_amount,
                                      Case.victim_sex, Case.victim_age, Case.narrative, Case.loss_at, Person.gender,
                                      Person.birth_date)
                               .outerjoin(Person, Person.id == Case.person_id).where(where, self._in(period))
                               .order_by(Case.loss_amount.desc(), Case.filed_at, Case.id).limit(limit)).all()
        out = []
        for filed, community_id, ftype, loss, sex, age, narrative, loss_at, p_sex, p_birth in rows:
            sex = sex or p_sex
            if age is None and p_birth is not None:
                age = _age(p_birth, loss_at)
            place = tree.ancestor(community_id, Level.TOWNSHIP)
            victim = "某" + (sex or "人") + (f"，{age}岁" if age is not None else "")
            out.append(TypicalCase(filed, place.name if place else "", FRAUD_TYPES.get(ftype, ftype),
                                   Decimal(loss or 0), victim, (narrative or "").strip()[:160]))
        return out

    def _warnings(self, session, scope, period, area) -> WarningFigures | None:
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
                             loss_avoided=rep.loss_avoided)
        clause = scope.community_clause(CaseAction.community_id)
        if area is not None:
            clause = clause & CaseAction.community_id.in_(leaves_under(area))
        elif scope.is_centre:
            clause = clause | CaseAction.community_id.is_(None)
        for kind, n, amount in session.execute(
                select(CaseAction.kind, func.count(), func.coalesce(func.sum(CaseAction.amount), 0))
                .where(clause, CaseAction.status == "done", CaseAction.kind.in_(("stop_payment", "freeze")),
                       CaseAction.requested_at >= since, CaseAction.requested_at < until)
                .group_by(CaseAction.kind)):
            if kind == "stop_payment":
                out.stop_payments = int(n)
            else:
                out.freezes, out.frozen_amount = int(n), Decimal(amount or 0)
        return out


def _age(birth, at) -> int:
    day = at.date() if hasattr(at, "date") else at
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _root_name(session: Session) -> str:
    name = session.scalar(select(Area.name).where(Area.chain == Chain.ADMIN, Area.parent_id.is_(None))
                          .order_by(Area.id).limit(1))
    return name or "全辖区"


def get_provider() -> FiguresProvider:
    """The provider bulletins use. Swap here for the case statistics service (docs/bulletins.md)."""
    return CaseTableProvider()


def totals(session: Session, scope: Scope, since, until, area: Area | None = None) -> tuple[int, Decimal]:
    """(cases, loss) filed in [since, until): for spans that are not whole periods, such as this month so far."""
    n, loss = session.execute(select(func.count(), func.coalesce(func.sum(Case.loss_amount), 0))
                              .where(case_clause(scope, area), Case.filed_at >= since, Case.filed_at < until)).one()
    return int(n or 0), Decimal(loss or 0)
