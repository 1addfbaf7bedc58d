"""串并案: writing a record's counterparty identifiers, the links of one record as a user may see them, what a new
warning matches (open cases, the blocklist), and the centre's list by identifier.

Scoping: a linked record is shown only when the viewer may see it (the case or warning clause of its own domain);
the rest are only counted ("另有 n 条外辖区串并记录"). Every look at links is audited as a view.

Cases and warnings are read as they registered with links.records: both sit above links.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.blocklist.models import BlocklistEntry
from fanzha.common.errors import NotFound
from fanzha.links import records
from fanzha.links.models import CounterpartyId
from fanzha.links.rules import BLOCKLIST_KINDS, KINDS, masked
from fanzha.links.store import blocklisted, held, pairs_clause
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

BOARD_LIMIT = 200


# -- the links of one record ------------------------------------------------------------------------------------------


@dataclass
class Linked:
    """Another record sharing an identifier, as the viewer may see it."""

    record_kind: str
    record_id: int
    number: str
    at: datetime
    area: str
    loss: Decimal | None
    reasons: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/{'cases' if self.record_kind == 'case' else 'warnings'}/{self.record_id}"


@dataclass
class Own:
    kind: str
    value: str
    blocklisted: bool
    shared: int  # other records (anywhere) holding it


@dataclass
class Panel:
    """What a case or warning page shows under 串并案."""

    identifiers: list[Own]
    linked: list[Linked]
    hidden: int  # linked records outside the viewer's areas: only counted

    @property
    def flagged(self) -> bool:
        return bool(self.linked or self.hidden or any(o.blocklisted for o in self.identifiers))


def _check_record(session: Session, scope: Scope, record_kind: str, record_id: int) -> None:
    kind = records.of(record_kind)
    scope.require(kind.perm)
    ok = session.scalar(select(kind.model.id).where(kind.model.id == record_id, kind.visible(scope)))
    if ok is None:
        raise NotFound(f"{kind.label}不存在或不在您的管辖范围内")


def panel(session: Session, scope: Scope, record_kind: str, record_id: int) -> Panel:
    """The record's identifiers and the records linked to it: those the viewer may see in full, the rest counted."""
    _check_record(session, scope, record_kind, record_id)
    own = held(session, record_kind, record_id)
    pairs = {(r.kind, r.key) for r in own}
    blocked = blocklisted(session, pairs)
    others: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    if pairs:
        for r in session.scalars(select(CounterpartyId).where(pairs_clause(pairs), or_(
                CounterpartyId.record_kind != record_kind, CounterpartyId.record_id != record_id))):
            if (r.kind, r.key) not in pairs:
                continue
            others[(r.record_kind, r.record_id)].append((r.kind, r.value))
            shared[(r.kind, r.key)] += 1
    linked = _visible_linked(session, scope, others)
    panel_ = Panel(identifiers=[Own(r.kind, masked(r.kind, r.value), (r.kind, r.key) in blocked,
                                    shared[(r.kind, r.key)]) for r in own],
                   linked=linked, hidden=len(others) - len(linked))
    audit.record(session, scope, "view", f"{record_kind}_links", record_id,
                 detail={"linked": [f"{x.record_kind}:{x.record_id}" for x in linked], "hidden": panel_.hidden})
    return panel_


def _visible_linked(session: Session, scope: Scope, others: dict[tuple[str, int], list[tuple[str, str]]]) -> list[Linked]:
    out: list[Linked] = []
    for record_kind in ("case", "warning"):
        ids = [rid for kind, rid in others if kind == record_kind]
        kind = records.of(record_kind)
        if not ids or not scope.can(kind.perm):
            continue
        m = kind.model
        for rid, number, at, amount, label in session.execute(
                select(m.id, kind.number, kind.at, kind.amount, Area.label).outerjoin(Area, Area.id == m.community_id)
                .where(m.id.in_(ids), kind.visible(scope))):
            out.append(Linked(record_kind, rid, number, at, label or "", amount))
    for x in out:
        x.reasons = [f"同一{KINDS[k].removeprefix('对方')} {masked(k, v)}" for k, v in others[(x.record_kind, x.record_id)]]
    return sorted(out, key=lambda x: x.at, reverse=True)


def _held_by(kind: records.Records, scope: Scope) -> Select[*tuple[Any, ...]]:
    """The identifiers held by the records of one kind the user may see, with the record's loss and community."""
    m = kind.model
    return (select(CounterpartyId.kind, CounterpartyId.key, CounterpartyId.value, CounterpartyId.record_kind,
                   m.id.label("rid"), kind.loss.label("loss"), m.community_id.label("community_id"))
            .join(m, and_(CounterpartyId.record_kind == kind.kind, m.id == CounterpartyId.record_id))
            .where(kind.visible(scope)))


# -- the centre's list by identifier ----------------------------------------------------------------------------------


@dataclass
class BoardRow:
    kind: str
    key: str
    value: str
    cases: int
    warnings: int
    loss: Decimal
    areas: list[str]
    blocklisted: bool


def board(session: Session, scope: Scope, *, kind: str = "", min_records: int = 2,
          limit: int = BOARD_LIMIT) -> list[BoardRow]:
    """Identifiers held by at least `min_records` records the user may see, or by one when blocklisted: the case
    and warning counts, the cases' loss and the communities, most records first. For the centre (串并 list)."""
    scope.require(Perm.INTAKE_WARNINGS)
    scope.require(Perm.READ_CASES)
    cases, warnings = (_held_by(records.of("case"), scope), _held_by(records.of("warning"), scope))
    if kind:
        cases, warnings = cases.where(CounterpartyId.kind == kind), warnings.where(CounterpartyId.kind == kind)
    both = cases.union_all(warnings).subquery()
    counted = (select(both.c.kind, both.c.key, func.count().label("n")).group_by(both.c.kind, both.c.key)
               .subquery())
    candidates = list(session.execute(select(counted.c.kind, counted.c.key, counted.c.n)
                                      .where(counted.c.n >= min_records)
                                      .order_by(counted.c.n.desc(), counted.c.key).limit(limit)))
    on_list = session.execute(select(both.c.kind, both.c.key, BlocklistEntry.kind).distinct()
                              .join(BlocklistEntry, BlocklistEntry.key == both.c.key))
    blocked_singles = {(k, key) for k, key, bkind in on_list if bkind in BLOCKLIST_KINDS.get(k, ())}
    keys = {(k, key) for k, key, _ in candidates} | blocked_singles
    if not keys:
        audit.record(session, scope, "view", "link_board", detail={"rows": 0, "kind": kind})
        return []
    rows: dict[tuple[str, str], BoardRow] = {}
    areas: dict[tuple[str, str], set[int]] = defaultdict(set)
    ordered = list(keys)
    for start in range(0, len(ordered), 200):
        chunk = ordered[start:start + 200]
        for r in session.execute(select(both).where(pairs_clause(chunk, both.c.kind, both.c.key))):
            if (r.kind, r.key) not in keys:
                continue
            row = rows.setdefault((r.kind, r.key), BoardRow(r.kind, r.key, masked(r.kind, r.value), 0, 0,
                                                            Decimal(0), [], (r.kind, r.key) in blocked_singles))
            if r.record_kind == "case":
                row.cases += 1
                row.loss += Decimal(r.loss or 0)
            else:
                row.warnings += 1
            if r.community_id:
                areas[(r.kind, r.key)].add(r.community_id)
    labels = dict(session.execute(select(Area.id, Area.label).where(
        Area.id.in_({a for s in areas.values() for a in s}))).all()) if areas else {}
    for k, row in rows.items():
        row.areas = sorted(labels.get(a, "") for a in areas[k])
    out = sorted(rows.values(), key=lambda r: (-(r.cases + r.warnings), -r.loss, r.key))[:limit]
    audit.record(session, scope, "view", "link_board", detail={"rows": len(out), "kind": kind})
    return out
