"""Benchmark: statistics read from a streaming read replica against the same read on the primary (PostgreSQL).

  1. a fresh database on the server of --pg is migrated and given the demo county (seed 2026, --people people);
  2. a hot standby of that server is made with pg_basebackup -R into a temporary folder and started on a free port
     (as the `postgres` account when run as root; the server needs a `host replication` line for 127.0.0.1);
  3. the real application answers, through its ASGI interface (starlette's TestClient: session check, scoping,
     queries, audit record, template — no network), N requests each of 案件研判 for the whole city and the last
     full year (`GET /api/v1/cases/stats`), the 指标 page for the last 365 days (`GET /metrics`) and the case map's
     data (`GET /api/v1/map`): first without FANZHA_DATABASE_REPLICA_URL (the primary), then with it (the
     replica), then with the replica stopped (every reading falls back to the primary);
  4. the cost of opening one read session on the replica alone (`web.replica.open_read`: the primary's WAL position,
     the replica's lag, one round trip each) over 500 openings;
  5. p50 / p95 / max of each are printed as JSON. The replica and the database are removed at the end.

Both servers run on the same machine here, so this measures the replica path's overhead, not the relief a
replica on its own host gives the primary.

    .venv/bin/python bench/bench_replica.py                # 30 requests each
    .venv/bin/python bench/bench_replica.py --requests 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import DEFAULT_PG, drop_database, fresh_database, machine  # noqa: E402

DBNAME = "fanzha_bench_replica"
PASSWORD = "Fanzha@2026"


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_replica(primary_url: str, home: Path) -> tuple[str, Path, Path]:
    """A hot standby of primary_url's server in `home`; returns (URL of the same database on it, pg_ctl, data)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(primary_url)
    with psycopg.connect(primary_url) as conn:
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        same = "".join(f"{n} = {conn.execute(f'SHOW {n}').fetchone()[0]}\n" for n in (
            "max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
            "max_locks_per_transaction"))
    bin_dir = Path(f"/usr/lib/postgresql/{version // 10000}/bin")
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    subprocess.run(_as_postgres([str(bin_dir / "pg_basebackup"), "-h", url.host or "127.0.0.1", "-p",
                                 str(url.port or 5432), "-U", url.username or "postgres", "-D", str(data), "-X",
                                 "stream", "-R", "-c", "fast", "--no-sync"]),
                   env={**os.environ, "PGPASSWORD": url.password or ""}, check=True, capture_output=True)
    port = _free_port()
    files = {"postgresql.conf": f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{home}'\n"
                                f"hot_standby = on\nhot_standby_feedback = on\n{same}",
             "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n", "pg_ident.conf": ""}
    for name, content in files.items():
        (data / name).write_text(content, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(data / name, "postgres", "postgres")
    data.chmod(0o700)
    pg_ctl = bin_dir / "pg_ctl"
    subprocess.run(_as_postgres([str(pg_ctl), "-D", str(data), "-l", str(home / "server.log"), "-w", "start"]),
                   check=True, capture_output=True)
    return str(url.set(port=port, password=None)), pg_ctl, data


def _wait_replayed(replica_url: str, primary_url: str) -> None:
    import psycopg

    with psycopg.connect(primary_url) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(replica_url) as conn:
                if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(target),)).fetchone()[0]:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.1)
    raise SystemExit("the replica did not catch up in 2 minutes")


def _summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 1),
            "max_ms": round(ms[-1], 1), "n": len(ms)}


def _client(app, username: str):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _pages(app, n: int) -> dict:
    from datetime import date, timedelta

    api = _client(app, "yanpan")
    page = _client(app, "yanpan")
    today = date.today()
    year = str(today.year - 1)
    since, until = (today - timedelta(days=365)).isoformat(), today.isoformat()
    asks = {"cases_stats_year": (api, "/api/v1/cases/stats", {"period": year}),
            "metrics_page_365d": (page, "/metrics", {"since": since, "until": until}),
            "map_layer_month": (api, "/api/v1/map", {})}
    out = {}
    for name, (client, path, params) in asks.items():
        assert client.get(path, params=params).status_code == 200  # warm: pools, caches
        took = []
        for _ in range(n):
            started = time.perf_counter()
            r = client.get(path, params=params)
            took.append(time.perf_counter() - started)
            assert r.status_code == 200, (path, r.status_code)
        out[name] = _summary(took)
    return out


def _settings(**values: str) -> None:
    from fanzha.config import get_settings
    from fanzha.db import reset_read_caches
    from fanzha.web import replica

    for key, value in values.items():
        if value:
            os.environ[f"FANZHA_{key.upper()}"] = value
        else:
            os.environ.pop(f"FANZHA_{key.upper()}", None)
    get_settings.cache_clear()
    reset_read_caches()
    replica.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--people", type=int, default=3000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fanzha-bench-replica-"))
    primary_url = fresh_database(args.pg, DBNAME)
    os.environ.update(FANZHA_DATABASE_URL=primary_url, FANZHA_DATA_DIR=str(work / "var"), FANZHA_QUEUE_IMMEDIATE="1",
                      FANZHA_ARGON2_TIME_COST="1", FANZHA_ARGON2_MEMORY_KIB="1024")
    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    reset_caches()
    upgrade()
    with session_scope() as session:
        generate(session, seed=2026, people=args.people, password=PASSWORD)
    replica_url, pg_ctl, data = make_replica(primary_url, work)
    try:
        _wait_replayed(replica_url, primary_url)
        from fanzha.web.app import create_app

        app = create_app()
        result: dict = {"machine": machine(), "people": args.people, "requests": args.requests}
        _settings(database_replica_url="")
        result["primary"] = _pages(app, args.requests)
        _settings(database_replica_url=replica_url)
        result["replica"] = _pages(app, args.requests)

        from fanzha.web.replica import open_read

        with session_scope() as primary:
            took = []
            for _ in range(500):
                started = time.perf_counter()
                session, _, on_replica = open_read(primary)
                session.close()
                took.append(time.perf_counter() - started)
                assert on_replica
        result["open_read_on_replica"] = _summary(took)

        subprocess.run(_as_postgres([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"]), check=True,
                       capture_output=True)
        _settings(database_replica_url=replica_url, replica_retry_seconds="30")
        result["replica_stopped_fallback"] = _pages(app, args.requests)
        print(json.dumps(result, ensure_ascii=False, indent=1))
    finally:
        subprocess.run(_as_postgres([str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        from fanzha.db import reset_caches as forget

        forget()
        drop_database(args.pg, DBNAME)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
