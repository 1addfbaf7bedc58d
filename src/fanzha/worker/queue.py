"""The Huey instance: SqliteHuey in the data folder (embedded), RedisHuey when FANZHA_QUEUE_URL is redis://.

Every task carries a little of its own history in its keyword arguments (TRACE): the request id of the request that
queued it, so the task's log lines carry the same id as the request's, and when it was queued, so /metrics can say
how long the task next in line has waited. The key is taken out before the task's function is called.
"""

from __future__ import annotations

import logging
import time

from huey import RedisHuey, SqliteHuey
from huey.api import PeriodicTask, chord, group

from fanzha.common import logs
from fanzha.config import get_settings

log = logging.getLogger("fanzha.worker.tasks")
TRACE = "_fanzha_trace"  # {"request_id": …, "queued_at": unix seconds}
LAST_RUN = "fanzha:last-run:{name}"  # unix seconds of a periodic task's last successful run (huey's own storage)


class Traced:
    """Mixed into the Huey class: stamps each task on the way in and restores its request id while it runs."""

    def enqueue(self, task):
        if not isinstance(task, group | chord):
            trace = task.kwargs.get(TRACE) if task.kwargs else None
            if trace is None:
                task.kwargs = {**(task.kwargs or {}), TRACE: {"request_id": logs.current_request_id(),
                                                              "queued_at": time.time()}}
        return super().enqueue(task)

    def _execute(self, task, timestamp):
        trace = task.kwargs.pop(TRACE, None) if task.kwargs else None
        trace = trace or {"request_id": None, "queued_at": None}
        task._fanzha_trace = trace  # put back into the arguments if the task is queued again for a retry
        request_id = trace.get("request_id") or logs.new_request_id()
        token = logs.CURRENT.set({"request_id": request_id})
        started = time.perf_counter()
        try:
            value = super()._execute(task, timestamp)
        finally:
            logs.CURRENT.reset(token)
        # Periodic runs every minute would drown the log; they show at DEBUG (fanzha worker --verbose).
        level = logging.DEBUG if isinstance(task, PeriodicTask) else logging.INFO
        log.log(level, "task %s ran", task.name, extra={
            "request_id": request_id, "task": task.name, "task_id": task.id,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return value

    def _requeue_task(self, task, timestamp, retry_eta=None):
        trace = getattr(task, "_fanzha_trace", None)
        if trace is not None:
            task.kwargs = {**(task.kwargs or {}), TRACE: trace}
        return super()._requeue_task(task, timestamp, retry_eta)


class TracedSqliteHuey(Traced, SqliteHuey):
    pass


class TracedRedisHuey(Traced, RedisHuey):
    pass


def make_huey():
    settings = get_settings()
    url = settings.queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return TracedRedisHuey("fanzha", url=url, immediate=settings.queue_immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = url.removeprefix("sqlite:///") if url else str(settings.data_dir / "queue.db")
    return TracedSqliteHuey("fanzha", filename=path, immediate=settings.queue_immediate)


def oldest_wait_seconds(queue, now: float | None = None) -> float:
    """Seconds the task next in line has waited (0 when none is waiting): with no priorities, the oldest one."""
    items = queue.storage.enqueued_items(limit=1)
    if not items:
        return 0.0
    message = queue.serializer.deserialize(items[0])
    queued_at = ((message.kwargs or {}).get(TRACE) or {}).get("queued_at")
    return max(0.0, (now or time.time()) - queued_at) if queued_at else 0.0


huey = make_huey()
