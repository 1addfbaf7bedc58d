"""The station's board figures (看板): 未签收, 已超时, 已升级 and 积压 among open warnings, each defined once.

Each figure is one SQL condition (`condition`), and both its count on the board (`counts`) and the list its link opens
(`/warnings?flag=…`, through warnings.service.Filters.flag, which reads it from warnings.flags where this module
registers it) read that condition, so the two cannot disagree:

- 未签收 (unsigned): dispatched to a station, not signed (签收) yet;
- 已超时 (overdue): a step's deadline — 签收, 首次联系, 见面劝阻 when required, 反馈 — has passed without the step done
  (escalation.missed_clause, what the worker escalates);
- 已升级 (escalated): a step escalated to the station head or the centre (escalation.escalated_clause);
- 积压 (backlog): the next step overdue by more than the escalation rules' backlog_after_hours (urgency.backlog_clause,
  what 我的任务 keeps apart and the morning digest reports). Every 积压 warning is also 已超时.

All four count open warnings only (no feedback yet), in the user's scope (warnings.service.visible).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from fanzha.dissuasion.escalation import escalated_clause, missed_clause
from fanzha.dissuasion.urgency import backlog_clause
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import flags, open_set
from fanzha.warnings.models import Warning
from fanzha.warnings.service import visible

FIGURES = {"unsigned": "未签收", "overdue": "已超时", "escalated": "已升级", "backlog": "积压"}


def condition(key: str, now: datetime):
    """The one definition of a figure, as a condition on the warnings table."""
    open_ = open_set.is_open()
    if key == "unsigned":
        return and_(open_, Warning.station_id.is_not(None), Warning.signed_at.is_(None))
    if key == "overdue":
        return and_(open_, missed_clause(now))
    if key == "escalated":
        return and_(open_, escalated_clause())
    if key == "backlog":
        return backlog_clause(now)
    raise ValueError(f"unknown board figure {key!r}")


flags.register(condition)


@dataclass
class Figures:
    total: dict[str, int]
    by_station: dict[int, dict[str, int]] = field(default_factory=dict)  # station id → figures


def counts(session: Session, scope: Scope, now: datetime, *, station_id: int | None = None) -> Figures:
    """The four figures for the user's scope (or one station of it), in total and per station: one grouped read of
    the open warnings (the partial index on them)."""
    scope.require(Perm.READ_WARNINGS)
    columns = [func.count().filter(condition(key, now)) for key in FIGURES]
    stmt = select(Warning.station_id, *columns).where(visible(scope), open_set.clause(session))
    if station_id:
        stmt = stmt.where(Warning.station_id == station_id)
    total = dict.fromkeys(FIGURES, 0)
    by_station: dict[int, dict[str, int]] = {}
    for station, *values in session.execute(stmt.group_by(Warning.station_id)):
        figures = dict(zip(FIGURES, (int(v or 0) for v in values), strict=True))
        for key, n in figures.items():
            total[key] += n
        if station is not None:
            by_station[station] = figures
    return Figures(total, by_station)
