"""Alembic migrations, driven by `fanzha db …` (no alembic.ini needed)."""
