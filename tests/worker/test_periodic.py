"""Periodic tasks run once per minute however many workers schedule them, and retry instead of being lost.

The two-worker test starts a real redis-server (Debian's, installed by ./dev test) and two `fanzha worker` processes
on a fresh database of the kind under test (SQLite or PostgreSQL), with one overdue warning: each (warning, step,
level) is escalated once, each periodic task runs once for each minute across the two, and neither prints an error.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from support.areas import add_area
from support.db import DB_KIND, pg_create, pg_drop
from support.net import free_port


def test_a_minute_is_claimed_once_and_kept_by_its_retry():
    from fanzha.worker.tasks import CLAIM, claim, huey

    assert claim("probe", "task-a", "202612061000")
    assert not claim("probe", "task-b", "202612061000")  # the other worker's copy of the same minute
    assert claim("probe", "task-a", "202612061000")  # task-a again: a retry keeps its claim
    assert claim("probe", "task-c", "202612061001")  # the next minute is free again
    # Each claim removes the one before it, so claims do not pile up in Redis or the queue database.
    assert huey.get(CLAIM.format(name="probe", slot="202612061000"), peek=True) is None
    assert huey.get(CLAIM.format(name="probe", slot="202612061001"), peek=True) == "task-c"


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(exe):
        pytest.fail("redis-server is not installed: ./dev test installs Debian's redis-server")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def fresh_database(tmp_path):
    from fanzha.migrate import upgrade

    if DB_KIND == "postgres":
        name = f"fanzha_periodic_{os.getpid()}"
        url = pg_create(name)
    else:
        url = f"sqlite:///{tmp_path / 'periodic.db'}"
    upgrade("head", url=url)
    yield url
    if DB_KIND == "postgres":
        pg_drop(name)


def _one_overdue_warning(url: str) -> int:
    from fanzha.db import make_engine
    from fanzha.warnings.models import Warning

    engine = make_engine(url)
    with Session(engine) as s:
        bureau = add_area(s, chain="police", level="bureau", name="测试市局", code="B")
        station = add_area(s, chain="police", level="station", name="甲派出所", code="SA", parent_id=bureau.id)
        city = add_area(s, chain="admin", level="city", name="测试市", code="C")
        community = add_area(s, chain="admin", level="community", name="甲社区", code="CA", parent_id=city.id,
                             police_area_id=station.id, police_path=station.path)
        now = datetime.now(UTC)
        # High grade, neither signed nor contacted 20 minutes after both deadlines: sign and contact are each due to
        # the assignee (0 min), the head (5) and the centre (15) — six escalations.
        w = Warning(external_id="P1", kind="call", risk_grade="high", grade_reasons=[], warned_at=now - timedelta(minutes=30),
                    sign_deadline=now - timedelta(minutes=20), contact_deadline=now - timedelta(minutes=20),
                    feedback_deadline=now + timedelta(hours=1), status="assigned", station_id=station.id,
                    community_id=community.id, dispatched_at=now - timedelta(minutes=29), phone="13800000000")
        s.add(w)
        s.commit()
        wid = w.id
    engine.dispose()
    return wid


def test_two_workers_on_redis_run_each_periodic_task_once(tmp_path, redis_url, fresh_database):
    from fanzha.dissuasion.models import Escalation

    warning_id = _one_overdue_warning(fresh_database)
    # Both workers schedule at start-up and then every 60 s from it: start them early in a minute, so that their
    # first schedules fall into the same minute and the claim, not the clock, decides who runs it.
    while datetime.now(UTC).second > 40:
        time.sleep(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATABASE_URL=fresh_database, FANZHA_QUEUE_URL=redis_url, FANZHA_QUEUE_IMMEDIATE="0",
               FANZHA_DATA_DIR=str(tmp_path))
    workers = [subprocess.Popen([sys.executable, "-m", "fanzha.cli.main", "worker", "--workers", "1", "--verbose"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    engine = create_engine(fresh_database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        count = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and count < 6:
            with Session(engine) as s:
                count = s.scalar(select(func.count()).select_from(Escalation))
            time.sleep(0.5)
        time.sleep(3)  # the other worker's copy of the minute has been taken off the queue by now
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=60)[0].decode() for w in workers]
    with Session(engine) as s:
        rows = s.execute(select(Escalation.warning_id, Escalation.step, Escalation.level)).all()
    engine.dispose()
    both = "\n".join(outputs)
    assert sorted(rows) == sorted((warning_id, step, level) for step in ("sign", "contact")
                                  for level in ("assignee", "head", "centre")), both[-3000:]
    ran = Counter(re.findall(r"periodic (\w+): runs for minute (\d+)", both))
    assert ran and all(n == 1 for n in ran.values()), ran
    assert re.search(r"periodic escalate_and_notify: minute \d+ belongs to another worker", both), both[-3000:]
    assert "Traceback" not in both and " ERROR " not in both, both[-3000:]
    assert all(w.returncode == 0 for w in workers) and both.count("Consumer exiting") == 2
