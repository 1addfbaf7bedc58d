"""The case statistics roll-up (案件统计汇总表): exact sums per (grain, local day, community, dimension, value).

Every case contributes, for each of its dimension values (all / type / channel / sex / age band / occupation /
group / loss band / 可防性), three events: 立案 on its filing day (count, loss, recovered, frozen), 破案 on its
solved day and 抓获 on its caught day (suspects), each added to a day cell, a month cell and a year cell. A period is
then read as the fewest cells that cover it (whole years, whole months, single days), so a year of a city is a few
thousand rows however many cases it holds.

The table is kept exact by the database itself, whoever writes the cases (form, import, COPY, a hand-written UPDATE).
On PostgreSQL three statement-level triggers only append the statement's rows (transition tables) to the journal
`case_stat_journal` with a sign (+1 new, −1 old) — a cheap INSERT … SELECT — and every reader first calls
`fold_pending`, which moves the whole journal into the cells with one grouped upsert (DELETE … RETURNING in the same
statement, so rows one transaction folds are not folded again by another). On SQLite row-level triggers fold each
row into the cells at once. Every change is "subtract the old row, add the new one", so a case moved between
communities, retyped, solved or deleted moves its counts. Cells that fall back to zero stay as zero rows (readers
skip them) until `rebuild`. `rebuild` recomputes the table from the cases with the same SQL, empties the journal,
and re-creates the triggers with the configured time zone's offset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from fanzha.cases.stats.definitions import AGE_BAND_SQL, LOSS_BAND_SQL
from fanzha.cases.stats.definitions import MEASURES as DEFINED
from fanzha.common.localtime import zone
from fanzha.common.periods import add_months, month_end
from fanzha.db import Base, UTCDateTime

TABLE = "case_stat_cells"
GRAINS = ("d", "m", "y")  # day, month (first day), year (1 January)
# Columns of `cases` the roll-up reads; a trigger folds exactly these.
SOURCE_COLUMNS = ("community_id", "filed_at", "solved_at", "caught_at", "suspects_caught", "fraud_type",
                  "loss_amount", "recovered_amount", "frozen_amount", "channel", "victim_sex", "victim_age",
                  "victim_occupation", "victim_groups", "preventable")

PREVENTABLE_SQL = "CASE WHEN {c}.preventable IS NULL THEN '' WHEN {c}.preventable THEN 'yes' ELSE 'no' END"


class CaseStatCell(Base):
    """One cell of the roll-up. Amounts in fen (分) as integers, so sums are exact on every database."""

    __tablename__ = TABLE

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    # 0: cases on no community; −1 (WHOLE): all cases on a community, so a whole-city view reads a few cells
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    loss_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    frozen_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    solved: Mapped[int] = mapped_column(Integer, default=0)
    suspects: Mapped[int] = mapped_column(Integer, default=0)


# Changes to `cases` not yet folded into the cells (PostgreSQL): each row a case's counted columns with +1 (added)
# or −1 (taken away). The same column types as `cases`; no key, it is only ever appended to and emptied whole.
JOURNAL = "case_stat_journal"
case_stat_journal = Table(
    JOURNAL, Base.metadata,
    Column("sign", SmallInteger, nullable=False),
    Column("community_id", Integer), Column("filed_at", UTCDateTime, nullable=False),
    Column("solved_at", UTCDateTime), Column("caught_at", UTCDateTime),
    Column("suspects_caught", Integer, nullable=False), Column("fraud_type", String(32), nullable=False),
    Column("loss_amount", Numeric(14, 2), nullable=False), Column("recovered_amount", Numeric(14, 2), nullable=False),
    Column("frozen_amount", Numeric(14, 2), nullable=False), Column("channel", String(16), nullable=False),
    Column("victim_sex", String(2), nullable=False), Column("victim_age", Integer),
    Column("victim_occupation", String(32), nullable=False), Column("victim_groups", JSON, nullable=False),
    Column("preventable", Boolean),
)

MEASURES = ("cases", "loss_cents", "recovered_cents", "frozen_cents", "solved", "suspects")
# Each cell column adds one figure of definitions.MEASURES (same order), on the day of the figure's time.
EVENT_OF_TIME = {"filed_at": "f", "solved_at": "s", "caught_at": "c"}
# The key, in the order that lets a read be short index ranges: one dimension, one community, a run of days.
KEY = ("grain", "dim", "community_id", "day", "value")
WHOLE = -1
DIMS = ("all", "type", "channel", "sex", "age", "occupation", "loss", "preventable", "group")


def offset_minutes() -> int:
    """The configured zone's offset from UTC now (Asia/Shanghai: +480, the same all year since 1991)."""
    return int(datetime.now(zone()).utcoffset().total_seconds() // 60)


def _local(dialect: str, column: str, minutes: int, grain: str) -> str:
    if dialect == "postgresql":
        shifted = f"({column} + interval '{minutes} minutes')"
        return {"d": f"CAST({shifted} AS date)", "m": f"CAST(date_trunc('month', {shifted}) AS date)",
                "y": f"CAST(date_trunc('year', {shifted}) AS date)"}[grain]
    mod = {"d": "", "m": ", 'start of month'", "y": ", 'start of year'"}[grain]
    return f"date({column}, '{minutes:+d} minutes'{mod})"


def _cents(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(round({column} * 100) AS bigint)"
    return f"CAST(round({column} * 100) AS INTEGER)"


def _dims(dialect: str, src: str) -> str:
    """One row per (case row, dimension value) of `src`, which has a `sign` column and SOURCE_COLUMNS."""
    cols = ", ".join(f"s.{c}" for c in SOURCE_COLUMNS if c != "victim_groups")
    plain = [("'all'", "''"), ("'type'", "s.fraud_type"), ("'channel'", "s.channel"), ("'sex'", "s.victim_sex"),
             ("'age'", AGE_BAND_SQL.format(c="s")), ("'occupation'", "s.victim_occupation"),
             ("'loss'", LOSS_BAND_SQL.format(c="s")), ("'preventable'", PREVENTABLE_SQL.format(c="s"))]
    parts = [f"SELECT s.sign AS sign, {dim} AS dim, {value} AS value, {cols} FROM {src} AS s" for dim, value in plain]
    if dialect == "postgresql":
        groups = ("SELECT DISTINCT t.g FROM json_array_elements_text(CASE WHEN json_typeof(s.victim_groups) = 'array' "
                  "THEN s.victim_groups ELSE '[]'::json END) AS t(g)")
        parts.append(f"SELECT s.sign AS sign, 'group' AS dim, j.g AS value, {cols} FROM {src} AS s, "
                     f"LATERAL ({groups}) AS j")
    else:
        parts.append(f"SELECT s.sign AS sign, 'group' AS dim, j.value AS value, {cols} FROM {src} AS s, "
                     f"json_each(CASE WHEN json_type(s.victim_groups) = 'array' THEN s.victim_groups ELSE '[]' END) "
                     f"AS j GROUP BY s.rowid_, j.value")
    return " UNION ALL ".join(parts)


def _roll(dialect: str, column: str, grain: str) -> str:
    """A local day's month ('m') or year ('y') cell key."""
    if dialect == "postgresql":
        unit = {"m": "month", "y": "year"}[grain]
        return f"CAST(date_trunc('{unit}', {column}) AS date)"
    return f"date({column}, 'start of {'month' if grain == 'm' else 'year'}')"


def delta_sql(dialect: str, src: str, minutes: int, *, upsert: bool = True, cte: str = "") -> str:
    """INSERT … SELECT adding `src`'s rows (each with its `sign`, +1 or −1) to the roll-up: the facts are summed
    into day cells once, and the month and year cells are sums of those. `cte` (PostgreSQL): a first
    `name AS (…)` of the WITH, which `src` may name."""
    events = "SELECT 'f' AS ev UNION ALL SELECT 's' UNION ALL SELECT 'c'"
    at = "CASE e.ev WHEN 'f' THEN x.filed_at WHEN 's' THEN x.solved_at ELSE x.caught_at END"
    facts = (f"SELECT e.ev AS ev, {at} AS ts, x.* FROM ({_dims(dialect, src)}) AS x, ({events}) AS e "
             "WHERE e.ev = 'f' OR (e.ev = 's' AND x.solved_at IS NOT NULL) "
             "OR (e.ev = 'c' AND x.caught_at IS NOT NULL AND x.suspects_caught <> 0)")

    def on(ev: str, expr: str) -> str:
        return f"sum(CASE WHEN v.ev = '{ev}' THEN v.sign * {expr} ELSE 0 END)"

    def added(m, column: str) -> str:  # one figure's cell column: a count, a sum of yuan in fen, or a plain sum
        expr = "1" if not m.summed else _cents(dialect, f"v.{m.summed}") if m.unit == "元" else f"v.{m.summed}"
        return f"{on(EVENT_OF_TIME[m.counted_by], expr)} AS {column}"

    figures = ", ".join(added(m, column) for m, column in zip(DEFINED.values(), MEASURES, strict=True))
    days = (f"SELECT {_local(dialect, 'v.ts', minutes, 'd')} AS day, coalesce(v.community_id, 0) AS community_id, "
            f"v.dim AS dim, coalesce(v.value, '') AS value, {figures} "
            f"FROM ({facts}) AS v GROUP BY 1, 2, 3, 4")
    measures = ", ".join(MEASURES)
    sums = ", ".join(f"sum(d.{m})" for m in MEASURES)
    update = ", ".join(f"{m} = {TABLE}.{m} + excluded.{m}" for m in MEASURES)
    head = f"INSERT INTO {TABLE} (grain, day, community_id, dim, value, {measures}) "
    tail = f" ON CONFLICT (grain, dim, community_id, day, value) DO UPDATE SET {update}" if upsert else ""

    # A cell whose change nets to zero (a case moved within a month, an update subtracted and added back) is
    # not written at all.
    nonzero = " OR ".join(f"d.{m} <> 0" for m in MEASURES)
    nonzero_sum = " HAVING " + " OR ".join(f"sum(d.{m}) <> 0" for m in MEASURES)

    def with_whole(days_sql: str) -> str:  # each community's day cells, and the whole city's (community −1)
        return (f"SELECT d.day, d.community_id, d.dim, d.value, {', '.join(f'd.{m}' for m in MEASURES)} "
                f"FROM {days_sql} AS d WHERE {nonzero} UNION ALL SELECT d.day, {WHOLE}, d.dim, d.value, {sums} "
                f"FROM {days_sql} AS d WHERE d.community_id <> 0 GROUP BY d.day, d.dim, d.value{nonzero_sum}")

    if dialect == "postgresql":  # the day cells computed once, then summed into months and years
        rolled = " UNION ALL ".join(
            f"SELECT '{g}', {_roll(dialect, 'd.day', g)}, d.community_id, d.dim, d.value, {sums} FROM cells AS d "
            f"GROUP BY 2, 3, 4, 5{nonzero_sum}" for g in ("m", "y"))
        first = f"{cte}, " if cte else ""
        return (f"WITH {first}days AS MATERIALIZED ({days}), cells AS MATERIALIZED ({with_whole('days')}) {head}"
                f"SELECT 'd', d.day, d.community_id, d.dim, d.value, {', '.join(f'd.{m}' for m in MEASURES)} "
                f"FROM cells AS d UNION ALL {rolled}{tail}")
    # SQLite allows no WITH inside a trigger: the grains as a cross join over the day cells
    grains = " UNION ALL ".join(f"SELECT '{g}' AS grain" for g in GRAINS)
    key = (f"CASE g.grain WHEN 'd' THEN d.day WHEN 'm' THEN {_roll(dialect, 'd.day', 'm')} "
           f"ELSE {_roll(dialect, 'd.day', 'y')} END")
    return (f"{head}SELECT g.grain, {key}, d.community_id, d.dim, d.value, {sums} "
            f"FROM ({with_whole(f'({days})')}) AS d, ({grains}) AS g GROUP BY 1, 2, 3, 4, 5{nonzero_sum}{tail}")


def _source(dialect: str, table: str, sign: int, *, changed_against: str = "") -> str:
    """Rows of `table` with their sign; with `changed_against`, only rows whose counted columns differ from the
    same case's row there (an UPDATE of the narrative or the type's status then folds nothing)."""
    cols = ", ".join(f"{table}.{c}" for c in SOURCE_COLUMNS)
    rowid = "" if dialect == "postgresql" else f", {table}.rowid AS rowid_" if table == "cases" else ", 0 AS rowid_"
    where = ""
    if changed_against:
        def row(t: str) -> str:
            return "ROW(" + ", ".join(f"{t}.{c}::text" if c == "victim_groups" else f"{t}.{c}"
                                      for c in SOURCE_COLUMNS) + ")"
        where = (f" WHERE NOT EXISTS (SELECT 1 FROM {changed_against} AS o WHERE o.id = {table}.id "
                 f"AND {row('o')} IS NOT DISTINCT FROM {row(table)})")
    return f"(SELECT {sign} AS sign, {cols}{rowid} FROM {table}{where})"


def _sqlite_row(alias: str, sign: int) -> str:
    cols = ", ".join(f"{alias}.{c} AS {c}" for c in SOURCE_COLUMNS)
    return f"(SELECT {sign} AS sign, {cols}, 0 AS rowid_)"


def trigger_ddl(dialect: str, minutes: int, *, journal: bool = True) -> list[str]:
    """Statements that (re)create the triggers keeping the roll-up exact. On PostgreSQL, `journal=False` gives
    the triggers of before the journal (migration 0016), which fold each statement at once."""
    if dialect == "postgresql" and not journal:
        # (Folding an UPDATE's old and new rows in one grouped statement would write fewer cells, but PostgreSQL
        # plans the union of the two transition tables badly: minutes for 1,000 rows.)
        add_new = delta_sql(dialect, _source(dialect, "new_rows", 1), minutes)
        sub_old = delta_sql(dialect, _source(dialect, "old_rows", -1), minutes)
        sub_changed = delta_sql(dialect, _source(dialect, "old_rows", -1, changed_against="new_rows"), minutes)
        add_changed = delta_sql(dialect, _source(dialect, "new_rows", 1, changed_against="old_rows"), minutes)
    elif dialect == "postgresql":
        # The triggers only append to the journal (cheap to plan and run); `fold_pending` folds it.
        def append(src: str) -> str:
            return f"INSERT INTO {JOURNAL} (sign, {', '.join(SOURCE_COLUMNS)}) SELECT * FROM {src} AS j"

        add_new = append(_source(dialect, "new_rows", 1))
        sub_old = append(_source(dialect, "old_rows", -1))
        # An UPDATE: the changed rows' old values subtracted, their new ones added; rows whose counted columns are
        # unchanged add nothing.
        sub_changed = append(_source(dialect, "old_rows", -1, changed_against="new_rows"))
        add_changed = append(_source(dialect, "new_rows", 1, changed_against="old_rows"))
    if dialect == "postgresql":
        body = (f"BEGIN IF TG_OP = 'INSERT' THEN {add_new}; ELSIF TG_OP = 'DELETE' THEN {sub_old}; "
                f"ELSE {sub_changed}; {add_changed}; END IF; RETURN NULL; END;")
        out = [*drop_ddl(dialect),
               f"CREATE FUNCTION case_stat_fold() RETURNS trigger LANGUAGE plpgsql AS $fold$ {body} $fold$"]
        for op, ref in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
            out.append(f"CREATE TRIGGER case_stat_{op.lower()} AFTER {op} ON cases REFERENCING {ref} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION case_stat_fold()")
        return out
    add_new = delta_sql(dialect, _sqlite_row("NEW", 1), minutes)
    sub_old = delta_sql(dialect, _sqlite_row("OLD", -1), minutes)
    return [*drop_ddl(dialect),
            f"CREATE TRIGGER case_stat_insert AFTER INSERT ON cases BEGIN {add_new}; END",
            f"CREATE TRIGGER case_stat_update AFTER UPDATE OF {', '.join(SOURCE_COLUMNS)} ON cases "
            f"BEGIN {sub_old}; {add_new}; END",
            f"CREATE TRIGGER case_stat_delete AFTER DELETE ON cases BEGIN {sub_old}; END"]


def drop_ddl(dialect: str) -> list[str]:
    out = [f"DROP TRIGGER IF EXISTS case_stat_{op} ON cases" if dialect == "postgresql"
           else f"DROP TRIGGER IF EXISTS case_stat_{op}" for op in ("insert", "update", "delete")]
    if dialect == "postgresql":
        out.append("DROP FUNCTION IF EXISTS case_stat_fold()")
    return out


def has_journal(conn: Connection) -> bool:
    """Whether the journal table is there (not yet while migration 0012 runs)."""
    return inspect(conn).has_table(JOURNAL)


def install(conn: Connection, minutes: int | None = None, *, journal: bool | None = None) -> None:
    journal = has_journal(conn) if journal is None else journal
    for stmt in trigger_ddl(conn.dialect.name, offset_minutes() if minutes is None else minutes, journal=journal):
        conn.exec_driver_sql(stmt)


def fold_sql(minutes: int) -> str:
    """PostgreSQL: one statement that empties the journal and adds what it held to the cells."""
    cols = ", ".join(("sign", *SOURCE_COLUMNS))
    return delta_sql("postgresql", "moved", minutes, cte=f"moved AS (DELETE FROM {JOURNAL} RETURNING {cols})")


def fold_pending(conn: Connection) -> None:
    """Fold the journal into the cells (PostgreSQL; SQLite's triggers fold at once). Every reader of the cells
    calls this first, in its own transaction: the journal rows it can see are deleted and added in one statement,
    so a concurrent reader either folds other rows or waits for this one and then skips the rows deleted here.
    An empty journal costs one cheap query (no grouped statement is planned)."""
    if conn.dialect.name != "postgresql":
        return
    if conn.exec_driver_sql(f"SELECT 1 FROM {JOURNAL} LIMIT 1").first() is None:
        return
    conn.exec_driver_sql(fold_sql(offset_minutes()))


def pending_sql(minutes: int) -> str:
    """PostgreSQL: the journal's rows as cells (grain, day, community_id, dim, value, measures…) without moving
    them — what a read-only transaction (the read replica, docs/deploy.md) adds to the cells it cannot fold into."""
    cols = ", ".join(("sign", *SOURCE_COLUMNS))
    sql = delta_sql("postgresql", "moved", minutes, upsert=False, cte=f"moved AS (SELECT {cols} FROM {JOURNAL})")
    head = f"INSERT INTO {TABLE} (grain, day, community_id, dim, value, {', '.join(MEASURES)}) "
    assert head in sql
    return f"SELECT * FROM ({sql.replace(head, '', 1)}) AS pending ({', '.join((*KEY_ORDER, *MEASURES))})"


KEY_ORDER = ("grain", "day", "community_id", "dim", "value")  # the columns delta_sql's SELECT gives, in order


def cells_with_pending(conn: Connection):
    """The cells as a reader counts them: the table itself once `fold_pending` has emptied the journal; in a
    read-only transaction (a replica cannot fold) with a journal to fold, the cells plus the journal's rows as
    cells (an entity with the table's columns, for the same queries)."""
    from sqlalchemy import union_all
    from sqlalchemy.orm import aliased

    if conn.dialect.name != "postgresql" or conn.exec_driver_sql(f"SELECT 1 FROM {JOURNAL} LIMIT 1").first() is None:
        return CaseStatCell
    columns = [CaseStatCell.__table__.c[name] for name in (*KEY_ORDER, *MEASURES)]
    pending = text(pending_sql(offset_minutes())).columns(*columns)
    both = union_all(CaseStatCell.__table__.select().with_only_columns(*columns), pending).subquery("cells")
    return aliased(CaseStatCell, both)


def rebuild(conn: Connection) -> int:
    """Recompute the whole roll-up from the cases (and re-create the triggers); returns the number of cells.
    On PostgreSQL the table is emptied and its key dropped, filled by one grouped INSERT and the key built again
    (one sort instead of millions of index insertions); the table is locked meanwhile."""
    dialect = conn.dialect.name
    minutes = offset_minutes()
    journal = has_journal(conn)
    install(conn, minutes, journal=journal)
    if dialect == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {TABLE}, {JOURNAL}" if journal else f"TRUNCATE {TABLE}")
        conn.exec_driver_sql(f"ALTER TABLE {TABLE} DROP CONSTRAINT pk_{TABLE}")
        conn.exec_driver_sql(delta_sql(dialect, _source(dialect, "cases", 1), minutes, upsert=False))
        conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY ({', '.join(KEY)})")
    else:
        conn.exec_driver_sql(f"DELETE FROM {TABLE}")
        if journal:
            conn.exec_driver_sql(f"DELETE FROM {JOURNAL}")
        conn.exec_driver_sql(delta_sql(dialect, _source(dialect, "cases", 1), minutes))
    conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE " + " AND ".join(f"{m} = 0" for m in MEASURES))
    return int(conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar() or 0)


def cover(start: date, end: date) -> list[tuple[str, date, date]]:
    """The fewest cells covering the local days start..end (both included): whole years ('y'), whole months ('m'),
    single days ('d'), as (grain, first cell key, last cell key) runs of consecutive keys."""
    runs: list[tuple[str, date, date]] = []
    d = start
    while d <= end:
        if d.month == 1 and d.day == 1 and date(d.year, 12, 31) <= end:
            grain, key, nxt = "y", d, date(d.year + 1, 1, 1)
        elif d.day == 1 and month_end(d) <= end:
            grain, key, nxt = "m", d, add_months(d, 1)
        else:
            grain, key, nxt = "d", d, d + timedelta(days=1)
        if runs and runs[-1][0] == grain:
            runs[-1] = (grain, runs[-1][1], key)
        else:
            runs.append((grain, key, key))
        d = nxt
    return runs
