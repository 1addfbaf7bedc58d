"""Areas and units: every read and write goes through the caller's Scope (user accounts: fanzha.auth.users)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha import trail
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.org.enums import ALLOWED_PARENTS, LEVEL_CHAIN, LEVEL_LABELS, Chain, Level
from fanzha.org.models import Area, Unit
from fanzha.org.names import refresh_labels
from fanzha.org.roles import Perm, Role
from fanzha.org.schemas import AreaIn, AreaPatch, UnitIn, UnitPatch
from fanzha.org.scope import Scope

# -- areas -------------------------------------------------------------------------------


def list_areas(session: Session, scope: Scope, *, chain: str | None = None, level: str | None = None,
               parent_id: int | None = None, q: str = "", limit: int = 500, offset: int = 0) -> list[Area]:
    scope.require(Perm.READ_ORG)
    stmt = select(Area).where(scope.area_clause())
    if chain:
        stmt = stmt.where(Area.chain == chain)
    if level:
        stmt = stmt.where(Area.level == level)
    if parent_id is not None:
        stmt = stmt.where(Area.parent_id == parent_id)
    if q:
        stmt = stmt.where(or_(Area.name.contains(q, autoescape=True), Area.label.contains(q, autoescape=True),
                              Area.code.contains(q, autoescape=True)))
    return list(session.scalars(stmt.order_by(Area.path).limit(limit).offset(offset)))


def get_area(session: Session, scope: Scope, area_id: int) -> Area:
    scope.require(Perm.READ_ORG)
    return scope.get_area(session, area_id)


def _place(session: Session, scope: Scope, area: Area, level: Level, parent_id: int | None,
           police_area_id: int | None) -> None:
    allowed = ALLOWED_PARENTS[level]
    if parent_id is None:
        if None not in allowed:
            raise Invalid("上级辖区必填", details=[{"loc": ["parent_id"], "msg": "上级辖区必填"}])
        if not scope.is_system and scope.path != "/":
            raise Invalid("只有系统可以新建顶级辖区")
        area.parent_id = None
    else:
        parent = scope.get_own_area(session, parent_id)
        if parent.level not in allowed:
            raise Invalid(f"{LEVEL_LABELS[level]}不能放在{LEVEL_LABELS[Level(parent.level)]}之下",
                          details=[{"loc": ["parent_id"], "msg": "上级辖区层级不对"}])
        area.parent_id = parent.id
    if level == Level.COMMUNITY:
        if police_area_id is None:
            raise Invalid("村/社区必须指定所属派出所或警务区",
                          details=[{"loc": ["police_area_id"], "msg": "必填"}])
        police = scope.get_own_area(session, police_area_id) if not scope.is_system else scope.get_area(
            session, police_area_id)
        if police.level not in (Level.STATION, Level.BEAT):
            raise Invalid("所属公安单位必须是派出所或警务区", details=[{"loc": ["police_area_id"], "msg": "层级不对"}])
        area.police_area_id = police.id
    elif police_area_id is not None:
        raise Invalid("只有村/社区可以指定所属派出所")


def _refresh_paths(session: Session, area: Area) -> None:
    session.flush()
    parent = session.get(Area, area.parent_id) if area.parent_id else None
    area.path = (parent.path if parent else "/") + f"{area.id}/"
    police = session.get(Area, area.police_area_id) if area.police_area_id else None
    area.police_path = police.path if police is not None else None


def create_area(session: Session, scope: Scope, data: AreaIn) -> Area:
    scope.require(Perm.MANAGE_AREAS)
    if session.scalar(select(Area.id).where(Area.code == data.code)):
        raise Conflict(f"辖区编码 {data.code} 已存在")
    area = Area(chain=LEVEL_CHAIN[data.level].value, level=data.level.value, name=data.name, code=data.code,
                kind_label=data.kind_label or "", population=data.population, households=data.households,
                shops=data.shops)
    _place(session, scope, area, data.level, data.parent_id, data.police_area_id)
    session.add(area)
    _refresh_paths(session, area)
    refresh_labels(session)
    trail.record(session, scope, "create", "area", area.id, detail={"name": area.name, "code": area.code})
    return area


def update_area(session: Session, scope: Scope, area_id: int, data: AreaPatch) -> Area:
    scope.require(Perm.MANAGE_AREAS)
    area = scope.get_own_area(session, area_id)
    changes = data.model_dump(exclude_unset=True)
    if "police_area_id" in changes:
        _place(session, scope, area, Level(area.level), area.parent_id, changes.pop("police_area_id"))
        _refresh_paths(session, area)
    for key, value in changes.items():
        if value is not None:
            setattr(area, key, value)
    if "name" in changes:
        refresh_labels(session)
    trail.record(session, scope, "update", "area", area.id, detail={"changed": sorted(data.model_fields_set)})
    return area


def area_tree(session: Session, scope: Scope, chain: Chain) -> list[tuple[Area, int]]:
    """Visible areas of one chain in tree order with their depth below the user's node."""
    areas = list_areas(session, scope, chain=chain.value, limit=100_000)
    base = min((a.path.count("/") for a in areas), default=0)
    return [(a, a.path.count("/") - base) for a in areas]


def leaf_counts(session: Session, scope: Scope) -> dict[str, int]:
    stmt = select(func.count(), func.coalesce(func.sum(Area.population), 0), func.coalesce(func.sum(Area.households), 0))
    n, pop, hh = session.execute(stmt.where(Area.id.in_(scope.community_ids()))).one()
    return {"communities": n, "population": int(pop), "households": int(hh)}


# -- units -------------------------------------------------------------------------------


def list_units(session: Session, scope: Scope, *, q: str = "", limit: int = 500, offset: int = 0) -> list[Unit]:
    scope.require(Perm.READ_ORG)
    stmt = _visible_units(scope)
    if q:
        stmt = stmt.where(Unit.name.contains(q, autoescape=True))
    return list(session.scalars(stmt.order_by(Unit.code).limit(limit).offset(offset)))


def _visible_units(scope: Scope) -> Select[Unit]:
    """Units on the administrative chain; police users see those whose area overlaps theirs."""
    stmt = select(Unit).options(joinedload(Unit.area))
    if scope.is_system:
        return stmt
    if scope.role == Role.UNIT_LIAISON:
        return stmt.where(Unit.id == scope.unit_id)
    if scope.chain == Chain.ADMIN:
        return stmt.join(Area, Unit.area_id == Area.id).where(scope.subtree_clause())
    # A unit reports to a township or county; a police user sees it when one of its communities is theirs.
    return stmt.where(Unit.area_id.in_(_ancestor_ids_of_scope(scope)))


def _ancestor_ids_of_scope(scope: Scope) -> Select[int]:
    """Administrative nodes that contain at least one community covered by a police user."""
    leaf = select(Area.path).where(Area.id.in_(scope.community_ids())).subquery()
    return select(Area.id).where(Area.chain == Chain.ADMIN).join(leaf, leaf.c.path.startswith(Area.path)).distinct()


def get_unit(session: Session, scope: Scope, unit_id: int) -> Unit:
    scope.require(Perm.READ_ORG)
    unit = session.scalar(_visible_units(scope).where(Unit.id == unit_id))
    if unit is None:
        raise NotFound("单位不存在或不在您的管辖范围内")
    return unit


def create_unit(session: Session, scope: Scope, data: UnitIn) -> Unit:
    scope.require(Perm.MANAGE_UNITS)
    area = scope.get_own_area(session, data.area_id) if scope.chain == Chain.ADMIN or scope.is_system else \
        scope.get_area(session, data.area_id)
    if area.chain != Chain.ADMIN:
        raise Invalid("成员单位应挂在行政辖区（市、区县、乡镇）下", details=[{"loc": ["area_id"], "msg": "应为行政辖区"}])
    if session.scalar(select(Unit.id).where(Unit.code == data.code)):
        raise Conflict(f"单位编码 {data.code} 已存在")
    unit = Unit(**data.model_dump())
    session.add(unit)
    session.flush()
    trail.record(session, scope, "create", "unit", unit.id, detail={"name": unit.name})
    return unit


def update_unit(session: Session, scope: Scope, unit_id: int, data: UnitPatch) -> Unit:
    scope.require(Perm.MANAGE_UNITS)
    unit = get_unit(session, scope, unit_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(unit, key, value)
    trail.record(session, scope, "update", "unit", unit.id, detail={"changed": sorted(data.model_fields_set)})
    return unit


# -- what packages above org count for an area -------------------------------------------

# 在册人员 of an area (its page): the people package sits above org and gives its count when fanzha.people.service is
# imported, as the domains register their importers with fanzha.imports.
_count_people: Callable[[Session, Scope, Area], int] | None = None


def count_people_with(count: Callable[[Session, Scope, Area], int]) -> None:
    global _count_people
    _count_people = count


def people_of(session: Session, scope: Scope, area: Area) -> int:
    """在册人员 under `area` that the caller may see."""
    if _count_people is None:
        raise RuntimeError("fanzha.people.service gives org the count of an area's people; it was not imported")
    return _count_people(session, scope, area)
