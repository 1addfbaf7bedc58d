"""issued_documents.edition, revises_id, revision_note, edition_key: a bulletin period is issued once as an original
and again only as a registered revision (修订); earlier duplicates become revisions of the first, in issue order

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

BULLETIN_KINDS = ('daily', 'weekly', 'monthly', 'quarterly')


def upgrade() -> None:
    with op.batch_alter_table('issued_documents') as batch:
        batch.add_column(sa.Column('edition', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('revises_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('revision_note', sa.String(length=300), nullable=False, server_default=''))
        batch.add_column(sa.Column('edition_key', sa.String(length=80), nullable=True))
        batch.create_foreign_key('fk_issued_documents_revises_id', 'issued_documents', ['revises_id'], ['id'])
        batch.create_unique_constraint('uq_issued_documents_edition_key', ['edition_key'])
    docs = sa.table('issued_documents', *[sa.column(c) for c in (
        'id', 'kind', 'period', 'area_id', 'issued_at', 'edition', 'revises_id', 'revision_note', 'edition_key')])
    conn = op.get_bind()
    rows = conn.execute(sa.select(docs.c.id, docs.c.kind, docs.c.period, docs.c.area_id)
                        .where(docs.c.kind.in_(BULLETIN_KINDS), docs.c.period != '')
                        .order_by(docs.c.issued_at, docs.c.id)).all()
    previous: dict[tuple, tuple[int, int]] = {}
    for doc_id, kind, period, area_id in rows:
        group = (kind, period, area_id or 0)
        edition, revises = (previous[group][0] + 1, previous[group][1]) if group in previous else (0, None)
        conn.execute(docs.update().where(docs.c.id == doc_id).values(
            edition=edition, revises_id=revises, edition_key=f'{kind}:{period}:{area_id or 0}:{edition}',
            revision_note='升级前重复发出，登记为修订' if edition else ''))
        previous[group] = (edition, doc_id)


def downgrade() -> None:
    with op.batch_alter_table('issued_documents') as batch:
        batch.drop_constraint('uq_issued_documents_edition_key', type_='unique')
        batch.drop_constraint('fk_issued_documents_revises_id', type_='foreignkey')
        batch.drop_column('edition_key')
        batch.drop_column('revision_note')
        batch.drop_column('revises_id')
        batch.drop_column('edition')
