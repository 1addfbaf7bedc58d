"""Tamper evidence for the audit log (审计日志防篡改): a hash chain of seals.

The database refuses UPDATE, DELETE and TRUNCATE on `audit_log` (triggers), and on PostgreSQL the application's
role may only INSERT and SELECT it (docs/privacy.md). Whoever holds the owner's password can still switch those
off; the seals make that visible afterwards:

- Every minute the worker seals the audit rows written since the last seal and older than `audit_seal_grace_minutes`
  (so a transaction still open when the seal is taken is not left out): one `audit_seals` row holding the id range
  (after `from_id`, up to `last_id`), the row count, and `digest` = SHA-256 over the previous seal's digest and each
  row's canonical text in id order. A row changed, deleted or slipped into a sealed range breaks its seal's digest;
  a seal changed or deleted breaks the chain (each seal names its predecessor's digest).
- Each seal is also appended, after its transaction commits, to a file outside the database (`audit_seal_file`,
  one JSON line per seal) and written to the log. A deleted tail — the newest rows and their seals removed
  together — leaves the chain inside the database whole, but not the file: `verify` reports the first seal the file
  holds and the database does not.
- `fanzha audit verify` walks the chain and reports the first broken or missing link (exit 1), or that all of them
  hold (exit 0), with the number of rows not yet sealed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.trail.models import AuditEntry, AuditSeal

log = logging.getLogger(__name__)
GENESIS = "0" * 64
MAX_ROWS = 50_000  # rows one seal covers at most: a first run on a long log catches up a chunk a minute
CHUNK = 2_000


def canonical(row: AuditEntry) -> bytes:
    """One row as the digest reads it: every column, in a fixed order, as JSON with sorted keys."""
    at = (row.at.astimezone(UTC) if row.at.tzinfo else row.at).isoformat()
    values = [row.id, at, row.user_id, row.username, row.action, row.entity, row.entity_id, row.fields, row.detail,
              row.ip, row.user_agent]
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def _rows(session: Session, after: int, last: int) -> Iterator[AuditEntry]:
    """The audit rows with `after` < id ≤ `last`, in id order, read a chunk at a time."""
    cursor = after
    while True:
        chunk = list(session.scalars(select(AuditEntry).where(AuditEntry.id > cursor, AuditEntry.id <= last)
                                     .order_by(AuditEntry.id).limit(CHUNK)))
        yield from chunk
        if len(chunk) < CHUNK:
            return
        cursor = chunk[-1].id
        session.expunge_all()  # a long log is read through, not held


def digest_of(session: Session, prev_digest: str, after: int, last: int) -> tuple[str, int]:
    """(digest, row count) of the rows after `after` up to `last`, chained to `prev_digest`."""
    h = hashlib.sha256(prev_digest.encode())
    count = 0
    for row in _rows(session, after, last):
        h.update(canonical(row))
        h.update(b"\n")
        count += 1
    return h.hexdigest(), count


def latest(session: Session) -> AuditSeal | None:
    return session.scalar(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1))


def seal_all(session: Session, *, now: datetime | None = None) -> list[AuditSeal]:
    """Seal everything old enough now, a seal per MAX_ROWS, each committed and published before the next."""
    made = []
    while (row := seal(session, now=now)) is not None:
        session.commit()
        publish(row)
        made.append(row)
    return made


def seal(session: Session, *, now: datetime | None = None) -> AuditSeal | None:
    """Seal the rows written since the last seal and older than the grace period (at most MAX_ROWS of them).
    None when there is nothing to seal. The caller commits, then calls `publish`."""
    now = now or utcnow()
    last_seal = latest(session)
    after = last_seal.last_id if last_seal else 0
    cutoff = now - timedelta(minutes=get_settings().audit_seal_grace_minutes)
    upto = session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.id > after, AuditEntry.at < cutoff))
    if upto is None:
        return None
    upto = min(upto, session.scalar(select(AuditEntry.id).where(AuditEntry.id > after).order_by(AuditEntry.id)
                                    .offset(MAX_ROWS - 1).limit(1)) or upto)
    prev = last_seal.digest if last_seal else GENESIS
    digest, count = digest_of(session, prev, after, upto)
    row = AuditSeal(from_id=after, last_id=upto, rows=count, prev_digest=prev, digest=digest, sealed_at=now)
    session.add(row)
    session.flush()
    return row


def publish(row: AuditSeal, path: Path | None = None) -> None:
    """Write a committed seal outside the database: a JSON line in the seal file, and the log."""
    line = {"seal": row.id, "from_id": row.from_id, "last_id": row.last_id, "rows": row.rows, "digest": row.digest,
            "sealed_at": row.sealed_at.isoformat()}
    path = path or seal_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    log.info("audit seal %s: rows %s–%s (%s), digest %s", row.id, row.from_id + 1, row.last_id, row.rows, row.digest)


def seal_file() -> Path:
    settings = get_settings()
    return Path(settings.audit_seal_file) if settings.audit_seal_file else settings.data_dir / "audit-seals.jsonl"


@dataclass
class Verdict:
    ok: bool
    seals: int = 0  # seals checked
    rows: int = 0  # rows covered by them
    unsealed: int = 0  # rows after the last seal
    problem: str = ""  # the first broken or missing link, in words
    seal_id: int | None = None  # the seal where it is
    notes: list[str] = field(default_factory=list)

    def broken(self, problem: str, seal_id: int | None = None) -> Verdict:
        """The verdict at the first broken link: what held before it, and what is wrong there."""
        return Verdict(False, self.seals, self.rows, problem=problem, seal_id=seal_id)


def _external(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.strip():
            try:
                out.append(json.loads(text))
            except json.JSONDecodeError:
                out.append({"broken_line": number})
    return out


def verify(session: Session, *, path: Path | None = None) -> Verdict:
    """Walk the chain from the first seal: each seal follows the one before it and its rows still give its digest;
    then compare with the seals recorded outside the database. The first broken or missing link is reported."""
    path = path or seal_file()
    verdict = Verdict(ok=True)
    prev_digest, prev_last = GENESIS, 0
    by_id: dict[object, AuditSeal] = {}  # looked up by whatever the outside file holds
    for s in session.scalars(select(AuditSeal).order_by(AuditSeal.id)):
        by_id[s.id] = s
        where = f"第 {s.id} 号封存（审计记录 #{s.from_id + 1}–#{s.last_id}，封存于 {s.sealed_at:%Y-%m-%d %H:%M}）"
        if s.prev_digest != prev_digest or s.from_id != prev_last:
            return verdict.broken(f"{where}与前一个封存接不上：封存记录被修改或删除", s.id)
        digest, count = digest_of(session, prev_digest, s.from_id, s.last_id)
        if digest != s.digest:
            change = (f"封存时 {s.rows} 条，现在 {count} 条" if count != s.rows else f"{count} 条，内容与封存时不同")
            return verdict.broken(f"{where}：与封存时的摘要不符，审计记录被修改、删除或插入，或封存被改写（{change}）",
                                  s.id)
        verdict.seals += 1
        verdict.rows += count
        prev_digest, prev_last = s.digest, s.last_id
    for line in _external(path):
        if "broken_line" in line:
            return verdict.broken(f"库外封存文件 {path} 第 {line['broken_line']} 行无法读取")
        sealed = by_id.get(line.get("seal"))
        if sealed is None:
            return verdict.broken(f"库外封存文件记有第 {line.get('seal')} 号封存（审计记录至 #{line.get('last_id')}），"
                                  f"数据库中已没有：审计记录的尾部连同封存被删除", line.get("seal"))
        if sealed.digest != line.get("digest") or sealed.last_id != line.get("last_id"):
            return verdict.broken(f"第 {sealed.id} 号封存与库外封存文件的记录不一致：封存被改写", sealed.id)
    if not path.exists() and by_id:
        verdict.notes.append(f"库外封存文件 {path} 不存在：只核对了数据库内的链")
    verdict.unsealed = int(session.scalar(select(func.count()).select_from(AuditEntry)
                                          .where(AuditEntry.id > prev_last)) or 0)
    return verdict
