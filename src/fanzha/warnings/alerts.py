"""Alerts when a warning arrives: the moment it reaches a station, whoever must act is told.

- Assigned to a dissuader: that dissuader. Dispatched to a station with nobody on duty: every dissuader of the station
  and its heads. Left unplaced (待分配) and a 资金预警: the centre (研判调度, 管理员) at once, since money may be moving
  while nobody can be sent.
- Always in the app (the bell); for a high-grade warning, and an unplaced 资金预警, also through the outward channels
  configured (SMS gateway, webhook: notify.channels).
- Texts carry the grade, the kind, the 预警编号, the sign deadline and a link, never a name, phone number or amount:
  outward texts leave the police network.
- Only warnings still open are announced: an import of last year's history tells nobody.

Intake (file and API), placing a 待分配 warning and taking one over from the station's queue call `announce`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fanzha.common.localtime import zone
from fanzha.notify.service import notify
from fanzha.warnings.enums import GRADES, warning_label
from fanzha.warnings.recipients import Recipients


@dataclass(frozen=True)
class Arrival:
    """What an alert needs of a warning (intake announces rows it inserted in bulk, without loading them)."""

    id: int
    external_id: str
    kind: str
    risk_grade: str
    status: str
    station_id: int | None
    assignee_id: int | None
    sign_deadline: datetime
    feedback_deadline: datetime

    @classmethod
    def of(cls, w) -> Arrival:
        return cls(w.id, w.external_id, w.kind, w.risk_grade, w.status, w.station_id, w.assignee_id,
                   w.sign_deadline, w.feedback_deadline)


def _hm(at: datetime) -> str:
    return at.astimezone(zone()).strftime("%m-%d %H:%M")


def texts(a: Arrival) -> tuple[str, str]:
    """(title, body) of the alert: nothing personal, fit for an SMS."""
    label = f"{GRADES[a.risk_grade]}风险{warning_label(a.kind)}"
    if a.status == "unplaced":
        return f"待分配：{label}", f"预警编号 {a.external_id} 未能落地到村/社区，请立即人工分配"
    return f"新预警：{label}", f"预警编号 {a.external_id}，请于 {_hm(a.sign_deadline)} 前签收并联系当事人"


def announce(session: Session, arrivals: list[Arrival], now: datetime) -> int:
    """Tells whoever must act on each open arrival; returns how many notifications were made."""
    recipients = Recipients(session)
    made = 0
    for a in arrivals:
        if a.feedback_deadline <= now:
            continue
        if a.status == "unplaced":
            if a.kind != "funds":
                continue
            users, outward = recipients.of("centre", a), True
        elif a.assignee_id:
            users, outward = [a.assignee_id], a.risk_grade == "high"
        else:
            users = recipients.of("assignee", a) + recipients.of("head", a)
            outward = a.risk_grade == "high"
        if users:
            title, body = texts(a)
            made += len(notify(session, users, title, body, f"/warnings/{a.id}", now=now, outward=outward))
    return made
