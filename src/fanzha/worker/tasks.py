"""Background tasks. Later domains add theirs (escalations, notifications, documents) beside these."""

from __future__ import annotations

import logging
import socket

from huey import crontab

from fanzha.db import session_scope, utcnow
from fanzha.imports import service as imports
from fanzha.imports.models import ImportBatch
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.worker.models import WorkerBeat
from fanzha.worker.queue import huey

log = logging.getLogger(__name__)

import fanzha.imports.kinds  # noqa: E402,F401  (registers every import kind)


def _batch_scope(session, batch: ImportBatch) -> Scope:
    user = session.get(User, batch.created_by) if batch.created_by else None
    return Scope.for_user(user) if user else Scope.system(session)


@huey.task(retries=0)
def run_import(batch_id: int) -> dict:
    return imports.run_batch(batch_id, _batch_scope)


@huey.periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    beat()


@huey.periodic_task(crontab(minute="*"))
def escalate_and_notify() -> None:
    """Every minute, whether or not anyone looks: raise due escalations, then send what notifications are due."""
    from fanzha.dissuasion import escalation
    from fanzha.notify.service import deliver_due

    with session_scope() as session:
        escalation.run(session, utcnow())
    with session_scope() as session:
        deliver_due(session)


@huey.periodic_task(crontab(minute="*"))
def refresh_metric_days() -> None:
    """Every minute: recompute the metrics' daily roll-ups of the days whose warnings changed, so that a reading
    finds little left to recompute (it recomputes what is left itself; figures never wait for this task)."""
    from fanzha.warnings.metrics import refresh_days

    with session_scope() as session:
        refresh_days(session)


@huey.periodic_task(crontab(minute="*/10"))
def demo_live_warning() -> None:
    """Keeps the demo county alive: a warning arrives now and then, as on a real duty day."""
    from fanzha.config import get_settings

    if not get_settings().demo_live:
        return
    from fanzha.demo.warnings import live_warning

    with session_scope() as session:
        live_warning(session)


def beat() -> None:
    with session_scope() as session:
        name = socket.gethostname()[:64]
        row = session.get(WorkerBeat, name)
        if row is None:
            session.add(WorkerBeat(name=name, beat_at=utcnow()))
        else:
            row.beat_at = utcnow()


@huey.on_startup()
def _first_beat() -> None:
    try:
        beat()
    except Exception:  # the database may not be migrated yet; the periodic beat will catch up
        log.exception("worker heartbeat failed")


@huey.periodic_task(crontab(minute="30", hour="1"))
def fraud_free_nightly() -> None:
    """无诈社区 status from the rules file, every night, so gains and losses are dated even when nobody looks."""
    from fanzha.prevention.fraudfree import recompute

    with session_scope() as session:
        recompute(session, now=utcnow())


@huey.periodic_task(crontab(minute="17"))
def purge_login_counters() -> None:
    """Every hour: login counters whose window and hold are over would start afresh anyway; remove them, so that
    guesses at made-up usernames from many addresses do not pile up rows."""
    from fanzha.auth import backoff

    with session_scope() as session:
        backoff.purge(session, now=utcnow())
