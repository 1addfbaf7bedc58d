"""A warning's holders over time (指派、认领、改派): each hand-over is one row of warning_assignments, written where
the holder changes, so the timeline shows the original assignment and every 改派 with its own time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.warnings.models import Warning, WarningAssignment

ASSIGNMENT_KINDS = {"assign": "指派", "claim": "认领", "reassign": "改派", "transfer": "移交后指派"}


def record(session: Session, w: Warning, *, kind: str, at: datetime, by_user_id: int | None = None,
           from_user_id: int | None = None, reason: str = "") -> WarningAssignment:
    """The warning has just got its holder (w.assignee_id) at `at`: the hand-over joins its history."""
    row = WarningAssignment(warning_id=w.id, user_id=w.assignee_id, station_id=w.station_id, at=at, kind=kind,
                            from_user_id=from_user_id, by_user_id=by_user_id, reason=reason[:200])
    session.add(row)
    return row


def intake_rows(ids: list[int], rows: list[dict]) -> list[dict]:
    """The 指派 rows of warnings an import just dispatched (the system assigned them), for one bulk insert."""
    return [dict(warning_id=i, user_id=r["assignee_id"], station_id=r["station_id"], at=r["assigned_at"],
                 kind="assign", from_user_id=None, by_user_id=None, reason="")
            for i, r in zip(ids, rows, strict=True) if r["assignee_id"] is not None]


def history(session: Session, warning_id: int) -> list[WarningAssignment]:
    return list(session.scalars(select(WarningAssignment).where(WarningAssignment.warning_id == warning_id)
                                .order_by(WarningAssignment.at, WarningAssignment.id)))


def step_text(a: WarningAssignment, names: dict[int, str]) -> str:
    """The timeline's line for one hand-over."""
    to = names.get(a.user_id, "")
    if a.kind == "reassign":
        origin = f"由 {names.get(a.from_user_id, '')} " if a.from_user_id else ""
        return f"{origin}改派给 {to}" + (f"：{a.reason}" if a.reason else "")
    if a.kind == "claim":
        return f"{to} 认领"
    return f"{ASSIGNMENT_KINDS.get(a.kind, '指派')}给 {to}"
