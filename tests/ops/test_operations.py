"""Operations at run time: /readyz both ways, /-/metrics behind its token, JSON log lines and the request id carried
from a request into the worker task it queued (docs/operations.md)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from support.net import free_port
from support.web import DEMO_PASSWORD, make_client


@pytest.fixture
def settings_env(monkeypatch):
    """Set FANZHA_* variables for one test; the cached settings are read afresh before and after."""
    from fanzha.config import get_settings

    def put(**values):
        for key, value in values.items():
            monkeypatch.setenv(f"FANZHA_{key.upper()}", value)
        get_settings.cache_clear()

    yield put
    monkeypatch.undo()
    get_settings.cache_clear()


# ---- readiness ----------------------------------------------------------------------------------------------------

def test_readyz_is_ready_without_login_session_or_cache(app, monkeypatch):
    from fanzha.web import health

    # what is asserted is readiness, not speed: on a loaded test machine a first connection may take longer than
    # the 2 seconds a probe allows there, which would read as not ready
    monkeypatch.setattr(health, "TIMEOUT", 30.0)
    client = make_client(app)
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["checks"] == {"database": "ok", "queue": "ok"}
    assert r.headers["cache-control"] == "no-store"
    assert "set-cookie" not in r.headers  # no session is opened for a probe
    assert client.get("/healthz").headers["cache-control"] == "no-store"
    # A load balancer probes often: never throttled (thirty in a row all answer 200).
    assert {client.get("/readyz").status_code for _ in range(30)} == {200}


def test_readyz_says_503_while_the_database_is_unreachable_and_200_when_it_is_back(app, monkeypatch):
    import fanzha.db
    from fanzha.db import make_engine
    from fanzha.web import health

    monkeypatch.setattr(health, "TIMEOUT", 30.0)  # a refused connection fails at once; the queue must read "ok"
    client = make_client(app)
    dead = make_engine(f"postgresql://fanzha@127.0.0.1:{free_port()}/fanzha")  # nothing listens there
    real = fanzha.db.get_engine
    monkeypatch.setattr(fanzha.db, "get_engine", lambda: dead)
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("数据库无法连接（OperationalError")
    assert body["checks"]["queue"] == "ok"
    assert "127.0.0.1" not in r.text  # the reason's kind for anyone; its text (host, port) only in the log
    monkeypatch.setattr(fanzha.db, "get_engine", real)
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"
    dead.dispose()


class _Proxy:
    """A TCP relay in front of the real PostgreSQL that can be stopped (every connection cut, the port closed) and
    started again on the same port: the server going away and coming back, as the platform sees it."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port, self.live = target, free_port(), []
        self.listener = None

    def start(self):
        import threading

        self.listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port again
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self):
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close alone would not
        self.listener.close()
        for s in self.live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.live = []


@pytest.mark.postgres_pass
def test_readyz_follows_postgresql_stopping_and_returning(app, monkeypatch):
    """Through a relay to the real server: ready, then the relay stops (connections in the pool cut, new ones
    refused) and /readyz says 503 with the reason, then it starts again and the next probe is 200."""
    from sqlalchemy.engine import make_url

    import fanzha.db

    url = make_url(os.environ["FANZHA_DATABASE_URL"])
    proxy = _Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    engine = fanzha.db.make_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    monkeypatch.setattr(fanzha.db, "get_engine", lambda: engine)
    client = make_client(app)
    try:
        assert client.get("/readyz").status_code == 200  # a pooled connection through the relay now exists
        proxy.stop()
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["database"].startswith("数据库无法连接（")
        assert r.json()["checks"]["queue"] == "ok"
        proxy.start()
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"
    finally:
        proxy.stop()
        engine.dispose()


def _start_redis(port: int, folder) -> subprocess.Popen:
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(exe):
        pytest.fail("redis-server is not installed: ./dev test installs Debian's redis-server")
    import redis

    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("redis-server did not start")


def test_readyz_follows_a_redis_queue_going_away_and_coming_back(app, monkeypatch, tmp_path):
    from fanzha.worker import queue

    port = free_port()
    monkeypatch.setattr(queue, "huey", queue.TracedRedisHuey("fanzha", url=f"redis://127.0.0.1:{port}/0"))
    client = make_client(app)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"] == {"database": "ok", "queue": "任务队列无法连接（ConnectionError）"}
    server = _start_redis(port, tmp_path)
    try:
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"]["queue"] == "ok"
    finally:
        server.terminate()
        server.wait(10)


# ---- metrics ------------------------------------------------------------------------------------------------------

def test_metrics_are_off_without_a_token_and_refuse_a_missing_or_wrong_one(app, settings_env):
    client = make_client(app)
    settings_env(metrics_token="")
    assert client.get("/-/metrics").status_code == 404
    settings_env(metrics_token="运维令牌-not-ascii-is-fine".encode().hex())
    r = client.get("/-/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/-/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/-/metrics", headers={"Authorization": "Basic YTpi"}).status_code == 401


def test_the_metrics_page_for_people_is_not_the_operators_endpoint(app, settings_env, client_as):
    """/metrics is the 指标 page: a logged-in analyst reaches it whether the Prometheus endpoint is on or off."""
    for token in ("", "t0ken"):
        settings_env(metrics_token=token)
        page = client_as("yanpan").get("/metrics")
        assert page.status_code == 200 and "劝阻指标" in page.text


def _sample(text: str, name: str, **labels) -> float | None:
    """The value of one series in Prometheus text format, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', series[len(name):]))
        if series.split("{")[0] == name and found == {k: str(v) for k, v in labels.items()}:
            return float(value)
    return None


def test_metrics_content_with_the_token(app, api_as, db, settings_env, monkeypatch, tmp_path):
    from fanzha.db import session_scope, utcnow
    from fanzha.dissuasion.escalation import _missed
    from fanzha.imports.models import ImportBatch
    from fanzha.warnings.models import Warning
    from fanzha.worker import queue

    settings_env(metrics_token="t0ken")
    auth = {"Authorization": "Bearer t0ken"}
    api = api_as("admin")
    warning_id = db.scalar(select(Warning.id).order_by(Warning.id))
    assert api.get(f"/api/v1/warnings/{warning_id}").status_code == 200
    client = make_client(app)
    client.get("/no/such/place")

    # A queue of its own (a real SQLite Huey, not the tests' immediate one) with two tasks, the older queued 90 s ago.
    own = queue.TracedSqliteHuey("fanzha-metrics", filename=str(tmp_path / "q.db"))

    @own.task()
    def noop():
        return None

    first = noop.s()
    first.kwargs[queue.TRACE] = {"request_id": "r1", "queued_at": time.time() - 90}
    own.enqueue(first)
    noop()
    monkeypatch.setattr(queue, "huey", own)

    with session_scope() as s:  # a failed import of our own, from two hours ago (counted), and one 25 h ago (not)
        mine = [ImportBatch(kind="address", filename="运维测试.csv", stored_path="", status="failed",
                            created_at=utcnow() - age) for age in (timedelta(hours=2), timedelta(hours=25))]
        s.add_all(mine)
        s.flush()
        mine = [b.id for b in mine]
    try:
        before = time.time()
        r = client.get("/-/metrics", headers=auth)
        scraped = r.text
    finally:
        with session_scope() as s:
            for batch_id in mine:
                s.delete(s.get(ImportBatch, batch_id))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    assert r.headers["cache-control"] == "no-store"

    # Latency by route template, never the raw path; unknown addresses share one label.
    assert _sample(scraped, "fanzha_http_request_duration_seconds_count", route="/api/v1/warnings/{warning_id}",
                   method="GET", status="2xx") >= 1
    assert f"/api/v1/warnings/{warning_id}\"" not in scraped
    assert _sample(scraped, "fanzha_http_request_duration_seconds_count", route="(unmatched)", method="GET",
                   status="4xx") >= 1

    assert _sample(scraped, "fanzha_queue_pending_tasks") == 2
    assert 90 <= _sample(scraped, "fanzha_queue_oldest_pending_age_seconds") < 90 + (time.time() - before) + 5
    assert _sample(scraped, "fanzha_scrape_error", part="queue") == 0
    assert _sample(scraped, "fanzha_scrape_error", part="database") == 0

    # Overdue warnings by grade: the escalation's own per-warning rule, worked out here warning by warning.
    now = utcnow()
    expected: dict[str, int] = {}
    for w in db.scalars(select(Warning).where(Warning.feedback_at.is_(None))):
        if _missed(w, now):
            expected[w.risk_grade] = expected.get(w.risk_grade, 0) + 1
    assert expected, "the demo county has overdue warnings"
    for grade in ("high", "medium", "low"):  # every grade has its series, 0 included
        assert _sample(scraped, "fanzha_warnings_overdue", grade=grade) == expected.get(grade, 0)

    failed = sum(1 for b in db.scalars(select(ImportBatch).where(ImportBatch.status == "failed"))
                 if b.created_at >= now - timedelta(hours=24) and b.id not in mine)
    assert _sample(scraped, "fanzha_import_batches_failed_24h") == failed + 1


def test_metrics_show_the_last_escalation_run(app, settings_env, monkeypatch):
    import fanzha.dissuasion.escalation
    import fanzha.notify.service
    from fanzha.worker.tasks import escalate_and_notify

    settings_env(metrics_token="t0ken")
    # The run itself is the escalation tests' business; here only that a completed run is recorded.
    monkeypatch.setattr(fanzha.dissuasion.escalation, "run", lambda session, now: None)
    monkeypatch.setattr(fanzha.notify.service, "deliver_due", lambda session: None)
    before = time.time()
    escalate_and_notify()
    text = make_client(app).get("/-/metrics", headers={"Authorization": "Bearer t0ken"}).text
    assert before <= _sample(text, "fanzha_escalation_last_run_timestamp_seconds") <= time.time()


# ---- logs and request ids -----------------------------------------------------------------------------------------

@pytest.fixture
def json_app(settings_env):
    """A second app made with FANZHA_LOG_FORMAT=json, its lines caught by a handler on the root logger."""
    from fanzha.web.app import create_app

    settings_env(log_format="json")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    root = logging.getLogger()
    root.addHandler(handler)
    access = logging.getLogger("uvicorn.access")
    fanzha_level = logging.getLogger("fanzha").level
    try:
        yield create_app(), lines
    finally:
        root.removeHandler(handler)
        access.disabled = False
        logging.getLogger("fanzha").setLevel(fanzha_level)


def _json_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_json_log_lines_and_request_id_round_trip_into_a_worker_task(json_app, db):
    from fanzha.org.models import User

    app, buffer = json_app
    client = make_client(app)
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    admin_id = db.scalar(select(User.id).where(User.username == "admin"))

    # An import queues its task during the request (the tests' queue runs it at once, in the request's context).
    buffer.truncate(0), buffer.seek(0)
    csv = "标准地址,村社区编码\n运维测试路1号,不存在的编码\n".encode()
    r = client.post("/api/v1/imports/address", files={"file": ("运维.csv", csv, "text/csv")},
                    headers={"X-Request-ID": "ops-test.42_A"})
    assert r.status_code == 202, r.text
    assert r.headers["x-request-id"] == "ops-test.42_A"
    lines = _json_lines(buffer)
    request_line = next(line for line in lines if line["logger"] == "fanzha.requests")
    assert request_line == {"time": request_line["time"], "level": "INFO", "logger": "fanzha.requests",
                            "message": "POST /api/v1/imports/{kind} 202", "request_id": "ops-test.42_A",
                            "method": "POST", "route": "/api/v1/imports/{kind}", "status": 202,
                            "duration_ms": request_line["duration_ms"], "user_id": admin_id}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", request_line["time"])
    assert isinstance(request_line["duration_ms"], float) and request_line["duration_ms"] > 0
    task_line = next(line for line in lines if line.get("task") == "run_import")
    assert task_line["request_id"] == "ops-test.42_A" and task_line["logger"] == "fanzha.worker.tasks"
    assert "admin" not in buffer.getvalue() and "管理员" not in buffer.getvalue()  # ids only, never names

    # An unsafe or over-long id is replaced by a fresh one, which the response and the log line carry.
    for given in ("two words", "x" * 65, "名字".encode(), "a/b"):
        buffer.truncate(0), buffer.seek(0)
        r = client.get("/healthz", headers={"X-Request-ID": given})
        made = r.headers["x-request-id"]
        assert made != given and re.fullmatch(r"[0-9a-f]{20,}", made)
        assert _json_lines(buffer)[-1]["request_id"] == made
    assert client.get("/healthz", headers={"X-Request-ID": "y" * 64}).headers["x-request-id"] == "y" * 64


def test_a_queued_task_carries_the_request_id_through_the_queue_storage(tmp_path, caplog):
    """Through a real (serialising) queue, as a separate worker would take it: the task's function never sees the
    trace, and its log line has the request's id."""
    from fanzha.common import logs
    from fanzha.worker import queue

    own = queue.TracedSqliteHuey("fanzha-trace", filename=str(tmp_path / "q.db"))
    seen = []

    @own.task()
    def remember(value, **kwargs):
        seen.append((value, kwargs, logs.current_request_id()))

    token = logs.CURRENT.set({"request_id": "req-7"})
    try:
        remember(3)
    finally:
        logs.CURRENT.reset(token)
    task = own.dequeue()
    assert task.kwargs[queue.TRACE]["request_id"] == "req-7"
    with caplog.at_level(logging.INFO, logger="fanzha.worker.tasks"):
        own.execute(task)
    assert seen == [(3, {}, "req-7")]
    ran = [r for r in caplog.records if getattr(r, "task", None) == "remember"]
    assert len(ran) == 1 and ran[0].request_id == "req-7"
