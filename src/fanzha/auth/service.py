"""Logging in and out with back-off after failures (auth.backoff), and resolving session cookies and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.auth import backoff
from fanzha.auth.models import AuthSession
from fanzha.auth.passwords import hash_password, needs_rehash, verify_password
from fanzha.common.errors import TooManyRequests, Unauthorized
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.models import User

WRONG = "用户名或密码错误"  # unknown user, wrong password and a deactivated account with a wrong password alike

# An unknown user's password is checked against this hash, made with the current argon2 costs, so that the answer
# costs the same work (and time) as for a real account.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None or needs_rehash(_DUMMY_HASH):
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Seen(TypedDict):
    """Who tried to sign in, as a failed attempt's audit entry records it."""

    username: str
    ip: str
    user_agent: str


@dataclass
class Login:
    user: User
    token: str
    csrf_token: str
    device_cookie: str  # the browser's device cookie after this login (docs/login.md)


def login(session: Session, username: str, password: str, *, kind: str = "web", ip: str = "",
          user_agent: str = "", device_cookie: str = "") -> Login:
    """Checks a username and password, within the back-off of auth.backoff, and opens a session or token.

    The attempt is counted (and the account read) in a transaction of its own, committed before the password is
    checked: the counters' rows are not held locked during the slow argon2 work, a refused attempt is answered
    without that work, and what follows starts with a write (on SQLite a transaction that read first may not write
    after another one did). The caller commits the rest (the audit entry of a failure too)."""
    settings = get_settings()
    now = utcnow()
    name = backoff.normalise(username)
    device = backoff.trusted_device(device_cookie, name)
    admission = backoff.admit(session, name, ip, device, now=now)
    user = None if admission.wait_seconds else session.scalar(select(User).where(User.username == name))
    user_id, stored_hash, active = (user.id, user.password_hash, user.is_active) if user else ("", "", False)
    session.commit()
    seen = Seen(username=name[:32], ip=ip, user_agent=user_agent)
    if admission.wait_seconds:
        audit.record(session, None, "login_failed", "user", "", **seen,
                     detail={"reason": "throttled", "counter": admission.bucket, "wait": admission.wait_seconds})
        raise TooManyRequests(backoff.wait_message(admission.wait_seconds), retry_after=admission.wait_seconds)
    right = verify_password(stored_hash or _dummy_hash(), password)
    if user is None or not right:
        detail = {"reason": "unknown_user" if user is None else "bad_password", "trusted_browser": bool(device)}
        if user is not None and not active:
            detail["inactive"] = True
        audit.record(session, None, "login_failed", "user", user_id, **seen, detail=detail)
        raise Unauthorized(WRONG)
    if not active:  # only someone who knows the password learns this
        audit.record(session, None, "login_failed", "user", user_id, **seen, detail={"reason": "inactive"})
        raise Unauthorized("账号已停用，请联系管理员")
    backoff.succeeded(session, name, ip, device)
    if needs_rehash(stored_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=settings.session_hours) if kind == "web" else timedelta(days=settings.api_token_days)
    session.add(AuthSession(token_hash=_token_hash(token), kind=kind, user_id=user.id, csrf_token=csrf, ip=ip,
                            expires_at=now + lifetime))
    audit.record(session, None, "login" if kind == "web" else "token", "user", user.id, username=user.username,
                 ip=ip, user_agent=user_agent)
    return Login(user=user, token=token, csrf_token=csrf, device_cookie=backoff.device_cookie(device_cookie, name))


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


@dataclass(frozen=True)
class Verified:
    """A session or token found valid in the database, copied out of the ORM (see `RecentlyVerified`)."""

    kind: str
    user_id: int
    username: str
    csrf_token: str
    expires_at: datetime


class RecentlyVerified:
    """Tokens found valid in the database within the last `ttl` seconds, for routes that only need to know that the
    caller is signed in and read no record of the platform: the checker (识诈, `POST /api/v1/detect`).

    Such a route then costs no query on most requests (the look-up was most of its time under load). What that
    trades: a token revoked or a user deactivated by another process (a second web worker) still passes these
    routes for at most `ttl` seconds; a change made through this process empties the cache when it commits (the
    flush hook below watches what `resolve` depends on: a session's revocation, expiry and owner, a user's active
    flag and password). Expiry is checked on every use. Invalid tokens are never held,
    so each of them still costs a query. Every other route verifies against the database on each request.
    """

    def __init__(self, ttl: float = 2.0, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[float, Verified]] = {}
        self._generation = 0  # bumped by clear(); a verification that overlapped a change is not kept

    def get(self, kind: str, token: str) -> Verified | None:
        held = self._held.get((kind, _token_hash(token)))
        if held is None or time.monotonic() - held[0] > self.ttl or held[1].expires_at <= utcnow():
            return None
        return held[1]

    def verify(self, session: Session, token: str, *, kind: str) -> Verified | None:
        """`resolve` in the database, keeping the answer when it is valid."""
        generation = self._generation
        checked = time.monotonic()
        found = resolve(session, token, kind=kind)
        if found is None:
            return None
        verified = Verified(kind, found.user_id, found.user.username, found.csrf_token, found.expires_at)
        with self._lock:
            if generation == self._generation:
                if len(self._held) >= self.max_entries:
                    self._held.clear()
                self._held[(kind, _token_hash(token))] = (checked, verified)
        return verified

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._held.clear()


RECENT = RecentlyVerified()


# What `resolve` depends on: a change to any of these (or a deleted row) ends the trust in held tokens. A login
# (last_login_at) does not, and a failed attempt changes no user, so wrong passwords cannot empty the cache.
_TRUSTED_ON: dict[type[object], tuple[str, ...]] = {
    AuthSession: ("revoked_at", "expires_at", "kind", "user_id", "token_hash"),
    User: ("is_active", "password_hash"),
}


def _ends_trust(obj: object) -> bool:
    attrs = _TRUSTED_ON.get(type(obj), ())
    return any(inspect(obj).attrs[a].history.has_changes() for a in attrs)


@event.listens_for(Session, "before_flush")
def _watch_auth_changes(session: Session, _context: object, _instances: object) -> None:
    if any(_ends_trust(o) for o in session.dirty) or any(type(o) in _TRUSTED_ON for o in session.deleted):
        session.info["auth_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_verified(session: Session) -> None:
    if session.info.pop("auth_changed", False):
        RECENT.clear()


def logout(session: Session, token: str, *, kind: str = "web") -> None:
    auth = resolve(session, token, kind=kind)
    if auth is None:
        return
    auth.revoked_at = utcnow()
    audit.record(session, None, "logout", "user", auth.user_id, username=auth.user.username)


def revoke_all(session: Session, user_id: int, *, keep: int | None = None) -> int:
    """Ends every open session and API token of the user (a password reset, a deactivation), or every one but
    `keep` (the session that changed its own password). Returns how many were ended."""
    stmt = select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    ended = list(session.scalars(stmt))
    for auth in ended:
        auth.revoked_at = utcnow()
    return len(ended)
