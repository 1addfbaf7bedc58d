"""The whole API fuzzed by Schemathesis, as the centre's admin and as a dissuader, on a real PostgreSQL behind a
real server: not one server error (5xx). The admin, who reaches every operation, gets Schemathesis' coverage phase
(boundary values: numbers past any column, empty and over-long text, control characters, wrong types); the
dissuader its fuzzing phase, at most 25 generated cases per operation. About three minutes in all on the 2-core
machine (docs/web.md has the measured figures).

Its own database (made on the server, migrated, a small demo county in it, dropped afterwards) and its own
`fanzha serve` process, so whatever the fuzzer creates or changes touches no other test. The token routes are left
out: fuzzing them would only exercise the login back-off on the accounts the run uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.net import free_port

# The suite runs twice (SQLite, then PostgreSQL); this test needs only one run, the PostgreSQL one (conftest
# deselects it in the SQLite pass).
pytestmark = [pytest.mark.postgres, pytest.mark.postgres_pass]
EXAMPLES = 25
RUN_SECONDS = 300  # per user; the test fails (not hangs) past it
# The dissuader first: the admin's run may reset other users' passwords (and so end their tokens).
USERS = {"ps01_quanzu": "fuzzing", "admin": "coverage"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.db import pg_available, pg_create, pg_drop

    if not pg_available():
        pytest.skip("PostgreSQL 不可用：接口模糊测试只在 PostgreSQL 上运行（FANZHA_TEST_POSTGRES_URL）")
    if shutil.which("st", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("schemathesis 未安装：./dev setup test 会安装它")
    name = f"fanzha_fuzz_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = pg_create(name)
    data = tmp_path_factory.mktemp("fuzz")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATABASE_URL=url, FANZHA_DATA_DIR=str(data))
    cli = [sys.executable, "-m", "fanzha.cli.main"]
    proc = None
    try:
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=300)
        subprocess.run([*cli, "demo", "--people", "300"], env=env, check=True, capture_output=True, timeout=600)
        port = free_port()
        log = open(data / "serve.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (data / "serve.log").read_text()[-2000:]
            time.sleep(0.5)
        yield base, data
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()
        pg_drop(name)


def _token(base: str, username: str) -> str:
    r = httpx.post(base + "/api/v1/auth/token", json={"username": username, "password": "Fanzha@2026"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.mark.parametrize("username", list(USERS))
def test_no_operation_answers_a_server_error(server, username):
    base, data = server
    token = _token(base, username)
    st = str(Path(sys.executable).parent / "st")
    report = data / f"junit-{username}.xml"
    run = subprocess.run(
        [st, "run", f"{base}/api/v1/openapi.json", "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES),
         "--phases", USERS[username], "--workers", "2", "--seed", "2026", "--no-color",
         "--header", f"Authorization: Bearer {token}", "--exclude-path-regex", "^/api/v1/auth/token$",
         "--generation-database", "none", "--request-timeout", "30", "--report", "junit",
         "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=RUN_SECONDS, env={**os.environ, "NO_COLOR": "1"})
    out = run.stdout + run.stderr
    (data / f"schemathesis-{username}.txt").write_text(out)
    assert run.returncode == 0, out[-6000:]
    assert "Server error" not in out
