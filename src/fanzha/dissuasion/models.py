"""Contacts, family members, follow-ups and the escalations the worker raised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import User


class Contact(Base):
    """One attempt to reach the person (劝阻记录); a face-to-face one counts only with evidence."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str] = mapped_column(String(16))
    no_answer_reason: Mapped[str | None] = mapped_column(String(16))  # 未接原因 of a not_reached call (NO_ANSWER_REASONS)
    note: Mapped[str] = mapped_column(Text, default="")
    family_contact_id: Mapped[int | None] = mapped_column(ForeignKey("family_contacts.id"))
    photo_path: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    # When the photo was taken (EXIF DateTimeOriginal), and where the phone was (the browser's geolocation, WGS-84,
    # with its accuracy in metres): the evidence's own time and place, beside the time it was saved.
    photo_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_accuracy: Mapped[int | None] = mapped_column(Integer)
    notice_signed: Mapped[bool] = mapped_column(Boolean, default=False)  # 签字告知书
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    counts_as_face: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by_user: Mapped[User] = relationship()


class FamilyContact(Base):
    """A family member who can help dissuade (联系家属协助劝阻); up to 8 per person."""

    __tablename__ = "family_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(Base):
    """A scheduled re-contact (回访) with its own state: of a warned person (warning_id) or of a filed case's victim
    (case_id), done by the station of its community, escalated when overdue (see dissuasion/followups)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)  # who visits
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)  # what scopes it
    reason: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))  # followups.rules.STATES
    gaps: Mapped[list] = mapped_column(JSON, default=list)  # 宣防漏洞 found: followups.rules.GAPS keys
    missed_outreach: Mapped[str] = mapped_column(Text, default="")  # 其他 漏洞's text
    note: Mapped[str] = mapped_column(Text, default="")
    tries: Mapped[int] = mapped_column(Integer, default=0)  # 暂时找不到 so far
    escalates: Mapped[bool] = mapped_column(Boolean, default=True)  # False: backfilled at the upgrade
    escalated: Mapped[str] = mapped_column(String(8), default="")  # highest level told of it overdue: head, centre
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("warning_id", "reason", name="uq_follow_ups_warning_reason"),
        UniqueConstraint("case_id", "reason", name="uq_follow_ups_case_reason"),
        # 我的任务 asks for the follow-ups due and not done: a few, among years of done ones.
        Index("ix_follow_ups_open", "due_at", postgresql_where=text("done_at IS NULL"),
              sqlite_where=text("done_at IS NULL")),
    )


class Escalation(Base):
    """A missed step noticed by the worker and who was told; one row per (warning, step, level)."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified: Mapped[list] = mapped_column(JSON, default=list)  # user ids

    __table_args__ = (UniqueConstraint("warning_id", "step", "level", name="uq_escalations_once"),
                      Index("ix_escalations_at", "at"))


class TimelineEvent(Base):
    """Every step of a warning in order: dispatched, assigned, signed, contacts, escalations, outcome, transfer …"""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Submission(Base):
    """A contact or outcome sent with an idempotency key (离线提交), often from a phone's offline queue: the record
    it made — so a repeat answers the same — or the 冲突 it became when the warning was closed, reassigned or
    transferred meanwhile (kept with what was submitted, never dropped). Keeps the device's time and the server's
    receipt time; the record itself carries the trusted one (see dissuasion/offline.py)."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(10))  # contact, outcome
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # the submitter's station: its 所长 sees
    status: Mapped[str] = mapped_column(String(10))  # recorded, conflict
    record_id: Mapped[int | None] = mapped_column()  # contacts.id or warnings.id, when recorded
    reason: Mapped[str] = mapped_column(String(12), default="")  # closed, reassigned, transferred (冲突 only)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # what was submitted (冲突 only)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone's clock when it was recorded
    clock_skew: Mapped[int | None] = mapped_column()  # seconds the phone's clock was ahead of the server's
    skew_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_submissions_user_key"),)
