"""Background tasks. Later domains add theirs (escalations, notifications, documents) beside these.

Periodic tasks are declared with `periodic`, which makes each scheduled run happen once however many consumers
schedule it (two workers on Redis both enqueue every minute's tasks; the first to claim the minute runs it, the other
skips), and retries a run that fails (a database lock held past the busy timeout, a lost connection) instead of
losing it. On SQLite every unit of work takes the write lock up front (fanzha.db), so the every-minute tasks simply
take turns.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from datetime import UTC, datetime

from huey import crontab

from fanzha.db import session_scope, utcnow
from fanzha.imports import service as imports
from fanzha.imports.models import ImportBatch
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.worker.models import WorkerBeat
from fanzha.worker.queue import LAST_RUN, huey

log = logging.getLogger(__name__)

import fanzha.importers  # noqa: E402,F401  (registers every import kind)


def _batch_scope(session, batch: ImportBatch) -> Scope:
    user = session.get(User, batch.created_by) if batch.created_by else None
    return Scope.for_user(user) if user else Scope.system(session)


RETRIES = 3
RETRY_DELAY = 10  # seconds
CLAIM = "fanzha:run:{name}:{slot}"


def slot_of(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M")


def claim(name: str, task_id: str, slot: str) -> bool:
    """Whether this run of periodic task `name` is the one to do the minute's work: the first consumer to claim the
    minute wins, and the same task coming back for a retry keeps its claim. Claims are kept in huey's own storage
    (Redis or the SQLite queue), whose put-if-empty is atomic; each claim removes the name's previous one."""
    key = CLAIM.format(name=name, slot=slot)
    if not huey.put_if_empty(key, task_id):
        return huey.get(key, peek=True) == task_id
    last = CLAIM.format(name=name, slot="last")
    previous = huey.get(last, peek=True)
    if previous and previous != key:
        huey.get(previous)  # reading without peek removes it
    huey.put(last, key)
    return True


def periodic(cron):
    """A periodic task run once per scheduled minute across consumers, retried RETRIES times on failure."""

    def wrap(fn):
        @huey.periodic_task(cron, retries=RETRIES, retry_delay=RETRY_DELAY, context=True, name=fn.__name__)
        @functools.wraps(fn)
        def run(task=None) -> None:
            slot = slot_of()
            if task is not None and not claim(fn.__name__, task.id, slot):
                log.debug("periodic %s: minute %s belongs to another worker", fn.__name__, slot)
                return
            log.debug("periodic %s: runs for minute %s", fn.__name__, slot)
            fn()
            huey.put(LAST_RUN.format(name=fn.__name__), time.time())  # read by /metrics

        return run

    return wrap


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def run_import(batch_id: int) -> dict:
    """Rows commit together or not at all, and a batch runs again only from pending or failed: a retry after an
    error starts the file afresh."""
    return imports.run_batch(batch_id, _batch_scope)


@periodic(crontab(minute="*"))
def heartbeat() -> None:
    beat()


@periodic(crontab(minute="*"))
def escalate_and_notify() -> None:
    """Every minute, whether or not anyone looks: raise due escalations, then send what notifications are due."""
    from fanzha.cases.requests import service as account_requests
    from fanzha.dissuasion import escalation
    from fanzha.notify.service import deliver_due

    with session_scope() as session:
        now = utcnow()
        account_requests.escalate(session, now)  # 查询/止付/冻结 unanswered past their minute deadline
        escalation.run(session, now)
    with session_scope() as session:
        deliver_due(session)


@periodic(crontab(minute="5"))
def backlog_digest() -> None:
    """Hourly; in the morning hour (urgency.DIGEST_HOUR, local time) the station heads get their 积压 digest."""
    from fanzha.dissuasion.urgency import send_digest

    with session_scope() as session:
        send_digest(session, utcnow())


@periodic(crontab(minute="*"))
def refresh_metric_days() -> None:
    """Every minute: recompute the metrics' daily roll-ups of the days whose warnings changed, so that a reading
    finds little left to recompute (it recomputes what is left itself; figures never wait for this task)."""
    from fanzha.warnings.metrics import refresh_days

    with session_scope() as session:
        refresh_days(session)


@periodic(crontab(minute="*"))
def fold_case_stats() -> None:
    """Every minute on PostgreSQL: fold the case statistics journal into its cells. Readers on the primary fold it
    themselves; a read replica cannot, so with one the statistics readers there add a journal that only this keeps
    short (docs/deploy.md, "Read replica")."""
    from fanzha.cases.stats import rollup

    with session_scope() as session:
        rollup.fold_pending(session.connection())


@periodic(crontab(minute="*/10"))
def demo_live_warning() -> None:
    """Keeps the demo county alive: a warning arrives now and then, as on a real duty day."""
    from fanzha.config import get_settings

    if not get_settings().demo_live:
        return
    from fanzha.demo.warnings import live_warning

    with session_scope() as session:
        live_warning(session)


def beat() -> None:
    """This host's heartbeat, one upsert: the start-up beat and the minute's beat may run at once in two threads,
    and a read-then-insert would let both insert (a UniqueViolation in the log)."""
    from sqlalchemy.dialects import postgresql, sqlite

    with session_scope() as session:
        name, now = socket.gethostname()[:64], utcnow()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(WorkerBeat).values(name=name, beat_at=now)
                        .on_conflict_do_update(index_elements=[WorkerBeat.name], set_={"beat_at": now}))


_started = threading.Lock()
_started_once: list[bool] = []


@huey.on_startup()
def _first_beat() -> None:
    """huey runs start-up hooks in every worker thread; the first beat is wanted once per process."""
    with _started:
        if _started_once:
            return
        _started_once.append(True)
    try:
        beat()
    except Exception:  # the database may not be migrated yet; the periodic beat will catch up
        log.warning("worker heartbeat failed at start-up; the periodic beat will retry", exc_info=True)


@periodic(crontab(minute="30", hour="1"))
def fraud_free_nightly() -> None:
    """无诈社区 status from the rules file, every night, so gains and losses are dated even when nobody looks."""
    from fanzha.prevention.fraudfree.service import recompute

    with session_scope() as session:
        recompute(session, now=utcnow())


@periodic(crontab(minute="40", hour="18"))
def partitions_ahead() -> None:
    """Every night (18:40 UTC, 02:40 Beijing time) on PostgreSQL: this month's and the next months' partitions exist before a row needs them, and
    rows imported into a DEFAULT partition (old history) move into months of their own (fanzha.ops.partitions)."""
    from fanzha.config import get_settings
    from fanzha.db import get_engine
    from fanzha.ops import partitions

    with get_engine().begin() as conn:
        partitions.ensure(conn, get_settings().timezone)


@periodic(crontab(minute="17"))
def purge_login_counters() -> None:
    """Every hour: login counters whose window and hold are over would start afresh anyway; remove them, so that
    guesses at made-up usernames from many addresses do not pile up rows."""
    from fanzha.auth import backoff

    with session_scope() as session:
        backoff.purge(session, now=utcnow())


@periodic(crontab(minute="*"))
def seal_audit() -> None:
    """Every minute: the audit rows old enough are sealed into the hash chain, and the seal is written outside the
    database once its transaction has committed (fanzha.audit.seals)."""
    from fanzha.audit import seals

    with session_scope() as session:
        row = seals.seal(session)
        if row is not None:
            session.commit()
            seals.publish(row)
