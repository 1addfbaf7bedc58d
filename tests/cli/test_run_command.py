"""`fanzha run` — what `./dev run` starts — migrates, seeds the demo county, starts the worker and serves pages."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from support.net import free_port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_fanzha_run_serves_the_demo_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATA_DIR=str(tmp_path), FANZHA_STATIC_VENDOR_DIR=os.environ.get(
        "FANZHA_STATIC_VENDOR_DIR", os.path.abspath("node_modules")))
    log_path = tmp_path / "run.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "fanzha.cli.main", "run", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, deadline = None, time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert proc.poll() is None, log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        assert status == 200
        page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).text
        assert "登录" in page
        # SIGTERM to `fanzha run` alone (as systemd or `docker stop` sends it): the server stops, it stops its worker
        # (which finishes what it runs), and it exits 128 + 15; no process is left behind and nothing failed.
        # The worker is up (a stop before it has started is a different story: it just ends).
        deadline = time.monotonic() + 120
        while "Huey consumer started" not in log_path.read_text(encoding="utf-8", errors="replace"):
            assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 143, log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        worker_pid = int(re.search(r"后台任务已启动（进程 (\d+)）", log_path.read_text(encoding="utf-8")).group(1))
        deadline = time.monotonic() + 30
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        out = log_path.read_text(encoding="utf-8", errors="replace")
        assert not _alive(worker_pid), out[-2000:]
        assert "Received SIGTERM" in out and "Consumer exiting" in out and "已停止" in out
        assert "Traceback" not in out and "database is locked" not in out, out
    finally:
        log.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_the_worker_of_fanzha_run_stops_when_its_parent_is_killed_outright(tmp_path):
    """`fanzha run` starts its worker in a session of its own; if `fanzha run` dies by SIGKILL, the worker must not
    live on writing to the database: it notices its parent is gone and stops the graceful way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATA_DIR=str(tmp_path), FANZHA_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    (tmp_path / "worker.log").touch()
    parent = subprocess.Popen(["bash", "-c", f'export FANZHA_RUN_PARENT=$$; "{sys.executable}" -m fanzha.cli.main '
                               'worker --workers 1 >"$0" 2>&1 & echo $!; wait', str(tmp_path / "worker.log")],
                              env=env, stdout=subprocess.PIPE, text=True)
    worker_pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while "Huey consumer started" not in (tmp_path / "worker.log").read_text(encoding="utf-8", errors="replace"):
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    parent.kill()
    parent.wait(10)
    deadline = time.monotonic() + 20
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(worker_pid)
    if alive:
        os.kill(worker_pid, signal.SIGKILL)
    log = (tmp_path / "worker.log").read_text(encoding="utf-8", errors="replace")
    assert not alive, log
    assert "is gone: stopping the worker" in log and "Consumer exiting" in log
