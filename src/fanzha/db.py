"""Engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import DateTime, MetaData, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from fanzha.config import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def naive_utc(value: datetime) -> datetime:
    """UTCDateTime's bind step without SQLAlchemy around it, for rows written by COPY."""
    if value.tzinfo is UTC:
        return value.replace(tzinfo=None)
    return UTCDateTime().process_bind_param(value, None)


def one_of(session: Session, column, values):
    """`column IN (values)`; on PostgreSQL one array parameter (`= ANY(...)`), so a 2,000-value look-up is not a
    2,000-placeholder statement that the driver has to parse and the server to plan each time."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def utcnow() -> datetime:
    return datetime.now(UTC)


WRITER = "fanzha_writer"  # execution option: this connection's transactions will write (SQLite: BEGIN IMMEDIATE)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # As many pooled connections as the request thread pool has threads (40) and some for the worker's tasks: a
        # connection beyond the pool is opened and closed for one request, which on a busy server cost more CPU than
        # the request itself (connect + pragmas). An idle SQLite connection costs only memory.
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        pool = {} if in_memory else {"pool_size": 40, "max_overflow": 20}  # in memory: one shared connection
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        # pysqlite sends BEGIN only before a write, so a SAVEPOINT could open (and its RELEASE commit) the
        # transaction itself; SQLAlchemy's documented recipe hands BEGIN to SQLAlchemy instead.
        # Units of work (session_scope: requests, worker tasks, commands) begin IMMEDIATE: they take the write lock
        # up front and wait for it up to the busy timeout (30 s). A deferred transaction that reads and then writes
        # fails at once with "database is locked" when another writer committed after its first read (WAL's
        # SQLITE_BUSY_SNAPSHOT), which no timeout can wait out. Readers still run beside the one writer (WAL).
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITER) else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """Sessions of units of work: on SQLite their transactions begin IMMEDIATE (see make_engine)."""
    return sessionmaker(bind=get_engine().execution_options(**{WRITER: True}), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. On SQLite it holds the write lock from its first
    statement to its end, so keep it short and never open a second one inside it in the same thread."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Reading work (统计、通报、地图、导出) may read from a streaming replica (FANZHA_DATABASE_REPLICA_URL, docs/deploy.md).
# Its sessions are read-only on the server itself, so a write through one fails loudly instead of landing nowhere;
# the audit entry a reading writes goes to the request's primary session (`writer_of`).
READ_ONLY = "fanzha_read_only"  # Session.info key: this session reads only (a replica, or the primary read-only)
WRITES_TO = "fanzha_writes_to"  # Session.info key: the primary session this read session's audit entries join
REPLICA_CONNECT_TIMEOUT = 3  # seconds: an unreachable replica falls back to the primary, not a hung page


def make_read_engine(url: str) -> Engine:
    """A PostgreSQL engine whose every transaction is READ ONLY (default_transaction_read_only)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT,
                                       "options": "-c default_transaction_read_only=on"})


_read_makers: dict[bool, sessionmaker[Session]] = {}


def get_read_sessionmaker(*, replica: bool = True) -> sessionmaker[Session]:
    """Read-only sessions on the replica, or (replica=False) on the primary when the replica cannot be reached."""
    maker = _read_makers.get(replica)
    if maker is None:
        settings = get_settings()
        url = settings.database_replica_url if replica else settings.resolved_database_url()
        maker = _read_makers.setdefault(replica, sessionmaker(bind=make_read_engine(url), expire_on_commit=False,
                                                              info={READ_ONLY: True}))
    return maker


def is_read_only(session: Session) -> bool:
    return bool(session.info.get(READ_ONLY))


def writer_of(session: Session) -> Session:
    """Where the audit entries of a reading go: the primary session behind a read session, else the session
    itself."""
    return session.info.get(WRITES_TO, session)


def reset_read_caches() -> None:
    """Forget the read engines (tests start and stop a replica)."""
    while _read_makers:
        _, maker = _read_makers.popitem()
        maker.kw["bind"].dispose()


def reset_caches() -> None:
    """Forget the cached settings, engines and sessionmakers (tests switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    reset_read_caches()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    get_settings.cache_clear()
