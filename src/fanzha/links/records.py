"""The records that hold counterparty identifiers, cases and warnings, as links reads them.

links sits below both: their intake writes identifiers through links.store. So it imports neither; each registers
here how its records are read (cases/intake.py and warnings/service.py, where each keeps its `visible` clause; both
are loaded at start-up with every importer, fanzha.importers). links.service shows a record's links and the centre's
list through them, and links.store matches a new warning against the open cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fanzha.org.roles import Perm
from fanzha.org.scope import Scope


@dataclass(frozen=True)
class Records:
    """One kind of record: its table and the columns links shows of it."""

    kind: str  # CounterpartyId.record_kind: "case" or "warning"
    label: str  # 案件 / 预警
    perm: Perm  # needed to see any of them
    model: Any  # the mapped class; it has `id` and `community_id`
    visible: Callable[[Scope], Any]  # the clause of the records a scope may see
    number: Any  # 案件编号 / 预警编号
    at: Any  # 立案时间 / 预警时间
    amount: Any  # what a linked record shows: the case's loss, the warning's amount about to be sent
    loss: Any  # what the centre's list adds up: the case's loss, the warning's reported loss (0 when none)
    open: Callable[[datetime], Any] | None = None  # the clause of records still open since a time (cases only)


_registered: dict[str, Records] = {}


def register(records: Records) -> None:
    """Tells links how to read one kind (a second registration of a kind replaces the first)."""
    _registered[records.kind] = records


def of(kind: str) -> Records:
    if kind not in _registered:
        raise RuntimeError(f"no {kind} records registered with fanzha.links.records (import fanzha.importers)")
    return _registered[kind]
