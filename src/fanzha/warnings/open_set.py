"""在办 (open) warnings: the one definition, and the bound that lets a query over them skip closed months.

A warning is open until its feedback (反馈) is in: `feedback_at IS NULL`. The board and its figures, 我的任务, the
协助 offers, the holders' loads and the escalation sweep read this set. On PostgreSQL after migration 0034 the
warnings table is partitioned by month of 预警时间, and a condition on `feedback_at` alone says nothing about the
month: every such query is planned over every partition (64 for five years; docs/benchmarks.md, "Province scale").
`clause(session)` adds `warned_at >= ` the oldest open warning's 预警时间, so PostgreSQL prunes the months before it
at planning time.

The bound is read at most once a minute per process (FRESH_SECONDS; reading it is itself a query over every month)
and again at once when the process inserts a warning and when it commits it (`forget`). Closing warnings only
raises the true bound, so a bound read earlier stays below it and hides nothing. A new warning has the newest
预警时间 but for history: a warning older than the bound, imported by another process (the worker), reaches this
process's board within a minute.
On SQLite and on an unpartitioned database the bound is not added: there it would only cost a query and could steer
the planner off the partial indexes on open warnings.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import and_, event, func, select
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import ColumnElement

from fanzha.ops import partitions
from fanzha.warnings.models import Warning

FRESH_SECONDS = 60.0  # how long a process keeps the bound it read
_partitioned: dict[str, bool] = {}  # by database URL: partitioned or not does not change while a process runs
_bounds: dict[str, tuple[datetime | None, float]] = {}  # by database URL: (the bound, when it was read)


def is_open() -> ColumnElement[bool]:
    """在办: no feedback yet."""
    return Warning.feedback_at.is_(None)


def clause(session: Session) -> ColumnElement[bool]:
    """在办, with the partition bound where it helps: use it wherever a query reads open warnings only."""
    since = oldest_open(session)
    if since is None:
        return is_open()
    return and_(is_open(), Warning.warned_at >= since)


def oldest_open(session: Session) -> datetime | None:
    """The oldest open warning's 预警时间 on a partitioned database (None: no bound helps or nothing is open)."""
    url = _partitioned_url(session)
    if url is None:
        return None
    cached = _bounds.get(url)
    if cached is None or time.monotonic() - cached[1] > FRESH_SECONDS:
        # Read through the partial indexes on open warnings: OFFSET 0 keeps PostgreSQL from turning min() into a
        # walk of each month's 预警时间 index from its oldest row, which reads every closed warning first (9 s at
        # 10 million warnings, against 32 ms this way).
        open_times = select(Warning.warned_at).where(is_open()).offset(0).subquery()
        cached = (session.scalar(select(func.min(open_times.c.warned_at))), time.monotonic())
        _bounds[url] = cached
    return cached[0]


def _partitioned_url(session: Session) -> str | None:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    url = bind.engine.url.render_as_string(hide_password=True)
    if url not in _partitioned:
        _partitioned[url] = partitions.partitioned(session.connection())
    return url if _partitioned[url] else None


def forget(session: Session | None = None) -> None:
    """Warnings were inserted: read the bound again (a new one may be older than it, as in an import of last week's
    warnings), now for this session's own reading and once more when `session` commits, for the process's other
    requests (one of them may have read the bound meanwhile without the uncommitted rows). Called by the intake's
    COPY, which no ORM event sees; the events below cover ORM inserts."""
    _bounds.clear()
    if session is not None:
        session.info[_FORGET_ON_COMMIT] = True


_FORGET_ON_COMMIT = "fanzha_forget_open_bound"


@event.listens_for(Session, "after_flush")
def _forget_after_new_warnings(session: Session, _context: object) -> None:
    if any(isinstance(o, Warning) for o in session.new):
        forget(session)


@event.listens_for(Session, "do_orm_execute")
def _forget_after_inserted_warnings(state: ORMExecuteState) -> None:
    if state.is_insert and state.bind_mapper is not None and state.bind_mapper.class_ is Warning:
        forget(state.session)


@event.listens_for(Session, "after_commit")
def _forget_when_committed(session: Session) -> None:
    if session.info.pop(_FORGET_ON_COMMIT, False):
        _bounds.clear()


@event.listens_for(Session, "after_rollback")
def _nothing_to_forget(session: Session) -> None:
    session.info.pop(_FORGET_ON_COMMIT, None)
