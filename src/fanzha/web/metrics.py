"""Prometheus /-/metrics for operators (the address /metrics is the 指标 page): off unless FANZHA_METRICS_TOKEN is set, then only with that bearer token.

Request latency is a histogram kept in each web process (by route template, method and status class); the rest —
queue depth and wait, open overdue warnings, the last escalation run, failed imports — is read from the database and
the queue when Prometheus scrapes, by one collector, with a few cheap counts (docs/operations.md).
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from fanzha.common.errors import NotFound
from fanzha.config import get_settings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
disable_created_metrics()  # the *_created series only say when the process started counting
REGISTRY = CollectorRegistry()
# Buckets for a platform whose detect call answers in a few ms and whose heaviest pages take a second or more.
REQUEST_SECONDS = Histogram(
    "fanzha_http_request_duration_seconds", "Time to answer a request, by route template, method and status class.",
    ("route", "method", "status"), registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


_series: dict[tuple[str, str, int], object] = {}  # labels() takes a lock and builds a key each time: look it up once


def observe(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status // 100)
    series = _series.get(key)
    if series is None:
        series = _series[key] = REQUEST_SECONDS.labels(route, method, STATUS_CLASSES.get(key[2], "other"))
    series.observe(seconds)


class FromDatabaseAndQueue:
    """Gauges computed at scrape time. Each part fails on its own: an unreachable queue leaves the database's figures
    standing, and fanzha_scrape_error names what could not be read."""

    def collect(self):
        errors = GaugeMetricFamily("fanzha_scrape_error", "1 when this part of the figures could not be read.",
                                   labels=["part"])
        for part, read in (("queue", self._queue), ("database", self._database)):
            try:
                yield from read()
                errors.add_metric([part], 0)
            except Exception:
                log.warning("metrics: %s could not be read", part, exc_info=True)
                errors.add_metric([part], 1)
        yield errors

    def _queue(self):
        from fanzha.worker import queue
        from fanzha.worker.queue import LAST_RUN, oldest_wait_seconds

        q = queue.huey
        yield GaugeMetricFamily("fanzha_queue_pending_tasks", "Tasks waiting in the queue for a worker.",
                                value=q.pending_count())
        yield GaugeMetricFamily("fanzha_queue_scheduled_tasks", "Tasks set to run later (retries after a delay).",
                                value=q.scheduled_count())
        yield GaugeMetricFamily("fanzha_queue_oldest_pending_age_seconds",
                                "Seconds the task next in line has waited (0 when none waits).",
                                value=oldest_wait_seconds(q))
        last = q.get(LAST_RUN.format(name="escalate_and_notify"), peek=True)
        yield GaugeMetricFamily("fanzha_escalation_last_run_timestamp_seconds",
                                "Unix time of the last completed escalation run (every minute; 0 = none yet).",
                                value=float(last or 0))

    def _database(self):
        from fanzha.db import get_engine, utcnow
        from fanzha.dissuasion.board import condition
        from fanzha.imports.models import ImportBatch
        from fanzha.warnings.enums import GRADES
        from fanzha.warnings.models import Warning
        from fanzha.worker.models import WorkerBeat

        now = utcnow()
        with get_engine().connect() as conn:
            # Open warnings only (the partial indexes on feedback_at IS NULL), grouped by grade: the board's 已超时.
            overdue = conn.execute(select(Warning.risk_grade, func.count())
                                   .where(Warning.feedback_at.is_(None), condition("overdue", now))
                                   .group_by(Warning.risk_grade)).all()
            failed = conn.scalar(select(func.count()).select_from(ImportBatch).where(
                ImportBatch.status == "failed", ImportBatch.created_at >= now - timedelta(hours=24)))
            beat = conn.scalar(select(func.max(WorkerBeat.beat_at)))
        family = GaugeMetricFamily("fanzha_warnings_overdue", "Open warnings with a step past its deadline, by grade.",
                                   labels=["grade"])
        counts = {grade: 0 for grade in GRADES} | {grade or "": count for grade, count in overdue}
        for grade, count in counts.items():  # every grade, 0 included, so an alert sees the series from the start
            family.add_metric([grade], count)
        yield family
        yield GaugeMetricFamily("fanzha_import_batches_failed_24h", "Import batches created in the last 24 hours that "
                                "failed.", value=failed or 0)
        yield GaugeMetricFamily("fanzha_worker_last_beat_timestamp_seconds",
                                "Unix time of the latest worker heartbeat (every minute; 0 = never).",
                                value=beat.timestamp() if beat else 0)


REGISTRY.register(FromDatabaseAndQueue())


def _refusal(request: Request) -> Response | None:
    """None when the scrape may go ahead; else the answer (404 when metrics are off, like any unknown address)."""
    token = get_settings().metrics_token
    if not token:
        raise NotFound("页面或记录不存在")
    given = request.headers.get("authorization", "")
    if not given.lower().startswith("bearer "):
        return PlainTextResponse("需要 Authorization: Bearer 令牌\n", status_code=401,
                                 headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"})
    if not hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return PlainTextResponse("令牌不正确\n", status_code=403, headers={"Cache-Control": "no-store"})
    return None


@router.get("/-/metrics")
def metrics(request: Request):
    if (refused := _refusal(request)) is not None:
        return refused
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
