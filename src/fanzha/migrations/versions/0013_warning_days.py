"""warning day roll-ups for the metrics: warning_days, warned_people_days, the dirty-day log and its triggers;
(person_id, warned_at) index in place of (person_id)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 20:45:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Columns the metrics read: a change to any other column (note, assignee, export mark …) marks nothing.
COUNTED = ["warned_at", "community_id", "station_id", "person_id", "dispatched_at", "signed_at", "sign_deadline",
           "face_required", "face_at", "outcome", "feedback_at", "feedback_deadline", "first_contact_at", "amount"]

# PostgreSQL: one statement-level trigger per event (COPY fires the INSERT one), reading the transition tables.
# Logged: the UTC hour of each changed warning, old and new, and that of the same person's next warning (its
# "previous warning" is what warned_people_days counts by); an hour falls in one local day in China.
MARK = """
        WITH c AS ({rows})
        INSERT INTO warning_days_dirty (hour)
        SELECT DISTINCT date_trunc('hour', h) FROM (
            SELECT c.warned_at AS h FROM c
            UNION ALL
            SELECT (SELECT min(w.warned_at) FROM warnings AS w
                    WHERE w.person_id = c.person_id AND w.warned_at > c.warned_at)
            FROM c WHERE c.person_id IS NOT NULL) AS x
        WHERE h IS NOT NULL;"""


def pg_function(counted: list[str], create: str = "CREATE") -> str:
    """The PostgreSQL trigger function that marks the hours of warnings changed in any of `counted` (0019 replaces
    it with a longer list)."""
    changed = ("SELECT {side}.warned_at, {side}.person_id FROM warning_days_old AS o JOIN warning_days_new AS n "
               "ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new})").format(
        side="{side}", old=", ".join(f"o.{c}" for c in counted), new=", ".join(f"n.{c}" for c in counted))
    return """
{create} FUNCTION warning_days_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{insert}
    ELSIF TG_OP = 'DELETE' THEN{delete}
    ELSE{update}
    END IF;
    RETURN NULL;
END $$
""".format(create=create, insert=MARK.format(rows="SELECT warned_at, person_id FROM warning_days_new"),
           delete=MARK.format(rows="SELECT warned_at, person_id FROM warning_days_old"),
           update=MARK.format(rows=changed.format(side="o") + " UNION ALL " + changed.format(side="n")))


PG_FUNCTION = pg_function(COUNTED)

PG_TRIGGERS = [
    "CREATE TRIGGER warning_days_insert AFTER INSERT ON warnings REFERENCING NEW TABLE AS warning_days_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION warning_days_mark()",
    "CREATE TRIGGER warning_days_update AFTER UPDATE ON warnings "
    "REFERENCING OLD TABLE AS warning_days_old NEW TABLE AS warning_days_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION warning_days_mark()",
    "CREATE TRIGGER warning_days_delete AFTER DELETE ON warnings REFERENCING OLD TABLE AS warning_days_old "
    "FOR EACH STATEMENT EXECUTE FUNCTION warning_days_mark()",
]


def _sqlite_marks(row: str) -> str:
    hour = "'%Y-%m-%d %H:00:00.000000'"
    return (f"INSERT INTO warning_days_dirty (hour) VALUES (strftime({hour}, {row}.warned_at)); "
            f"INSERT INTO warning_days_dirty (hour) SELECT strftime({hour}, min(w.warned_at)) FROM warnings AS w "
            f"WHERE {row}.person_id IS NOT NULL AND w.person_id = {row}.person_id AND w.warned_at > {row}.warned_at "
            f"HAVING min(w.warned_at) IS NOT NULL;")


def sqlite_update_trigger(counted: list[str]) -> str:
    """SQLite's update trigger, which lists the columns it watches (0019 replaces it with a longer list)."""
    return (f"CREATE TRIGGER warning_days_update AFTER UPDATE OF {', '.join(counted)} ON warnings WHEN "
            + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in counted)
            + f" BEGIN {_sqlite_marks('OLD')} {_sqlite_marks('NEW')} END")


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER warning_days_insert AFTER INSERT ON warnings BEGIN {_sqlite_marks('NEW')} END",
    sqlite_update_trigger(COUNTED),
    f"CREATE TRIGGER warning_days_delete AFTER DELETE ON warnings BEGIN {_sqlite_marks('OLD')} END",
]


def upgrade() -> None:
    op.create_table('warned_people_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('previous_day', sa.Date(), nullable=True),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warned_people_days'))
    )
    op.create_index(op.f('ix_warned_people_days_day'), 'warned_people_days', ['day'], unique=False)
    op.create_table('warning_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('dispatched', sa.Integer(), nullable=False),
    sa.Column('signed', sa.Integer(), nullable=False),
    sa.Column('signed_on_time', sa.Integer(), nullable=False),
    sa.Column('face_required', sa.Integer(), nullable=False),
    sa.Column('face_done', sa.Integer(), nullable=False),
    sa.Column('outcome_counted', sa.Integer(), nullable=False),
    sa.Column('dissuaded', sa.Integer(), nullable=False),
    sa.Column('fed_back', sa.Integer(), nullable=False),
    sa.Column('fed_back_late', sa.Integer(), nullable=False),
    sa.Column('last_feedback_deadline', fanzha.db.UTCDateTime(), nullable=True),
    sa.Column('response_minutes', sa.Float(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('loss_avoided', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_days'))
    )
    op.create_index('ix_warning_days_day_community', 'warning_days', ['day', 'community_id'], unique=False)
    op.create_index('ix_warning_days_last_feedback_deadline', 'warning_days', ['last_feedback_deadline'],
                    unique=False)
    op.create_table('warning_days_dirty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hour', fanzha.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_days_dirty'))
    )
    op.create_index(op.f('ix_warning_days_dirty_hour'), 'warning_days_dirty', ['hour'], unique=False)
    op.create_table('warning_days_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_days_state'))
    )
    op.drop_index('ix_warnings_person_id', table_name='warnings')
    op.create_index('ix_warnings_person_warned', 'warnings', ['person_id', 'warned_at'], unique=False,
                    postgresql_include=['community_id'])
    # No state row: the first reading of the metrics finds none, marks every day with warnings and builds the
    # days it reads (metrics.refresh_days).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for name in ("warning_days_insert", "warning_days_update", "warning_days_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON warnings" if op.get_bind().dialect.name == "postgresql"
                                                       else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS warning_days_mark()")
    op.drop_index('ix_warnings_person_warned', table_name='warnings')
    op.create_index('ix_warnings_person_id', 'warnings', ['person_id'], unique=False)
    op.drop_table('warning_days_state')
    op.drop_index(op.f('ix_warning_days_dirty_hour'), table_name='warning_days_dirty')
    op.drop_table('warning_days_dirty')
    op.drop_index('ix_warning_days_last_feedback_deadline', table_name='warning_days')
    op.drop_index('ix_warning_days_day_community', table_name='warning_days')
    op.drop_table('warning_days')
    op.drop_index(op.f('ix_warned_people_days_day'), table_name='warned_people_days')
    op.drop_table('warned_people_days')
