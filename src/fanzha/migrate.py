"""Running Alembic from code: `fanzha db upgrade|downgrade|current|revision`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from fanzha.config import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def owner_url() -> str:
    """Where migrations and maintenance (the case roll-up's rebuild) connect: the tables' owner
    (FANZHA_DATABASE_OWNER_URL), or the application's own URL when there is no separate owner."""
    settings = get_settings()
    return settings.database_owner_url or settings.resolved_database_url()


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or owner_url()).replace("%", "%%"))
    return cfg


def upgrade(revision: str = "head", url: str | None = None) -> None:
    """Migrate (as the owner); with the configured URLs, then give the application's role what it may do."""
    command.upgrade(alembic_config(url), revision)
    if url is None:
        grant_application(owner_url(), get_settings().resolved_database_url())


# Tables the application may read and add to but never change or empty; alembic_version it only reads.
APPEND_ONLY = ("audit_log", "audit_seals")
READ_ONLY = ("alembic_version",)


def grant_application(owner: str, app: str) -> str | None:
    """On PostgreSQL with an application role apart from the owner (docs/deploy.md): the role may read and write
    the tables and use the sequences, but only INSERT and SELECT the audit log and its seals and only SELECT the
    migration table. Not being the owner, it cannot disable the audit triggers, alter or truncate tables, or set
    session_replication_role (that needs a superuser). Run after every upgrade, so new tables are covered.
    Returns the role granted to, or None when there is no separate role (SQLite, or one role for both)."""
    from sqlalchemy.engine import make_url

    from fanzha.db import make_engine

    if not owner.startswith("postgresql") or not app.startswith("postgresql"):
        return None
    role, owner_role = make_url(app).username, make_url(owner).username
    if not role or role == owner_role:
        return None
    engine = make_engine(owner)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            r = quote(role)
            for sql in (f"GRANT USAGE ON SCHEMA public TO {r}",
                        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
                        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
                        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {', '.join(APPEND_ONLY)} FROM {r}",
                        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {', '.join(READ_ONLY)} FROM {r}"):
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()
    return role


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
