"""loss avoided as the dissuader records it: warning_days.loss_avoided_estimated, amount_protected among the columns
the roll-up triggers watch, the days of dissuaded warnings recomputed; indexes on dispatch and signing times for the
counts by the time things happened

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 20:30:00
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_0013 = importlib.import_module("fanzha.migrations.versions.0013_warning_days")
# 避免损失 now reads the amount the dissuader recorded, so a change to it must mark its day like a change of amount.
COUNTED = [*_0013.COUNTED, "amount_protected"]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _watch(counted: list[str]) -> None:
    if _postgres():
        op.execute(_0013.pg_function(counted, create="CREATE OR REPLACE"))
    else:
        op.execute("DROP TRIGGER IF EXISTS warning_days_update")
        op.execute(_0013.sqlite_update_trigger(counted))


def _mark_dissuaded() -> None:
    """Log the hours of every dissuaded warning: their days' 避免损失 is recomputed at the next reading (or by the
    worker within a minute), under the definition of the code that reads it. No other day changes."""
    hour = ("date_trunc('hour', warned_at)" if _postgres()
            else "strftime('%Y-%m-%d %H:00:00.000000', warned_at)")
    op.execute(f"INSERT INTO warning_days_dirty (hour) SELECT DISTINCT {hour} FROM warnings "
               "WHERE outcome = 'dissuaded'")


def upgrade() -> None:
    op.add_column('warning_days', sa.Column('loss_avoided_estimated', sa.Numeric(precision=16, scale=2),
                                            nullable=False, server_default=sa.text("0")))
    _watch(COUNTED)
    _mark_dissuaded()
    op.create_index('ix_warnings_dispatched_at', 'warnings', ['dispatched_at'], unique=False)
    op.create_index('ix_warnings_signed_at', 'warnings', ['signed_at'], unique=False,
                    postgresql_where=sa.text('signed_at IS NOT NULL'), sqlite_where=sa.text('signed_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_warnings_signed_at', table_name='warnings')
    op.drop_index('ix_warnings_dispatched_at', table_name='warnings')
    _watch(_0013.COUNTED)
    op.drop_column('warning_days', 'loss_avoided_estimated')
    _mark_dissuaded()
