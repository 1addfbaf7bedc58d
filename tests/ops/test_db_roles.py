"""Two database roles on PostgreSQL: migrations as the tables' owner, the application as a role that may read and
write the records but only INSERT and SELECT the audit log and its seals, and cannot switch the audit triggers off
(not the owner) or replicate around them (not a superuser). The demo county is generated as the application's role,
so everything the platform writes goes in under it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from support.db import PG_BASE, pg_available, pg_create, pg_drop

# The second test reads the database the first one upgraded and filled: both run in one worker (--dist loadgroup).
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("db_roles")]


@pytest.fixture(scope="module")
def two_roles(tmp_path_factory):
    if not pg_available():
        pytest.skip("PostgreSQL 不可用：数据库角色测试需要 PostgreSQL（FANZHA_TEST_POSTGRES_URL）")
    suffix = f"{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    role, password = f"fanzha_app_{suffix}", "app-Secret-1"
    owner = pg_create(f"fanzha_roles_{suffix}")
    app = make_url(owner).set(username=role, password=password).render_as_string(hide_password=False)
    server = create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATABASE_URL=app, FANZHA_DATABASE_OWNER_URL=owner,
               FANZHA_DATA_DIR=str(tmp_path_factory.mktemp("roles")))
    try:
        yield owner, app, role, env
    finally:
        pg_drop(f"fanzha_roles_{suffix}")
        with server.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        server.dispose()


def _fanzha(env, *args):
    return subprocess.run([sys.executable, "-m", "fanzha.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_application_role_runs_the_platform_but_cannot_touch_the_audit_log(two_roles):
    owner, app, role, env = two_roles
    up = _fanzha(env, "db", "upgrade")
    assert up.returncode == 0, up.stdout + up.stderr
    demo = _fanzha(env, "demo", "--people", "200")  # the whole demo county written as the application's role
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    sealed = _fanzha(env, "audit", "seal")
    assert sealed.returncode == 0, sealed.stderr

    engine = create_engine(app.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() > 0
            conn.execute(text("INSERT INTO audit_log (at, username, action, entity, entity_id, fields, detail, ip, "
                              "user_agent) VALUES (now(), 'x', 'view', 'person', '1', '[]', '{}', '', '')"))
            conn.execute(text("UPDATE users SET display_name = display_name WHERE username = 'admin'"))
        refused = ["UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                   "DELETE FROM audit_seals", "TRUNCATE audit_seals", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                   "SET session_replication_role = replica", "DROP TABLE audit_log",
                   "UPDATE alembic_version SET version_num = '0001'"]
        for sql in refused:
            with pytest.raises(Exception, match="permission denied|must be owner|append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()
    verified = _fanzha(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_maintenance_runs_as_the_owner(two_roles):
    """The roll-up rebuild alters its table: it connects as the owner, and the application's role could not."""
    owner, app, role, env = two_roles
    done = _fanzha(env, "cases", "stats", "--rebuild", "--json")
    assert done.returncode == 0, done.stderr
    engine = create_engine(app.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with pytest.raises(Exception, match="must be owner"), engine.begin() as conn:
            conn.execute(text("ALTER TABLE case_stat_cells DROP CONSTRAINT pk_case_stat_cells"))
    finally:
        engine.dispose()
