"""Losses (被骗) of people, as the warning figures read them: 预后被骗率 (metrics._prognosis) and the 损失 column of the
feedback file (dissuasion.feedback.service.table).

The cases package records losses and sits above warnings: cases/models.py names its table's columns here when it is
imported, which it is wherever there are cases (fanzha.models, the importers every process loads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Columns:
    """The columns of a loss: whose (a person's id), when the money went (loss time), how much."""

    person_id: Any
    loss_at: Any
    loss_amount: Any


_registered: list[Columns] = []


def register(person_id: Any, loss_at: Any, loss_amount: Any) -> None:
    """Names the columns losses are read from (one source: a second registration replaces the first)."""
    _registered[:] = [Columns(person_id, loss_at, loss_amount)]


def columns() -> Columns:
    if not _registered:
        raise RuntimeError("no losses registered with fanzha.warnings.losses: fanzha.cases.models is not imported")
    return _registered[0]
