"""User accounts (用户管理): listing, creating and changing users, and changing one's own password.

Every read and write goes through the caller's Scope; the passwords, the login back-off and the sessions a change
ends are auth's, the areas and units a user is placed in are org's."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.auth import backoff
from fanzha.auth.passwords import check_strength, hash_password, verify_password
from fanzha.auth.service import revoke_all
from fanzha.common.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from fanzha.db import utcnow
from fanzha.org.models import Area, User
from fanzha.org.roles import ROLE_LABELS, ROLE_LEVELS, Perm, Role
from fanzha.org.schemas import UserIn, UserPatch
from fanzha.org.scope import Scope
from fanzha.org.service import get_unit


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
