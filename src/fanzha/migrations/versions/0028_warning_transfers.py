"""warning transfers (移交审核): a 移交 waits as 移交待审 for the receiving station to accept or return it; one
pending per warning; a 移交外地 is kept with the receiving unit named. Earlier instant 移交 stay as their timeline
lines (they were never reviewed), so the table starts empty

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 18:20:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('from_station_id', sa.Integer(), nullable=True),
    sa.Column('to_station_id', sa.Integer(), nullable=True),
    sa.Column('to_unit', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('answer', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_warning_transfers_decided_by_users')),
    sa.ForeignKeyConstraint(['from_station_id'], ['areas.id'], name=op.f('fk_warning_transfers_from_station_id_areas')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_warning_transfers_requested_by_users')),
    sa.ForeignKeyConstraint(['to_station_id'], ['areas.id'], name=op.f('fk_warning_transfers_to_station_id_areas')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_warning_transfers_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_transfers'))
    )
    op.create_index(op.f('ix_warning_transfers_warning_id'), 'warning_transfers', ['warning_id'], unique=False)
    op.create_index('ix_warning_transfers_to_status', 'warning_transfers', ['to_station_id', 'status'], unique=False)
    op.create_index('uq_warning_transfers_pending', 'warning_transfers', ['warning_id'], unique=True,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_warning_transfers_pending', table_name='warning_transfers')
    op.drop_index('ix_warning_transfers_to_status', table_name='warning_transfers')
    op.drop_index(op.f('ix_warning_transfers_warning_id'), table_name='warning_transfers')
    op.drop_table('warning_transfers')
