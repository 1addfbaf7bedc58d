"""Test set-up: a fresh database (SQLite, or PostgreSQL when FANZHA_TEST_DB=postgres) with a small demo county.

Each xdist worker gets its own database. Settings are put into the environment before Fanzha is imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="fanzha-test-"))
os.environ["FANZHA_DATA_DIR"] = str(_TMP)
os.environ["FANZHA_QUEUE_IMMEDIATE"] = "1"
os.environ["FANZHA_ARGON2_TIME_COST"] = "1"
os.environ["FANZHA_ARGON2_MEMORY_KIB"] = "1024"
os.environ["FANZHA_STATIC_VENDOR_DIR"] = str(Path(__file__).resolve().parent.parent / "node_modules")
os.environ.pop("FANZHA_QUEUE_URL", None)
pytest.register_assert_rewrite("support")

from support.db import DB_KIND, PG_BASE, pg_available, pg_create, pg_drop, pg_url  # noqa: E402  (after the settings)
from support.web import DEMO_PASSWORD, DEMO_SEED, login, make_client  # noqa: E402

# Fixtures the test modules share, each defined once.
pytest_plugins = ["support.db", "support.browser", "support.bulletin", "support.prevention"]

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_DBNAME = f"fanzha_test_{os.getpid()}_{_worker}"
if DB_KIND == "postgres":
    os.environ["FANZHA_DATABASE_URL"] = pg_url(_DBNAME)
else:
    os.environ["FANZHA_DATABASE_URL"] = f"sqlite:///{_TMP / 'fanzha.db'}"


_skips: list[str] = []


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_pass run once, in the PostgreSQL pass: the SQLite pass leaves them out (deselected, so
    they are neither run twice nor counted as skipped)."""
    if DB_KIND == "postgres":
        return
    left_out = [item for item in items if item.get_closest_marker("postgres_pass")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_pass")]


def pytest_runtest_logreport(report):
    if report.skipped:
        _skips.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") == "true" and _skips:
        print(f"\nCI=true: {len(_skips)} skipped test(s) fail the run: " + ", ".join(_skips[:10]))
        session.exitstatus = 1


@pytest.fixture(scope="session", autouse=True)
def database():
    """Migrated database with the demo county (seed 7, 600 people), shared by the tests of one worker."""
    if DB_KIND == "postgres":
        if not pg_available():
            pytest.exit(f"PostgreSQL 不可用：{PG_BASE}", returncode=3)
        pg_create(_DBNAME)
    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    reset_caches()
    upgrade()
    with session_scope() as session:
        generate(session, seed=DEMO_SEED, people=600, password=DEMO_PASSWORD)
    yield os.environ["FANZHA_DATABASE_URL"]
    reset_caches()
    if DB_KIND == "postgres":
        pg_drop(_DBNAME)


@pytest.fixture(scope="session")
def app(database):
    from fanzha.web.app import create_app

    return create_app()


def _forget_failed_logins(username: str) -> None:
    """A test that wants a signed-in client does not meet the login back-off other tests left behind (a fuzzed token
    route, wrong passwords typed on purpose): the counters of the test client's address and of the account go."""
    from fanzha.auth import backoff, throttle
    from fanzha.db import session_scope

    with session_scope() as s:
        throttle.clear(s, backoff.ADDRESS, "testclient")
        backoff.unlock(s, username)  # the account's own counters, as an admin's 解除登录限制 forgets them


@pytest.fixture
def client_as(app):
    """client_as('ps01_quanzu') → a TestClient logged in through the login page."""
    made = []

    def factory(username: str):
        _forget_failed_logins(username)
        client = make_client(app)
        response = login(client, username)
        assert response.status_code == 303, f"{username} could not log in: {response.status_code}"
        made.append(client)
        return client

    yield factory
    for c in made:
        c.close()


@pytest.fixture
def api_as(app):
    """api_as('admin') → a TestClient sending a bearer token obtained from /api/v1/auth/token."""
    made = []

    def factory(username: str):
        _forget_failed_logins(username)
        client = make_client(app)
        r = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        made.append(client)
        return client

    yield factory
    for c in made:
        c.close()


@pytest.fixture
def db():
    """A session for reading what the app wrote. expire_all() also ends the read transaction, so the next
    query sees the latest commits on SQLite too (where a transaction reads one snapshot throughout)."""
    from sqlalchemy.orm import Session

    from fanzha.db import get_engine

    class ReadingSession(Session):
        def expire_all(self):
            self.rollback()
            super().expire_all()

    session = ReadingSession(bind=get_engine(), expire_on_commit=False)
    yield session
    session.rollback()
    session.close()
