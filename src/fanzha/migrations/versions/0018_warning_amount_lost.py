"""warning amount lost: the 受骗金额 a dissuader reports with a 已被骗 feedback

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no copy of the table): SQLite keeps the metric triggers on warnings.
    op.add_column('warnings', sa.Column('amount_lost', sa.Numeric(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    op.drop_column('warnings', 'amount_lost')
