"""areas.label: what people see of an area, qualified by its township (河口镇·金鸡村) where its name repeats in the
deployment; filled for every existing area by the rule in fanzha.org.names

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from fanzha.org.names import Node, labels_for

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('areas', sa.Column('label', sa.String(length=320), nullable=False, server_default=''))
    areas = sa.table('areas', *[sa.column(c) for c in ('id', 'chain', 'name', 'parent_id', 'code', 'label')])
    conn = op.get_bind()
    rows = conn.execute(sa.select(areas.c.id, areas.c.chain, areas.c.name, areas.c.parent_id, areas.c.code)).all()
    labels = labels_for(Node(*r) for r in rows)
    if labels:
        conn.execute(areas.update().where(areas.c.id == sa.bindparam('area_id')).values(label=sa.bindparam('text')),
                     [{'area_id': i, 'text': text} for i, text in labels.items()])


def downgrade() -> None:
    op.drop_column('areas', 'label')
