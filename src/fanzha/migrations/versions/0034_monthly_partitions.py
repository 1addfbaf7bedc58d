"""Monthly partitions on PostgreSQL (按月分区): warnings by 预警时间 (warned_at), contacts by contact time (at),
follow_ups by due time (due_at) and cases by 立案时间 (filed_at) become declaratively partitioned tables, one partition
per local month (the configured time zone's month, so a month's query reads one partition) and a DEFAULT partition for
rows outside the months made. The conversion runs in place: the old table is renamed, a partitioned one made with
the same columns, indexes, foreign keys and triggers, the rows copied, the old table dropped.

A partitioned table's unique keys must include the partition key, so the keys that must be unique across all months
move to key tables checked in the same transaction by row triggers:
- warning_keys (id, external_id): 预警编号 unique; an import of the same file twice still creates nothing;
- case_keys (id, case_number): 案件编号 unique;
- follow_up_keys (id, warning_id, case_id, reason): one follow-up per reason per warning or case.
The constraint names are the old ones (uq_warnings_external_id …), so a duplicate reads as it did. The tables that
pointed at warnings.id or cases.id now point at the key tables (ON DELETE CASCADE as before): deleting a warning
deletes its key (a row trigger), and the key's deletion cascades as the warning's did. Dropping a month's partition
keeps its keys, so the 预警编号 of an archived month stays taken.

Partitions are made ahead by fanzha_partitions_ahead(months, tz), a SECURITY DEFINER function owned by the owner role,
so the worker (the application role, which owns no table) can call it every night (fanzha.ops.partitions).

SQLite is unchanged.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from datetime import date

from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

# table: partition key column
PARTITIONED = {"warnings": "warned_at", "contacts": "at", "follow_ups": "due_at", "cases": "filed_at"}
# Months made ahead of the current one at the upgrade (the worker keeps the same number ahead afterwards).
AHEAD = 2

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION fanzha_month_partition(parent regclass, month_start date, tz text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  base text := (SELECT relname FROM pg_class WHERE oid = parent);
  part text := base || '_p' || to_char(month_start, 'YYYY_MM');
  dflt text := base || '_default';
  lo timestamp := (month_start::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC';
  hi timestamp := ((month_start + interval '1 month')::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC';
  keycol text;
  waiting boolean;
BEGIN
  IF base NOT IN ('warnings', 'contacts', 'follow_ups', 'cases') THEN
    RAISE EXCEPTION 'not a Fanzha partitioned table: %', parent;
  END IF;
  IF to_regclass(part) IS NOT NULL THEN
    RETURN NULL;
  END IF;
  SELECT a.attname INTO keycol FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = parent;
  IF keycol IS NULL THEN
    RETURN NULL;  -- not partitioned (yet)
  END IF;
  waiting := false;
  IF to_regclass(dflt) IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', dflt, keycol, keycol)
      INTO waiting USING lo, hi;
  END IF;
  IF waiting THEN
    -- Rows of that month wait in the DEFAULT partition: detach it, make the month, move them in, attach it again.
    EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', base, dflt);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, base, lo, hi);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved', dflt, keycol, keycol, part) USING lo, hi;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I DEFAULT', base, dflt);
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, base, lo, hi);
  END IF;
  RETURN part;
END $$;

CREATE OR REPLACE FUNCTION fanzha_partitions_ahead(months integer, tz text) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t text;
  i integer;
  made text;
  first date := date_trunc('month', now() AT TIME ZONE tz)::date;
BEGIN
  FOREACH t IN ARRAY ARRAY['warnings', 'contacts', 'follow_ups', 'cases'] LOOP
    FOR i IN 0..months LOOP
      made := fanzha_month_partition(t::regclass, (first + make_interval(months => i))::date, tz);
      IF made IS NOT NULL THEN
        RETURN NEXT made;
      END IF;
    END LOOP;
  END LOOP;
END $$;

-- A new row takes its key; a key already there belongs to this very row moving to another month (its old version
-- is gone by then), unless a row with that id is still there: a second row with the same id, refused.
CREATE OR REPLACE FUNCTION fanzha_key_taken(tbl text, keys text, row_id integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  still boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', tbl) INTO still USING row_id;
  IF still THEN
    RAISE unique_violation USING MESSAGE = format('duplicate key value violates unique constraint "pk_%s"', keys),
      DETAIL = format('Key (id)=(%s) already exists.', row_id), CONSTRAINT = 'pk_' || keys, TABLE = keys;
  END IF;
END $$;

-- After a row leaves (not when it moves to another month: the moved row is there again by then). The trigger fires
-- on the partition (TG_TABLE_NAME), so the partitioned table is named in the arguments: (key table, table).
CREATE OR REPLACE FUNCTION fanzha_keys_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM %I k WHERE k.id = $1 AND NOT EXISTS (SELECT 1 FROM %I r WHERE r.id = $1)',
                 TG_ARGV[0], TG_ARGV[1]) USING OLD.id;
  RETURN NULL;
END $$;
"""

# The key tables' row trigger, one shape for the three: table → (key table, key columns).
KEYED = {"warnings": ("warning_keys", ("external_id",)), "cases": ("case_keys", ("case_number",)),
         "follow_ups": ("follow_up_keys", ("warning_id", "case_id", "reason"))}
KEY_PUT = """
CREATE OR REPLACE FUNCTION {keys}_put() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE {keys} SET id = NEW.id, {set_new} WHERE id = OLD.id;
    RETURN NEW;
  END IF;
  INSERT INTO {keys} (id, {columns}) VALUES (NEW.id, {new}) ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    PERFORM fanzha_key_taken('{table}', '{keys}', NEW.id);
    UPDATE {keys} SET {set_new} WHERE id = NEW.id;
  END IF;
  RETURN NEW;
END $$;
"""


def _key_functions() -> str:
    return "".join(KEY_PUT.format(table=table, keys=keys, columns=", ".join(cols),
                                  new=", ".join(f"NEW.{c}" for c in cols),
                                  set_new=", ".join(f"{c} = NEW.{c}" for c in cols))
                   for table, (keys, cols) in KEYED.items())


KEYS = r"""
CREATE TABLE warning_keys (
  id integer NOT NULL CONSTRAINT pk_warning_keys PRIMARY KEY,
  external_id varchar(64) NOT NULL CONSTRAINT uq_warnings_external_id UNIQUE
);
CREATE TABLE case_keys (
  id integer NOT NULL CONSTRAINT pk_case_keys PRIMARY KEY,
  case_number varchar(64) NOT NULL CONSTRAINT uq_cases_case_number UNIQUE
);
CREATE TABLE follow_up_keys (
  id integer NOT NULL CONSTRAINT pk_follow_up_keys PRIMARY KEY,
  warning_id integer CONSTRAINT fk_follow_up_keys_warning_id REFERENCES warning_keys (id) ON DELETE CASCADE,
  case_id integer CONSTRAINT fk_follow_up_keys_case_id REFERENCES case_keys (id) ON DELETE CASCADE,
  reason varchar(12) NOT NULL,
  CONSTRAINT uq_follow_ups_warning_reason UNIQUE (warning_id, reason),
  CONSTRAINT uq_follow_ups_case_reason UNIQUE (case_id, reason)
);
CREATE INDEX ix_follow_up_keys_case_id ON follow_up_keys (case_id);
INSERT INTO warning_keys (id, external_id) SELECT id, external_id FROM warnings;
INSERT INTO case_keys (id, case_number) SELECT id, case_number FROM cases;
INSERT INTO follow_up_keys (id, warning_id, case_id, reason) SELECT id, warning_id, case_id, reason FROM follow_ups;
CREATE TRIGGER warning_keys_put BEFORE INSERT OR UPDATE OF id, external_id ON warnings
  FOR EACH ROW EXECUTE FUNCTION warning_keys_put();
CREATE TRIGGER warning_keys_drop AFTER DELETE ON warnings FOR EACH ROW EXECUTE FUNCTION fanzha_keys_drop('warning_keys', 'warnings');
CREATE TRIGGER case_keys_put BEFORE INSERT OR UPDATE OF id, case_number ON cases
  FOR EACH ROW EXECUTE FUNCTION case_keys_put();
CREATE TRIGGER case_keys_drop AFTER DELETE ON cases FOR EACH ROW EXECUTE FUNCTION fanzha_keys_drop('case_keys', 'cases');
CREATE TRIGGER follow_up_keys_put BEFORE INSERT OR UPDATE OF id, warning_id, case_id, reason ON follow_ups
  FOR EACH ROW EXECUTE FUNCTION follow_up_keys_put();
CREATE TRIGGER follow_up_keys_drop AFTER DELETE ON follow_ups
  FOR EACH ROW EXECUTE FUNCTION fanzha_keys_drop('follow_up_keys', 'follow_ups');
"""

KEY_TRIGGERS = (("warnings", "warning_keys_put"), ("warnings", "warning_keys_drop"), ("cases", "case_keys_put"),
                ("cases", "case_keys_drop"), ("follow_ups", "follow_up_keys_put"),
                ("follow_ups", "follow_up_keys_drop"))
# Foreign keys into the converted tables: which key table each points at instead.
KEY_TABLE = {"warnings": "warning_keys", "cases": "case_keys"}


def _timezone() -> str:
    from fanzha.config import get_settings

    return get_settings().timezone


def _rows(sql: str, **params) -> list:
    from sqlalchemy import text

    return list(op.get_bind().execute(text(sql), params))


def _incoming_foreign_keys(targets) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key pointing at one of `targets`."""
    return [tuple(r) for r in _rows(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.confrelid::regclass::text = ANY(:t) AND c.conparentid = 0 ORDER BY 1, 2", t=list(targets))]


def _month(value) -> date:
    return date(value.year, value.month, 1)


def _partition(table: str, column: str, tz: str) -> None:
    """Converts `table` in place into one partitioned by local month of `column`."""
    old = f"{table}__unpartitioned"
    indexes = [r[0] for r in _rows(
        "SELECT indexdef FROM pg_indexes i WHERE schemaname = 'public' AND tablename = :t AND NOT EXISTS ("
        " SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
        " quote_ident(i.indexname))::regclass AND c.contype IN ('p', 'u')) ORDER BY indexname", t=table)]
    index_names = [r[0] for r in _rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND "
                                       "tablename = :t", t=table)]
    triggers = [r[0] for r in _rows("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                                    "AND NOT tgisinternal ORDER BY tgname", t=table)]
    trigger_names = [r[0] for r in _rows("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                                         "AND NOT tgisinternal", t=table)]
    outgoing = [tuple(r) for r in _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'f' ORDER BY conname", t=table)]
    constraints = [r[0] for r in _rows("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                                       "AND contype IN ('p', 'u', 'f')", t=table)]
    span = _rows(f"SELECT min({column}), max({column}) FROM {table}")[0]

    for name in trigger_names:
        op.execute(f'DROP TRIGGER "{name}" ON {table}')
    for name in constraints:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name in index_names:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
               f"INCLUDING COMMENTS INCLUDING GENERATED INCLUDING IDENTITY) PARTITION BY RANGE ({column})")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {column})")
    op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq OWNED BY {table}.id")

    # A partition for every local month the rows span, through AHEAD months after this one; the rest: DEFAULT.
    today = _rows("SELECT (now() AT TIME ZONE :tz)::date", tz=tz)[0][0]
    first = _month(today)
    if span[0] is not None:
        first = min(first, _month(_rows("SELECT (CAST(:v AS timestamp) AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date",
                                        v=span[0], tz=tz)[0][0]))
    last_row = _month(_rows("SELECT (CAST(:v AS timestamp) AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date",
                            v=span[1], tz=tz)[0][0]) if span[1] is not None else first
    month = first
    ahead = _month(today)
    for _ in range(AHEAD):
        ahead = date(ahead.year + ahead.month // 12, ahead.month % 12 + 1, 1)
    last = max(last_row, ahead)
    while month <= last:
        _rows("SELECT fanzha_month_partition(CAST(:t AS regclass), :m, :tz)", t=table, m=month, tz=tz)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")

    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    for definition in indexes:
        op.execute(definition.replace(f" ON public.{table} ", f" ON {table} "))
    for name, definition in outgoing:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    op.execute(f"DROP TABLE {old}")
    for definition in triggers:
        op.execute(definition)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    tz = _timezone()
    op.execute(FUNCTIONS + _key_functions())
    incoming = _incoming_foreign_keys(PARTITIONED)
    for table, name, _definition in incoming:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, column in PARTITIONED.items():
        _partition(table, column, tz)
    op.execute(KEYS)
    for table, name, definition in incoming:
        target = next(t for t in KEY_TABLE if f"REFERENCES {t}(" in definition)
        definition = definition.replace(f"REFERENCES {target}(", f"REFERENCES {KEY_TABLE[target]}(")
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _unpartition(table: str) -> None:
    """Back to one plain table with the old unique key (the key table's constraint name moves back with it)."""
    old = f"{table}__partitioned"
    indexes = [r[0] for r in _rows(
        "SELECT indexdef FROM pg_indexes i WHERE schemaname = 'public' AND tablename = :t AND indexname <> :pk "
        "ORDER BY indexname", t=table, pk=f"pk_{table}")]
    index_names = [r[0] for r in _rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND "
                                       "tablename = :t", t=table)]
    triggers = [r[0] for r in _rows("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                                    "AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname", t=table)]
    outgoing = [tuple(r) for r in _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'f' AND conparentid = 0 ORDER BY conname", t=table)]
    trigger_names = [r[0] for r in _rows("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                                         "AND NOT tgisinternal AND tgparentid = 0", t=table)]
    for name in trigger_names:
        op.execute(f'DROP TRIGGER "{name}" ON {table}')
    for name, _definition in outgoing:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
    for name in index_names:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
               f"INCLUDING COMMENTS INCLUDING GENERATED INCLUDING IDENTITY)")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq OWNED BY {table}.id")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old} CASCADE")
    for definition in indexes:
        op.execute(definition.replace(f" ON ONLY public.{table} ", f" ON {table} ")
                   .replace(f" ON public.{table} ", f" ON {table} "))
    for name, definition in outgoing:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for definition in triggers:
        op.execute(definition)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    incoming = _incoming_foreign_keys(KEY_TABLE.values())
    incoming = [row for row in incoming if row[0] != "follow_up_keys"]
    for table, name, _definition in incoming:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, trigger in KEY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for table in PARTITIONED:
        _unpartition(table)
    op.execute("DROP TABLE follow_up_keys")
    op.execute("DROP TABLE warning_keys")
    op.execute("DROP TABLE case_keys")
    op.execute("ALTER TABLE warnings ADD CONSTRAINT uq_warnings_external_id UNIQUE (external_id)")
    op.execute("ALTER TABLE cases ADD CONSTRAINT uq_cases_case_number UNIQUE (case_number)")
    op.execute("ALTER TABLE follow_ups ADD CONSTRAINT uq_follow_ups_warning_reason UNIQUE (warning_id, reason)")
    op.execute("ALTER TABLE follow_ups ADD CONSTRAINT uq_follow_ups_case_reason UNIQUE (case_id, reason)")
    for table, name, definition in incoming:
        target = next(t for t, k in KEY_TABLE.items() if f"REFERENCES {k}(" in definition)
        definition = definition.replace(f"REFERENCES {KEY_TABLE[target]}(", f"REFERENCES {target}(")
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name in ("fanzha_partitions_ahead(integer, text)", "fanzha_month_partition(regclass, date, text)",
                 "warning_keys_put()", "case_keys_put()", "follow_up_keys_put()", "fanzha_keys_drop()",
                 "fanzha_key_taken(text, text, integer)"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
