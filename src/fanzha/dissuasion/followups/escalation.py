"""Overdue 回访 escalate as missed warning steps do: the station head that many minutes after it fell due, then the
centre (escalation_default.toml [follow_up]); each level once, told through the notify service, on the warning's
timeline when it has one. 回访 scheduled by the upgrade (escalates = False) never escalate."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.dissuasion.enums import LEVELS
from fanzha.dissuasion.followups.rules import REASONS
from fanzha.dissuasion.models import FollowUp, TimelineEvent
from fanzha.notify.service import notify

ORDER = ("head", "centre")


def escalate(session: Session, now: datetime, after: dict[str, int]) -> list[tuple[FollowUp, str]]:
    """Tells the next level of every 回访 overdue long enough and not yet told at that level. Idempotent."""
    from fanzha.warnings.recipients import Recipients

    levels = [lv for lv in ORDER if lv in after]
    if not levels:
        return []
    first = min(after[lv] for lv in levels)
    candidates = list(session.scalars(select(FollowUp).where(
        FollowUp.done_at.is_(None), FollowUp.escalates.is_(True), FollowUp.escalated != levels[-1],
        FollowUp.due_at <= now - timedelta(minutes=first)).order_by(FollowUp.id)))
    recipients = Recipients(session)
    raised = []
    for f in candidates:
        told = ORDER.index(f.escalated) if f.escalated in ORDER else -1
        for level in levels:
            if ORDER.index(level) <= told or now < f.due_at + timedelta(minutes=after[level]):
                continue
            users = recipients.station_heads(f.station_id) if level == "head" else recipients.of("centre", None)
            days = (now - f.due_at).days
            late = f"{days}天" if days else f"{int((now - f.due_at).total_seconds() // 3600)}小时"
            text = f"{REASONS[f.reason]}已超期{late}未完成，升级至{LEVELS[level]}"
            notify(session, users, "回访超期", text, f"/follow-ups/{f.id}", now=now)
            if f.warning_id:
                session.add(TimelineEvent(warning_id=f.warning_id, at=now, kind="escalation", text=text))
            f.escalated, f.escalated_at = level, now
            told = ORDER.index(level)
            raised.append((f, level))
    session.flush()
    return raised
