"""The review queue and the blocklist: bundles in, analysts' decisions, look-ups, the bundle and files out.

Reports carry no area: they come from anyone through the public app, so the centre (Perm.REVIEW_REPORTS) reviews
them all. Every decision, import and export is audited; opening a report is audited as a view (its text may name
people).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from fanzha.audit import service as audit
from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportBundle, ReportEntity
from fanzha.common import tabular
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.timefmt import fmt_minute
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.detect.extract import ENTITY_KINDS, blocklist_items, canonical, guess_kind, lookup_keys
from fanzha.detect.normalise import normalise
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.public import bundle
from fanzha.public.store import CHANNELS

STATUSES = {"pending": "待审核", "reviewed": "已审核"}
DECISIONS = {"pending": "待审核", "approved": "已列入黑名单", "rejected": "已驳回"}
EXPORT_COLUMNS = ("号码/网址/账号", "类型", "来源", "列入时间")


@dataclass
class BundleSummary:
    reports: int
    created: int
    duplicates: int
    entities: int
    already: bool = False

    def as_dict(self) -> dict:
        return {"reports": self.reports, "created": self.created, "duplicates": self.duplicates,
                "entities": self.entities, "already": self.already}


class DbBlocklist:
    """The blocklist table as the detect library's `Blocklist`.

    The keys are held in memory (`CACHE`) while the list is small enough; otherwise one query per batch of keys.
    """

    def __init__(self, session: Session, cache: BlocklistCache | None = None):
        self.session = session
        self.cache = CACHE if cache is None else cache

    def matching(self, keys: Iterable[str]) -> set[str]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return set()
        held = self.cache.keys(self.session)
        if held is not None:
            return {k for k in keys if k in held}
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            found |= set(self.session.scalars(select(BlocklistEntry.key).where(
                BlocklistEntry.key.in_(keys[start:start + 500]))))
        return found


class BlocklistCache:
    """Every blocklist key, held by each web process for the checker (识诈), so a check costs no query.

    Freshness: a change made through this process (approve, import, remove) empties the cache when its transaction
    commits (`mark_changed` + the `after_commit` hook below), so the next check reads the new list. Changes made by
    another process (a second web worker, the task worker running an import) are seen within `ttl` seconds: at most
    that often the cache compares the table's (row count, largest id, latest approval time) with what it loaded,
    one aggregate query, and reloads when they differ. A list of more than `max_keys` entries is not held (each
    check then queries the table for its own keys).
    """

    def __init__(self, ttl: float = 2.0, max_keys: int = 500_000):
        self.ttl = ttl
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._keys: frozenset[str] | None = None
        self._state: tuple | None = None  # (engine, row count, largest id, latest approval) when loaded
        self._checked = 0.0
        self._generation = 0  # bumped by invalidate(); a load that overlapped a change is not trusted
        self.loads = 0  # how many times the keys were read from the table (tests, benchmarks)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._state = None
            self._keys = None

    def keys(self, session: Session) -> frozenset[str] | None:
        """The keys on the list, or None when the list is too long to hold (then query per check)."""
        now = time.monotonic()
        engine = session.get_bind()
        held = self._state
        if held is not None and held[0] is engine and now - self._checked < self.ttl:
            return self._keys
        with self._lock:
            generation = self._generation
        state = (engine, *session.execute(select(func.count(BlocklistEntry.id), func.max(BlocklistEntry.id),
                                                 func.max(BlocklistEntry.approved_at))).one())
        if state == held:
            self._checked = now
            return self._keys
        keys = frozenset(session.scalars(select(BlocklistEntry.key))) if state[1] <= self.max_keys else None
        with self._lock:
            if generation == self._generation:
                self._keys, self._state, self._checked = keys, state, now
                self.loads += 1
        return keys


CACHE = BlocklistCache()


def mark_changed(session: Session) -> None:
    """Mark the session: when it commits, this process's blocklist cache is emptied."""
    session.info["blocklist_changed"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("blocklist_changed", False):
        CACHE.invalidate()


def _aware(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return utcnow()
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def report_entities(text: str, value: str) -> list[tuple[str, str, str]]:
    """(kind, value, key) a report names: everything the extractors find in its text, and the value given apart."""
    items = blocklist_items(normalise(f"{text}\n{value}"))
    kind = guess_kind(value) if value else ""
    key = canonical(kind, value) if kind else ""
    if key and all(key != k for _, _, k in items):
        items.append((kind, normalise(value), key))
    return items


# --- bundles in -------------------------------------------------------------------------------------------------
def import_reports(session: Session, scope: Scope, data: bytes, filename: str = "") -> BundleSummary:
    """Reports of a signed bundle into the review queue. A bad signature writes nothing; a bundle (or a report)
    already imported is skipped, so the same file twice creates nothing new."""
    scope.require(Perm.REVIEW_REPORTS)
    try:
        got = bundle.read(data, get_settings().bundle_key, kind="reports")
    except bundle.BundleError as exc:
        raise Invalid(str(exc)) from exc
    if session.scalar(select(ReportBundle.id).where(ReportBundle.bundle_id == got.bundle_id)):
        return BundleSummary(len(got.records), 0, len(got.records), 0, already=True)
    row = ReportBundle(bundle_id=got.bundle_id, digest=got.digest, filename=filename[:255],
                       exported_at=got.created_at[:40], reports=len(got.records), imported_by=scope.user_id)
    session.add(row)
    session.flush()
    uids = {str(r.get("uid", ""))[:32] for r in got.records}
    known = set(session.scalars(select(PublicReport.uid).where(PublicReport.uid.in_(uids)))) if uids else set()
    created = entities = 0
    for r in got.records:
        uid = str(r.get("uid", ""))[:32]
        if not uid or uid in known:
            continue
        known.add(uid)
        text, value = str(r.get("text", ""))[:20_000], str(r.get("value", ""))[:200]
        items = report_entities(text, value)
        report = PublicReport(uid=uid, bundle_id=row.id, reported_at=_aware(r.get("reported_at", "")),
                              channel=str(r.get("channel", "other")) if r.get("channel") in CHANNELS else "other",
                              text=text, value=value, risk=str(r.get("risk", ""))[:16],
                              fraud_type=str(r.get("fraud_type", ""))[:32],
                              status="pending" if items else "reviewed")
        report.entities = [ReportEntity(kind=k, value=v[:200], key=key[:200]) for k, v, key in items]
        session.add(report)
        created += 1
        entities += len(items)
    row.created = created
    session.flush()
    audit.record(session, scope, "import", "report_bundle", row.id,
                 detail={"filename": row.filename, "reports": row.reports, "created": created})
    return BundleSummary(len(got.records), created, len(got.records) - created, entities)


# --- the review queue -------------------------------------------------------------------------------------------
def queue(session: Session, scope: Scope, *, status: str = "pending", limit: int = 50,
          offset: int = 0) -> tuple[list[PublicReport], int]:
    scope.require(Perm.REVIEW_REPORTS)
    stmt = select(PublicReport)
    if status in STATUSES:
        stmt = stmt.where(PublicReport.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.options(selectinload(PublicReport.entities))
                                .order_by(PublicReport.reported_at.desc(), PublicReport.id.desc())
                                .limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "public_report", "", detail={"ids": [r.id for r in rows]})
    return rows, int(total or 0)


def get_report(session: Session, scope: Scope, report_id: int) -> PublicReport:
    scope.require(Perm.REVIEW_REPORTS)
    report = session.scalar(select(PublicReport).where(PublicReport.id == report_id)
                            .options(selectinload(PublicReport.entities)))
    if report is None:
        raise NotFound("举报不存在")
    audit.record(session, scope, "view", "public_report", report.id)
    return report


def decide(session: Session, scope: Scope, entity_id: int, decision: str, note: str = "") -> ReportEntity:
    """Approve (the entity joins the blocklist) or reject one entity of a report; each entity is decided once."""
    scope.require(Perm.REVIEW_REPORTS)
    if decision not in ("approve", "reject"):
        raise Invalid("审核结论应为 approve（列入黑名单）或 reject（驳回）")
    entity = session.scalar(select(ReportEntity).where(ReportEntity.id == entity_id)
                            .options(selectinload(ReportEntity.report)).with_for_update())
    if entity is None:
        raise NotFound("举报要素不存在")
    if entity.status != "pending":
        raise Conflict(f"该要素已审核：{DECISIONS[entity.status]}")
    entity.status = "approved" if decision == "approve" else "rejected"
    entity.note, entity.decided_by, entity.decided_at = note[:200], scope.user_id, utcnow()
    if decision == "approve":
        _add_entry(session, scope, entity.kind, entity.value, entity.key, f"举报 {entity.report.uid[:8]}",
                   entity_id=entity.id)
    session.flush()
    if not session.scalar(select(ReportEntity.id).where(ReportEntity.report_id == entity.report_id,
                                                        ReportEntity.status == "pending")):
        entity.report.status = "reviewed"
    audit.record(session, scope, "update", "report_entity", entity.id,
                 detail={"changed": ["status"], "status": entity.status, "kind": entity.kind})
    return entity


def _add_entry(session: Session, scope: Scope, kind: str, value: str, key: str, source: str, *,
               entity_id: int | None = None) -> bool:
    if session.scalar(select(BlocklistEntry.id).where(BlocklistEntry.kind == kind, BlocklistEntry.key == key)):
        return False
    session.add(BlocklistEntry(kind=kind, value=value, key=key, source=source[:200], report_entity_id=entity_id,
                               approved_by=scope.user_id, approved_at=utcnow()))
    mark_changed(session)
    return True


# --- the blocklist ----------------------------------------------------------------------------------------------
def lookup(session: Session, scope: Scope, value: str) -> list[BlocklistEntry]:
    """Entries a value matches once normalised (any signed-in user may ask; no personal data is shown)."""
    keys = lookup_keys(value)
    if not keys:
        return []
    return list(session.scalars(select(BlocklistEntry).where(BlocklistEntry.key.in_(keys)).order_by(BlocklistEntry.id)))


def entries(session: Session, scope: Scope, *, q: str = "", limit: int = 50,
            offset: int = 0) -> tuple[list[BlocklistEntry], int]:
    scope.require(Perm.REVIEW_REPORTS)
    stmt = select(BlocklistEntry)
    if q:
        keys = lookup_keys(q)
        stmt = stmt.where(BlocklistEntry.key.in_(keys) | BlocklistEntry.value.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.order_by(BlocklistEntry.approved_at.desc(), BlocklistEntry.id.desc())
                                .limit(limit).offset(offset)))
    return rows, int(total or 0)


def remove(session: Session, scope: Scope, entry_id: int) -> None:
    scope.require(Perm.REVIEW_REPORTS)
    entry = session.get(BlocklistEntry, entry_id)
    if entry is None:
        raise NotFound("黑名单条目不存在")
    audit.record(session, scope, "delete", "blocklist", entry.id, detail={"kind": entry.kind, "value": entry.value})
    session.delete(entry)
    mark_changed(session)


def export_bundle(session: Session, scope: Scope) -> bytes:
    """The whole blocklist as a signed bundle for the public app (it replaces its copy with it)."""
    scope.require(Perm.REVIEW_REPORTS)
    rows = session.scalars(select(BlocklistEntry).order_by(BlocklistEntry.id)).all()
    try:
        data = bundle.write("blocklist", [{"kind": e.kind, "value": e.value} for e in rows], get_settings().bundle_key)
    except bundle.BundleError as exc:
        raise Invalid(str(exc)) from exc
    audit.record(session, scope, "export", "blocklist", "", detail={"format": "bundle", "entries": len(rows)})
    return data


def export_file(session: Session, scope: Scope, fmt: str = "xlsx") -> bytes:
    """The blocklist as CSV or XLSX with the import's own column names, so the file goes back in unchanged."""
    scope.require(Perm.REVIEW_REPORTS)
    rows = [[e.value, ENTITY_KINDS.get(e.kind, e.kind), e.source, fmt_minute(e.approved_at)]
            for e in session.scalars(select(BlocklistEntry).order_by(BlocklistEntry.id))]
    audit.record(session, scope, "export", "blocklist", "", detail={"format": fmt, "entries": len(rows)})
    return tabular.write(fmt, EXPORT_COLUMNS, rows, sheet="黑名单")


def report_of_entity(session: Session, scope: Scope, entity_id: int) -> int:
    scope.require(Perm.REVIEW_REPORTS)
    report_id = session.scalar(select(ReportEntity.report_id).where(ReportEntity.id == entity_id))
    if report_id is None:
        raise NotFound("举报要素不存在")
    return report_id
