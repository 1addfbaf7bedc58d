"""Migrations: empty → head, one step down and up again, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from support.areas import station_with_dissuader


def _cycle(url: str) -> None:
    from fanzha.migrate import downgrade, upgrade

    upgrade("head", url=url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tables = set(inspect(engine).get_table_names())
    assert {"areas", "users", "audit_log", "people", "standard_addresses", "alembic_version"} <= tables
    downgrade("-1", url=url)
    upgrade("head", url=url)
    assert set(inspect(engine).get_table_names()) == tables
    downgrade("base", url=url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_empty_to_head_and_back(empty_db):
    _cycle(empty_db)


def test_login_throttle_on_a_populated_database(empty_db):
    """0017 on a database of 0016 with users in it: the users stay, an account locked at upgrade time stays held
    for untrusted browsers until its lock would have ended, the old columns go, and come back on downgrade."""
    import sqlalchemy as sa

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0016", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC)
    areas = sa.table("areas", *[sa.column(c) for c in ("id", "chain", "level", "kind_label", "name", "code", "path",
                                                        "population", "households", "shops")],
                     sa.column("created_at", UTCDateTime()))
    users = sa.table("users", *[sa.column(c) for c in ("id", "username", "display_name", "password_hash", "role",
                                                        "area_id", "phone", "is_active", "failed_logins")],
                     sa.column("locked_until", UTCDateTime()), sa.column("created_at", UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(areas.insert().values(id=1, chain="police", level="station", kind_label="", name="城关派出所",
                                           code="PS01", path="/1/", population=0, households=0, shops=0,
                                           created_at=now))
        conn.execute(users.insert(), [
            {"id": n, "username": name, "display_name": "张某", "password_hash": "!", "role": "station_officer",
             "area_id": 1, "phone": "", "is_active": True, "failed_logins": failed, "locked_until": until,
             "created_at": now}
            for n, (name, failed, until) in enumerate([("ps01_minjing", 2, None),
                                                        ("ps01_quanzu", 0, now + timedelta(minutes=10)),
                                                        ("ps01_sqmj", 0, now - timedelta(minutes=10))], start=1)])
    upgrade("0017", url=empty_db)
    assert {c["name"] for c in inspect(engine).get_columns("users")}.isdisjoint({"failed_logins", "locked_until"})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 3
        held = conn.execute(sa.select(sa.column("bucket"), sa.column("key"), sa.column("held_until", UTCDateTime()))
                            .select_from(sa.table("throttles"))).all()
    assert [(bucket, key) for bucket, key, _ in held] == [("login_account", "ps01_quanzu")]
    assert abs(held[0][2] - (now + timedelta(minutes=10))) < timedelta(seconds=1)
    downgrade("0016", url=empty_db)
    assert {"failed_logins", "locked_until"} <= {c["name"] for c in inspect(engine).get_columns("users")}
    assert "throttles" not in inspect(engine).get_table_names()
    engine.dispose()


def test_models_match_the_migrations(tmp_path):
    """Nothing in the models is missing from the migrations (autogenerate finds no difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fanzha.migrate import upgrade
    from fanzha.models import Base

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade("head", url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from fanzha.cli.main import app
    from fanzha.config import get_settings
    from fanzha.migrate import downgrade, pending, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade("head", url=url)
    assert not pending(url)
    downgrade("-1", url=url)
    assert pending(url)
    monkeypatch.setenv("FANZHA_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "fanzha db upgrade" in result.output


def test_loss_avoided_on_a_populated_database(empty_db):
    """0019 on a database of 0018 with warnings and a built roll-up: no warning changes; only the days with a
    dissuaded warning are marked and recomputed under the new 避免损失 (劝阻金额 recorded, else 拟转账金额 estimated);
    a day without one keeps its stored row; a change of 劝阻金额 alone now marks its day; downgrade puts it back.

    3-05 (Beijing): W1 dissuaded, 拟转账金额 95,500, 劝阻金额 5,000; W2 dissuaded, 20,000, nothing recorded;
    W3 dissuaded, no amount at risk, 3,000 recorded. 3-06: W4 refused, 50,000.
    Before: 避免损失 of 3-05 = 95,500 + 20,000 = 115,500. After: 5,000 + 20,000 (estimated) + 3,000 = 28,000."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade
    from fanzha.org.scope import Scope
    from fanzha.warnings import metrics
    from fanzha.warnings.models import Warning

    bj = ZoneInfo("Asia/Shanghai")
    upgrade("0018", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    areas = sa.table("areas", *[sa.column(c) for c in ("id", "chain", "level", "kind_label", "name", "code", "parent_id",
                                                        "path", "police_area_id", "police_path", "population",
                                                        "households", "shops")], sa.column("created_at", UTCDateTime()))
    with Session(engine) as s:  # areas as 0018 had them (the model's later columns are not there yet)
        common = {"kind_label": "", "population": 0, "households": 0, "shops": 0, "created_at": datetime.now(UTC)}
        s.execute(areas.insert(), [
            {**common, "id": 1, "chain": "police", "level": "station", "name": "城关派出所", "code": "PS01", "path": "/1/"},
            {**common, "id": 2, "chain": "admin", "level": "township", "name": "城关镇", "code": "T01", "path": "/2/"},
            {**common, "id": 3, "chain": "admin", "level": "community", "name": "城关社区", "code": "C01",
             "parent_id": 2, "path": "/2/3/", "police_area_id": 1, "police_path": "/1/"}])

        def warning(n, day, hour, outcome, amount, protected):
            at = datetime(2026, 3, day, hour, tzinfo=bj)
            s.add(Warning(external_id=f"MIG{n}", kind="funds", risk_grade="high", grade_reasons=[], warned_at=at,
                          sign_deadline=at + timedelta(minutes=5), contact_deadline=at + timedelta(minutes=10),
                          feedback_deadline=at + timedelta(hours=24), status="assigned", station_id=1,
                          community_id=3, dispatched_at=at, signed_at=at, first_contact_at=at,
                          outcome=outcome, feedback_at=at + timedelta(hours=1), phone="13800000000",
                          amount=Decimal(amount) if amount else None,
                          amount_protected=Decimal(protected) if protected else None))

        warning(1, 5, 10, "dissuaded", "95500", "5000")
        warning(2, 5, 11, "dissuaded", "20000", None)
        warning(3, 5, 12, "dissuaded", None, "3000")
        warning(4, 6, 10, "refused", "50000", None)
        s.commit()
        community, station_id = 3, 1
    days = sa.table("warning_days", *[sa.column(c) for c in (
        "id", "day", "community_id", "station_id", "warnings", "dispatched", "signed", "signed_on_time",
        "face_required", "face_done", "outcome_counted", "dissuaded", "fed_back", "fed_back_late", "response_minutes",
        "responses")], sa.column("loss_avoided", sa.Numeric(16, 2)), sa.column("last_feedback_deadline", UTCDateTime()))
    dirty = sa.table("warning_days_dirty", sa.column("id"), sa.column("hour", UTCDateTime()))
    common = {"community_id": community, "station_id": station_id, "signed_on_time": 0, "face_required": 0,
              "face_done": 0, "fed_back_late": 0, "response_minutes": 0.0}
    with engine.begin() as conn:  # the roll-up as 0018's code had built it, nothing left to refresh
        conn.execute(sa.text("DELETE FROM warning_days_dirty"))
        conn.execute(sa.text("INSERT INTO warning_days_state (id, offset_minutes) VALUES (1, 480)"))
        conn.execute(days.insert(), [
            {**common, "id": 1, "day": datetime(2026, 3, 5).date(), "warnings": 3, "dispatched": 3, "signed": 3,
             "outcome_counted": 3, "dissuaded": 3, "fed_back": 3, "responses": 3, "loss_avoided": Decimal("115500"),
             "last_feedback_deadline": datetime(2026, 3, 6, 12, tzinfo=bj)},
            {**common, "id": 2, "day": datetime(2026, 3, 6).date(), "warnings": 1, "dispatched": 1, "signed": 1,
             "outcome_counted": 1, "dissuaded": 0, "fed_back": 1, "responses": 1, "loss_avoided": Decimal("0"),
             "last_feedback_deadline": datetime(2026, 3, 7, 10, tzinfo=bj)}])
        # At 0018 a change of 劝阻金额 alone marks nothing.
        conn.execute(sa.text("UPDATE warnings SET amount_protected = 1 WHERE external_id = 'MIG4'"))
        assert conn.execute(sa.select(sa.func.count()).select_from(dirty)).scalar() == 0
        conn.execute(sa.text("UPDATE warnings SET amount_protected = NULL WHERE external_id = 'MIG4'"))

    def stored(table):
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")))

    warnings_before, day_six = stored("warnings"), next(r for r in stored("warning_days") if r[0] == 2)
    upgrade("0019", url=empty_db)
    assert stored("warnings") == warnings_before  # no stored amount changes
    with engine.connect() as conn:
        hours = {h for (h,) in conn.execute(sa.select(dirty.c.hour))}
    assert hours == {datetime(2026, 3, 5, h, tzinfo=bj).astimezone(UTC) for h in (10, 11, 12)}  # 3-05 only
    upgrade("0028", url=empty_db)  # 0020 adds areas.label …: no figure moves
    rows = stored("warning_days")
    assert len(rows) == 2 and next(r for r in rows if r[0] == 2) == (*day_six, 0)  # 3-06 as stored, 0 estimated
    # Today's code reads today's schema; 0029 logs every day with a first contact (its minutes from 预警时间).
    upgrade("head", url=empty_db)
    with Session(engine) as s:
        since, until = datetime(2026, 3, 5, tzinfo=bj), datetime(2026, 3, 7, tzinfo=bj)
        report = metrics.report(s, Scope.system(s), since=since, until=until, now=until)
        assert (report.loss_avoided, report.loss_avoided_estimated) == (Decimal("28000"), Decimal("20000"))
        s.commit()
    with engine.begin() as conn:  # now a change of 劝阻金额 alone marks its day
        conn.execute(sa.text("UPDATE warnings SET amount_protected = 0 WHERE external_id = 'MIG4'"))
        assert set(conn.execute(sa.select(dirty.c.hour)).scalars()) == {datetime(2026, 3, 6, 2, tzinfo=UTC)}
        conn.execute(sa.text("DELETE FROM warning_days_dirty"))
    downgrade("0018", url=empty_db)
    assert "loss_avoided_estimated" not in {c["name"] for c in inspect(engine).get_columns("warning_days")}
    with engine.begin() as conn:
        assert len(set(conn.execute(sa.select(dirty.c.hour)).scalars())) == 3  # 3-05's hours, to recompute again
        conn.execute(sa.text("DELETE FROM warning_days_dirty"))
        conn.execute(sa.text("UPDATE warnings SET amount_protected = 7 WHERE external_id = 'MIG4'"))
        assert conn.execute(sa.select(sa.func.count()).select_from(dirty)).scalar() == 0
    engine.dispose()


def test_area_label_on_a_populated_database(empty_db):
    """0020 on a database of 0019 with areas in it: every area gets its label by the rule of org/names.py — a
    repeated village with its township, the rest as they are — and nothing else changes; downgrade drops it."""
    import sqlalchemy as sa

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0019", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    columns = ("id", "chain", "level", "kind_label", "name", "code", "parent_id", "path", "police_area_id",
               "police_path", "population", "households", "shops")
    areas = sa.table("areas", *[sa.column(c) for c in columns], sa.column("created_at", UTCDateTime()))
    now = datetime.now(UTC)
    rows = [  # id, chain, level, name, code, parent
        (8, "police", "bureau", "江州市公安局", "JZGA", None), (9, "police", "station", "河口派出所", "JZ0203PS1", 8),
        (1, "admin", "city", "江州市", "JZ", None), (2, "admin", "county", "临江区", "JZ02", 1),
        (3, "admin", "township", "河口镇", "JZ0203", 2), (4, "admin", "township", "太平镇", "JZ0204", 2),
        (5, "admin", "community", "金鸡村", "JZ0203001", 3), (6, "admin", "community", "金鸡村", "JZ0204001", 4),
        (7, "admin", "community", "石桥村", "JZ0204002", 4)]
    paths: dict[int, str] = {}
    with engine.begin() as conn:
        for i, chain, level, name, code, parent in rows:
            paths[i] = (paths[parent] if parent else "/") + f"{i}/"
            leaf = level == "community"
            conn.execute(areas.insert().values(
                id=i, chain=chain, level=level, kind_label="", name=name, code=code, parent_id=parent, path=paths[i],
                police_area_id=9 if leaf else None, police_path="/8/9/" if leaf else None, population=1000,
                households=300, shops=10, created_at=now))

    def stored():
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.select(*[areas.c[c] for c in columns])))

    before = stored()
    upgrade("0020", url=empty_db)
    assert stored() == before
    with engine.connect() as conn:
        labels = dict(conn.execute(sa.text("SELECT code, label FROM areas")).all())
    assert labels == {"JZ": "江州市", "JZ02": "临江区", "JZ0203": "河口镇", "JZ0204": "太平镇",
                      "JZ0203001": "河口镇·金鸡村", "JZ0204001": "太平镇·金鸡村", "JZ0204002": "石桥村",
                      "JZGA": "江州市公安局", "JZ0203PS1": "河口派出所"}
    downgrade("0019", url=empty_db)
    assert "label" not in {c["name"] for c in inspect(engine).get_columns("areas")}
    assert stored() == before
    engine.dispose()


def test_submissions_keep_one_key_per_user(empty_db):
    """0022 adds the offline queue's submissions: one row per user and idempotency key, found by warning and by
    station; downgrade drops the table and nothing else."""
    from fanzha.migrate import downgrade, upgrade

    upgrade("0022", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    found = inspect(engine)
    assert {c["name"] for c in found.get_columns("submissions")} == {
        "id", "user_id", "key", "kind", "warning_id", "area_id", "status", "record_id", "reason", "payload",
        "device_at", "clock_skew", "skew_flagged", "trusted_at", "received_at"}
    assert [(u["name"], u["column_names"]) for u in found.get_unique_constraints("submissions")] == [
        ("uq_submissions_user_key", ["user_id", "key"])]
    assert {i["name"] for i in found.get_indexes("submissions")} >= {"ix_submissions_warning_id",
                                                                      "ix_submissions_area_id"}
    before = set(found.get_table_names())
    downgrade("0021", url=empty_db)
    assert set(inspect(engine).get_table_names()) == before - {"submissions"}
    engine.dispose()


def test_contact_evidence_on_a_populated_database(empty_db):
    """0021 on a database of 0020 with a 见面 contact in it: the contact stays as it was, with no capture time and no
    position (nothing is made up for old evidence); downgrade drops the four columns and keeps the contact."""
    from decimal import Decimal

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    upgrade("0020", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC)
    old = ("id", "warning_id", "channel", "by_user_id", "result", "note", "photo_path", "location", "notice_signed",
           "checklist", "counts_as_face")
    contacts = sa.table("contacts", *[sa.column(c) for c in old if c != "checklist"], sa.column("checklist", sa.JSON()),
                        sa.column("at", UTCDateTime()), sa.column("created_at", UTCDateTime()))
    with Session(engine) as s:
        station_with_dissuader(s, now)
        s.add(Warning(id=1, external_id="MIG21", kind="funds", risk_grade="high", grade_reasons=[], warned_at=now,
                      sign_deadline=now, contact_deadline=now, feedback_deadline=now, status="assigned",
                      station_id=1, community_id=2, phone="13800000000", amount=Decimal("95500")))
        s.flush()
        s.execute(contacts.insert().values(id=1, warning_id=1, channel="face_to_face", by_user_id=1, result="reached",
                                           note="上门", photo_path="evidence/1/a.jpg", location="城关社区3栋",
                                           notice_signed=False, checklist=["protect"], counts_as_face=True, at=now,
                                           created_at=now))
        s.commit()

    def stored():
        with engine.connect() as conn:
            return conn.execute(sa.select(*[contacts.c[c] for c in old])).all()

    before = stored()
    upgrade("0021", url=empty_db)
    assert stored() == before
    with engine.connect() as conn:
        added = conn.execute(sa.text("SELECT photo_taken_at, latitude, longitude, location_accuracy FROM contacts"))
        assert added.all() == [(None, None, None, None)]
    downgrade("0020", url=empty_db)
    assert {c["name"] for c in inspect(engine).get_columns("contacts")}.isdisjoint(
        {"photo_taken_at", "latitude", "longitude", "location_accuracy"})
    assert stored() == before
    engine.dispose()


def test_warning_assignments_on_a_populated_database(empty_db):
    """0025 on a database of the revision before it, with warnings held, waiting and placed long ago: each held
    warning gets its assignment as its original one (at assigned_at, else dispatched_at; by the system), a warning
    nobody holds gets none; downgrade drops the table and leaves the warnings as they were."""
    import importlib

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    previous = importlib.import_module("fanzha.migrations.versions.0025_warning_assignments").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine) as s:
        station_with_dissuader(s, now)
        base = dict(kind="call", risk_grade="medium", grade_reasons=[], warned_at=now - timedelta(days=2),
                    sign_deadline=now, contact_deadline=now, feedback_deadline=now, station_id=1, community_id=2)
        s.add_all([Warning(id=1, external_id="MIG25-1", status="assigned", assignee_id=1,
                           dispatched_at=now - timedelta(days=2), assigned_at=now - timedelta(days=1), **base),
                   Warning(id=2, external_id="MIG25-2", status="dispatched", dispatched_at=now, **base),
                   Warning(id=3, external_id="MIG25-3", status="assigned", assignee_id=1,
                           dispatched_at=now - timedelta(hours=5), **base)])
        s.commit()

    def held():
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT id, assignee_id, assigned_at, status FROM warnings ORDER BY id")).all()

    before = held()
    upgrade("0025", url=empty_db)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            sa.column("warning_id"), sa.column("user_id"), sa.column("station_id"), sa.column("at", UTCDateTime()),
            sa.column("kind"), sa.column("from_user_id"), sa.column("by_user_id"), sa.column("reason"))
            .select_from(sa.table("warning_assignments")).order_by(sa.column("warning_id"))).all()
    assert [tuple(r) for r in rows] == [(1, 1, 1, now - timedelta(days=1), "assign", None, None, ""),
                                        (3, 1, 1, now - timedelta(hours=5), "assign", None, None, "")]
    assert held() == before
    downgrade(previous, url=empty_db)
    assert "warning_assignments" not in inspect(engine).get_table_names()
    assert held() == before
    engine.dispose()


def test_bulletin_editions_on_a_populated_database(empty_db):
    """0024 on a database of 0023 holding a period issued twice (the old one-tap button), another period once and
    a 函告: the first issue is the original, the second its revision (登记为修订), the others originals or without
    an edition key; the unique key then refuses a second original; downgrade drops the columns."""
    import sqlalchemy as sa

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0023", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    docs = sa.table("issued_documents", *[sa.column(c) for c in (
        "id", "kind", "year", "seq", "number", "period", "area_id", "title", "addressee", "issued_on",
        "issued_by_name", "docx", "pdf")], sa.column("summary", sa.JSON()), sa.column("issued_at", UTCDateTime()))
    t0 = datetime(2024, 7, 3, 2, 0, tzinfo=UTC)
    rows = [(1, "monthly", 1, "2024-06", t0), (2, "monthly", 2, "2024-06", t0 + timedelta(minutes=1)),
            (3, "monthly", 3, "2024-05", t0 + timedelta(minutes=2)), (4, "letter", 1, "", t0)]
    with engine.begin() as conn:
        for i, kind, seq, period, at in rows:
            conn.execute(docs.insert().values(
                id=i, kind=kind, year=2024, seq=seq, number=f"江反诈〔2024〕{seq}号", period=period, area_id=None,
                title="t", addressee="", issued_on=at.date(), issued_at=at, issued_by_name="研判", summary={},
                docx=b"", pdf=b""))
    upgrade("0024", url=empty_db)
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT id, edition, revises_id, edition_key, revision_note <> '' "
                                   "FROM issued_documents ORDER BY id")).all()
    assert [tuple(r) for r in got] == [(1, 0, None, "monthly:2024-06:0:0", False),
                                       (2, 1, 1, "monthly:2024-06:0:1", True),
                                       (3, 0, None, "monthly:2024-05:0:0", False), (4, 0, None, None, False)]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # 2024-05 again as an original: refused
        conn.execute(sa.text(
            "INSERT INTO issued_documents (id, kind, year, seq, number, period, title, addressee, issued_on, "
            "issued_at, issued_by_name, summary, docx, pdf, edition, revision_note, edition_key) VALUES (5, "
            "'monthly', 2024, 9, 'x', '2024-05', 't', '', '2024-07-03', '2024-07-03 02:00:00', '', '{}', '', '', "
            "0, '', 'monthly:2024-05:0:0')"))
    downgrade("0023", url=empty_db)
    assert not {"edition", "revises_id", "revision_note", "edition_key"} & {
        c["name"] for c in inspect(engine).get_columns("issued_documents")}
    engine.dispose()


def test_provincial_feedback_on_a_populated_database(empty_db):
    """0029 on a database of 0028 with a warning sent up once, one fed back and not sent yet, and a call not answered:
    the sent one counts one submission (its next is 再次), the other has no warning_feedback row (首次); nothing else
    is made up for old feedback (no 劝阻对象, no 未接原因); the hour of every warning with a first contact is logged for the roll-up to add the minutes
    from 预警时间; downgrade drops the columns and keeps the rows."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    upgrade("0028", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    with Session(engine) as s:
        station_with_dissuader(s, now)
        for n, exported in ((1, now + timedelta(hours=3)), (2, None)):
            s.add(Warning(id=n, external_id=f"MIG29-{n}", kind="call", risk_grade="medium", grade_reasons=[],
                          warned_at=now, sign_deadline=now, contact_deadline=now, feedback_deadline=now,
                          station_id=1, community_id=2, status="closed", assignee_id=1,
                          dispatched_at=now + timedelta(minutes=1), first_contact_at=now + timedelta(minutes=9),
                          outcome="dissuaded", feedback_at=now + timedelta(hours=2), feedback_exported_at=exported))
        s.flush()
        s.execute(sa.text("INSERT INTO contacts (warning_id, channel, at, by_user_id, result, note, photo_path, "
                          "location, notice_signed, checklist, counts_as_face, created_at) VALUES (1, 'phone', :at, 1, "
                          "'not_reached', '关机', '', '', false, '[]', false, :at)"), {"at": now})
        s.execute(sa.text("DELETE FROM warning_days_dirty"))
        s.commit()

    def kept():
        with engine.connect() as conn:
            return (conn.execute(sa.text("SELECT id, outcome, feedback_at, feedback_exported_at FROM warnings "
                                         "ORDER BY id")).all(),
                    conn.execute(sa.text("SELECT warning_id, channel, result, note FROM contacts")).all())

    before = kept()
    upgrade("0029", url=empty_db)
    assert kept() == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT warning_id, submissions, target, success_kind FROM warning_feedback"
                                    )).all() == [(1, 1, None, None)]
        assert conn.execute(sa.text("SELECT no_answer_reason FROM contacts")).all() == [(None,)]
        assert conn.execute(sa.text("SELECT count(*) FROM warning_days_dirty")).scalar() == 1  # the one hour
    downgrade("0028", url=empty_db)
    assert "warning_feedback" not in inspect(engine).get_table_names()
    assert "no_answer_reason" not in {c["name"] for c in inspect(engine).get_columns("contacts")}
    assert "response_minutes_warned" not in {c["name"] for c in inspect(engine).get_columns("warning_days")}
    assert kept() == before
    engine.dispose()


def test_warning_transfers_on_a_populated_database(empty_db):
    """0028 on a database of the revision before it, with a warning moved by the old instant 移交 (its timeline line):
    the table starts empty (an instant 移交 was never reviewed; its line stays), the warning is as it was; one
    移交待审 per warning is held by the database; downgrade drops the table and leaves the warning and its line."""
    import importlib

    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    previous = importlib.import_module("fanzha.migrations.versions.0028_warning_transfers").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine) as s:
        station_with_dissuader(s, now)
        s.add(Warning(id=1, external_id="MIG28-1", kind="call", risk_grade="medium", grade_reasons=[],
                      warned_at=now - timedelta(days=1), sign_deadline=now, contact_deadline=now,
                      feedback_deadline=now, station_id=1, community_id=2, status="assigned", assignee_id=1,
                      dispatched_at=now - timedelta(hours=3), assigned_at=now - timedelta(hours=3)))
        s.flush()
        s.execute(sa.text("INSERT INTO timeline_events (warning_id, at, kind, text) "
                          "VALUES (1, :at, 'transfer', '由东关派出所移交至城关派出所：对象居住在城关')"),
                  {"at": now - timedelta(hours=3)})
        s.commit()

    def kept():
        with engine.connect() as conn:
            return (conn.execute(sa.text("SELECT id, station_id, assignee_id, status, feedback_deadline FROM warnings"))
                    .all(), conn.execute(sa.text("SELECT warning_id, kind, text FROM timeline_events")).all())

    before = kept()
    upgrade("0028", url=empty_db)
    assert kept() == before
    insert = sa.text("INSERT INTO warning_transfers (warning_id, from_station_id, to_station_id, to_unit, reason, "
                     "status, requested_at, requested_by, answer) VALUES (1, 1, 1, '', '核实', :status, :at, 1, '')")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM warning_transfers")).scalar() == 0
        conn.execute(insert, {"status": "returned", "at": now})
        conn.execute(insert, {"status": "pending", "at": now})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"status": "pending", "at": now})
    downgrade(previous, url=empty_db)
    assert "warning_transfers" not in inspect(engine).get_table_names()
    assert kept() == before
    engine.dispose()


def test_account_requests_on_a_populated_database(empty_db):
    """0027 on a database of 0026 holding 止付/冻结 requests raised on warnings (payment_requests: one waiting, one done,
    one refused) and a case's 止付 and 断卡线索 (case_actions): the warnings' requests become case_actions rows of the
    warning (pending → requested, done → done, rejected → failed; the community the warning's, the account the
    target, the answer note the result, the deadline the default minutes after), the case's rows stay as they were,
    payment_requests goes; downgrade brings the warnings' requests back to payment_requests."""
    from decimal import Decimal

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0026", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    text_cols = ("external_id", "kind", "risk_grade", "name", "household_address", "current_address",
                 "counterparty_account", "issuing_unit", "note", "status", "source")
    warnings = sa.table("warnings", sa.column("id"), sa.column("station_id"), sa.column("community_id"),
                        sa.column("repeat_count"), sa.column("upstream_deadline"), sa.column("face_required"),
                        sa.column("grade_reasons", sa.JSON()), *[sa.column(c) for c in text_cols],
                        *[sa.column(c, UTCDateTime()) for c in ("warned_at", "sign_deadline", "contact_deadline",
                                                                 "feedback_deadline", "created_at", "updated_at")])
    requests = sa.table("payment_requests", sa.column("id"), sa.column("warning_id"), sa.column("kind"),
                        sa.column("account"), sa.column("amount", sa.Numeric(14, 2)), sa.column("by_user_id"),
                        sa.column("status"), sa.column("answer_note"), sa.column("requested_at", UTCDateTime()),
                        sa.column("answered_at", UTCDateTime()))
    cases = sa.table("cases", sa.column("id"), sa.column("case_number"), sa.column("name"), sa.column("address"),
                     sa.column("community_id"), sa.column("fraud_type"), sa.column("loss_amount"),
                     sa.column("narrative"), sa.column("source"), sa.column("type_status"),
                     sa.column("recovered_amount"), sa.column("frozen_amount"), sa.column("suspects_caught"),
                     sa.column("channel"), sa.column("victim_sex"), sa.column("victim_occupation"),
                     sa.column("victim_groups", sa.JSON()), sa.column("employer_name"),
                     *[sa.column(c, UTCDateTime()) for c in ("filed_at", "loss_at", "created_at", "updated_at")])
    actions = sa.table("case_actions", *[sa.column(c) for c in (  # ids from the sequence, as the application writes
        "kind", "case_id", "community_id", "target_type", "target", "holder_name", "institution", "amount",
        "status", "note", "created_by")], *[sa.column(c, UTCDateTime()) for c in ("requested_at", "done_at",
                                                                                "created_at")])
    with Session(engine) as s:
        station_with_dissuader(s, now)
        s.execute(warnings.insert().values(
            id=1, station_id=1, community_id=2, repeat_count=0, upstream_deadline=False, face_required=False,
            grade_reasons=[], **{c: "" for c in text_cols} | {"external_id": "MIG27-1", "kind": "funds",
                                                               "risk_grade": "high", "status": "assigned",
                                                               "source": "form"},
            warned_at=now, sign_deadline=now, contact_deadline=now, feedback_deadline=now, created_at=now,
            updated_at=now))
        s.execute(requests.insert(), [
            dict(id=1, warning_id=1, kind="stop_payment", account="6222020200112233445", amount=Decimal("20000"),
                 by_user_id=1, status="pending", answer_note="", requested_at=now, answered_at=None),
            dict(id=2, warning_id=1, kind="freeze", account="6222020200112233446", amount=Decimal("5000.50"),
                 by_user_id=1, status="done", answer_note="已冻结", requested_at=now - timedelta(hours=3),
                 answered_at=now - timedelta(hours=2)),
            dict(id=3, warning_id=1, kind="stop_payment", account="acct-x", amount=Decimal("1"), by_user_id=1,
                 status="rejected", answer_note="账户不存在", requested_at=now - timedelta(hours=1),
                 answered_at=now)])
        s.execute(cases.insert().values(
            id=1, case_number="JZ-MIG27", name="李某", address="", community_id=2, fraud_type="other",
            loss_amount=100, narrative="", source="form", type_status="given", recovered_amount=0, frozen_amount=0,
            suspects_caught=0, channel="", victim_sex="", victim_occupation="", victim_groups=[], employer_name="",
            filed_at=now, loss_at=now, created_at=now, updated_at=now))
        s.execute(actions.insert(), [
            dict(kind="stop_payment", case_id=1, community_id=2, target_type="bank_card", target="", amount=100,
                 holder_name="", institution="", status="done", note="", created_by=None, requested_at=now,
                 done_at=now, created_at=now),
            dict(kind="card_lead", case_id=1, community_id=2, target_type="bank_card",
                 target="6222000000000001", holder_name="", institution="工行", amount=0, status="referred",
                 note="一级卡", created_by=1, requested_at=now, done_at=None, created_at=now)])
        s.commit()
    upgrade("0027", url=empty_db)
    assert "payment_requests" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            sa.column("id"), sa.column("kind"), sa.column("case_id"), sa.column("warning_id"),
            sa.column("community_id"), sa.column("target"), sa.column("target_type"),
            sa.column("amount", sa.Numeric(14, 2)), sa.column("status"), sa.column("result"),
            sa.column("created_by"), sa.column("done_at", UTCDateTime()), sa.column("deadline_at", UTCDateTime()))
            .select_from(sa.table("case_actions")).order_by(sa.column("id"))).all()
    assert [tuple(r) for r in rows] == [
        (1, "stop_payment", 1, None, 2, "", "bank_card", Decimal("100.00"), "done", "", None, now, None),
        (2, "card_lead", 1, None, 2, "6222000000000001", "bank_card", Decimal("0.00"), "referred", "", 1, None, None),
        (3, "stop_payment", None, 1, 2, "6222020200112233445", "bank_card", Decimal("20000.00"), "requested", "", 1,
         None, now + timedelta(minutes=15)),
        (4, "freeze", None, 1, 2, "6222020200112233446", "bank_card", Decimal("5000.50"), "done", "已冻结", 1,
         now - timedelta(hours=2), now - timedelta(hours=3) + timedelta(minutes=120)),
        (5, "stop_payment", None, 1, 2, "acct-x", "other", Decimal("1.00"), "failed", "账户不存在", 1, now,
         now - timedelta(hours=1) + timedelta(minutes=15))]
    downgrade("0026", url=empty_db)
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT warning_id, kind, account, status, answer_note FROM payment_requests "
                                    "ORDER BY id")).all()
        kept = conn.execute(sa.text("SELECT id, kind FROM case_actions ORDER BY id")).all()
    assert [tuple(r) for r in back] == [(1, "stop_payment", "6222020200112233445", "pending", ""),
                                        (1, "freeze", "6222020200112233446", "done", "已冻结"),
                                        (1, "stop_payment", "acct-x", "rejected", "账户不存在")]
    assert [tuple(r) for r in kept] == [(1, "stop_payment"), (2, "card_lead")]
    engine.dispose()


def test_follow_ups_complete_on_a_populated_database(empty_db):
    """0030 on a database of the revision before it, with 回访 in each old outcome (one with its 漏洞 as text, one
    open and overdue) and cases filed 10 and 40 days ago (and a 10-day one with no victim): the outcomes map to the
    field's states (safe → 未被骗, defrauded_later → 已被骗, not_confirmed → 不符, unreachable → 确实找不到), the text
    becomes 其他 with it kept, each 回访 gets its warning's community and station, the overdue one stops escalating;
    the victim of the case of 10 days ago gets a 回访 due a week after filing (at least a day from the upgrade), by
    the case's station, not escalating; downgrade drops it, brings the old outcomes back and keeps the rest."""
    import importlib

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    previous = importlib.import_module("fanzha.migrations.versions.0030_follow_ups_complete").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    follow_ups = sa.table("follow_ups", *[sa.column(c) for c in ("id", "warning_id", "reason", "outcome",
                                                                 "missed_outreach", "note", "by_user_id")],
                          sa.column("due_at", UTCDateTime()), sa.column("done_at", UTCDateTime()))
    cases = sa.table("cases", *[sa.column(c) for c in ("id", "case_number", "name", "phone", "community_id",
                                                       "address", "fraud_type", "loss_amount", "narrative", "source",
                                                       "type_status", "recovered_amount", "frozen_amount",
                                                       "suspects_caught", "channel", "victim_sex", "victim_occupation",
                                                       "employer_name")],
                     sa.column("victim_groups", sa.JSON()), sa.column("filed_at", UTCDateTime()),
                     sa.column("loss_at", UTCDateTime()), sa.column("created_at", UTCDateTime()),
                     sa.column("updated_at", UTCDateTime()))
    with Session(engine) as s:
        station_with_dissuader(s, now)
        # (the helper's two areas go in one executemany, which takes its columns from the first row: the station's)
        s.execute(sa.text("UPDATE areas SET police_area_id = 1, police_path = '/1/' WHERE id = 2"))
        base = dict(kind="call", risk_grade="medium", grade_reasons=[], warned_at=now - timedelta(days=20),
                    sign_deadline=now, contact_deadline=now, feedback_deadline=now, station_id=1, community_id=2,
                    status="closed", outcome="dissuaded", repeat_count=1)
        s.add_all([Warning(id=i, external_id=f"MIG30-{i}", **base) for i in range(1, 6)])
        s.flush()
        done = now - timedelta(days=3)
        s.execute(follow_ups.insert(), [  # ids from the sequence (1…5 in this order), which the backfill goes on with
            {"warning_id": 1, "reason": "repeat", "outcome": "safe", "missed_outreach": "", "note": "",
             "by_user_id": 1, "due_at": done, "done_at": done},
            {"warning_id": 2, "reason": "repeat", "outcome": "defrauded_later",
             "missed_outreach": "没装国家反诈中心APP", "note": "", "by_user_id": 1, "due_at": done, "done_at": done},
            {"warning_id": 3, "reason": "repeat", "outcome": "not_confirmed", "missed_outreach": "",
             "note": "", "by_user_id": 1, "due_at": done, "done_at": done},
            {"warning_id": 4, "reason": "repeat", "outcome": "unreachable", "missed_outreach": "", "note": "",
             "by_user_id": 1, "due_at": done, "done_at": done},
            {"warning_id": 5, "reason": "repeat", "outcome": None, "missed_outreach": "", "note": "",
             "by_user_id": None, "due_at": now - timedelta(days=2), "done_at": None}])
        case = dict(name="张桂兰", address="", fraud_type="other", loss_amount=955000, narrative="", source="import",
                    type_status="given", recovered_amount=0, frozen_amount=0, suspects_caught=0, channel="",
                    victim_sex="", victim_occupation="", employer_name="", victim_groups=[], created_at=now,
                    updated_at=now)
        s.execute(cases.insert(), [
            {**case, "id": 1, "case_number": "JZ-MIG30-1", "phone": "13800000001", "community_id": 2,
             "filed_at": now - timedelta(days=10), "loss_at": now - timedelta(days=10, hours=3)},
            {**case, "id": 2, "case_number": "JZ-MIG30-2", "phone": "13800000002", "community_id": 2,
             "filed_at": now - timedelta(days=40), "loss_at": now - timedelta(days=40, hours=3)},
            {**case, "id": 3, "case_number": "JZ-MIG30-3", "name": "", "phone": None, "community_id": 2,
             "filed_at": now - timedelta(days=10), "loss_at": now - timedelta(days=10, hours=3)}])
        s.commit()

    def old_rows():
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT id, warning_id, reason, outcome, missed_outreach, due_at, done_at "
                                        "FROM follow_ups ORDER BY id")).all()

    before = old_rows()
    upgrade("0030", url=empty_db)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            sa.column("id"), sa.column("warning_id"), sa.column("case_id"), sa.column("outcome"),
            sa.column("gaps", sa.JSON()), sa.column("missed_outreach"), sa.column("station_id"),
            sa.column("community_id"), sa.column("escalates"), sa.column("escalated"), sa.column("tries"),
            sa.column("due_at", UTCDateTime())).select_from(sa.table("follow_ups")).order_by(sa.column("id"))).all()
    assert [tuple(r)[:11] for r in rows[:5]] == [
        (1, 1, None, "not_defrauded", [], "", 1, 2, True, "", 0),
        (2, 2, None, "defrauded", ["other"], "没装国家反诈中心APP", 1, 2, True, "", 0),
        (3, 3, None, "mismatch", [], "", 1, 2, True, "", 0),
        (4, 4, None, "not_found", [], "", 1, 2, True, "", 0),
        (5, 5, None, None, [], "", 1, 2, False, "", 0)]  # overdue at the upgrade: stays, never escalates
    assert len(rows) == 6
    backfilled = rows[5]
    assert (backfilled.warning_id, backfilled.case_id, backfilled.outcome, backfilled.station_id,
            backfilled.community_id, backfilled.escalates) == (None, 1, None, 1, 2, False)
    # a week after filing was three days ago: a day from the upgrade to do it
    assert now + timedelta(days=1) <= backfilled.due_at < now + timedelta(days=1, minutes=5)
    downgrade(previous, url=empty_db)
    assert old_rows() == before
    assert {c["name"] for c in inspect(engine).get_columns("follow_ups")}.isdisjoint({"case_id", "gaps", "escalates"})
    engine.dispose()


def test_counterparty_ids_on_a_populated_database(empty_db):
    """0031 on a database of 0030 with warnings carrying 对方账号: each account of the cell becomes a counterparty
    identifier (digits only; several in one cell split), the warned person's own phone written there and a value
    that is no account are left out, an empty cell gives none; downgrade drops the table and keeps the warnings."""
    import importlib

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from fanzha.migrate import downgrade, upgrade
    from fanzha.warnings.models import Warning

    previous = importlib.import_module("fanzha.migrations.versions.0031_counterparty_ids").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine) as s:
        station_with_dissuader(s, now)
        base = dict(kind="funds", risk_grade="high", grade_reasons=[], warned_at=now - timedelta(days=3),
                    sign_deadline=now, contact_deadline=now, feedback_deadline=now, station_id=1, community_id=2,
                    status="assigned", repeat_count=0)
        s.add_all([
            Warning(id=1, external_id="MIG31-1", phone="13800000001",
                    counterparty_account="6222 0211 0000 1234 567、13800000001", **base),
            Warning(id=2, external_id="MIG31-2", phone="13800000002", counterparty_account="6222021100001234567",
                    **base),
            Warning(id=3, external_id="MIG31-3", phone="13800000003", counterparty_account="对方说的", **base),
            Warning(id=4, external_id="MIG31-4", phone="13800000004", counterparty_account="", **base)])
        s.commit()
    upgrade("0031", url=empty_db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT record_kind, record_id, kind, key, value FROM counterparty_ids "
                                 "ORDER BY record_id, id")).all()
    assert [tuple(r) for r in rows] == [
        ("warning", 1, "account", "6222021100001234567", "6222 0211 0000 1234 567"),
        ("warning", 2, "account", "6222021100001234567", "6222021100001234567")]
    downgrade(previous, url=empty_db)
    assert "counterparty_ids" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM warnings")).scalar() == 4
    engine.dispose()


def test_activity_target_group_on_a_populated_database(empty_db):
    """0032 on a database of 0031 with activities: each keeps its counts and gets an empty 对象人群 and 针对诈骗类型
    (未注明: nothing guessed from its unit); downgrade drops both columns and keeps the activities."""
    import importlib

    from sqlalchemy import text

    from fanzha.migrate import downgrade, upgrade

    previous = importlib.import_module("fanzha.migrations.versions.0032_activity_target_group").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        station_with_dissuader(s, datetime.now(UTC).replace(microsecond=0))  # station 1, community 2
        s.commit()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (id, name, code, kind, area_id, duty_groups, is_member, contact_name, "
                          "contact_phone, created_at) VALUES (1, '迁移民政局', 'M32-MZ', 'civil_affairs', 2, "
                          "'[\"single_divorced\"]', true, '', '', CURRENT_TIMESTAMP)"))
        for i in (1, 2):
            conn.execute(text(
                "INSERT INTO activities (id, kind, community_id, address, held_on, unit_id, organiser, title, note, "
                "households, shops, sessions, participants, leaflets, app_installs, jzz_registrations, pledges, "
                "vulnerable_found, issues, forwards, source, created_at) VALUES (:i, 'lecture', 2, '', '2026-05-01', "
                ":unit, '', '', '', 0, 0, 1, :n, 0, 0, 0, 0, 0, 0, 0, 'form', CURRENT_TIMESTAMP)"),
                {"i": i, "unit": 1 if i == 1 else None, "n": 10 * i})
    upgrade("0032", url=empty_db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, participants, target_group, fraud_type FROM activities ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, 10, "", ""), (2, 20, "", "")]
    downgrade(previous, url=empty_db)
    assert {c["name"] for c in inspect(engine).get_columns("activities")}.isdisjoint({"target_group", "fraud_type"})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM activities")).scalar() == 2
    engine.dispose()


def test_warning_helper_on_a_populated_database(empty_db):
    """0033 on a database of 0032 with a warning: the new warning_helps table is empty and the warning as it was;
    downgrade drops the table and keeps the warning."""
    import importlib

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from fanzha.migrate import downgrade, upgrade

    previous = importlib.import_module("fanzha.migrations.versions.0033_warning_helper").down_revision
    upgrade(previous, url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = datetime.now(UTC).replace(microsecond=0)
    from fanzha.warnings.models import Warning

    with Session(engine) as s:
        station_with_dissuader(s, now)
        s.add(Warning(id=1, external_id="MIG33", kind="funds", risk_grade="high", grade_reasons=[], warned_at=now,
                      sign_deadline=now, contact_deadline=now, feedback_deadline=now, station_id=1, community_id=2,
                      status="assigned", repeat_count=0, phone="13800000033"))
        s.commit()
    upgrade("0033", url=empty_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM warning_helps")).scalar() == 0
        assert conn.execute(text("SELECT external_id FROM warnings")).scalar() == "MIG33"
    downgrade(previous, url=empty_db)
    assert "warning_helps" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM warnings")).scalar() == 1
    engine.dispose()
