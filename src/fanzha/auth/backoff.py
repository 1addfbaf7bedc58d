"""Login back-off (登录限速): which counters a login attempt goes through, how long a refused one must wait, the
device cookie of trusted browsers, and an admin's unlock. The rules are explained in docs/login.md.

An attempt from a browser that holds a device cookie for the typed account (set there by an earlier successful
login) goes through that browser's own counter only. Any other attempt goes through three counters in a fixed
order: its client address, the account at that address, the account. In each, the first `free` attempts of a
window pass; after them an attempt passes only if the counter is not held, and then holds it for a delay that
doubles with the count (capped). The first counter that refuses ends the attempt: it is answered without looking
at the password, and the counters after it do not see it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fanzha.auth import throttle
from fanzha.common.tokens import same_token
from fanzha.config import get_settings

ADDRESS = "login_address"  # key: client address; attempts at any account, a successful one taken back
ACCOUNT_ADDRESS = "login_account_address"  # key: "username|address"
ACCOUNT = "login_account"  # key: username; attempts from browsers not trusted for the account
DEVICE = "login_device"  # key: "username|device id"; attempts from a trusted browser
PASSWORD = "password_change"  # key: user id; 修改密码 attempts (the old password guessed from an open session)
BUCKETS = (ADDRESS, ACCOUNT_ADDRESS, ACCOUNT, DEVICE, PASSWORD)

_MAX_DEVICE_ACCOUNTS = 8  # accounts one browser (a shared station PC) is trusted for


def normalise(username: str) -> str:
    """What the counters key an account by: the typed name, trimmed and lower-cased, whether or not it exists."""
    return username.strip().lower()[:64]


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


def delay(count: int, free: int) -> timedelta:
    """How long an attempt that passes as number `count` of its window holds the counter: nothing before `free`,
    then the first delay, doubled for each attempt after it, up to the longest delay."""
    s = get_settings()
    if count < free:
        return timedelta(0)
    return timedelta(seconds=min(s.login_delay_seconds * 2 ** min(count - free, 30), s.login_max_delay_seconds))


@dataclass(frozen=True)
class Admission:
    wait_seconds: int  # 0: the password may be checked
    bucket: str = ""  # the counter that refused


def _counters(name: str, address: str, device: str) -> list[tuple[str, str, int]]:
    s = get_settings()
    if device:
        return [(DEVICE, f"{name}|{device}", s.login_free_attempts)]
    return [(ADDRESS, address, s.login_free_per_address),
            (ACCOUNT_ADDRESS, f"{name}|{address}", s.login_free_attempts),
            (ACCOUNT, name, s.login_free_attempts)]


def admit(session: Session, name: str, address: str, device: str, *, now: datetime) -> Admission:
    """Counts one login attempt and says whether its password may be checked now or how long it must wait.

    `device` is the browser's device id when its cookie is valid for `name` (see `trusted_device`), else "".
    The counters are always taken in the same order, so two attempts never wait for each other's rows in turn."""
    return _admit(session, _counters(name, address, device), now=now)


def admit_password_change(session: Session, user_id: int, *, now: datetime) -> Admission:
    """Counts one 修改密码 attempt of a signed-in user: the old password is checked under the same back-off as a
    login (the first attempts of a window free, then a doubling wait), so an open session left on a shared PC
    cannot be used to guess it."""
    return _admit(session, [(PASSWORD, str(user_id), get_settings().login_free_attempts)], now=now)


def password_changed(session: Session, user_id: int) -> None:
    throttle.clear(session, PASSWORD, str(user_id))


def _admit(session: Session, counters: list[tuple[str, str, int]], *, now: datetime) -> Admission:
    window = _window()
    for bucket, key, free in counters:
        counted = throttle.record(session, bucket, key, window=window, now=now)
        held_until = counted.held_until if counted.wait(now) else None
        if held_until is None and counted.count >= free:
            held_until = throttle.hold(session, bucket, key, until=now + delay(counted.count, free), now=now)
        if held_until is not None:
            return Admission(max(1, math.ceil((held_until - now).total_seconds())), bucket)
    return Admission(0)


def succeeded(session: Session, name: str, address: str, device: str) -> None:
    """A right password: the account's counters start afresh; the address keeps its failures (its count of this
    attempt is taken back), so logging in to one's own account does not make room for guesses at others."""
    if device:
        throttle.clear(session, DEVICE, f"{name}|{device}")
        return
    throttle.take_back(session, ADDRESS, address)
    throttle.clear(session, ACCOUNT_ADDRESS, f"{name}|{address}")
    throttle.clear(session, ACCOUNT, name)


def unlock(session: Session, username: str) -> int:
    """An admin's unlock (解除登录限制): forgets every counter of the account (all addresses, all browsers), not
    those of the addresses themselves. Returns how many counters were removed."""
    name = normalise(username)
    # The same order as `admit` takes them, so an unlock and a login never wait for each other in turn.
    return (throttle.clear_prefix(session, ACCOUNT_ADDRESS, f"{name}|") + throttle.clear(session, ACCOUNT, name)
            + throttle.clear_prefix(session, DEVICE, f"{name}|"))


@dataclass(frozen=True)
class AccountState:
    """Whether an account is being held (受限) now, for the user admin pages."""

    held_until: datetime | None  # the latest hold on the account, any address or browser
    attempts: int  # attempts counted for the account (untrusted browsers) in the current window

    @property
    def held(self) -> bool:
        return self.held_until is not None


def state(session: Session, username: str, *, now: datetime) -> AccountState:
    name = normalise(username)
    holds = [*throttle.held(session, ACCOUNT, [name], now=now).values(),
             *throttle.held_with_prefix(session, ACCOUNT_ADDRESS, f"{name}|", now=now).values(),
             *throttle.held_with_prefix(session, DEVICE, f"{name}|", now=now).values()]
    row = throttle.find(session, ACCOUNT, name)
    attempts = row.count if row is not None and row.window_start > now - _window() else 0
    return AccountState(max(holds) if holds else None, attempts)


def held_accounts(session: Session, usernames: Iterable[str], *, now: datetime) -> set[str]:
    """Which of these accounts are held for browsers not trusted for them (the users list shows 登录受限)."""
    return set(throttle.held(session, ACCOUNT, [normalise(u) for u in usernames], now=now))


def purge(session: Session, *, now: datetime) -> int:
    """Removes counters that would start afresh anyway (run by the worker every hour)."""
    return sum(throttle.purge(session, bucket, window=_window(), now=now) for bucket in BUCKETS)


def wait_message(seconds: int) -> str:
    if seconds < 60:
        return f"尝试过于频繁，请{seconds}秒后再试"
    return f"尝试过于频繁，请{math.ceil(seconds / 60)}分钟后再试"


# -- device cookie ---------------------------------------------------------------------------------------------
# Value: "<device id>.<tag>.<tag>…", a random id of the browser and one HMAC tag per account it is trusted for.
# Nothing in it names the accounts; a tag made for one account is worthless for another.

def _tag(device: str, name: str) -> str:
    key = get_settings().resolved_secret_key().encode()
    digest = hmac.new(key, f"fanzha-device|{device}|{name}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def _parse(cookie: str) -> tuple[str, list[str]]:
    parts = cookie.split(".") if 0 < len(cookie) <= 40 * (_MAX_DEVICE_ACCOUNTS + 1) else []
    if len(parts) < 2 or len(parts[0]) != 22:
        return "", []
    return parts[0], parts[1:_MAX_DEVICE_ACCOUNTS + 1]


def trusted_device(cookie: str, name: str) -> str:
    """The device id when the cookie holds a valid tag for account `name`, else ""."""
    device, tags = _parse(cookie)
    if not device:
        return ""
    expected = _tag(device, name)
    return device if any(same_token(expected, t) for t in tags) else ""


def device_cookie(cookie: str, name: str) -> str:
    """The cookie to set after a successful login to `name`: the same browser id, this account's tag first."""
    device, tags = _parse(cookie)
    if not device:
        device, tags = secrets.token_urlsafe(16), []
    mine = _tag(device, name)
    return ".".join([device, mine, *[t for t in tags if t != mine]][:_MAX_DEVICE_ACCOUNTS + 1])
