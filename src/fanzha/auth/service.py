"""Logging in and out, lockout after repeated failures, and resolving session cookies and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.auth.models import AuthSession
from fanzha.auth.passwords import hash_password, needs_rehash, verify_password
from fanzha.common.errors import Unauthorized
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.models import User

# Verifying against a real hash when the user does not exist keeps timing from telling names apart.
_DUMMY_HASH: str | None = None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Login:
    user: User
    token: str
    csrf_token: str


def login(session: Session, username: str, password: str, *, kind: str = "web", ip: str = "",
          user_agent: str = "") -> Login:
    global _DUMMY_HASH
    settings = get_settings()
    now = utcnow()
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password-1")
        verify_password(_DUMMY_HASH, password)
        audit.record(session, None, "login_failed", "user", "", username=username[:32], ip=ip,
                     user_agent=user_agent, detail={"reason": "unknown_user"})
        raise Unauthorized("用户名或密码错误")
    if not user.is_active:
        audit.record(session, None, "login_failed", "user", user.id, username=user.username, ip=ip,
                     detail={"reason": "inactive"})
        raise Unauthorized("账号已停用，请联系管理员")
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        audit.record(session, None, "login_failed", "user", user.id, username=user.username, ip=ip,
                     detail={"reason": "locked"})
        raise Unauthorized(f"登录失败次数过多，账号已锁定，请{minutes}分钟后再试")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        detail = {"reason": "bad_password", "failed_logins": user.failed_logins}
        if user.failed_logins >= settings.lockout_threshold:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, None, "locked", "user", user.id, username=user.username, ip=ip, detail=detail)
            raise Unauthorized(f"登录失败次数过多，账号已锁定{settings.lockout_minutes}分钟")
        audit.record(session, None, "login_failed", "user", user.id, username=user.username, ip=ip, detail=detail)
        left = settings.lockout_threshold - user.failed_logins
        raise Unauthorized(f"用户名或密码错误（再错{left}次将锁定账号）")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=settings.session_hours) if kind == "web" else timedelta(days=settings.api_token_days)
    session.add(AuthSession(token_hash=_token_hash(token), kind=kind, user_id=user.id, csrf_token=csrf, ip=ip,
                            expires_at=now + lifetime))
    audit.record(session, None, "login" if kind == "web" else "token", "user", user.id, username=user.username,
                 ip=ip, user_agent=user_agent)
    return Login(user=user, token=token, csrf_token=csrf)


def resolve(session: Session, token: str, *, kind: str) -> AuthSession | None:
    if not token or len(token) > 200:
        return None
    auth = session.scalar(
        select(AuthSession)
        .options(joinedload(AuthSession.user).joinedload(User.area))
        .where(AuthSession.token_hash == _token_hash(token), AuthSession.kind == kind)
    )
    if auth is None or auth.revoked_at is not None or auth.expires_at <= utcnow() or not auth.user.is_active:
        return None
    return auth


def logout(session: Session, token: str, *, kind: str = "web") -> None:
    auth = resolve(session, token, kind=kind)
    if auth is None:
        return
    auth.revoked_at = utcnow()
    audit.record(session, None, "logout", "user", auth.user_id, username=auth.user.username)


def revoke_all(session: Session, user_id: int) -> None:
    for auth in session.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                          AuthSession.revoked_at.is_(None))):
        auth.revoked_at = utcnow()
