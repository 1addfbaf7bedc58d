"""跨所协助首次联系: warning_helps names the sibling station's dissuader who took over a warning's first contact, and
when (one per warning). A table of its own: the warnings table, written by every import, stays as it was. Existing
warnings have none.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'warning_helps',
        sa.Column('warning_id', sa.Integer(), nullable=False),
        sa.Column('helper_id', sa.Integer(), nullable=False),
        sa.Column('helped_at', fanzha.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_warning_helps_warning_id_warnings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['helper_id'], ['users.id'], name=op.f('fk_warning_helps_helper_id_users')),
        sa.PrimaryKeyConstraint('warning_id', name=op.f('pk_warning_helps')),
    )
    with op.batch_alter_table('warning_helps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_helps_helper_id'), ['helper_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warning_helps_helped_at'), ['helped_at'], unique=False)


def downgrade() -> None:
    op.drop_table('warning_helps')
