"""`fanzha backup` and `fanzha restore`, run as an operator runs them, on the database kind of this pass (SQLite, or
PostgreSQL in the PostgreSQL pass): a small demo county with sealed audit rows and evidence photos is backed up,
restored into an empty database and a new data directory, and compared table by table, photo by photo; the audit
chain verifies; a non-empty target and a damaged backup are refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from support.db import DB_KIND, pg_create, pg_drop

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # 见面照片 (first bytes of a JPEG)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x01" * 500  # 宣传活动照片
_TAG = f"{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _new_database(tmp: Path, name: str) -> str:
    if DB_KIND == "postgres":
        return pg_create(f"fanzha_bk_{_TAG}_{name}")
    return f"sqlite:///{tmp / (name + '.db')}"


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        pg_drop(url.rsplit("/", 1)[1])


def fanzha(*args: str, url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZHA_")}
    env.update(FANZHA_DATABASE_URL=url, FANZHA_DATA_DIR=str(data_dir), FANZHA_QUEUE_IMMEDIATE="1")
    return subprocess.run([sys.executable, "-m", "fanzha.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def _counts(url: str) -> dict[str, int]:
    from fanzha.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A migrated demo county of 60 people, its audit rows sealed (seal file in its data directory), two photos on
    disk that its records point to, and a backup of it made with `fanzha backup`."""
    from sqlalchemy.orm import Session

    from fanzha.audit import seals
    from fanzha.db import make_engine, utcnow
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    tmp = tmp_path_factory.mktemp("backup")
    url = _new_database(tmp, "src")
    data_dir = tmp / "data-src"
    upgrade("head", url=url)
    engine = make_engine(url)
    with Session(engine) as session:
        generate(session, seed=11, people=60)
        session.commit()
        for row in iter(lambda: seals.seal(session, now=utcnow() + timedelta(hours=1)), None):
            session.commit()
            seals.publish(row, data_dir / "audit-seals.jsonl")
    (data_dir / "evidence" / "1").mkdir(parents=True)
    (data_dir / "evidence" / "1" / "a1b2.jpg").write_bytes(JPEG)
    (data_dir / "activities" / "3").mkdir(parents=True)
    (data_dir / "activities" / "3" / "c3d4.png").write_bytes(PNG)
    with engine.begin() as conn:
        contact = conn.execute(text("SELECT min(id) FROM contacts")).scalar()
        assert contact is not None, "the demo county has contacts to attach the photo to"
        conn.execute(text("UPDATE contacts SET photo_path = 'evidence/1/a1b2.jpg' WHERE id = :id"), {"id": contact})
        conn.execute(text("UPDATE contacts SET photo_path = 'evidence/9/lost.jpg' WHERE id = (SELECT max(id) FROM "
                          "contacts)"))
    engine.dispose()
    done = fanzha("backup", "--to", str(tmp / "bk"), url=url, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    yield {"url": url, "data_dir": data_dir, "backup": tmp / "bk", "tmp": tmp, "out": done.stdout,
           "err": done.stderr}
    _drop(url)


@pytest.fixture
def empty(source, request):
    url = _new_database(source["tmp"], f"dst{request.node.name[-12:].strip('[]_')}".lower().replace("-", "_"))
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    yield url
    _drop(url)


def test_backup_writes_the_manifest(source):
    manifest = json.loads((source["backup"] / "manifest.json").read_text(encoding="utf-8"))
    counts = _counts(source["url"])
    assert manifest["database"] == ("postgresql" if DB_KIND == "postgres" else "sqlite")
    assert manifest["tables"] == counts  # every table, counted in the dumped snapshot
    assert manifest["tables"]["people"] >= 60 and manifest["tables"]["audit_seals"] >= 1
    from fanzha.ops.backup import code_head

    assert manifest["alembic_revision"] == code_head()
    assert sorted(f["path"] for f in manifest["files"]) == ["activities/3/c3d4.png", "evidence/1/a1b2.jpg"]
    assert manifest["missing_files"] == ["evidence/9/lost.jpg"]  # named by a contact, gone from the disk
    assert "1 个记录指向的文件不在数据目录中，未能备份（清单 missing_files）：evidence/9/lost.jpg" in source["err"]
    assert (source["backup"] / "files" / "evidence" / "1" / "a1b2.jpg").read_bytes() == JPEG
    assert (source["backup"] / "audit-seals.jsonl").read_bytes() == (source["data_dir"] / "audit-seals.jsonl").read_bytes()
    assert f"{len(counts)} 张表 {sum(counts.values())} 行，2 个文件，含审计封存文件" in source["out"]
    assert (source["backup"].stat().st_mode & 0o777) == 0o700  # personal data: the platform's account only


def test_restore_into_an_empty_database_gives_the_same_counts_photos_and_audit_chain(source, empty):
    from fanzha.ops.backup import code_head

    data_dir = source["tmp"] / "data-restored"
    done = fanzha("restore", "--from", str(source["backup"]), url=empty, data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _counts(empty) == _counts(source["url"])
    assert (data_dir / "evidence" / "1" / "a1b2.jpg").read_bytes() == JPEG
    assert (data_dir / "activities" / "3" / "c3d4.png").read_bytes() == PNG
    assert (data_dir / "audit-seals.jsonl").read_bytes() == (source["data_dir"] / "audit-seals.jsonl").read_bytes()
    assert "每张表的行数、每个文件的 SHA-256 均与备份清单一致" in done.stdout
    assert "审计日志完好" in done.stdout
    verify = fanzha("audit", "verify", "--json", url=empty, data_dir=data_dir)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    verdict = json.loads(verify.stdout)
    assert verdict["ok"] and verdict["seals"] >= 1 and verdict["notes"] == []  # the seal file came back too

    again = fanzha("restore", "--from", str(source["backup"]), url=empty, data_dir=data_dir)
    assert again.returncode == 1
    tables = len(_counts(empty))
    assert f"目标数据库不是空的：已有 {tables} 张表（版本 {code_head()}；" in again.stderr

    forced = fanzha("restore", "--force", "--from", str(source["backup"]), url=empty, data_dir=data_dir)
    assert forced.returncode == 0, forced.stdout + forced.stderr  # PostgreSQL: pg_restore --clean --if-exists
    assert _counts(empty) == _counts(source["url"]) and "审计日志完好" in forced.stdout


def test_a_non_empty_database_is_refused_and_left_as_it_was(source):
    before = _counts(source["url"])
    done = fanzha("restore", "--from", str(source["backup"]), url=source["url"], data_dir=source["tmp"] / "data-x")
    assert done.returncode == 1
    assert "目标数据库不是空的：已有" in done.stderr and "--force" in done.stderr
    assert _counts(source["url"]) == before
    assert not (source["tmp"] / "data-x" / "evidence").exists()


def test_a_damaged_backup_is_reported_and_nothing_is_restored(source, empty):
    broken = source["tmp"] / "bk-broken"
    shutil.copytree(source["backup"], broken)
    photo = broken / "files" / "evidence" / "1" / "a1b2.jpg"
    photo.write_bytes(photo.read_bytes()[:-1] + b"\x00")
    done = fanzha("restore", "--from", str(broken), url=empty, data_dir=source["tmp"] / "data-y")
    assert done.returncode == 1
    assert "备份已损坏，未做任何恢复：files/evidence/1/a1b2.jpg（内容与清单的 SHA-256 不符）" in done.stderr
    assert _counts(empty) == {}

    (broken / "manifest.json").write_text('{"format": 1, "tables": {', encoding="utf-8")
    done = fanzha("restore", "--from", str(broken), url=empty, data_dir=source["tmp"] / "data-y")
    assert done.returncode == 1 and "备份清单已损坏" in done.stderr


def test_a_backup_of_a_newer_version_is_refused_an_older_one_asks_for_an_upgrade(source):
    from fanzha.ops.backup import BackupError, check_revision

    with pytest.raises(BackupError, match="比本程序新"):
        check_revision({"alembic_revision": "9999"})
    assert check_revision({"alembic_revision": "0016"}) is True
    manifest = json.loads((source["backup"] / "manifest.json").read_text(encoding="utf-8"))
    assert check_revision(manifest) is False


def test_keep_removes_the_oldest_backups_only(tmp_path):
    from fanzha.ops.backup import prune

    for name in ("fanzha-20261201", "fanzha-20261202", "fanzha-20261203", "other"):
        (tmp_path / name).mkdir()
        if name != "other":
            (tmp_path / name / "manifest.json").write_text("{}")
    assert [p.name for p in prune(tmp_path, 2)] == ["fanzha-20261201"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fanzha-20261202", "fanzha-20261203", "other"]


def test_missing_postgresql_client_tools_are_named(monkeypatch, tmp_path):
    from fanzha.ops import backup as ops

    monkeypatch.setattr(ops.shutil, "which", lambda name: None)
    with pytest.raises(ops.BackupError, match="找不到 pg_dump：请安装 PostgreSQL 客户端工具"):
        ops.backup(tmp_path / "bk", url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path,
                   seal_file=tmp_path / "seals.jsonl")


def test_sqlite_backup_while_a_writer_commits_is_a_consistent_snapshot(tmp_path):
    """The platform keeps writing during the nightly backup: the copy is one committed state (its integrity check
    passes, and the manifest counts the copy's rows, which lie between the counts before and after)."""
    import sqlite3
    import threading

    from fanzha.ops.backup import backup

    db = tmp_path / "live.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE contacts_probe (id INTEGER PRIMARY KEY, note TEXT)")
    conn.executemany("INSERT INTO contacts_probe (note) VALUES (?)", [("劝阻 张某",)] * 5000)
    conn.commit()
    stop, started = threading.Event(), threading.Event()

    def write():
        writer = sqlite3.connect(db, timeout=30)
        while not stop.is_set():
            writer.executemany("INSERT INTO contacts_probe (note) VALUES (?)", [("见面 李某",)] * 50)
            writer.commit()
            started.set()
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(30)
        before = conn.execute("SELECT count(*) FROM contacts_probe").fetchone()[0]
        manifest = backup(tmp_path / "bk", url=f"sqlite:///{db}", data_dir=tmp_path / "data",
                          seal_file=tmp_path / "none.jsonl")
    finally:
        stop.set()
        thread.join()
    after = conn.execute("SELECT count(*) FROM contacts_probe").fetchone()[0]
    copy = sqlite3.connect(tmp_path / "bk" / "fanzha.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = copy.execute("SELECT count(*) FROM contacts_probe").fetchone()[0]
    assert manifest["tables"] == {"contacts_probe": copied}
    assert before <= copied <= after and copied % 50 == 0  # whole transactions only
    assert before > 5000  # the writer was writing when the backup began
