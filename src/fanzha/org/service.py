"""Areas, units and users: every read and write goes through the caller's Scope."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.auth import backoff
from fanzha.auth.passwords import check_strength, hash_password
from fanzha.auth.service import revoke_all
from fanzha.common.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from fanzha.db import utcnow
from fanzha.org.enums import ALLOWED_PARENTS, LEVEL_CHAIN, LEVEL_LABELS, Chain, Level
from fanzha.org.models import Area, Unit, User
from fanzha.org.names import refresh_labels
from fanzha.org.roles import ROLE_LABELS, ROLE_LEVELS, Perm, Role
from fanzha.org.schemas import AreaIn, AreaPatch, UnitIn, UnitPatch, UserIn, UserPatch
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
    audit.record(session, scope, "create", "area", area.id, detail={"name": area.name, "code": area.code})
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
    audit.record(session, scope, "update", "area", area.id, detail={"changed": sorted(data.model_fields_set)})
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
        return stmt.join(Area, Unit.area_id == Area.id).where(Area.path.startswith(scope.path, autoescape=True))
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
    audit.record(session, scope, "create", "unit", unit.id, detail={"name": unit.name})
    return unit


def update_unit(session: Session, scope: Scope, unit_id: int, data: UnitPatch) -> Unit:
    scope.require(Perm.MANAGE_UNITS)
    unit = get_unit(session, scope, unit_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(unit, key, value)
    audit.record(session, scope, "update", "unit", unit.id, detail={"changed": sorted(data.model_fields_set)})
    return unit


# -- users -------------------------------------------------------------------------------


def _user_query(scope: Scope) -> Select[User]:
    stmt = select(User).join(Area, User.area_id == Area.id).options(joinedload(User.area), joinedload(User.unit))
    if scope.is_system:
        return stmt
    return stmt.where(Area.path.startswith(scope.path, autoescape=True))


def list_users(session: Session, scope: Scope, *, q: str = "", role: str = "", limit: int = 500,
               offset: int = 0) -> list[User]:
    scope.require(Perm.MANAGE_USERS)
    stmt = _user_query(scope)
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True)))
    if role:
        stmt = stmt.where(User.role == role)
    return list(session.scalars(stmt.order_by(Area.path, User.username).limit(limit).offset(offset)).unique())


def get_user(session: Session, scope: Scope, user_id: int) -> User:
    scope.require(Perm.MANAGE_USERS)
    user = session.scalar(_user_query(scope).where(User.id == user_id))
    if user is None:
        raise NotFound("用户不存在或不在您的管辖范围内")
    return user


def _check_placement(session: Session, scope: Scope, role: Role, area_id: int, unit_id: int | None) -> None:
    area = scope.get_own_area(session, area_id)
    if area.level not in ROLE_LEVELS[role]:
        raise Invalid(f"{ROLE_LABELS[role]} 不能设在该层级的辖区",
                      details=[{"loc": ["area_id"], "msg": "角色与辖区层级不匹配"}])
    if role == Role.UNIT_LIAISON:
        if unit_id is None:
            raise Invalid("成员单位联络员必须指定单位", details=[{"loc": ["unit_id"], "msg": "必填"}])
        get_unit(session, scope, unit_id)
    elif unit_id is not None:
        raise Invalid("只有成员单位联络员可以指定单位", details=[{"loc": ["unit_id"], "msg": "不应填写"}])


def create_user(session: Session, scope: Scope, data: UserIn) -> User:
    scope.require(Perm.MANAGE_USERS)
    try:
        check_strength(data.password)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["password"], "msg": str(exc)}]) from exc
    _check_placement(session, scope, data.role, data.area_id, data.unit_id)
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"用户名 {data.username} 已存在")
    user = User(username=data.username, display_name=data.display_name, password_hash=hash_password(data.password),
                role=data.role.value, area_id=data.area_id, unit_id=data.unit_id, phone=data.phone)
    session.add(user)
    session.flush()
    audit.record(session, scope, "create", "user", user.id, detail={"username": user.username, "role": user.role})
    return user


def update_user(session: Session, scope: Scope, user_id: int, data: UserPatch) -> User:
    scope.require(Perm.MANAGE_USERS)
    user = get_user(session, scope, user_id)
    changes = data.model_dump(exclude_unset=True)
    role = Role(changes.get("role") or user.role)
    if {"role", "area_id", "unit_id"} & changes.keys():
        _check_placement(session, scope, role, changes.get("area_id") or user.area_id,
                         changes.get("unit_id", user.unit_id))
    if changes.pop("unlock", None):
        backoff.unlock(session, user.username)
    password = changes.pop("password", None)
    if password:
        try:
            check_strength(password)
        except ValueError as exc:
            raise Invalid(str(exc), details=[{"loc": ["password"], "msg": str(exc)}]) from exc
        user.password_hash = hash_password(password)
        revoke_all(session, user.id)
    if changes.get("is_active") is False:
        if user.id == scope.user_id:
            raise Invalid("不能停用自己的账号")
        revoke_all(session, user.id)
    for key, value in changes.items():
        if value is not None or key == "unit_id":
            setattr(user, key, value.value if isinstance(value, Role) else value)
    audit.record(session, scope, "update", "user", user.id, detail={"changed": sorted(data.model_fields_set)})
    return user


def change_own_password(session: Session, scope: Scope, old: str, new: str, *, keep_session: int | None = None) -> int:
    """修改密码: the old password checked under the login back-off (auth.backoff), the new one's strength, then every
    other session and API token of the user ends (`keep_session`, the one asking, stays). Returns how many ended.
    The attempt is counted in a transaction of its own, so a wrong old password still counts."""
    from fanzha.auth.passwords import verify_password

    if scope.user_id is None:  # the system scope (CLI, worker) has no password of its own
        raise Forbidden("系统身份没有密码可改")
    now = utcnow()
    admission = backoff.admit_password_change(session, scope.user_id, now=now)
    session.commit()
    if admission.wait_seconds:
        audit.record(session, scope, "password_failed", "user", scope.user_id,
                     detail={"reason": "throttled", "wait": admission.wait_seconds})
        raise TooManyRequests(backoff.wait_message(admission.wait_seconds), retry_after=admission.wait_seconds)
    user = session.get(User, scope.user_id)
    if user is None:  # removed since the session began
        raise NotFound("用户不存在")
    if not verify_password(user.password_hash, old):
        audit.record(session, scope, "password_failed", "user", user.id, detail={"reason": "bad_password"})
        raise Invalid("原密码不正确", details=[{"loc": ["old_password"], "msg": "原密码不正确"}])
    try:
        check_strength(new)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["new_password"], "msg": str(exc)}]) from exc
    user.password_hash = hash_password(new)
    backoff.password_changed(session, user.id)
    ended = revoke_all(session, user.id, keep=keep_session)
    audit.record(session, scope, "update", "user", user.id, detail={"changed": ["password"], "sessions_ended": ended})
    return ended
