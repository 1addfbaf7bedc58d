"""Migrations: empty → head, one step down and up again, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os

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


def test_sqlite_empty_to_head_and_back(tmp_path):
    _cycle(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_empty_to_head_and_back():
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable")
    name = f"fanzha_mig_{os.getpid()}"
    try:
        _cycle(pg_create(name))
    finally:
        pg_drop(name)


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
