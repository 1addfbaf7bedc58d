"""warning assignments: each hand-over of a warning (指派, 认领, 改派, 指派 after a 移交) with its time, who did it
and from whom; existing warnings get their current assignment as the original one

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-06 17:10:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('from_user_id', sa.Integer(), nullable=True),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_warning_assignments_by_user_id_users')),
    sa.ForeignKeyConstraint(['from_user_id'], ['users.id'], name=op.f('fk_warning_assignments_from_user_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['areas.id'], name=op.f('fk_warning_assignments_station_id_areas')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_warning_assignments_user_id_users')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_warning_assignments_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_assignments'))
    )
    # Every warning held today gets its assignment as the original one, at the time it was assigned (the system's,
    # as most are). Who held a warning before an earlier 改派 was never kept: that 改派's own timeline line stays.
    op.execute("INSERT INTO warning_assignments (warning_id, user_id, station_id, at, kind, reason) "
               "SELECT id, assignee_id, station_id, COALESCE(assigned_at, dispatched_at, warned_at), 'assign', '' "
               "FROM warnings WHERE assignee_id IS NOT NULL")
    op.create_index('ix_warning_assignments_warning_at', 'warning_assignments', ['warning_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warning_assignments_warning_at', table_name='warning_assignments')
    op.drop_table('warning_assignments')
