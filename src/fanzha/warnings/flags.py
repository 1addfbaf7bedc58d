"""The board's figures (未签收, 已超时, 已升级, 积压) as conditions on warnings, as warnings reads them: the board's
flag filter (service.Filters.flag, /warnings?flag=…) and the marks of its export (service.export).

Each figure is defined once in dissuasion.board, which sits above warnings (the deadlines missed and escalated are
dissuasion's): it names its condition here when it is imported, which it is wherever there is a board to filter (the
dissuasion pages the web app mounts, which show the board's figures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

Condition = Callable[[str, datetime], Any]  # (figure key, now) → a condition on the warnings table

_registered: list[Condition] = []


def register(condition: Condition) -> None:
    """Names the function the figures' conditions come from (one source: a second registration replaces the first)."""
    _registered[:] = [condition]


def condition(key: str, now: datetime) -> Any:
    if not _registered:
        raise RuntimeError("no board figures registered with fanzha.warnings.flags: fanzha.dissuasion.board is not "
                           "imported")
    return _registered[0](key, now)
