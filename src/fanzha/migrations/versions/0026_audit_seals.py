"""audit_seals: the audit log's hash chain (fanzha.audit.seals), append-only like the log; TRUNCATE of either
refused on PostgreSQL

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 17:45:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_seals',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('from_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('last_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
                    sa.Column('rows', sa.Integer(), nullable=False),
                    sa.Column('prev_digest', sa.String(length=64), nullable=False),
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('sealed_at', fanzha.db.UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_seals')),
                    sa.UniqueConstraint('last_id', name=op.f('uq_audit_seals_last_id')))
    if op.get_bind().dialect.name == 'postgresql':
        # audit_log_refuse() comes from 0001: it raises whatever statement fires it.
        op.execute("CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()")
        for table in ('audit_log', 'audit_seals'):
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()")
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_seals_no_{verb.lower()} BEFORE {verb} ON audit_seals "
                       "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in ('audit_log', 'audit_seals'):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_delete")
    op.drop_table('audit_seals')
