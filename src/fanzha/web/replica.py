"""Reading work on the read replica (只读副本): the read session of a request, how far behind the replica is, and the
fall back to the primary when it cannot be reached (docs/deploy.md, "Read replica").

Routes that only read — statistics, bulletin previews and drafts, the map, the screen — take
`ReadDb` (`Depends(get_read_db, scope="function")`) beside (or instead of) the primary `get_db` session. Without
FANZHA_DATABASE_REPLICA_URL the read session *is* the primary session, so nothing changes. With it, the read session
is a read-only transaction on the replica; the audit entry a reading writes goes to the primary session
(`fanzha.db.writer_of`) and is committed with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fanzha.config import get_settings
from fanzha.db import WRITES_TO, get_read_sessionmaker
from fanzha.web.deps import Db
from fanzha.web.metrics import REGISTRY

log = logging.getLogger(__name__)

FALLBACKS = Counter("fanzha_replica_fallbacks_total", "Readings answered from the primary because the read replica "
                    "could not be reached.", registry=REGISTRY)
LAG = Gauge("fanzha_replica_lag_seconds", "How far the read replica was behind the primary at the latest reading "
            "(0 = it had replayed everything the primary had written).", registry=REGISTRY)

# On a standby, pg_last_xact_replay_timestamp() is the primary's commit time of the last transaction replayed: on an
# idle primary it grows old though nothing is missing. So the replica counts as behind only when it has not yet
# replayed the primary's current WAL position, and then by the age of what it last replayed.
_LAG_SQL = text("SELECT pg_is_in_recovery(), "
                "coalesce(pg_last_wal_replay_lsn() >= CAST(:primary AS pg_lsn), true), "
                "extract(epoch FROM now() - pg_last_xact_replay_timestamp())")
READ_FROM, LAG_HEADER = "X-Fanzha-Read-From", "X-Fanzha-Replica-Lag-Seconds"
_down_until = 0.0  # monotonic time before which readings go straight to the primary (the replica failed)


def primary_position(primary: Session) -> str:
    return primary.scalar(text("SELECT CAST(pg_current_wal_lsn() AS text)"))


def lag_seconds(replica: Session, position: str) -> float | None:
    """Seconds the replica is behind the primary at WAL `position`: 0 when it has replayed that far (or is no
    standby at all), None when it is behind but has replayed no transaction yet to date it by."""
    standby, caught_up, behind = replica.execute(_LAG_SQL, {"primary": position}).one()
    if not standby or caught_up:
        return 0.0
    return None if behind is None else max(float(behind), 0.0)


def note(lag: float | None, threshold: int) -> str:
    """The line a page read from the replica shows when the lag matters; empty when it does not."""
    if lag is not None and lag <= threshold:
        return ""
    if lag is None:
        return "统计数据来自只读副本，副本尚在追赶主库，最新的变动可能还未计入"
    seconds = max(1, math.ceil(lag))
    behind = f"{seconds} 秒" if seconds < 120 else f"{seconds // 60} 分钟"
    return f"统计数据来自只读副本，约滞后 {behind}，最新的变动可能还未计入"


def open_read(primary: Session) -> tuple[Session, float | None, bool]:
    """A read-only session for one reading, its replica's lag and whether it is on the replica. The replica when it
    answers; else (logged once per failure, counted each time) a read-only session on the primary, for
    FANZHA_REPLICA_RETRY_SECONDS before the replica is tried again."""
    global _down_until
    settings = get_settings()
    if time.monotonic() >= _down_until:
        position = primary_position(primary)  # before the replica's own: a primary failure is no replica failure
        session = get_read_sessionmaker()()
        try:
            lag = lag_seconds(session, position)
        except DBAPIError as exc:
            session.close()
            _down_until = time.monotonic() + settings.replica_retry_seconds
            log.warning("read replica unreachable, reading from the primary for %d s: %s",
                        settings.replica_retry_seconds, str(exc.orig or exc).strip().splitlines()[0])
        else:
            session.info[WRITES_TO] = primary
            LAG.set(lag if lag is not None else float("nan"))
            return session, lag, True
    FALLBACKS.inc()
    session = get_read_sessionmaker(replica=False)()
    session.info[WRITES_TO] = primary
    return session, None, False


def reset() -> None:
    """Try the replica again at the next reading (tests)."""
    global _down_until
    _down_until = 0.0


def get_read_db(request: Request, response: Response, db: Db) -> Iterator[Session]:
    """The session reading work reads from: the replica's when one is set (read-only, rolled back at the end), the
    request's primary session otherwise. A page read from a replica far enough behind says so (request.state); a
    JSON answer says where it was read and, from the replica, its lag in headers (X-Fanzha-Read-From,
    X-Fanzha-Replica-Lag-Seconds: whole seconds, "unknown" when it cannot be dated)."""
    settings = get_settings()
    if not settings.database_replica_url:
        yield db
        return
    session, lag, on_replica = open_read(db)
    request.state.replica_note = note(lag, settings.replica_lag_note_seconds) if on_replica else ""
    response.headers[READ_FROM] = "replica" if on_replica else "primary"
    if on_replica:
        response.headers[LAG_HEADER] = "unknown" if lag is None else str(math.ceil(lag))
    try:
        yield session
    finally:
        session.rollback()
        session.close()


ReadDb = Annotated[Session, Depends(get_read_db, scope="function")]
"""A reading route's session (`db: ReadDb`): the replica's when one is set, else the request's primary session."""
