"""Atomic event counters per (bucket, key), with a hold: what rate limits and login back-off are built from.

A bucket names what is counted ("login_account", "lookup" …), a key whom it is counted for (a username, an address,
a user id). `hit` counts one event in a single INSERT … ON CONFLICT DO UPDATE … RETURNING, so simultaneous events
are all counted (no read-modify-write: PostgreSQL locks the row for the statement, SQLite serialises writers).
Counts start over once `window` has passed since the first event counted. `hold` makes a key wait until a given
time; taking the hold is one conditional UPDATE, so of several callers that find the key free only one gets it.
Rows stay until `clear` or `purge`; callers commit (the row stays locked until then on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fanzha.auth.models import Throttle
from fanzha.db import UTCDateTime, utcnow


@dataclass(frozen=True)
class Count:
    """A key right after one event was counted."""

    count: int  # events in the current window, this one included
    held_until: datetime | None  # the key must wait until then (may be in the past)

    def wait(self, now: datetime) -> timedelta:
        return max(self.held_until - now, timedelta(0)) if self.held_until else timedelta(0)


def _insert(session: Session) -> Callable[[type[Throttle]], postgresql.Insert | sqlite.Insert]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def record(session: Session, bucket: str, key: str, *, window: timedelta, now: datetime | None = None) -> Count:
    """Counts one event of `key` in `bucket` atomically; returns the count in the current window and the hold."""
    now = now or utcnow()
    t = Throttle.__table__.c
    expired = t.window_start <= now - window
    new = _insert(session)(Throttle).values(bucket=bucket, key=key, count=1, window_start=now, last_at=now)
    stmt = new.on_conflict_do_update(
        index_elements=[t.bucket, t.key],
        set_={"count": case((expired, 1), else_=t.count + 1),
              "window_start": case((expired, literal(now, UTCDateTime())), else_=t.window_start),
              "last_at": now},
    ).returning(t.count, t.held_until)
    count, held_until = session.execute(stmt).one()
    return Count(count, held_until)


def hit(session: Session, bucket: str, key: str, *, window: timedelta, now: datetime | None = None) -> int:
    """Counts one event atomically and returns how many `key` has had in the current window, this one included."""
    return record(session, bucket, key, window=window, now=now).count


def take_back(session: Session, bucket: str, key: str) -> None:
    """Uncounts one event (one that turned out not to matter, e.g. a login that succeeded), never below zero."""
    t = Throttle.__table__.c
    session.execute(update(Throttle).where(t.bucket == bucket, t.key == key)
                    .values(count=case((t.count > 0, t.count - 1), else_=0)))


def hold(session: Session, bucket: str, key: str, *, until: datetime, now: datetime | None = None) -> datetime | None:
    """If `key` is not held at `now`, holds it until `until` and returns None; otherwise returns when the current
    hold ends. The key must have been counted (`record`/`hit`) first."""
    now = now or utcnow()
    t = Throttle.__table__.c
    taken = _changed(session, update(Throttle)
                     .where(t.bucket == bucket, t.key == key, or_(t.held_until.is_(None), t.held_until <= now))
                     .values(held_until=until))
    if taken:
        return None
    return session.scalar(select(t.held_until).where(t.bucket == bucket, t.key == key)) or now


def find(session: Session, bucket: str, key: str) -> Throttle | None:
    return session.get(Throttle, (bucket, key))


def held(session: Session, bucket: str, keys: Iterable[str], *, now: datetime | None = None) -> dict[str, datetime]:
    """The keys among `keys` that are held at `now`, with the end of their hold."""
    now = now or utcnow()
    wanted = list(keys)
    if not wanted:
        return {}
    t = Throttle.__table__.c
    return dict(session.execute(select(t.key, t.held_until)
                                .where(t.bucket == bucket, t.key.in_(wanted), t.held_until > now)).all())


def held_with_prefix(session: Session, bucket: str, prefix: str, *, now: datetime | None = None) -> dict[str, datetime]:
    """The keys starting with `prefix` that are held at `now`, with the end of their hold."""
    now = now or utcnow()
    t = Throttle.__table__.c
    return dict(session.execute(select(t.key, t.held_until).where(
        t.bucket == bucket, t.key.startswith(prefix, autoescape=True), t.held_until > now)).all())


def clear(session: Session, bucket: str, key: str) -> int:
    """Forgets `key`'s count and hold; returns how many counters were removed (0 or 1)."""
    t = Throttle.__table__.c
    return _changed(session, delete(Throttle).where(t.bucket == bucket, t.key == key))


def clear_prefix(session: Session, bucket: str, prefix: str) -> int:
    """Forgets every key of `bucket` that starts with `prefix`."""
    t = Throttle.__table__.c
    return _changed(session, delete(Throttle).where(t.bucket == bucket, t.key.startswith(prefix, autoescape=True)))


def purge(session: Session, bucket: str, *, window: timedelta, now: datetime | None = None) -> int:
    """Removes the counters of `bucket` whose window has ended and whose hold is over: they would start afresh."""
    now = now or utcnow()
    t = Throttle.__table__.c
    return _changed(session, delete(Throttle).where(
        t.bucket == bucket, t.window_start <= now - window,
        or_(t.held_until.is_(None), t.held_until <= now)))


def _changed(session: Session, stmt: Update | Delete) -> int:
    """How many rows an UPDATE or DELETE touched (execute() is typed as returning a plain Result; for these
    statements it is a CursorResult)."""
    return cast(CursorResult[Any], session.execute(stmt)).rowcount
