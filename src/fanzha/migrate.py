"""Running Alembic from code: `fanzha db upgrade|downgrade|current|revision`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from fanzha.config import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url()).replace("%", "%%"))
    return cfg


def upgrade(revision: str = "head", url: str | None = None) -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str, url: str | None = None) -> None:
    command.downgrade(alembic_config(url), revision)


def pending(url: str | None = None) -> bool:
    """True when the database is behind the code's newest migration (or not migrated at all)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from fanzha.db import make_engine

    cfg = alembic_config(url)
    engine = make_engine(cfg.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return current != ScriptDirectory.from_config(cfg).get_current_head()
