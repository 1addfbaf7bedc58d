"""Monthly partitions on PostgreSQL (migration 0034, fanzha.ops.partitions): an existing database converted in place,
months made ahead, unique keys across months, cascades, pruning, dropping a month, and the same warning file
imported twice creating nothing the second time."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.areas import station_with_dissuader
from support.db import pg_available, pg_create, pg_drop

pytestmark = [pytest.mark.postgres, pytest.mark.postgres_pass, pytest.mark.xdist_group("partitions")]

TZ = "Asia/Shanghai"


@pytest.fixture
def old_db():
    """A database of 0033 on the PostgreSQL server, dropped afterwards."""
    if not pg_available():
        pytest.fail("PostgreSQL is not reachable")
    name = f"fanzha_part_{os.getpid()}"
    url = pg_create(name)
    try:
        yield url
    finally:
        pg_drop(name)


def _local(y: int, m: int, d: int, hour: int = 12) -> datetime:
    """A Beijing wall-clock time as aware UTC."""
    return datetime(y, m, d, hour, tzinfo=UTC) - timedelta(hours=8)


def _populate(engine) -> None:
    """One station, its dissuader, and across three local months: warnings with contacts, follow-ups and cases. The
    first warning is at 2025-03-01 03:00 Beijing time, which is still February in UTC: it belongs to March."""
    from fanzha.cases.models import Case
    from fanzha.dissuasion.models import Contact, FollowUp
    from fanzha.warnings.models import Warning

    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine) as s:
        station_with_dissuader(s, now)
        times = {"W1": _local(2025, 3, 1, 3), "W2": _local(2025, 3, 31, 23), "W3": _local(2025, 5, 10)}
        for i, (ext, at) in enumerate(times.items(), start=1):
            s.add(Warning(id=i, external_id=ext, kind="funds", risk_grade="high", grade_reasons=[], warned_at=at,
                          sign_deadline=at, contact_deadline=at, feedback_deadline=at, station_id=1, community_id=2,
                          status="assigned", repeat_count=0, phone=f"1380000000{i}"))
        s.flush()
        s.add_all([Contact(warning_id=1, channel="phone", at=times["W1"] + timedelta(minutes=5), by_user_id=1,
                           result="reached"),
                   Contact(warning_id=3, channel="phone", at=times["W3"] + timedelta(minutes=5), by_user_id=1,
                           result="reached")])
        s.add(Case(id=1, case_number="A2025040001", filed_at=_local(2025, 4, 2), loss_at=_local(2025, 4, 1),
                   loss_amount=Decimal("1000.00"), community_id=2))
        s.flush()
        s.add_all([FollowUp(warning_id=1, reason="warned", due_at=_local(2025, 3, 8), station_id=1, community_id=2),
                   FollowUp(case_id=1, reason="victim", due_at=_local(2025, 4, 9), station_id=1, community_id=2)])
        s.flush()
        if engine.dialect.name == "postgresql":  # as if the rows had taken their ids from the sequences
            for table in ("warnings", "cases", "follow_ups", "contacts"):
                s.execute(text(f"SELECT setval('{table}_id_seq', 100)"))
        s.commit()


def _partition_of(conn, table: str, key: str, value) -> str:
    return conn.execute(text(f"SELECT tableoid::regclass::text FROM {table} WHERE {key} = :v"), {"v": value}).scalar()


def test_an_existing_database_is_converted_in_place_and_keeps_its_rules(old_db):
    from fanzha.migrate import downgrade, upgrade
    from fanzha.ops import partitions

    upgrade("0033", url=old_db)
    engine = create_engine(old_db.replace("postgresql://", "postgresql+psycopg://"))
    _populate(engine)
    upgrade("0034", url=old_db)
    today = datetime.now(UTC).astimezone().date()
    with engine.begin() as conn:
        kinds = dict(conn.execute(text("SELECT c.relname, c.relkind FROM pg_class c WHERE c.relname = ANY(:t)"),
                                  {"t": list(partitions.TABLES)}).all())
        assert kinds == {t: "p" for t in partitions.TABLES}
        # Rows in the months they belong to, in Beijing time: 03:00 on 1 March is March although UTC says February.
        assert _partition_of(conn, "warnings", "external_id", "W1") == "warnings_p2025_03"
        assert _partition_of(conn, "warnings", "external_id", "W2") == "warnings_p2025_03"
        assert _partition_of(conn, "warnings", "external_id", "W3") == "warnings_p2025_05"
        assert _partition_of(conn, "cases", "case_number", "A2025040001") == "cases_p2025_04"
        assert _partition_of(conn, "follow_ups", "reason", "victim") == "follow_ups_p2025_04"
        # The months between, and the next months ahead, exist; nothing waits in a DEFAULT partition.
        names = {p.name for p in partitions.listing(conn)}
        assert "warnings_p2025_04" in names and "contacts_p2025_04" in names
        nxt = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        for table in partitions.TABLES:
            assert f"{table}_p{nxt:%Y_%m}" in names
            assert f"{table}_default" in names
            assert conn.execute(text(f"SELECT count(*) FROM {table}_default")).scalar() == 0
        # The unique keys hold across months, under their old names.
        with pytest.raises(IntegrityError, match="uq_warnings_external_id"), conn.begin_nested():
            conn.execute(text(
                "INSERT INTO warnings (external_id, kind, risk_grade, grade_reasons, warned_at, sign_deadline, "
                "contact_deadline, feedback_deadline, upstream_deadline, face_required, name, household_address, "
                "current_address, counterparty_account, issuing_unit, note, repeat_count, status, source, created_at, "
                "updated_at) SELECT 'W1', kind, risk_grade, grade_reasons, warned_at + interval '70 days', sign_deadline,"
                " contact_deadline, feedback_deadline, upstream_deadline, face_required, name, household_address, "
                "current_address, counterparty_account, issuing_unit, note, repeat_count, status, source, created_at, "
                "updated_at FROM warnings WHERE external_id = 'W3'"))
        with pytest.raises(IntegrityError, match="pk_warning_keys"), conn.begin_nested():  # a second row, same id
            conn.execute(text("INSERT INTO warnings SELECT * FROM warnings WHERE id = 3"))
        with pytest.raises(IntegrityError, match="uq_cases_case_number"), conn.begin_nested():
            conn.execute(text("INSERT INTO cases (case_number, name, address, filed_at, loss_at, fraud_type, "
                              "loss_amount, narrative, source, type_status, recovered_amount, frozen_amount, "
                              "suspects_caught, channel, victim_sex, victim_occupation, victim_groups, employer_name, "
                              "created_at, updated_at) SELECT case_number, name, address, filed_at + interval '60 days', "
                              "loss_at, fraud_type, loss_amount, narrative, source, type_status, recovered_amount, "
                              "frozen_amount, suspects_caught, channel, victim_sex, victim_occupation, victim_groups, "
                              "employer_name, created_at, updated_at FROM cases"))
        with pytest.raises(IntegrityError, match="uq_follow_ups_warning_reason"), conn.begin_nested():
            conn.execute(text("INSERT INTO follow_ups (warning_id, reason, due_at, tries, escalates, escalated, gaps, "
                              "missed_outreach, note) VALUES (1, 'warned', now() + interval '90 days', 0, true, '', "
                              "'[]', '', '')"))
        # A warning moved to another month keeps its contacts and follow-ups; deleting one takes them with it.
        conn.execute(text("UPDATE warnings SET warned_at = warned_at + interval '40 days' WHERE id = 1"))
        assert _partition_of(conn, "warnings", "id", 1) == "warnings_p2025_04"
        assert conn.execute(text("SELECT count(*) FROM contacts WHERE warning_id = 1")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM warning_keys WHERE id = 1")).scalar() == 1
        conn.execute(text("DELETE FROM warnings WHERE id = 1"))
        assert conn.execute(text("SELECT count(*) FROM contacts WHERE warning_id = 1")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM follow_ups WHERE warning_id = 1")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM warning_keys WHERE id = 1")).scalar() == 0
        # A month's query reads that month's partition alone.
        plan = "\n".join(conn.execute(text(
            "EXPLAIN SELECT * FROM warnings WHERE warned_at >= :a AND warned_at < :b"),
            {"a": datetime(2025, 4, 30, 16), "b": datetime(2025, 5, 31, 16)}).scalars())
        assert "warnings_p2025_05" in plan and "warnings_p2025_03" not in plan and "warnings_default" not in plan
    downgrade("0033", url=old_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'warnings'")).scalar() == "r"
        assert conn.execute(text("SELECT count(*) FROM warnings")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM pg_inherits")).scalar() == 0
    upgrade("head", url=old_db)
    engine.dispose()


def test_rows_from_the_default_partition_move_to_their_month_and_a_month_drops(old_db):
    from typer.testing import CliRunner

    from fanzha.migrate import upgrade
    from fanzha.ops import partitions

    upgrade("head", url=old_db)
    engine = create_engine(old_db.replace("postgresql://", "postgresql+psycopg://"))
    _populate(engine)  # history written after the upgrade: it waits in the DEFAULT partitions
    with engine.begin() as conn:
        assert _partition_of(conn, "warnings", "external_id", "W3") == "warnings_default"
        made = partitions.ensure(conn, TZ)
        assert {"warnings_p2025_03", "warnings_p2025_05", "cases_p2025_04", "contacts_p2025_05"} <= set(made)
        assert "warnings_p2025_04" not in made  # no row needed it
        assert _partition_of(conn, "warnings", "external_id", "W3") == "warnings_p2025_05"
        assert conn.execute(text("SELECT count(*) FROM warnings_default")).scalar() == 0
        assert partitions.ensure(conn, TZ) == []  # nothing left to do
        dropped = partitions.drop_month(conn, date(2025, 5, 1))
        assert dropped == ["warnings_p2025_05", "contacts_p2025_05"]
        assert conn.execute(text("SELECT count(*) FROM warnings")).scalar() == 2
        # The dropped month's 预警编号 stays taken.
        assert conn.execute(text("SELECT count(*) FROM warning_keys WHERE external_id = 'W3'")).scalar() == 1
    from fanzha.cli.main import app

    result = CliRunner().invoke(app, ["db", "drop-month", "2025-03"])
    assert result.exit_code == 2 and "--yes" in result.output
    result = CliRunner().invoke(app, ["db", "drop-month", "2025-13", "--yes"])
    assert result.exit_code == 2 and "2024-01" in result.output
    engine.dispose()


def test_the_suite_database_is_partitioned_with_next_month_ready(db):
    """The database every PostgreSQL test runs on went through `upgrade()`: its four tables are partitioned, the
    demo's history sits in month partitions (the demo ends by making them), next month's partitions exist."""
    from fanzha.ops import partitions

    conn = db.connection()
    assert partitions.partitioned(conn)
    names = {p.name for p in partitions.listing(conn)}
    today = date.today()
    nxt = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    assert {f"{t}_p{nxt:%Y_%m}" for t in partitions.TABLES} <= names
    # Other tests may since have written warnings for months without a partition; the demo's (YJ…) are in theirs.
    assert conn.execute(text("SELECT count(*) FROM warnings_default WHERE external_id LIKE 'YJ%'")).scalar() == 0
    assert conn.execute(text("SELECT count(DISTINCT tableoid) FROM warnings WHERE external_id LIKE 'YJ%'")).scalar() > 1


def test_the_same_warning_file_imported_twice_creates_nothing_the_second_time(db, tmp_path):
    """On partitioned PostgreSQL, with 预警编号 unique through warning_keys: the second import of a file whose rows
    span three months (moved from the DEFAULT partition into their months in between) is all duplicates, and nothing
    new is written."""
    from sqlalchemy import select

    from fanzha.imports import service as imports
    from fanzha.ops import partitions
    from fanzha.org.models import User
    from fanzha.org.scope import Scope

    header = "预警编号,预警类型,预警级别,预警时间,反馈时限,手机号,现住址"
    rows = [f"PARTX-{i:04d},涉诈短信,中,2025-0{1 + i % 3}-15 10:00,,1507310{i:04d},中山建设路54号" for i in range(6)]
    path = tmp_path / "分区导入.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("gbk"))
    scope = Scope.for_user(db.scalar(select(User).where(User.username == "yanpan")))
    first = imports.run_file(db, scope, "warning", path).summary()
    partitions.ensure(db.connection(), TZ)  # that night: the history moves from DEFAULT into its months
    second = imports.run_file(db, scope, "warning", path).summary()
    count = db.execute(text("SELECT count(*) FROM warnings WHERE external_id LIKE 'PARTX-%'")).scalar()
    months = db.execute(text("SELECT count(DISTINCT tableoid) FROM warnings WHERE external_id LIKE 'PARTX-%'")).scalar()
    assert (first["created"], second["created"], second["duplicates"], count, months) == (6, 0, 6, 6, 3)
