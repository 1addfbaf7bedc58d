"""One member unit's work for its duty groups (教育局 → 师生, 民政局 → 老年人、单身离异, 税务 → 财会人员):

- **coverage**: the people of each group in the unit's area (declared on a list or derived, cases/derived_groups.py), how
  many of them registered on the 国家反诈中心APP and 金钟罩 by the day. Counted per person from the imported
  registration lists where one covers the area (prevention/coverage.source_of decides, as for coverage targets);
  otherwise the unit's own activities' reported counts for the group stand in, labelled as such;
- **activities**: the unit's activities of the year aimed at each group, by fraud type (counted ones only);
- **cases**: the cases filed in the year in the unit's area whose victim was in the group at filing, with the loss
  and the leading fraud types, counted by cases/stats (the same clause as the case statistics' 群体 breakdown);
- **target lists** (精准滴灌) made for a group of the unit within or above its area, with the unit's own people on them;
- **its own lists**: the rows of 易受骗群体名单 the unit sent, batch by batch, and the people they landed on.

Only counts leave the unit's area here; the people the unit listed are shown with names masked, and each listing is
audited as a view. A liaison reaches only its own unit (org.service.get_unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from fanzha.audit import service as audit
from fanzha.cases.derived_groups import load_derived
from fanzha.cases.models import Case
from fanzha.cases.stats.service import behind_clause
from fanzha.common import periods
from fanzha.common.errors import NotFound
from fanzha.common.identity import mask_name
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.imports.models import ImportBatch
from fanzha.org import service as org
from fanzha.org.enums import GROUPS, Chain, Level
from fanzha.org.models import Area, Unit
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under
from fanzha.people.models import Person
from fanzha.prevention.counting import counted
from fanzha.prevention.coverage.service import SOURCES, source_of
from fanzha.prevention.models import Activity
from fanzha.registry import service as registry
from fanzha.registry.models import RegistryEntry, TargetList, TargetMember

TOP_TYPES = 3
PAGE = 50


@dataclass
class GroupWork:
    group: str
    people: int = 0  # in the unit's area, in the group on the day
    listed: int = 0  # of them, on a list the unit sent
    app: int = 0  # registered on the 国家反诈中心APP by the day
    jzz: int = 0  # registered on 金钟罩 by the day
    source: str = "people"  # prevention.coverage.SOURCES
    activities: int = 0  # the unit's counted activities of the year aimed at the group
    participants: int = 0
    by_type: list[tuple[str, int]] = field(default_factory=list)  # (fraud type or "" 综合宣传, activities)
    cases: int = 0  # filed in the year in the unit's area, victim in the group at filing
    loss: Decimal = Decimal(0)
    top_types: list[tuple[str, int]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return GROUPS.get(self.group, self.group)

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    def rate(self, n: int) -> Fraction | None:
        return Fraction(n, self.people) if self.people else None


@dataclass
class ListBatch:
    batch_id: int | None
    filename: str
    at: object
    rows: int
    people: int


@dataclass
class UnitTargetList:
    tl: TargetList
    members: int  # the unit's own people on it
    advice: list[str]


@dataclass
class UnitWork:
    unit: Unit
    area: Area
    today: date
    period: periods.Period
    groups: list[GroupWork]
    batches: list[ListBatch]
    listed_people: int
    target_lists: list[UnitTargetList]
    activities_other: int  # the unit's activities of the year aimed at no duty group (未注明 or another group)


def unit_for(session: Session, scope: Scope, unit_id: int | None) -> Unit:
    """The unit asked for, as the user may see it: a liaison always gets its own (and no other)."""
    scope.require(Perm.READ_PREVENTION)
    if unit_id is None:
        if scope.unit_id is None:
            raise NotFound("您的账号没有所属成员单位")
        unit_id = scope.unit_id
    return org.get_unit(session, scope, unit_id)


def _leaf_ids(session: Session, area: Area) -> list[int]:
    return list(session.scalars(select(Area.id).where(communities_under(area))))


def unit_people(unit_id: int):
    """The people a unit answers for by name: listed on one of its 易受骗群体名单, or employed by it."""
    return or_(Person.unit_id == unit_id,
               Person.id.in_(select(RegistryEntry.person_id).where(RegistryEntry.unit_id == unit_id)))


def work(session: Session, scope: Scope, unit_id: int | None = None, *, today: date | None = None,
         year: int | None = None) -> UnitWork:
    unit = unit_for(session, scope, unit_id)
    today = today or local_day(utcnow())
    period = periods.year(year or today.year)
    upto = min(today, period.end)
    area = session.get(Area, unit.area_id)
    leaves = list(session.scalars(select(Area).where(communities_under(area))))
    leaf_ids = [leaf.id for leaf in leaves]
    duty = unit.known_duty_groups
    in_area = Person.community_id.in_(leaf_ids or [-1])
    derived = load_derived(session, upto, select(Person.id).where(in_area))
    listed_ids = set(session.scalars(select(Person.id).where(unit_people(unit.id))))
    rows = [(pid, derived.groups(pid, birth, declared), app_on, jzz_on) for pid, birth, declared, app_on, jzz_on
            in session.execute(select(Person.id, Person.birth_date, Person.groups, Person.app_registered_on,
                                      Person.jzz_registered_on).where(in_area))]
    source = source_of(session, "jzz_registrations", leaves)
    acts = _activities(session, unit.id, period, upto)
    figures = []
    for g in duty:
        w = GroupWork(group=g, source=source)
        for pid, groups, app_on, jzz_on in rows:
            if g not in groups:
                continue
            w.people += 1
            w.listed += pid in listed_ids
            if source == "people":
                w.app += app_on is not None and app_on <= upto
                w.jzz += jzz_on is not None and jzz_on <= upto
        mine = [a for a in acts if a.target_group == g]
        w.activities = len(mine)
        w.participants = sum(a.participants for a in mine)
        if source != "people":  # the labelled fallback: what the unit's activities for the group reported
            w.app = sum(a.app_installs for a in mine)
            w.jzz = sum(a.jzz_registrations for a in mine)
        types: dict[str, int] = {}
        for a in mine:
            types[a.fraud_type] = types.get(a.fraud_type, 0) + 1
        w.by_type = sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))
        where = behind_clause(session, leaf_ids, period, "cases", "group", g)
        w.cases, loss = session.execute(select(func.count(Case.id), func.coalesce(func.sum(Case.loss_amount), 0))
                                        .where(where)).one()
        w.loss = Decimal(loss or 0)
        w.top_types = [(t, n) for t, n in session.execute(
            select(Case.fraud_type, func.count(Case.id)).where(where).group_by(Case.fraud_type)
            .order_by(func.count(Case.id).desc(), Case.fraud_type).limit(TOP_TYPES))]
        figures.append(w)
    other = sum(1 for a in acts if a.target_group not in duty)
    return UnitWork(unit=unit, area=area, today=today, period=period, groups=figures,
                    batches=_batches(session, unit.id), listed_people=len(listed_ids),
                    target_lists=_target_lists(session, area, leaf_ids, duty, listed_ids), activities_other=other)


def _activities(session: Session, unit_id: int, period: periods.Period, upto: date) -> list[Activity]:
    return list(session.scalars(select(Activity).where(Activity.unit_id == unit_id, counted(),
                                                       Activity.held_on >= period.start, Activity.held_on <= upto)))


def _batches(session: Session, unit_id: int) -> list[ListBatch]:
    stmt = (select(RegistryEntry.batch_id, func.count(RegistryEntry.id), func.count(RegistryEntry.person_id.distinct()),
                   func.min(RegistryEntry.created_at))
            .where(RegistryEntry.unit_id == unit_id).group_by(RegistryEntry.batch_id)
            .order_by(func.min(RegistryEntry.created_at).desc()))
    found = session.execute(stmt).all()
    names = {b.id: b.filename for b in session.scalars(select(ImportBatch).where(
        ImportBatch.id.in_([r[0] for r in found if r[0] is not None])))}
    return [ListBatch(batch_id=b, filename=names.get(b, "（表单录入）" if b is None else ""), at=at, rows=n, people=p)
            for b, n, p, at in found]


def _target_lists(session: Session, area: Area, leaf_ids: list[int], duty: list[str], listed_ids: set[int]
                  ) -> list[UnitTargetList]:
    """Lists made for one of the unit's groups on its area, a node above it or below it, or a police node (派出所,
    警务区) whose communities lie in the unit's area."""
    if not duty:
        return []
    leaf = aliased(Area)
    police = exists().where(leaf.level == Level.COMMUNITY, leaf.id.in_(leaf_ids or [-1]),
                            leaf.police_path.startswith(Area.path))
    near = select(Area.id).where(or_(
        and_(Area.chain == area.chain, or_(Area.path.startswith(area.path, autoescape=True),
                                           literal(area.path).startswith(Area.path))),
        and_(Area.chain == Chain.POLICE, Area.chain != area.chain, police)))
    lists = list(session.scalars(select(TargetList).where(TargetList.group.in_(duty), TargetList.area_id.in_(near))
                                 .options(joinedload(TargetList.area)).order_by(TargetList.id.desc()).limit(20)))
    out = []
    for tl in lists:
        n = session.scalar(select(func.count(TargetMember.id)).where(
            TargetMember.list_id == tl.id, TargetMember.person_id.in_(listed_ids or {-1}))) if listed_ids else 0
        out.append(UnitTargetList(tl=tl, members=int(n or 0), advice=registry.advices(list(tl.fraud_types or []))))
    return out


def target_list(session: Session, scope: Scope, unit_id: int, list_id: int) -> tuple[Unit, UnitTargetList,
                                                                                     list[TargetMember]]:
    """One of the unit's target lists with the unit's own people on it (names masked by the caller), audited."""
    unit = unit_for(session, scope, unit_id)
    area = session.get(Area, unit.area_id)
    listed_ids = set(session.scalars(select(Person.id).where(unit_people(unit.id))))
    found = next((t for t in _target_lists(session, area, _leaf_ids(session, area), unit.known_duty_groups,
                                           listed_ids) if t.tl.id == list_id), None)
    if found is None:
        raise NotFound("名单不存在或不属于本单位负责的人群")
    members = list(session.scalars(
        select(TargetMember).where(TargetMember.list_id == list_id, TargetMember.person_id.in_(listed_ids or {-1}))
        .options(joinedload(TargetMember.person), joinedload(TargetMember.community))
        .order_by(TargetMember.score.desc(), TargetMember.id))) if listed_ids else []
    if members:
        audit.record(session, scope, "view", "target_list", list_id, fields=["name"],
                     detail={"unit": unit.id, "people": len(members)})
    return unit, found, members


@dataclass
class ListedPerson:
    id: int
    name: str  # masked
    community: str
    groups: list[str]
    app: bool
    jzz: bool


def listed_people(session: Session, scope: Scope, unit_id: int, *, page: int = 1) -> tuple[list[ListedPerson], int]:
    """The people on the unit's own lists, names masked, a page at a time; audited as one view."""
    unit = unit_for(session, scope, unit_id)
    stmt = select(Person).where(unit_people(unit.id))
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    people = list(session.scalars(stmt.options(joinedload(Person.community)).order_by(Person.id)
                                  .limit(PAGE).offset((page - 1) * PAGE)))
    derived = load_derived(session, local_day(utcnow()), [p.id for p in people]) if people else None
    out = [ListedPerson(id=p.id, name=mask_name(p.name), community=p.community.label if p.community else "",
                        groups=derived.groups(p.id, p.birth_date, p.groups) if derived else [],
                        app=p.app_registered_on is not None, jzz=p.jzz_registered_on is not None) for p in people]
    if out:
        audit.record(session, scope, "view", "person", "", fields=["name"],
                     detail={"unit": unit.id, "ids": [p.id for p in out]})
    return out, total


def type_name(key: str) -> str:
    return FRAUD_TYPE_LABELS.get(key, key) if key else "综合宣传"
