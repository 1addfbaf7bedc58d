"""Request dependencies: the database session, who is asking (cookie or bearer), CSRF, permissions."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanzha.auth import service as auth
from fanzha.auth.models import AuthSession
from fanzha.common.errors import DomainError, Forbidden
from fanzha.common.tokens import same_token
from fanzha.config import get_settings
from fanzha.db import session_scope
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

SESSION_COOKIE = "fanzha_session"
LOGIN_CSRF_COOKIE = "fanzha_login_csrf"
DEVICE_COOKIE = "fanzha_device"  # a browser trusted for the accounts that logged in there (auth.backoff)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Viewer:
    """Who is looking, copied out of the ORM so pages (and error pages) never touch a closed session."""

    id: int
    username: str
    display_name: str
    role: str
    area_id: int
    area_name: str
    area_level: str


class LoginRequired(DomainError):
    status_code = 401
    code = "login_required"


class CsrfFailed(DomainError):
    status_code = 403
    code = "csrf"


def get_db() -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on any error.

    Routes depend on it with scope="function", so the commit happens before the response leaves: the next
    request of the same person always sees what this one wrote.
    """
    with session_scope() as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]
"""A route's database session (`db: Db`): the request's unit of work, committed before the response leaves."""


def client_ip(request: Request) -> str:
    """The client's address, the one every login counter and audit entry uses: the direct peer, unless the peer is
    one of FANZHA_TRUSTED_PROXIES; then the right-most address in X-Forwarded-For that is not a trusted proxy (each
    proxy appends the address it was reached from, so what lies left of an untrusted one may be made up)."""
    peer = request.client.host if request.client else ""
    trusted = _trusted_networks(get_settings().trusted_proxies)
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for value in request.headers.getlist("x-forwarded-for") for h in value.split(",")]
    address = peer
    for hop in reversed(hops):
        parsed = _parsed(hop)
        if parsed is None:  # not an address: keep the last one a trusted proxy reported
            break
        address = str(parsed)
        if not any(parsed in n for n in trusted):
            break
    return address


@lru_cache(maxsize=4)
def _trusted_networks(spec: str) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip())


def _parsed(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _within(address: str, networks: tuple) -> bool:
    parsed = _parsed(address)
    return parsed is not None and any(parsed in n for n in networks)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _credentials(request: Request) -> tuple[str, str]:
    """(kind, token): the bearer token of an API call ("api"), else the session cookie ("web")."""
    token = _bearer(request)
    return ("api", token) if token else ("web", request.cookies.get(SESSION_COOKIE, ""))


_NOT_SIGNED_IN = {"api": "接口令牌无效或已过期", "web": "请先登录"}


def current_auth(request: Request, db: Db) -> AuthSession:
    kind, token = _credentials(request)
    found = auth.resolve(db, token, kind=kind)
    if found is None:
        raise LoginRequired(_NOT_SIGNED_IN[kind])
    request.state.auth_kind = kind
    request.state.auth = found
    request.state.csrf_token = found.csrf_token
    u = found.user
    request.state.user = Viewer(u.id, u.username, u.display_name, u.role, u.area_id, u.area.label, u.area.level)
    if not request.url.path.startswith("/api/"):  # the bell on pages; JSON answers never show it
        from fanzha.notify.service import unread_count

        request.state.unread = unread_count(db, u.id)
    return found


async def current_scope(request: Request, found: AuthSession = Depends(current_auth)) -> Scope:
    """Async: it only copies what current_auth loaded (user and area), so it needs no trip to the thread pool."""
    return Scope.for_user(found.user, ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))


async def csrf_protect(request: Request, found: AuthSession = Depends(current_auth)) -> None:
    await _check_csrf(request, found.csrf_token)


async def _check_csrf(request: Request, expected: str) -> None:
    """Cookie-authenticated writes must carry the session's token (form field or X-CSRF-Token header)."""
    if request.method in SAFE_METHODS or request.state.auth_kind == "api":
        return
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
    if not sent or not same_token(sent, expected):
        raise CsrfFailed("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试")


async def signed_in(request: Request) -> auth.Verified:
    """Who calls a route that only needs a signed-in caller and reads no record (the checker, 识诈): the bearer
    token or the session cookie, verified in the database at most every `auth.RECENT.ttl` seconds (see
    `auth.RecentlyVerified` for what that trades). Cookie-authenticated writes must carry the CSRF token here too."""
    kind, token = _credentials(request)
    found = auth.RECENT.get(kind, token) or await _verify_once(token, kind)
    if found is None:
        raise LoginRequired(_NOT_SIGNED_IN[kind])
    request.state.auth_kind = kind
    await _check_csrf(request, found.csrf_token)
    return found


# Verifications under way, per event loop and token: when a held token's time is up, the many requests that carry
# it at that moment (a busy client's connections) wait for one look-up instead of each making its own.
_verifying: dict[tuple[int, str, str], asyncio.Future] = {}


async def _verify_once(token: str, kind: str) -> auth.Verified | None:
    key = (id(asyncio.get_running_loop()), kind, token)
    pending = _verifying.get(key)
    if pending is not None:
        found, error = await asyncio.shield(pending)
        if isinstance(error, asyncio.CancelledError):  # the request that was looking it up went away: look it up
            return await run_in_threadpool(_verify, token, kind)
        if error is not None:
            raise error
        return found
    pending = _verifying[key] = asyncio.get_running_loop().create_future()
    outcome: tuple = (None, asyncio.CancelledError())
    try:
        outcome = (await run_in_threadpool(_verify, token, kind), None)
    except Exception as exc:  # the waiters fail the same way
        outcome = (None, exc)
        raise
    finally:
        del _verifying[key]
        pending.set_result(outcome)
    return outcome[0]


def _verify(token: str, kind: str) -> auth.Verified | None:
    with session_scope() as db:
        return auth.RECENT.verify(db, token, kind=kind)


def require(perm: Perm):
    """A route dependency: the user must hold `perm` (the scope still limits which records)."""

    def check(scope: Scope = Depends(current_scope)) -> Scope:
        if not scope.can(perm):
            raise Forbidden("您的角色没有此项权限")
        return scope

    check.__name__ = f"require_{perm.value}"
    return check
