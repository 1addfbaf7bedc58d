"""submissions: idempotency keys per user for contacts and outcomes sent from the phone's offline queue, with the
record each made or the 冲突 it became, and the device's and the server's times

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('device_at', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('clock_skew', sa.Integer(), nullable=True),
    sa.Column('skew_flagged', sa.Boolean(), nullable=False),
    sa.Column('trusted_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('received_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_submissions_area_id_areas')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submissions_user_id_users')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_submissions_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('user_id', 'key', name='uq_submissions_user_key')
    )
    op.create_index(op.f('ix_submissions_area_id'), 'submissions', ['area_id'], unique=False)
    op.create_index(op.f('ix_submissions_warning_id'), 'submissions', ['warning_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submissions_warning_id'), table_name='submissions')
    op.drop_index(op.f('ix_submissions_area_id'), table_name='submissions')
    op.drop_table('submissions')
