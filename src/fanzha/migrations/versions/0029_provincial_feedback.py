"""provincial feedback (反馈): a call's 未接原因 on contacts; 劝阻对象, 自主防范/及时劝阻 and how many times the
feedback was sent up (首次/再次) in warning_feedback, one row per warning; the minutes from 预警时间 to the first contact in the daily roll-up
(平均响应 from 预警时间 beside the one from dispatch), every day with a first contact recomputed

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def _mark_responded() -> None:
    """Log the hours of every warning with a first contact: their days' response minutes from 预警时间 are computed at
    the next reading (or by the worker within a minute). No other day changes."""
    hour = ("date_trunc('hour', warned_at)" if op.get_bind().dialect.name == "postgresql"
            else "strftime('%Y-%m-%d %H:00:00.000000', warned_at)")
    op.execute(f"INSERT INTO warning_days_dirty (hour) SELECT DISTINCT {hour} FROM warnings "
               "WHERE first_contact_at IS NOT NULL AND dispatched_at IS NOT NULL")


def upgrade() -> None:
    # Plain ALTER TABLE (no copy of the table): SQLite keeps the metric triggers on warnings.
    op.add_column('contacts', sa.Column('no_answer_reason', sa.String(length=16), nullable=True))
    op.create_table('warning_feedback',
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=8), nullable=True),
    sa.Column('success_kind', sa.String(length=12), nullable=True),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_warning_feedback_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('warning_id', name=op.f('pk_warning_feedback'))
    )
    # A warning already sent up was sent once: its next sending is a 再次. Nothing else is made up for old feedback.
    op.execute("INSERT INTO warning_feedback (warning_id, submissions) "
               "SELECT id, 1 FROM warnings WHERE feedback_exported_at IS NOT NULL")
    op.add_column('warning_days', sa.Column('response_minutes_warned', sa.Float(), nullable=False,
                                            server_default=sa.text("0")))
    _mark_responded()


def downgrade() -> None:
    op.drop_column('warning_days', 'response_minutes_warned')
    op.drop_table('warning_feedback')
    op.drop_column('contacts', 'no_answer_reason')
