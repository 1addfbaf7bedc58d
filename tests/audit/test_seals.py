"""The audit log's hash chain, tried as an attacker would: on a database of its own (SQLite and PostgreSQL), rows
are written and sealed, then changed, deleted or cut off behind the application's back with the triggers
switched off as the tables' owner could; `fanzha audit verify` names the first broken link, or says all hold."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from fanzha.audit import seals
from fanzha.trail.models import AuditEntry, AuditSeal
from support.db import pg_available, pg_create, pg_drop

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def chain_db(request, tmp_path):
    """A migrated database with 30 audit rows, minutes apart, and the seal file's path."""
    from fanzha.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    elif not pg_available():
        pytest.skip("PostgreSQL is not reachable")
    else:
        name = f"fanzha_seals_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        url = pg_create(name)
    upgrade(url=url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as s:
        for i in range(30):
            s.add(AuditEntry(at=T0 + timedelta(minutes=i), username=f"u{i % 3}", action="view", entity="person",
                             entity_id=str(i), fields=["name"], detail={"ids": [i, i + 1], "note": "查看"}))
        s.commit()
    try:
        yield engine, tmp_path / "seals.jsonl", request.param
    finally:
        engine.dispose()
        if request.param == "postgres":
            pg_drop(name)


def _seal(engine, path, now):
    with Session(engine) as s:
        made = []
        while (row := seals.seal(s, now=now)) is not None:
            s.commit()
            seals.publish(row, path)
            made.append((row.id, row.from_id, row.last_id, row.rows))
        return made


def _verify(engine, path):
    with Session(engine) as s:
        return seals.verify(s, path=path)


def _behind_the_back(engine, kind, sql):
    """What an owner could do: switch the append-only triggers off, run `sql`, switch them on again."""
    with engine.begin() as conn:
        if kind == "postgres":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_seals DISABLE TRIGGER USER"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_seals ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                         "AND tbl_name IN ('audit_log', 'audit_seals')")).all()
            for name, _ in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            conn.execute(text(sql))
            for _, ddl in triggers:
                conn.execute(text(ddl))


def test_rows_older_than_the_grace_are_sealed_in_a_chain_that_verifies(chain_db):
    engine, path, _ = chain_db
    # Grace 5 minutes: at T0+20min the rows of T0 … T0+14 are old enough (15 rows), the rest wait.
    assert _seal(engine, path, T0 + timedelta(minutes=20)) == [(1, 0, 15, 15)]
    assert _seal(engine, path, T0 + timedelta(minutes=20)) == []  # nothing new old enough
    assert _seal(engine, path, T0 + timedelta(hours=1)) == [(2, 15, 30, 15)]
    v = _verify(engine, path)
    assert (v.ok, v.seals, v.rows, v.unsealed, v.problem) == (True, 2, 30, 0, "")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["seal"], x["last_id"], x["rows"]) for x in lines] == [(1, 15, 15), (2, 30, 15)]
    with Session(engine) as s:  # the chain: each seal starts from its predecessor's digest
        first, second = s.query(AuditSeal).order_by(AuditSeal.id).all()
        assert first.prev_digest == seals.GENESIS and second.prev_digest == first.digest


def test_the_application_cannot_change_delete_or_truncate_the_log_or_its_seals(chain_db):
    engine, path, kind = chain_db
    _seal(engine, path, T0 + timedelta(hours=1))
    statements = ["UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log", "UPDATE audit_seals SET rows = 0",
                  "DELETE FROM audit_seals"]
    if kind == "postgres":
        statements += ["TRUNCATE audit_log", "TRUNCATE audit_seals"]
    for sql in statements:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.parametrize("tamper, expected", [
    ("UPDATE audit_log SET detail = '{\"ids\": [7, 8], \"note\": \"查看\"}' WHERE id = 20",
     "第 2 号封存（审计记录 #16–#30，封存于 2026-12-01 03:00）：与封存时的摘要不符，审计记录被修改、删除或插入，或封存被改写（15 条，内容与封存时不同）"),
    ("DELETE FROM audit_log WHERE id = 3",
     "第 1 号封存（审计记录 #1–#15，封存于 2026-12-01 02:20）：与封存时的摘要不符，审计记录被修改、删除或插入，或封存被改写（封存时 15 条，现在 14 条）"),
    ("UPDATE audit_seals SET digest = 'f' || substr(digest, 2) WHERE id = 1",
     "第 1 号封存（审计记录 #1–#15，封存于 2026-12-01 02:20）：与封存时的摘要不符，审计记录被修改、删除或插入，或封存被改写（15 条，内容与封存时不同）"),
])
def test_a_change_behind_the_applications_back_is_named(chain_db, tamper, expected):
    engine, path, kind = chain_db
    _seal(engine, path, T0 + timedelta(minutes=20))
    _seal(engine, path, T0 + timedelta(hours=1))
    _behind_the_back(engine, kind, tamper)
    v = _verify(engine, path)
    assert not v.ok and v.problem == expected


def test_a_deleted_tail_and_its_seal_are_reported_from_the_file_outside(chain_db):
    engine, path, kind = chain_db
    _seal(engine, path, T0 + timedelta(minutes=20))
    _seal(engine, path, T0 + timedelta(hours=1))
    # The newest rows and the seal over them removed together: the chain inside the database is whole again.
    _behind_the_back(engine, kind, "DELETE FROM audit_log WHERE id > 15")
    _behind_the_back(engine, kind, "DELETE FROM audit_seals WHERE id = 2")
    v = _verify(engine, path)
    assert not v.ok and v.seal_id == 2
    assert v.problem == "库外封存文件记有第 2 号封存（审计记录至 #30），数据库中已没有：审计记录的尾部连同封存被删除"
    assert _verify(engine, path.with_name("elsewhere.jsonl")).ok  # without the file only the inside is checked


def test_fanzha_audit_verify_exits_1_and_names_the_link(chain_db, tmp_path):
    """The commands as an operator runs them, in a process of their own on the chain's database."""
    import subprocess
    import sys

    engine, path, kind = chain_db
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATABASE_URL=engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://"), FANZHA_AUDIT_SEAL_FILE=str(path), FANZHA_DATA_DIR=str(tmp_path))

    def fanzha(*args):
        return subprocess.run([sys.executable, "-m", "fanzha.cli.main", "audit", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    done = fanzha("seal")
    assert done.returncode == 0 and "新封存 1 个，共 30 条审计记录" in done.stdout, done.stdout + done.stderr
    ok = fanzha("verify", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["rows"] == 30
    _behind_the_back(engine, kind, "DELETE FROM audit_log WHERE id = 30")
    broken = fanzha("verify")
    assert broken.returncode == 1 and "封存时 30 条，现在 29 条" in broken.stderr
