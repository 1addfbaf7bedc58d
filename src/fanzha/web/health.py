"""/healthz (the process answers) and /readyz (the database and the task queue answer too), for operators and load
balancers: outside /api, no login, never cached (docs/operations.md)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from fanzha import __version__
from fanzha.config import get_settings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
TIMEOUT = 2.0  # seconds each check may take before it counts as failed
NO_STORE = {"Cache-Control": "no-store"}
# Checks run on a pool of their own: one stuck on a black-holed server must not hold a thread the requests need,
# and when all are stuck every further check simply times out (not ready, as it should be).
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def check_database() -> None:
    from fanzha.db import get_engine

    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def check_queue() -> None:
    """The queue's storage answers: a length read on the SQLite file or the Redis server (a PING and more)."""
    from fanzha.worker import queue

    queue.huey.storage.queue_size()


def check_replica() -> None:
    """The read replica answers (docs/deploy.md): reported by /readyz, never failing it — reading work falls back to
    the primary while the replica is away."""
    from fanzha.db import get_read_sessionmaker

    with get_read_sessionmaker().kw["bind"].connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


CHECKS = {"database": (check_database, "数据库无法连接"), "queue": (check_queue, "任务队列无法连接")}


async def _run(check, failure: str) -> str:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(_checks, check), TIMEOUT)
    except TimeoutError:
        return f"{failure}（{TIMEOUT:g} 秒内无应答）"
    except Exception as exc:  # anyone may ask: the answer names the error's kind, the log has its text
        log.warning("readiness: %s: %s", failure, exc)
        return f"{failure}（{type(exc).__name__}）"
    return "ok"


@router.get("/healthz")
def healthz():
    return JSONResponse({"status": "ok", "version": __version__}, headers=NO_STORE)


@router.get("/readyz")
async def readyz():
    names = list(CHECKS)
    results = await asyncio.gather(*(_run(*CHECKS[name]) for name in names))
    checks = dict(zip(names, results, strict=True))
    ready = all(result == "ok" for result in results)
    body = {"status": "ready" if ready else "not_ready", "version": __version__, "checks": checks}
    if get_settings().database_replica_url:
        body["replica"] = await _run(check_replica, "只读副本无法连接，读取改由主库承担")
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)
