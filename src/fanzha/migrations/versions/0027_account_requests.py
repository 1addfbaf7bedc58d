"""account requests: one model for 快速查询/止付/冻结 — payment_requests (raised on warnings) merged into
case_actions, which gains the warning, the minute deadline and the centre's answer (result, amount, reference, who)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 18:10:00
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

# payment_requests.status → case_actions.status; the deadlines are the packaged defaults (minutes)
STATUSES = {'pending': 'requested', 'done': 'done', 'rejected': 'failed'}
BACK = {'requested': 'pending', 'done': 'done', 'failed': 'rejected'}
MINUTES = {'stop_payment': 15, 'freeze': 120}


def _payment_requests() -> sa.Table:
    return sa.table('payment_requests', sa.column('id'), sa.column('warning_id'), sa.column('kind'),
                    sa.column('account'), sa.column('amount', sa.Numeric(14, 2)),
                    sa.column('requested_at', fanzha.db.UTCDateTime()), sa.column('by_user_id'),
                    sa.column('status'), sa.column('answered_at', fanzha.db.UTCDateTime()),
                    sa.column('answer_note'))


def _case_actions() -> sa.Table:
    return sa.table('case_actions', sa.column('id'), sa.column('kind'), sa.column('case_id'),
                    sa.column('community_id'), sa.column('target_type'), sa.column('target'),
                    sa.column('holder_name'), sa.column('institution'), sa.column('amount', sa.Numeric(14, 2)),
                    sa.column('status'), sa.column('requested_at', fanzha.db.UTCDateTime()),
                    sa.column('done_at', fanzha.db.UTCDateTime()), sa.column('note'), sa.column('created_by'),
                    sa.column('created_at', fanzha.db.UTCDateTime()), sa.column('warning_id'),
                    sa.column('deadline_at', fanzha.db.UTCDateTime()), sa.column('result'),
                    sa.column('reference'), sa.column('answered_by'))


def upgrade() -> None:
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deadline_at', fanzha.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('result', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('result_amount', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('reference', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('answered_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', fanzha.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_actions_warning_id'), ['warning_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_case_actions_warning_id_warnings'), 'warnings', ['warning_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_case_actions_answered_by_users'), 'users', ['answered_by'],
                                    ['id'])
    conn = op.get_bind()
    pr = _payment_requests()
    warnings = sa.table('warnings', sa.column('id'), sa.column('community_id'))
    rows = conn.execute(sa.select(pr, warnings.c.community_id).select_from(
        pr.join(warnings, warnings.c.id == pr.c.warning_id)).order_by(pr.c.id)).mappings().all()
    ca = _case_actions()
    for r in rows:
        status = STATUSES.get(r['status'], 'requested')
        conn.execute(ca.insert().values(
            kind=r['kind'], case_id=None, community_id=r['community_id'],
            target_type='bank_card' if r['account'].isdigit() and 15 <= len(r['account']) <= 19 else 'other',
            target=r['account'], holder_name='', institution='', amount=r['amount'], status=status,
            requested_at=r['requested_at'], done_at=r['answered_at'], note='', created_by=r['by_user_id'],
            created_at=r['requested_at'], warning_id=r['warning_id'],
            deadline_at=r['requested_at'] + timedelta(minutes=MINUTES.get(r['kind'], 15)),
            result=r['answer_note'] or '', reference='', answered_by=None))
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_requests_warning_id'))
    op.drop_table('payment_requests')


def downgrade() -> None:
    op.create_table('payment_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('requested_at', fanzha.db.UTCDateTime(), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('answered_at', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_payment_requests_by_user_id_users')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_payment_requests_warning_id_warnings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests'))
    )
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_requests_warning_id'), ['warning_id'], unique=False)
    conn = op.get_bind()
    ca = _case_actions()
    rows = conn.execute(sa.select(ca).where(ca.c.warning_id.is_not(None), ca.c.created_by.is_not(None),
                                            ca.c.kind.in_(tuple(MINUTES))).order_by(ca.c.id)).mappings().all()
    pr = _payment_requests()
    for r in rows:
        conn.execute(pr.insert().values(
            warning_id=r['warning_id'], kind=r['kind'], account=r['target'], amount=r['amount'],
            requested_at=r['requested_at'], by_user_id=r['created_by'], status=BACK.get(r['status'], 'pending'),
            answered_at=r['done_at'], answer_note=r['result'] or ''))
    conn.execute(ca.delete().where(ca.c.warning_id.is_not(None), ca.c.case_id.is_(None)))
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_actions_answered_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_case_actions_warning_id_warnings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_actions_warning_id'))
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('answered_by')
        batch_op.drop_column('reference')
        batch_op.drop_column('result_amount')
        batch_op.drop_column('result')
        batch_op.drop_column('deadline_at')
        batch_op.drop_column('warning_id')
