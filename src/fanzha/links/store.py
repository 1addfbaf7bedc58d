"""Writing a record's counterparty identifiers and what new ones match (open cases, the blocklist): models only, so
the intake of cases and warnings can call it without importing the pages' reading side (links.service)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, delete, insert, select
from sqlalchemy.orm import Session

from fanzha.blocklist.models import BlocklistEntry
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.links import records
from fanzha.links.models import CounterpartyId
from fanzha.links.rules import BLOCKLIST_KINDS, KINDS, Identifier, masked

# -- writing -------------------------------------------------------------------------------------------------------


def held(session: Session, record_kind: str, record_id: int) -> list[CounterpartyId]:
    return list(session.scalars(select(CounterpartyId).where(CounterpartyId.record_kind == record_kind,
                                                            CounterpartyId.record_id == record_id)
                                .order_by(CounterpartyId.id)))


def add(session: Session, record_kind: str, records: list[tuple[int, list[Identifier]]]) -> int:
    """Adds the identifiers each record does not hold yet (one INSERT for all); how many were added."""
    ids = [rid for rid, items in records if items]
    if not ids:
        return 0
    have = {(rid, kind, key) for rid, kind, key in session.execute(
        select(CounterpartyId.record_id, CounterpartyId.kind, CounterpartyId.key).where(
            CounterpartyId.record_kind == record_kind, CounterpartyId.record_id.in_(ids)))}
    rows = rows_for(record_kind, records, have)
    if rows:
        session.execute(insert(CounterpartyId), rows)
    return len(rows)


def rows_for(record_kind: str, records: list[tuple[int, list[Identifier]]],
             have: set[tuple[int, str, str]] | None = None) -> list[dict[str, Any]]:
    """The table rows of new records' identifiers (each once per record), for a bulk insert; `have` holds the
    (record id, kind, key) already stored, and grows."""
    have = set() if have is None else have
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for rid, items in records:
        for i in items:
            if (rid, i.kind, i.key) not in have:
                have.add((rid, i.kind, i.key))
                rows.append({"record_kind": record_kind, "record_id": rid, "kind": i.kind, "key": i.key,
                             "value": i.value, "created_at": now})
    return rows


def replace(session: Session, record_kind: str, record_id: int, items: list[Identifier]) -> bool:
    """The record holds exactly `items` (an officer's correction); True when that changed anything."""
    old = {(r.kind, r.key): r for r in held(session, record_kind, record_id)}
    new = {(i.kind, i.key) for i in items}
    gone = [r.id for k, r in old.items() if k not in new]
    if gone:
        session.execute(delete(CounterpartyId).where(CounterpartyId.id.in_(gone)))
    return bool(gone) | bool(add(session, record_kind, [(record_id, [i for i in items if (i.kind, i.key) not in old])]))


def as_items(rows: list[CounterpartyId]) -> list[Identifier]:
    return [Identifier(r.kind, r.value, r.key) for r in rows]


# -- what a new warning matches (triage) ------------------------------------------------------------------------------


def pairs_clause(pairs: Collection[tuple[str, str]], kind: SQLColumnExpression[str] = CounterpartyId.kind,
                 key: SQLColumnExpression[str] = CounterpartyId.key) -> ColumnElement[bool]:
    """Rows whose kind and key are among those of `pairs` (kind IN … AND key IN …, which the (kind, key) index
    answers): a superset of the pairs themselves, so callers keep only the pairs they asked for."""
    return and_(kind.in_({k for k, _ in pairs}), key.in_({v for _, v in pairs}))


def open_case_keys(session: Session, pairs: set[tuple[str, str]],
                   now: datetime | None = None) -> dict[tuple[str, str], list[str]]:
    """(kind, key) → case numbers of the open cases holding it: filed within the configured days or not solved.
    The grade reason counts them (the numbers are on the 串并 card, shown only to those who may see each case)."""
    if not pairs:
        return {}
    since = (now or utcnow()) - timedelta(days=get_settings().link_open_case_days)
    cases = records.of("case")
    assert cases.open is not None, "the case records registered with links.records say which cases are open"
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    wanted, ordered = set(pairs), list(pairs)
    for start in range(0, len(ordered), 200):
        stmt = (select(CounterpartyId.kind, CounterpartyId.key, cases.number)
                .join(cases.model, and_(CounterpartyId.record_kind == "case", cases.model.id == CounterpartyId.record_id))
                .where(pairs_clause(ordered[start:start + 200]), cases.open(since))
                .order_by(cases.at.desc()))
        for kind, key, number in session.execute(stmt):
            if (kind, key) in wanted:
                found[(kind, key)].append(number)
    return dict(found)


def blocklisted(session: Session, items: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (kind, key) of `items` are on the blocklist, matched by the blocklist's own kinds."""
    asked = set(items)
    wanted: defaultdict[str, set[str]] = defaultdict(set)
    for kind, key in asked:
        for bkind in BLOCKLIST_KINDS.get(kind, ()):
            wanted[bkind].add(key)
    hits: set[tuple[str, str]] = set()
    for bkind, keys in wanted.items():
        ordered = list(keys)
        for start in range(0, len(ordered), 500):
            for key in session.scalars(select(BlocklistEntry.key).where(BlocklistEntry.kind == bkind,
                                                                        BlocklistEntry.key.in_(ordered[start:start + 500]))):
                hits |= {(kind, key) for kind, bks in BLOCKLIST_KINDS.items() if bkind in bks}
    return hits & asked


def match_reason(items: list[Identifier], cases: dict[tuple[str, str], list[str]], blocked: set[tuple[str, str]]) -> str:
    """The grade reason of a warning whose counterparty matches (triage's counterparty_linked rule), "" if none."""
    said = []
    for i in items:
        numbers = cases.get((i.kind, i.key), [])
        if numbers:
            said.append(f"{KINDS[i.kind]} {masked(i.kind, i.value)} 与{len(numbers)}起在办案件相同")
        if (i.kind, i.key) in blocked:
            said.append(f"{KINDS[i.kind]} {masked(i.kind, i.value)} 在黑名单中")
    return "；".join(said[:3])
