"""回访 complete: a 回访 of a filed case's victim (case_id, no warning), the station and community that do and scope
it, the field's states (earlier outcomes mapped: safe → 未被骗, defrauded_later → 已被骗, not_confirmed → 不符,
unreachable → 确实找不到), 宣防漏洞 as categories (an earlier free-text 漏洞 becomes 其他 with its text), tries of
暂时找不到, and its escalation when overdue. The victims of cases filed in the 30 days before the upgrade are scheduled
as new ones would be, marked not to escalate, as are the 回访 already overdue at the upgrade.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 20:10:00
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

OLD_STATES = {"safe": "not_defrauded", "defrauded_later": "defrauded", "not_confirmed": "mismatch",
              "unreachable": "not_found"}
CASE_WINDOW_DAYS, CASE_DUE_DAYS = 30, 7  # as dissuasion/followups/rules.py had them at this revision


def _stations(conn) -> dict[int, int]:
    """community id → station id (through its 警务区 when a beat covers it), as warnings/dispatch places warnings."""
    police = {i: (level, parent) for i, level, parent in conn.execute(sa.text(
        "SELECT id, level, parent_id FROM areas WHERE level IN ('station', 'beat')"))}
    out = {}
    for cid, pid in conn.execute(sa.text("SELECT id, police_area_id FROM areas WHERE level = 'community'")):
        if pid in police:
            out[cid] = pid if police[pid][0] == 'station' else police[pid][1]
    return out


def upgrade() -> None:
    op.drop_index('ix_follow_ups_open', table_name='follow_ups')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.alter_column('warning_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('station_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('gaps', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('tries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('escalates', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('escalated', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('escalated_at', fanzha.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_case_id_cases'), 'cases', ['case_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_station_id_areas'), 'areas', ['station_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_community_id_areas'), 'areas', ['community_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_follow_ups_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_community_id'), ['community_id'], unique=False)
        batch_op.create_unique_constraint('uq_follow_ups_case_reason', ['case_id', 'reason'])
    op.create_index('ix_follow_ups_open', 'follow_ups', ['due_at'], unique=False,
                    postgresql_where=sa.text('done_at IS NULL'), sqlite_where=sa.text('done_at IS NULL'))
    conn = op.get_bind()
    for old, new in OLD_STATES.items():
        conn.execute(sa.text("UPDATE follow_ups SET outcome = :new WHERE outcome = :old"), {"old": old, "new": new})
    conn.execute(sa.text("UPDATE follow_ups SET community_id = (SELECT community_id FROM warnings "
                         "WHERE warnings.id = follow_ups.warning_id), station_id = (SELECT station_id FROM warnings "
                         "WHERE warnings.id = follow_ups.warning_id)"))
    follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer()), sa.column('gaps', sa.JSON()),
                          sa.column('case_id', sa.Integer()), sa.column('station_id', sa.Integer()),
                          sa.column('community_id', sa.Integer()), sa.column('reason', sa.String()),
                          sa.column('due_at', fanzha.db.UTCDateTime()), sa.column('done_at', fanzha.db.UTCDateTime()),
                          sa.column('missed_outreach', sa.Text()),
                          sa.column('note', sa.Text()), sa.column('escalates', sa.Boolean()))
    with_text = [i for (i,) in conn.execute(sa.text("SELECT id FROM follow_ups WHERE missed_outreach <> ''"))]
    for i in with_text:  # a 漏洞 written as text is 其他 with that text
        conn.execute(follow_ups.update().where(follow_ups.c.id == i).values(gaps=["other"]))
    # Every victim (a person, ID number or phone) of a case filed in the last 30 days and placed in a station's
    # community gets its 回访 as a new case would, due a week after filing (at least a day from now); these were
    # never anyone's task before, so they do not escalate.
    now = datetime.now(UTC)
    since = now - timedelta(days=CASE_WINDOW_DAYS)
    # 回访 already overdue were never anyone's escalation: they stay in the queue as they are, without flooding the
    # station heads and the centre on the first minute after the upgrade.
    conn.execute(sa.update(follow_ups).where(follow_ups.c.done_at.is_(None), follow_ups.c.due_at < now).values(escalates=False))
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('community_id', sa.Integer()),
                     sa.column('filed_at', fanzha.db.UTCDateTime()), sa.column('person_id', sa.Integer()),
                     sa.column('id_number', sa.String()), sa.column('phone', sa.String()))
    station_of = _stations(conn)
    rows = []
    for cid, community_id, filed_at in conn.execute(sa.select(cases.c.id, cases.c.community_id, cases.c.filed_at).where(
            cases.c.filed_at >= since, cases.c.community_id.is_not(None),
            sa.or_(cases.c.person_id.is_not(None), cases.c.id_number.is_not(None), cases.c.phone.is_not(None)))
            .order_by(cases.c.id)):
        if community_id not in station_of:
            continue
        rows.append({"case_id": cid, "station_id": station_of[community_id], "community_id": community_id,
                     "reason": "case", "due_at": max(filed_at + timedelta(days=CASE_DUE_DAYS), now + timedelta(days=1)),
                     "gaps": [], "missed_outreach": "", "note": "", "escalates": False})
    if rows:
        op.bulk_insert(follow_ups, rows)


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM follow_ups WHERE warning_id IS NULL"))
    # 暂时找不到 was never a state before: such a 回访 is open again; the others go back to the nearest old outcome.
    conn.execute(sa.text("UPDATE follow_ups SET outcome = NULL WHERE outcome = 'not_found_yet'"))
    for old, new in OLD_STATES.items():
        conn.execute(sa.text("UPDATE follow_ups SET outcome = :old WHERE outcome = :new"), {"old": old, "new": new})
    conn.execute(sa.text("UPDATE follow_ups SET outcome = 'safe' WHERE outcome IN ('dissuaded', 'repeat')"))
    op.drop_index('ix_follow_ups_open', table_name='follow_ups')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint('uq_follow_ups_case_reason', type_='unique')
        batch_op.drop_index(batch_op.f('ix_follow_ups_community_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_station_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_case_id'))
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_community_id_areas'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_station_id_areas'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalated')
        batch_op.drop_column('escalates')
        batch_op.drop_column('tries')
        batch_op.drop_column('gaps')
        batch_op.drop_column('community_id')
        batch_op.drop_column('station_id')
        batch_op.drop_column('case_id')
        batch_op.alter_column('warning_id', existing_type=sa.Integer(), nullable=False)
    op.create_index('ix_follow_ups_open', 'follow_ups', ['due_at'], unique=False,
                    postgresql_where=sa.text('done_at IS NULL'), sqlite_where=sa.text('done_at IS NULL'))
