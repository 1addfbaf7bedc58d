"""Submissions from the phone's offline queue (离线提交): idempotency keys, 冲突 and which clock to trust.

A contact or an outcome sent with an idempotency key is recorded once per user and key: a repeat (the queue sending
again after a lost answer) gets the first answer back. A keyed submission for a warning closed, reassigned or
transferred while it waited is kept as a 冲突 with what was submitted, for the dissuader and the 所长 — never dropped.

The phone's clock is trusted only between 签收 and the server's receipt, and only when it agrees with the server's
within five minutes when sent; otherwise the receipt time stands. The record (Contact.at, Warning.first_contact_at,
face_at, feedback_at — what the metrics read) gets the trusted time, so a wrong phone clock cannot improve 超期反馈率.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.photos import store_photo
from fanzha.db import utcnow
from fanzha.dissuasion.models import Contact, Submission, TimelineEvent
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.trail.models import AuditEntry
from fanzha.warnings.models import Warning
from fanzha.warnings.service import reachable, visible

SKEW_LIMIT = timedelta(minutes=5)
KINDS = {"contact": "联系记录", "outcome": "反馈结果"}
REASONS = {"closed": "预警已反馈结案", "reassigned": "预警已改派给他人", "transferred": "预警已移交其他派出所"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _when(text: str | datetime | None, field: str) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        value = text if isinstance(text, datetime) else datetime.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise Invalid("设备时间格式不对", details=[{"loc": [field], "msg": "格式不对"}]) from exc
    if value.tzinfo is None:
        raise Invalid("设备时间须带时区", details=[{"loc": [field], "msg": "须带时区"}])
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Sent:
    """What the phone says about a submission: its key, when it was recorded and the phone's clock when sent."""

    key: str = ""
    device_at: datetime | None = None
    sent_at: datetime | None = None

    @classmethod
    def parse(cls, key: str | None, device_at: str | datetime | None = None,
              sent_at: str | datetime | None = None) -> Sent:
        key = (key or "").strip()
        if key and not _UUID.match(key):
            raise Invalid("提交编号格式不对", details=[{"loc": ["idempotency_key"], "msg": "应为 UUID"}])
        return cls(key=key.lower(), device_at=_when(device_at, "device_at"), sent_at=_when(sent_at, "sent_at"))

    @classmethod
    def from_form(cls, form) -> Sent:
        return cls.parse(str(form.get("idempotency_key") or "")[:40], str(form.get("device_at") or "")[:40],
                         str(form.get("sent_at") or "")[:40])


@dataclass(frozen=True)
class Clock:
    at: datetime  # the time the record gets
    skew: int | None  # seconds the phone was ahead of the server when it sent (None: not known)
    flagged: bool


def trusted_time(sent: Sent, signed_at: datetime | None, received: datetime) -> Clock:
    """The device time when it lies between 签收 and receipt and the phone's clock agreed with the server's within
    five minutes; the receipt time otherwise."""
    skew = None
    if sent.sent_at is not None:
        skew = round((sent.sent_at - received).total_seconds())
    elif sent.device_at is not None and sent.device_at > received:  # recorded "after" it arrived: the clock is ahead
        skew = round((sent.device_at - received).total_seconds())
    flagged = skew is not None and abs(skew) > SKEW_LIMIT.total_seconds()
    at = received
    if (sent.device_at is not None and not flagged and signed_at is not None
            and signed_at <= sent.device_at <= received):
        at = sent.device_at
    return Clock(at=at, skew=skew, flagged=flagged)


@dataclass
class Pending:
    """A submission let through: record it at `at`, then call `done(record_id)`. `answer` is set instead when there
    is nothing to record: a repeat of a key already used, or a 冲突 just kept."""

    session: Session
    at: datetime
    row: Submission | None = None
    answer: Result | None = None

    def done(self, record_id: int) -> Result:
        if self.row is None:
            return Result("recorded", None, record_id)
        self.row.status, self.row.record_id = "recorded", record_id
        self.session.add(self.row)
        self.session.flush()
        return Result("recorded", self.row, record_id)


@dataclass(frozen=True)
class Result:
    status: str  # recorded, conflict
    submission: Submission | None
    record_id: int | None
    repeated: bool = False


def _held_before(session: Session, scope: Scope, warning_id: int) -> Warning | None:
    """A warning moved out of the user's reach (移交) that they had worked on (signed or contacted): their queued
    work on it is a 冲突; anyone else's key on it is refused as before."""
    moved = exists().where(TimelineEvent.warning_id == warning_id, TimelineEvent.kind == "transfer")
    contacted = exists().where(Contact.warning_id == warning_id, Contact.by_user_id == scope.user_id)
    acted = exists().where(AuditEntry.user_id == scope.user_id, AuditEntry.action == "update",
                           AuditEntry.entity == "warning", AuditEntry.entity_id == str(warning_id))
    return session.scalar(select(Warning).where(Warning.id == warning_id, moved, or_(contacted, acted)))


def _conflict_reason(w: Warning, scope: Scope, sent: Sent) -> str:
    if w.feedback_at is not None:
        return "closed"
    moved_at = w.assigned_at or w.dispatched_at
    if (scope.role == Role.DISSUADER and w.assignee_id not in (None, scope.user_id) and sent.device_at is not None
            and moved_at is not None and moved_at >= sent.device_at):
        return "reassigned"
    return ""


def conflict_event(warning_id: int, user_id: int | None, kind: str, reason: str, at: datetime) -> TimelineEvent:
    """The line a 冲突 leaves on the warning's timeline."""
    return TimelineEvent(warning_id=warning_id, at=at, kind="conflict", by_user_id=user_id,
                         text=f"离线提交的{KINDS[kind]}未记入（{REASONS[reason]}），已存为冲突记录")


def begin(session: Session, scope: Scope, warning_id: int, *, kind: str, sent: Sent, payload: dict,
          photo: bytes | None = None, now: datetime | None = None) -> Pending:
    """Before recording a contact or an outcome: the first answer again for a key already used, a 冲突 kept for a
    warning closed, reassigned or transferred meanwhile, or else the time to record it at. Without a key nothing
    changes: the receipt time, and an error stays an error."""
    scope.require(Perm.CLAIM_WARNINGS)
    received = now or utcnow()
    # A contact may come from a sibling station's helper who took over the first contact (dissuasion/help.py).
    held = reachable(scope) if kind == "contact" else visible(scope)
    w = session.scalar(select(Warning).where(Warning.id == warning_id, held).with_for_update())
    reason = ""
    if w is None and sent.key:
        w, reason = _held_before(session, scope, warning_id), "transferred"
    if w is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    if sent.key:
        prior = session.scalar(select(Submission).where(Submission.user_id == scope.user_id,
                                                        Submission.key == sent.key))
        if prior is not None:
            if (prior.kind, prior.warning_id) != (kind, warning_id):
                raise Conflict("该提交编号已用于另一条记录")
            return Pending(session, prior.trusted_at, answer=Result(prior.status, prior, prior.record_id, True))
    clock = trusted_time(sent, w.signed_at, received)
    if not sent.key:
        return Pending(session, clock.at)
    reason = reason or _conflict_reason(w, scope, sent)
    row = Submission(user_id=scope.user_id, key=sent.key, kind=kind, warning_id=w.id, area_id=scope.area_id,
                     device_at=sent.device_at, clock_skew=clock.skew, skew_flagged=clock.flagged,
                     trusted_at=clock.at, received_at=received, reason=reason, payload={})
    if not reason:
        return Pending(session, clock.at, row=row)
    kept = dict(payload)
    if photo:
        kept["photo_path"] = store_photo("evidence", w.id, photo, session=session)
    row.status, row.payload = "conflict", kept
    session.add(row)
    session.add(conflict_event(w.id, scope.user_id, kind, reason, received))
    session.flush()
    audit.record(session, scope, "create", "submission", row.id,
                 detail={"warning": w.id, "kind": kind, "conflict": reason})
    return Pending(session, clock.at, answer=Result("conflict", row, None))


def submit(session: Session, scope: Scope, warning_id: int, *, kind: str, sent: Sent, payload: dict,
           record: Callable[[datetime], int], photo: bytes | None = None, now: datetime | None = None) -> Result:
    """begin, then `record(at)` (which returns the new record's id) when there is something to record."""
    pending = begin(session, scope, warning_id, kind=kind, sent=sent, payload=payload, photo=photo, now=now)
    return pending.answer or pending.done(record(pending.at))


def redirect_path(warning_id: int, result: Result | None, done: str) -> str:
    """Where a form goes after a submission: the warning, or 我的任务 showing the 冲突 just kept."""
    if result is not None and result.status == "conflict":
        return f"/tasks?conflict={result.submission.id}"
    return f"/warnings/{warning_id}?done={done}"


def conflicts(session: Session, scope: Scope, *, warning_id: int | None = None, limit: int = 50) -> list[Submission]:
    """冲突 the user may see: their own, and for a 所长 those of their station's dissuaders and on its warnings."""
    mine = Submission.user_id == scope.user_id
    if scope.can(Perm.MANAGE_ROSTER):
        stations = select(Area.id).where(scope.subtree_clause())
        on_ours = exists().where(Warning.id == Submission.warning_id, visible(scope))
        mine = or_(mine, Submission.area_id.in_(stations), on_ours)
    stmt = select(Submission).where(Submission.status == "conflict", mine)
    if warning_id is not None:
        stmt = stmt.where(Submission.warning_id == warning_id)
    return list(session.scalars(stmt.order_by(Submission.received_at.desc()).limit(limit)))


def of_warning(session: Session, scope: Scope, warning_id: int) -> list[Submission]:
    """Keyed submissions on a warning the user sees (for its page: device and receipt times, skew flags, 冲突)."""
    if session.scalar(select(Warning.id).where(Warning.id == warning_id, visible(scope))) is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    return list(session.scalars(select(Submission).where(Submission.warning_id == warning_id)
                                .order_by(Submission.received_at)))


def names_of(session: Session, rows: list[Submission]) -> dict[int, str]:
    ids = {r.user_id for r in rows}
    if not ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
