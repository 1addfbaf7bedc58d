"""case statistics journal: the triggers on cases append to it, readers fold it into the roll-up

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from fanzha.cases.stats import rollup

    op.create_table('case_stat_journal',
    sa.Column('sign', sa.SmallInteger(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('solved_at', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('caught_at', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('suspects_caught', sa.Integer(), nullable=False),
    sa.Column('fraud_type', sa.String(length=32), nullable=False),
    sa.Column('loss_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recovered_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('frozen_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('victim_sex', sa.String(length=2), nullable=False),
    sa.Column('victim_age', sa.Integer(), nullable=True),
    sa.Column('victim_occupation', sa.String(length=32), nullable=False),
    sa.Column('victim_groups', sa.JSON(), nullable=False),
    sa.Column('preventable', sa.Boolean(), nullable=True)
    )
    # PostgreSQL: the triggers now only append to the journal (SQLite's stay as they were).
    rollup.install(op.get_bind(), journal=True)


def downgrade() -> None:
    from fanzha.cases.stats import rollup

    bind = op.get_bind()
    rollup.fold_pending(bind)  # nothing left unfolded, then the triggers that fold at once
    rollup.install(bind, journal=False)
    op.drop_table('case_stat_journal')
