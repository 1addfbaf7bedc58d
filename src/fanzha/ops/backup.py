"""Backups that restore (备份与恢复): the database (SQLite's online backup API, or pg_dump in custom format), the files
the records point to under the data directory, the audit seal file and the signing key, and a manifest that a
restore checks before it starts and compares with after it has finished (docs/deploy.md).

Order of a backup, so that what is copied agrees with itself while the platform runs: the seal file first (a seal is
written there only after its transaction commits, so every line copied names a seal the database snapshot holds),
then the database snapshot, then the files (a record that names a file is committed after the file is written)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "fanzha.db"
PG_DUMP = "fanzha.dump"
FILES = "files"
SEALS = "audit-seals.jsonl"
SECRET = "secret_key"
# Folders under FANZHA_DATA_DIR whose files the database points to: 见面 evidence photos (dissuasion), 宣防
# activity photos (prevention), 考核 evidence (assess), and the import files of the batches (imports). Issued
# documents (发文登记) keep their DOCX and PDF in the database itself, so they travel with the dump.
FILE_FOLDERS = ("evidence", "activities", "assess", "uploads")
# The columns that name those files (relative to the data directory; import batches keep an absolute path).
REFERENCES = (("contacts", "photo_path"), ("activity_photos", "path"), ("assessment_scores", "evidence_file"),
              ("import_batches", "stored_path"))


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is Chinese, for the operator."""


@dataclass
class Restored:
    """What a restore did and what it found when it compared the result with the manifest."""

    revision: str
    upgrade_needed: bool
    tables: int = 0
    rows: int = 0
    files: int = 0
    mismatches: list[str] = field(default_factory=list)  # tables or files that differ from the manifest
    audit_ok: bool | None = None
    audit_message: str = ""
    seal_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.audit_ok is not False


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kind_of(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise BackupError(f"不支持的数据库：{make_url(url).drivername}（只支持 SQLite 和 PostgreSQL）")


def code_head() -> str | None:
    from alembic.script import ScriptDirectory

    from fanzha.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from fanzha.migrate import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def _counts(conn: Connection) -> dict[str, int]:
    quote = conn.dialect.identifier_preparer.quote
    return {t: int(conn.execute(text(f"SELECT count(*) FROM {quote(t)}")).scalar_one())
            for t in sorted(inspect(conn).get_table_names())}


def _revision(conn: Connection) -> str:
    if "alembic_version" not in inspect(conn).get_table_names():
        return ""
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def _referenced(conn: Connection, data_dir: Path) -> set[str]:
    """The files the records name, as paths relative to the data directory (absolute when outside it)."""
    tables, root, named = set(inspect(conn).get_table_names()), data_dir.resolve(), set()
    for table, column in REFERENCES:
        if table in tables:
            named |= {v for v in conn.execute(text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} <> ''"))
                      .scalars()}
    out = set()
    for value in named:
        path = Path(value)
        if path.is_absolute():
            path = path.resolve()
            out.add(path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path))
        else:
            out.add(path.as_posix())
    return out


def _pg_env(url: str) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore: the password stays out of the process list."""
    u = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password),
                       ("PGDATABASE", u.database), ("PGSSLMODE", u.query.get("sslmode"))):
        if value:
            env[key] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端工具（Debian：apt install postgresql-client，"
                          f"版本不低于服务器），并确保它在 PATH 中")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-2000:]}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复")
    return Path(database)


def backup(to: Path, *, url: str, data_dir: Path, seal_file: Path,
           log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Writes a backup of the database at `url` and of the files under `data_dir` into the empty or new folder `to`;
    returns the manifest it wrote."""
    from fanzha import __version__
    from fanzha.db import make_engine

    kind = kind_of(url)
    to.mkdir(parents=True, exist_ok=True)
    if any(to.iterdir()):
        raise BackupError(f"备份目录 {to} 不是空的：请给每次备份一个新目录")
    to.chmod(0o700)  # names, ID numbers and phones: only the platform's own account may read a backup
    manifest: dict[str, Any] = {"format": FORMAT, "fanzha_version": __version__, "database": kind,
                      "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    if seal_file.is_file():
        shutil.copy2(seal_file, to / SEALS)
        manifest["audit_seal_file"] = {"path": SEALS, "sha256": sha256_of(to / SEALS), "source": str(seal_file)}
    engine = make_engine(url)
    try:
        if kind == "sqlite":
            log("复制 SQLite 数据库（在线备份）")
            source = sqlite3.connect(_sqlite_path(url))
            target = sqlite3.connect(to / SQLITE_DUMP)
            try:
                source.backup(target)  # a consistent copy even while the platform writes
            finally:
                target.close()
                source.close()
            copy = make_engine(f"sqlite:///{(to / SQLITE_DUMP).resolve()}")
            try:
                with copy.connect() as conn:
                    manifest["alembic_revision"], manifest["tables"] = _revision(conn), _counts(conn)
                    referenced = _referenced(conn, data_dir)
            finally:
                copy.dispose()
            manifest["dump"] = {"path": SQLITE_DUMP, "sha256": sha256_of(to / SQLITE_DUMP)}
        else:
            log("pg_dump（custom 格式）")
            pg_dump = _tool("pg_dump")
            # Count the rows in the very snapshot pg_dump copies, so the manifest's counts are the dump's.
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-acl",
                      "--file", str(to / PG_DUMP)], _pg_env(url))
                manifest["alembic_revision"], manifest["tables"] = _revision(conn), _counts(conn)
                referenced = _referenced(conn, data_dir)
                conn.commit()
            manifest["dump"] = {"path": PG_DUMP, "sha256": sha256_of(to / PG_DUMP)}
    finally:
        engine.dispose()
    log("复制数据目录中的文件")
    files = []
    for folder in FILE_FOLDERS:
        root = data_dir / folder
        for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
            relative = path.relative_to(data_dir).as_posix()
            (to / FILES / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, to / FILES / relative)
            files.append({"path": relative, "bytes": path.stat().st_size, "sha256": sha256_of(to / FILES / relative)})
    manifest["files"] = files
    # Named by a record but not on disk (removed by hand, or lost before this backup): said, not silently skipped.
    manifest["missing_files"] = sorted(referenced - {f["path"] for f in files})
    if (data_dir / SECRET).is_file():
        shutil.copy2(data_dir / SECRET, to / SECRET)
        (to / SECRET).chmod(0o600)
        manifest["secret_key"] = {"path": SECRET, "sha256": sha256_of(to / SECRET)}
    (to / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in `source`, with the dump's and every file's hash checked, or BackupError naming
    the first things that are wrong."""
    try:
        loaded = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} 中没有 {MANIFEST}：不是 fanzha backup 生成的备份") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"{source / MANIFEST} 无法读取（{exc}）：备份清单已损坏") from None
    required = ("format", "database", "alembic_revision", "tables", "files", "dump")
    manifest: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    missing = [k for k in required if k not in manifest]
    if missing:
        raise BackupError(f"备份清单 {source / MANIFEST} 缺少 {', '.join(missing)}：备份清单已损坏")
    if manifest["format"] != FORMAT:
        raise BackupError(f"备份格式 {manifest['format']} 不是本版本能读的格式 {FORMAT}")
    stored = [(manifest["dump"]["path"], manifest["dump"])]
    stored += [(f"{FILES}/{e['path']}", e) for e in manifest["files"]]
    stored += [(manifest[k]["path"], manifest[k]) for k in ("audit_seal_file", "secret_key") if k in manifest]
    wrong = []
    for relative, entry in stored:
        where = source / relative
        if not where.is_file():
            wrong.append(f"{relative}（缺失）")
        elif sha256_of(where) != entry["sha256"]:
            wrong.append(f"{relative}（内容与清单的 SHA-256 不符）")
    if wrong:
        shown = "；".join(wrong[:10]) + (f" 等 {len(wrong)} 个" if len(wrong) > 10 else "")
        raise BackupError(f"备份已损坏，未做任何恢复：{shown}")
    return manifest


def check_revision(manifest: dict[str, Any]) -> bool:
    """True when the backup's schema is older than the code's (run `fanzha db upgrade` after restoring); raises for a
    backup made by a newer version."""
    revision, head = manifest["alembic_revision"], code_head()
    if revision == head:
        return False
    if revision in _known_revisions():
        return True
    raise BackupError(f"备份的数据库版本 {revision or '（空）'} 比本程序新（本程序最新为 {head}）：请用生成备份的"
                      f"版本或更新的版本恢复")


def describe_contents(url: str) -> str:
    """'' for an empty database, else what is there in words (tables, the revision, the largest tables)."""
    from fanzha.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            if not tables:
                return ""
            counts = _counts(conn)
            revision = _revision(conn)
    finally:
        engine.dispose()
    biggest = sorted(((n, t) for t, n in counts.items() if n), reverse=True)[:5]
    rows = "、".join(f"{t} {n} 行" for n, t in biggest) or "各表均无数据"
    return f"已有 {len(tables)} 张表（版本 {revision or '无'}；{rows}）"


def restore(source: Path, *, url: str, data_dir: Path, seal_file: Path, force: bool = False,
            log: Callable[[str], None] = lambda _m: None) -> Restored:
    """Restores the backup in `source` into the empty database at `url` and its files into `data_dir`, then compares
    every table's row count and every file's hash with the manifest and verifies the audit chain."""
    from fanzha.db import make_engine

    manifest = read_manifest(source)
    kind = kind_of(url)
    if manifest["database"] != kind:
        raise BackupError(f"备份来自 {manifest['database']} 数据库，不能恢复到 {kind} 数据库")
    upgrade_needed = check_revision(manifest)
    there = describe_contents(url) if kind == "postgresql" or _sqlite_path(url).exists() else ""
    if there and not force:
        raise BackupError(f"目标数据库不是空的：{there}。请恢复到空数据库；确需覆盖请加 --force")
    clashes = _clashing_files(manifest, source, data_dir, seal_file)
    if clashes and not force:
        shown = "、".join(clashes[:5]) + (f" 等 {len(clashes)} 个" if len(clashes) > 5 else "")
        raise BackupError(f"数据目录中已有内容不同的同名文件：{shown}。确需覆盖请加 --force")
    dump = source / manifest["dump"]["path"]
    if kind == "sqlite":
        log("恢复 SQLite 数据库")
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{dump.resolve()}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            backup_db.backup(target)  # replaces the whole target database, pages and all
        finally:
            target.close()
            backup_db.close()
    else:
        if there:
            # --force: the schema is emptied first. pg_restore --clean cannot do it on monthly partitions (it drops a
            # partition's inherited key before its table's, which PostgreSQL refuses).
            log("清空目标数据库（public 模式）")
            engine = make_engine(url)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                    conn.exec_driver_sql("CREATE SCHEMA public")
            finally:
                engine.dispose()
        log("pg_restore")
        args = [_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
        _run([*args, "--dbname", make_url(url).database or "", str(dump)], _pg_env(url))
    log("恢复数据目录中的文件")
    for entry in manifest["files"]:
        target = data_dir / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / FILES / entry["path"], target)
    if "audit_seal_file" in manifest:
        seal_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / SEALS, seal_file)
    if "secret_key" in manifest and (force or not (data_dir / SECRET).exists()):
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / SECRET, data_dir / SECRET)
        (data_dir / SECRET).chmod(0o600)

    result = Restored(revision=manifest["alembic_revision"], upgrade_needed=upgrade_needed,
                      seal_file=seal_file if "audit_seal_file" in manifest else None)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counts = _counts(conn)
    finally:
        engine.dispose()
    for table, expected in manifest["tables"].items():
        if counts.get(table) != expected:
            result.mismatches.append(f"表 {table}：备份时 {expected} 行，恢复后 {counts.get(table, '（无此表）')}")
    result.tables, result.rows = len(manifest["tables"]), sum(manifest["tables"].values())
    for entry in manifest["files"]:
        target = data_dir / entry["path"]
        if not target.is_file() or sha256_of(target) != entry["sha256"]:
            result.mismatches.append(f"文件 {entry['path']}：恢复后与备份不符")
    result.files = len(manifest["files"])
    if not upgrade_needed:
        result.audit_ok, result.audit_message = verify_audit(url, seal_file)
    return result


def _clashing_files(manifest: dict[str, Any], source: Path, data_dir: Path, seal_file: Path) -> list[str]:
    clashes = [e["path"] for e in manifest["files"]
               if (data_dir / e["path"]).exists() and sha256_of(data_dir / e["path"]) != e["sha256"]]
    if "audit_seal_file" in manifest and seal_file.exists() \
            and sha256_of(seal_file) != manifest["audit_seal_file"]["sha256"]:
        clashes.append(str(seal_file))
    return clashes


def verify_audit(url: str, seal_file: Path) -> tuple[bool, str]:
    """`fanzha audit verify` on the restored database: (passed, what it says)."""
    from sqlalchemy.orm import Session

    from fanzha.audit import seals
    from fanzha.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            v = seals.verify(session, path=seal_file)
    finally:
        engine.dispose()
    if v.ok:
        return True, f"审计日志完好：{v.seals} 个封存、{v.rows} 条记录核验一致；另有 {v.unsealed} 条尚未封存"
    return False, f"审计日志核验未通过：{v.problem}"


def prune(parent: Path, keep: int) -> list[Path]:
    """Removes all but the newest `keep` backups (folders holding a manifest.json, newest by name) in `parent`;
    returns those removed. Other folders and files are left alone."""
    backups = sorted(p for p in parent.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    old = backups[:-keep] if keep else []
    for path in old:
        shutil.rmtree(path)
    return old
