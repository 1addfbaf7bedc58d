"""宣传活动 aimed at a group and a fraud type: activities carry the 对象人群 (a key of org.enums.GROUPS) and the
针对诈骗类型 (a key of warnings.enums.FRAUD_TYPES) they were held for. Activities recorded before the upgrade keep
both empty (未注明): nothing is guessed from the organiser's unit.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_group', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('fraud_type', sa.String(length=32), nullable=False, server_default=''))
        batch_op.create_index('ix_activities_unit_group', ['unit_id', 'target_group'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_unit_group')
        batch_op.drop_column('fraud_type')
        batch_op.drop_column('target_group')
