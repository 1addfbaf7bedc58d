"""case statistics roll-up: exact cells per (grain, local day, community, dimension, value), kept by triggers

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-22 20:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from fanzha.cases.stats import rollup

    op.create_table('case_stat_cells',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.String(length=32), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('loss_cents', sa.BigInteger(), nullable=False),
    sa.Column('recovered_cents', sa.BigInteger(), nullable=False),
    sa.Column('frozen_cents', sa.BigInteger(), nullable=False),
    sa.Column('solved', sa.Integer(), nullable=False),
    sa.Column('suspects', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'dim', 'community_id', 'day', 'value', name=op.f('pk_case_stat_cells'))
    )
    # The triggers, then the cells of the cases already there (the same SQL as `fanzha cases stats --rebuild`).
    rollup.rebuild(op.get_bind())


def downgrade() -> None:
    from fanzha.cases.stats import rollup

    bind = op.get_bind()
    for stmt in rollup.drop_ddl(bind.dialect.name):
        bind.exec_driver_sql(stmt)
    op.drop_table('case_stat_cells')
