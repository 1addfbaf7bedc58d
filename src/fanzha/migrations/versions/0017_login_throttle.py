"""login throttle: atomic counters (throttles) replace the per-user failure count and lock

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 10:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    throttles = op.create_table('throttles',
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_start', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('last_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('held_until', fanzha.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('bucket', 'key', name=op.f('pk_throttles'))
    )
    # An account locked at upgrade time stays held for browsers not trusted for it until its lock would have ended.
    conn = op.get_bind()
    now = datetime.now(UTC)
    users = sa.table('users', sa.column('username', sa.String()), sa.column('locked_until', fanzha.db.UTCDateTime()))
    locked = conn.execute(sa.select(users.c.username, users.c.locked_until).where(users.c.locked_until > now)).all()
    if locked:
        op.bulk_insert(throttles, [{"bucket": "login_account", "key": name.lower(), "count": 0, "window_start": now,
                                    "last_at": now, "held_until": until} for name, until in locked])
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): copying the users table would trip the foreign keys to it.
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')


def downgrade() -> None:
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('users', sa.Column('locked_until', fanzha.db.UTCDateTime(), nullable=True))
    op.drop_table('throttles')
