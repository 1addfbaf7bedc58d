"""Monthly partitions on PostgreSQL (按月分区, migration 0034; docs/deploy.md#partitions).

warnings, contacts, follow_ups and cases are partitioned by local month of 预警时间, contact time, due time and 立案时间,
with a DEFAULT partition for rows outside the months made. This module lists them, makes the months ahead (the worker
every night, through the SECURITY DEFINER function the migration made, so the application role needs no DDL right)
and moves rows waiting in a DEFAULT partition into months of their own, and drops a month (the owner, by hand).

On SQLite, or a PostgreSQL database not partitioned, every function here says so and does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from fanzha.common.errors import DomainError

TABLES = ("warnings", "contacts", "follow_ups", "cases")
KEY_COLUMN = {"warnings": "warned_at", "contacts": "at", "follow_ups": "due_at", "cases": "filed_at"}
# Months made ahead of the current one (the migration makes the same number).
AHEAD = 2
_NAME = re.compile(r"^(?P<table>[a-z_]+)_p(?P<year>\d{4})_(?P<month>\d{2})$")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date | None  # None: the DEFAULT partition
    rows: int  # the planner's estimate (reltuples; -1 before the first ANALYZE or VACUUM)
    bytes: int


def partitioned(conn: Connection) -> bool:
    """True on a PostgreSQL database whose warnings table is partitioned (migration 0034 ran there)."""
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table "
                                  "WHERE partrelid = to_regclass('warnings'))")).scalar())


def listing(conn: Connection) -> list[Partition]:
    """Every partition of the four tables, by table and month (DEFAULT last)."""
    if not partitioned(conn):
        return []
    rows = conn.execute(text(
        "SELECT p.relname::text AS parent, c.relname::text AS name, c.reltuples::bigint, "
        "pg_total_relation_size(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(:t) AND c.relkind = 'r'"), {"t": list(TABLES)})
    found = []
    for parent, name, tuples, size in rows:
        m = _NAME.match(name)
        month = date(int(m["year"]), int(m["month"]), 1) if m and m["table"] == parent else None
        found.append(Partition(parent, name, month, int(tuples), int(size)))
    return sorted(found, key=lambda p: (TABLES.index(p.table), p.month is None, p.month or date.min))


def ensure(conn: Connection, timezone: str, ahead: int = AHEAD, since: date | None = None) -> list[str]:
    """Makes this month's and the next `ahead` months' partitions where missing, every month from `since` (before a
    large import of history), and a month for the rows waiting in a DEFAULT partition (history imported after the
    upgrade). Returns the partitions made."""
    if not partitioned(conn):
        return []
    made = [r[0] for r in conn.execute(text("SELECT fanzha_partitions_ahead(:n, :tz)"), {"n": ahead, "tz": timezone})]
    if since is not None:
        month = date(since.year, since.month, 1)
        while month <= date.today():
            for table in TABLES:
                made += _month(conn, table, month, timezone)
            month = next_month(month)
    for table in TABLES:
        column = KEY_COLUMN[table]
        months = conn.execute(text(
            f"SELECT DISTINCT date_trunc('month', {column} AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date "  # noqa: S608
            f"FROM {table}_default ORDER BY 1"), {"tz": timezone}).scalars().all()
        for month in months:
            made += _month(conn, table, month, timezone)
    return made


def _month(conn: Connection, table: str, month: date, timezone: str) -> list[str]:
    """[the partition made] for `table`'s local `month` (its rows in the DEFAULT partition moved in), or []."""
    name = conn.execute(text("SELECT fanzha_month_partition(CAST(:t AS regclass), :m, :tz)"),
                        {"t": table, "m": month, "tz": timezone}).scalar()
    return [name] if name else []


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def parse_month(value: str) -> date:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value or "")
    if not m or not 1 <= int(m[2]) <= 12:
        raise DomainError(f"月份格式应为 2024-01，收到“{value}”")
    return date(int(m[1]), int(m[2]), 1)


def drop_month(conn: Connection, month: date, tables: tuple[str, ...] = TABLES) -> list[str]:
    """Detaches and drops `month`'s partition of each table (as the tables' owner). The rows go for good; their
    预警编号 and 案件编号 stay taken in the key tables, and the small tables that point at them (assignments,
    escalations …) keep their rows. Take a backup first (fanzha backup)."""
    if not partitioned(conn):
        raise DomainError("数据库未按月分区（仅 PostgreSQL 在迁移 0034 之后按月分区）")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise DomainError(f"不是按月分区的表：{'、'.join(unknown)}（可选 {'、'.join(TABLES)}）")
    dropped = []
    for table in tables:
        name = f"{table}_p{month:%Y_%m}"
        if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None:
            continue
        conn.exec_driver_sql(f'ALTER TABLE {table} DETACH PARTITION "{name}"')
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
        dropped.append(name)
    return dropped
