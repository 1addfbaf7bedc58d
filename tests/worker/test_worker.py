"""The background queue is real: the embedded SQLite Huey runs a task in a consumer thread."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from huey import SqliteHuey
from sqlalchemy import select


def test_fanzha_worker_runs_an_import_queued_by_another_process(tmp_path, db):
    """`fanzha worker` (embedded SQLite queue) picks up an import that a separate process put on the queue."""
    from fanzha.db import session_scope
    from fanzha.imports import service as imports
    from fanzha.imports.models import ImportBatch
    from fanzha.org.models import Area, User
    from fanzha.org.scope import Scope

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == "ps01_suozhang"))
        scope = Scope.for_user(user)
        community = s.scalar(select(Area).where(Area.id.in_(scope.community_ids())).order_by(Area.id))
        source = tmp_path / "worker.csv"
        source.write_text(f"标准地址,村社区编码\n后台任务测试路1号,{community.code}\n", encoding="utf-8")
        batch_id = imports.create_batch(s, scope, "address", source.name, source).id
    env = dict(os.environ, FANZHA_QUEUE_IMMEDIATE="0", FANZHA_DATA_DIR=str(tmp_path))
    worker = subprocess.Popen([sys.executable, "-m", "fanzha.cli.main", "worker", "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        subprocess.run([sys.executable, "-c", f"from fanzha.worker.tasks import run_import; run_import({batch_id})"],
                       env=env, check=True, timeout=60)
        status = None
        for _ in range(120):
            db.expire_all()
            status = db.get(ImportBatch, batch_id).status
            if status in ("done", "failed"):
                break
            time.sleep(0.25)
        assert status == "done", status
        assert db.get(ImportBatch, batch_id).created == 1
    finally:
        worker.terminate()
        worker.wait(10)


def test_make_huey_picks_embedded_or_server_mode(monkeypatch, tmp_path):
    from huey import RedisHuey

    from fanzha.config import get_settings
    from fanzha.worker.queue import make_huey

    monkeypatch.setenv("FANZHA_QUEUE_URL", "")
    monkeypatch.setenv("FANZHA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert isinstance(make_huey(), SqliteHuey)
        monkeypatch.setenv("FANZHA_QUEUE_URL", "redis://127.0.0.1:6379/5")
        get_settings.cache_clear()
        assert isinstance(make_huey(), RedisHuey)
    finally:
        get_settings.cache_clear()


def test_heartbeat_is_recorded(db):
    from sqlalchemy import select

    from fanzha.worker.models import WorkerBeat
    from fanzha.worker.tasks import beat

    before = time.time()
    beat()
    db.expire_all()
    latest = max(b.beat_at for b in db.scalars(select(WorkerBeat)))
    assert latest.timestamp() >= before - 1


def test_heartbeats_at_once_in_several_threads_record_one_row(db):
    """The start-up beat and the minute's beat run in different threads: beats at the same moment never fail."""
    import socket
    import threading

    from sqlalchemy import func, select

    from fanzha.worker.models import WorkerBeat
    from fanzha.worker.tasks import beat

    db.execute(WorkerBeat.__table__.delete().where(WorkerBeat.name == socket.gethostname()[:64]))
    db.commit()
    start, failures = threading.Barrier(6), []

    def run() -> None:
        start.wait()
        for _ in range(3):
            try:
                beat()
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                failures.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.expire_all()
    rows = db.scalar(select(func.count()).select_from(WorkerBeat).where(WorkerBeat.name == socket.gethostname()[:64]))
    assert (failures, rows) == ([], 1)
