"""Migrations: empty → head, one step down and up again, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from conftest import pg_available, pg_create, pg_drop
from sqlalchemy import create_engine, inspect


def _cycle(url: str) -> None:
    from fanzha.migrate import downgrade, upgrade

    upgrade("head", url=url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tables = set(inspect(engine).get_table_names())
    assert {"areas", "users", "audit_log", "people", "standard_addresses", "alembic_version"} <= tables
    downgrade("-1", url=url)
    upgrade("head", url=url)
    assert set(inspect(engine).get_table_names()) == tables
    downgrade("base", url=url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request, tmp_path):
    """URL of an empty database of each kind (on PostgreSQL made on the server and dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable")
    name = f"fanzha_mig_{os.getpid()}"
    try:
        yield pg_create(name)
    finally:
        pg_drop(name)


def test_empty_to_head_and_back(empty_db):
    _cycle(empty_db)


def test_login_throttle_on_a_populated_database(empty_db):
    """0017 on a database of 0016 with users in it: the users stay, an account locked at upgrade time stays held
    for untrusted browsers until its lock would have ended, the old columns go, and come back on downgrade."""
    import sqlalchemy as sa

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0016", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC)
    areas = sa.table("areas", *[sa.column(c) for c in ("id", "chain", "level", "kind_label", "name", "code", "path",
                                                        "population", "households", "shops")],
                     sa.column("created_at", UTCDateTime()))
    users = sa.table("users", *[sa.column(c) for c in ("id", "username", "display_name", "password_hash", "role",
                                                        "area_id", "phone", "is_active", "failed_logins")],
                     sa.column("locked_until", UTCDateTime()), sa.column("created_at", UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(areas.insert().values(id=1, chain="police", level="station", kind_label="", name="城关派出所",
                                           code="PS01", path="/1/", population=0, households=0, shops=0,
                                           created_at=now))
        conn.execute(users.insert(), [
            {"id": n, "username": name, "display_name": "张某", "password_hash": "!", "role": "station_officer",
             "area_id": 1, "phone": "", "is_active": True, "failed_logins": failed, "locked_until": until,
             "created_at": now}
            for n, (name, failed, until) in enumerate([("ps01_minjing", 2, None),
                                                        ("ps01_quanzu", 0, now + timedelta(minutes=10)),
                                                        ("ps01_sqmj", 0, now - timedelta(minutes=10))], start=1)])
    upgrade("0017", url=empty_db)
    assert {c["name"] for c in inspect(engine).get_columns("users")}.isdisjoint({"failed_logins", "locked_until"})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 3
        held = conn.execute(sa.select(sa.column("bucket"), sa.column("key"), sa.column("held_until", UTCDateTime()))
                            .select_from(sa.table("throttles"))).all()
    assert [(bucket, key) for bucket, key, _ in held] == [("login_account", "ps01_quanzu")]
    assert abs(held[0][2] - (now + timedelta(minutes=10))) < timedelta(seconds=1)
    downgrade("0016", url=empty_db)
    assert {"failed_logins", "locked_until"} <= {c["name"] for c in inspect(engine).get_columns("users")}
    assert "throttles" not in inspect(engine).get_table_names()
    engine.dispose()


def test_models_match_the_migrations(tmp_path):
    """Nothing in the models is missing from the migrations (autogenerate finds no difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fanzha.migrate import upgrade
    from fanzha.models import Base

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade("head", url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from fanzha.cli.main import app
    from fanzha.config import get_settings
    from fanzha.migrate import downgrade, pending, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade("head", url=url)
    assert not pending(url)
    downgrade("-1", url=url)
    assert pending(url)
    monkeypatch.setenv("FANZHA_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "fanzha db upgrade" in result.output
