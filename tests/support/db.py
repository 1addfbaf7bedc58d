"""The test databases: which kind this run uses, PostgreSQL databases made and dropped on the server, and fixtures
for an empty database and a session of its own."""

from __future__ import annotations

import os
import re

import pytest

DB_KIND = os.environ.get("FANZHA_TEST_DB", "sqlite")
PG_BASE = os.environ.get("FANZHA_TEST_POSTGRES_URL", "postgresql://postgres:fanzha@127.0.0.1:5432/postgres")


def pg_url(dbname: str) -> str:
    return re.sub(r"/[^/]*$", f"/{dbname}", PG_BASE)


def pg_available() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_BASE, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


def pg_create(dbname: str) -> str:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}" ENCODING \'UTF8\' TEMPLATE template0')
    return pg_url(dbname)


def pg_drop(dbname: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


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


@pytest.fixture
def session():
    """A session of its own on the test database, rolled back at the end."""
    from sqlalchemy.orm import Session

    from fanzha.db import get_engine

    s = Session(get_engine())
    yield s
    s.rollback()
    s.close()
