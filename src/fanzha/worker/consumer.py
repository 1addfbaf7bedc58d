"""The worker process: huey's consumer with the shutdown a service manager expects.

SIGTERM (systemd, `docker stop`, `fanzha run` stopping its worker) and SIGINT (Ctrl+C) both stop taking tasks and
let the running ones finish; a second signal stops at once. huey's own default makes SIGTERM an immediate stop, which
dropped a task in the middle (an import left "running"). The process then exits 0; a consumer that fails exits 1.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from huey.consumer import Consumer as HueyConsumer

from fanzha.common.logs import JsonFormatter
from fanzha.config import get_settings

log = logging.getLogger(__name__)
PARENT_ENV = "FANZHA_RUN_PARENT"  # set by `fanzha run` for the worker it starts


class Consumer(HueyConsumer):
    def __init__(self, huey, **kwargs):
        super().__init__(huey, graceful_signal="TERM", **kwargs)
        self._signal_actions[signal.SIGINT] = (False, True)  # (restart, graceful): Ctrl+C is graceful too


def _stop_with_parent(parent: int) -> None:
    """`fanzha run` starts its worker in a session of its own (so Ctrl+C reaches the parent first); if the parent is
    killed outright (SIGKILL, a crash), the worker notices within two seconds and stops itself the graceful way."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2)
        log.warning("fanzha run (process %s) is gone: stopping the worker", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_worker(workers: int, verbose: bool = False) -> int:
    from fanzha.worker import tasks  # noqa: F401  (registers the tasks)
    from fanzha.worker.queue import huey

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The consumer's own start, stop and shutdown lines; not a line per task every minute from its scheduler and
    # worker threads (huey.consumer.Scheduler, huey.consumer.Worker-N), whose warnings and errors still show.
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    if not verbose:  # a line per queued task run (imports); periodic runs are DEBUG lines, shown with --verbose
        logging.getLogger("fanzha.worker.tasks").setLevel(logging.INFO)
    if get_settings().log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    if verbose:  # each periodic run: which minute it ran for, or that another worker had it
        logging.getLogger("fanzha.worker").setLevel(logging.DEBUG)
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda r: r.levelno >= logging.WARNING or r.name in ("huey.consumer", "fanzha.worker.tasks"))
    if parent := int(os.environ.get(PARENT_ENV, "0") or 0):
        _stop_with_parent(parent)
    try:
        Consumer(huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True).run()
    except Exception:
        log.exception("worker stopped on an error")
        return 1
    return 0
