"""warning indexes: fewer on the insert path, partial ones for open warnings and open follow-ups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DROPPED = ["risk_grade", "status", "outcome", "station_id", "community_id", "assignee_id", "batch_id", "feedback_at"]
OPEN = sa.text("feedback_at IS NULL")
CLOSED = sa.text("feedback_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        for column in DROPPED:
            batch_op.drop_index(f'ix_warnings_{column}')
        batch_op.create_index('ix_warnings_community_warned', ['community_id', 'warned_at'], unique=False)
        batch_op.create_index('ix_warnings_open', ['community_id', 'status'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_warnings_open_assignee', ['assignee_id', 'feedback_deadline'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_warnings_feedback_at', ['feedback_at'], unique=False,
                              postgresql_where=CLOSED, sqlite_where=CLOSED)
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_open', ['due_at'], unique=False,
                              postgresql_where=sa.text("done_at IS NULL"), sqlite_where=sa.text("done_at IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_open')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        for name in ('ix_warnings_feedback_at', 'ix_warnings_open_assignee', 'ix_warnings_open',
                     'ix_warnings_community_warned'):
            batch_op.drop_index(name)
        for column in DROPPED:
            batch_op.create_index(f'ix_warnings_{column}', [column], unique=False)
