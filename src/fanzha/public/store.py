"""The public app's own small store (SQLite file): reports people chose to send, and its copy of the blocklist.

No personal data: a report holds the message, the number or link reported, the channel and the checker's verdict,
never who sent it or from where. Checked texts are not written anywhere unless the person presses 举报.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fanzha.detect.extract import ENTITY_KINDS, canonical, lookup_keys
from fanzha.public import bundle

CHANNELS = {"sms": "短信", "call": "电话", "wechat": "微信", "qq": "QQ", "web": "网页/APP", "other": "其他"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, reported_at TEXT NOT NULL, channel TEXT NOT NULL,
    text TEXT NOT NULL, value TEXT NOT NULL, risk TEXT NOT NULL, fraud_type TEXT NOT NULL, exported_at TEXT
);
CREATE TABLE IF NOT EXISTS blocklist (key TEXT PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ExportResult:
    data: bytes
    count: int


class PublicStore:
    """One SQLite file; a connection per call, so the store is safe to share between request threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                yield conn
        finally:
            conn.close()

    # --- reports ------------------------------------------------------------------------------------------------
    def add_report(self, *, channel: str, text: str, value: str, risk: str, fraud_type: str) -> str:
        uid = uuid.uuid4().hex
        with self._db() as db:
            db.execute("INSERT INTO reports (uid, reported_at, channel, text, value, risk, fraud_type) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (uid, _now(), channel, text, value, risk, fraud_type))
        return uid

    def report_counts(self) -> dict[str, int]:
        with self._db() as db:
            total, pending = db.execute("SELECT COUNT(*), COUNT(*) - COUNT(exported_at) FROM reports").fetchone()
        return {"total": total, "pending": pending}

    def export_reports(self, key: str, *, everything: bool = False, purge: bool = False,
                       deliver: Callable[[bytes], None] | None = None) -> ExportResult:
        """A signed bundle of the reports not exported yet (or all); marks them exported, or deletes them (purge).

        `deliver` (writing the file) runs before the rows are marked or deleted, in the same transaction: if it
        raises, nothing is marked and the reports stay pending for the next export."""
        where = "" if everything else " WHERE exported_at IS NULL"
        with self._db() as db:
            rows = db.execute("SELECT id, uid, reported_at, channel, text, value, risk, fraud_type FROM reports"
                              + where + " ORDER BY id").fetchall()
            records = [{"uid": r[1], "reported_at": r[2], "channel": r[3], "text": r[4], "value": r[5], "risk": r[6],
                        "fraud_type": r[7]} for r in rows]
            data = bundle.write("reports", records, key)
            if deliver is not None:
                deliver(data)
            ids = [(r[0],) for r in rows]
            if purge:
                db.executemany("DELETE FROM reports WHERE id = ?", ids)
            else:
                db.executemany("UPDATE reports SET exported_at = ? WHERE id = ?", [(_now(), i) for (i,) in ids])
        return ExportResult(data, len(records))

    # --- blocklist copy -----------------------------------------------------------------------------------------
    def import_blocklist(self, data: bytes, key: str) -> dict[str, object]:
        """Replaces the local copy with a signed blocklist bundle from the platform (never with an older one)."""
        got = bundle.read(data, key, kind="blocklist")
        rows = []
        for r in got.records:
            kind = str(r.get("kind", ""))
            value = str(r.get("value", ""))[:200]
            key_ = canonical(kind, value) if kind in ENTITY_KINDS else ""
            if key_:
                rows.append((key_, kind, value))
        with self._db() as db:
            current = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if current.get("blocklist_created_at", "") > got.created_at:
                raise bundle.BundleError(f"黑名单包比本机现有名单旧（本机 {current['blocklist_created_at']}，"
                                         f"此包 {got.created_at}），未导入")
            db.execute("DELETE FROM blocklist")
            db.executemany("INSERT OR IGNORE INTO blocklist (key, kind, value) VALUES (?, ?, ?)", rows)
            for name, value in (("blocklist_bundle_id", got.bundle_id), ("blocklist_created_at", got.created_at),
                                ("blocklist_imported_at", _now())):
                db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))
            count = db.execute("SELECT COUNT(*) FROM blocklist").fetchone()[0]
        return {"entries": count, "created_at": got.created_at, "bundle_id": got.bundle_id}

    def blocklist_info(self) -> dict[str, object]:
        with self._db() as db:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            count = db.execute("SELECT COUNT(*) FROM blocklist").fetchone()[0]
        return {"entries": count, "created_at": meta.get("blocklist_created_at", "")}

    def matching(self, keys: Iterable[str]) -> set[str]:
        keys = list(dict.fromkeys(keys))[:500]
        if not keys:
            return set()
        with self._db() as db:
            marks = ",".join("?" * len(keys))
            return {k for (k,) in db.execute(f"SELECT key FROM blocklist WHERE key IN ({marks})", keys)}  # noqa: S608

    def lookup(self, value: str) -> list[dict[str, str]]:
        """The blocklist rows a number, link or account id matches (canonical forms, a link's bare host too)."""
        keys = lookup_keys(value)
        if not keys:
            return []
        with self._db() as db:
            marks = ",".join("?" * len(keys))
            rows = db.execute(f"SELECT kind, value FROM blocklist WHERE key IN ({marks})", keys).fetchall()  # noqa: S608
        return [{"kind": k, "kind_label": ENTITY_KINDS[k], "value": v} for k, v in rows]
