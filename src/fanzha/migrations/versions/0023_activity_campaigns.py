"""activity_campaigns: an activity counts toward every campaign whose dates and areas hold it (many-to-many), each
existing single link copied into it; activities gain 更正 and 撤回 (corrected_at, withdrawn_at, withdraw_reason).
activities.campaign_id stays: assess/figures.py still reads it (prevention/counting.py keeps it in step).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 17:00:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite ≥ 3.35 drops columns the same way): copying the activities table in batch mode
    # would, with foreign keys on, delete its photos (ON DELETE CASCADE). The recorder alone may withdraw, so who
    # withdrew is the recorder (and the audit log says it again).
    op.add_column('activities', sa.Column('corrected_at', fanzha.db.UTCDateTime(), nullable=True))
    op.add_column('activities', sa.Column('withdrawn_at', fanzha.db.UTCDateTime(), nullable=True))
    op.add_column('activities', sa.Column('withdraw_reason', sa.String(length=200), nullable=False, server_default=''))
    op.create_table('activity_campaigns',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_activity_campaigns_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                            name=op.f('fk_activity_campaigns_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'campaign_id', name=op.f('pk_activity_campaigns'))
    )
    op.create_index(op.f('ix_activity_campaigns_campaign_id'), 'activity_campaigns', ['campaign_id'], unique=False)
    # The link each activity had (at most one) is where it counts from now on; one recorded while two campaigns ran
    # had none and keeps none until it is corrected (the rule then decides).
    op.execute('INSERT INTO activity_campaigns (activity_id, campaign_id) '
               'SELECT id, campaign_id FROM activities WHERE campaign_id IS NOT NULL')


def downgrade() -> None:
    op.drop_index(op.f('ix_activity_campaigns_campaign_id'), table_name='activity_campaigns')
    op.drop_table('activity_campaigns')
    for column in ('withdraw_reason', 'withdrawn_at', 'corrected_at'):
        op.drop_column('activities', column)
