"""Warning instructions and the dissuaders' duty roster."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, User
from fanzha.people.models import Person


class Warning(Base):
    """One instruction about one person (预警指令); 预警编号 (external_id) is unique."""

    __tablename__ = "warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    upstream_grade: Mapped[str | None] = mapped_column(String(8))
    risk_grade: Mapped[str] = mapped_column(String(8))
    grade_reasons: Mapped[list] = mapped_column(JSON, default=list)
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sign_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    contact_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    face_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    upstream_deadline: Mapped[bool] = mapped_column(default=False)
    face_required: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(32), default="")
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    household_address: Mapped[str] = mapped_column(String(200), default="")
    current_address: Mapped[str] = mapped_column(String(200), default="")
    fraud_type: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    counterparty_account: Mapped[str] = mapped_column(String(64), default="")
    issuing_unit: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)  # earlier warnings of the same person
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    match_source: Mapped[str | None] = mapped_column(String(12))  # current household manual
    status: Mapped[str] = mapped_column(String(12))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 签收
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    face_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first face-to-face contact with evidence
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 反馈: closes the warning
    outcome: Mapped[str | None] = mapped_column(String(12))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    amount_protected: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    amount_lost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 受骗金额 reported with 已被骗
    feedback_exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last sent up in the provincial file
    source: Mapped[str] = mapped_column(String(8), default="api")  # api import local
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person | None] = relationship()
    community: Mapped[Area | None] = relationship(foreign_keys=[community_id])
    station: Mapped[Area | None] = relationship(foreign_keys=[station_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    # 跨所协助首次联系 (dissuasion/help.py): the sibling station's dissuader who took over the first contact, if any.
    help: Mapped[WarningHelp | None] = relationship(viewonly=True)

    @property
    def helper_id(self) -> int | None:
        return self.help.helper_id if self.help else None

    @property
    def helped_at(self) -> datetime | None:
        return self.help.helped_at if self.help else None
    feedback_detail: Mapped[WarningFeedback | None] = relationship(passive_deletes=True)

    # What the provincial feedback records beside the outcome (WarningFeedback), read as the warning's own.
    @property
    def feedback_target(self) -> str | None:
        return self.feedback_detail.target if self.feedback_detail else None

    @property
    def success_kind(self) -> str | None:
        return self.feedback_detail.success_kind if self.feedback_detail else None

    @property
    def feedback_submissions(self) -> int:
        return self.feedback_detail.submissions if self.feedback_detail else 0

    def feedback_record(self) -> WarningFeedback:
        """Its WarningFeedback, made when first needed."""
        if self.feedback_detail is None:
            self.feedback_detail = WarningFeedback(submissions=0)
        return self.feedback_detail

    # Few indexes, each earning its keep: every index is work on each of the thousands of rows an import writes.
    # Partial indexes on open warnings (feedback_at IS NULL) stay small however long the history grows; the one on
    # feedback_at skips open warnings, so a new warning costs it nothing. Reasons: docs/benchmarks.md.
    __table_args__ = (
        Index("ix_warnings_station_status", "station_id", "status"),
        # A person's warnings in time order: look-ups by person, and 预后被骗率's walk from a case to the warnings
        # of its person within N days of its loss time (metrics.py; with the community, answered from the index).
        Index("ix_warnings_person_warned", "person_id", "warned_at", postgresql_include=["community_id"]),
        Index("ix_warnings_community_warned", "community_id", "warned_at"),
        Index("ix_warnings_open", "community_id", "status", postgresql_where=text("feedback_at IS NULL"),
              sqlite_where=text("feedback_at IS NULL")),
        Index("ix_warnings_open_assignee", "assignee_id", "feedback_deadline",
              postgresql_where=text("feedback_at IS NULL"), sqlite_where=text("feedback_at IS NULL")),
        Index("ix_warnings_feedback_at", "feedback_at", postgresql_where=text("feedback_at IS NOT NULL"),
              sqlite_where=text("feedback_at IS NOT NULL")),
        # Counts by the time things happened (metrics.activity: today's 下发 and 签收 on the wall screen); signing
        # comes after intake, so the partial one costs an import nothing.
        Index("ix_warnings_dispatched_at", "dispatched_at"),
        Index("ix_warnings_signed_at", "signed_at", postgresql_where=text("signed_at IS NOT NULL"),
              sqlite_where=text("signed_at IS NOT NULL")),
    )


class WarningFeedback(Base):
    """What the provincial feedback (反馈) records about a warning beside its outcome: 劝阻对象 (dissuasion.enums.TARGETS;
    None: the file reads it from the contacts), with 劝阻成功 自主防范 or 及时劝阻 (SUCCESS_KINDS; None: 及时劝阻), and
    how many times the feedback was sent up (提交类型: 首次 while 0, then 再次). A table of its own, made with the
    outcome or at the first sending; see docs/metrics.md#feedback-file."""

    __tablename__ = "warning_feedback"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str | None] = mapped_column(String(8))
    success_kind: Mapped[str | None] = mapped_column(String(12))
    submissions: Mapped[int] = mapped_column(Integer, default=0)


class WarningAssignment(Base):
    """One hand-over of a warning to the user who holds it (指派 at dispatch or placing, 认领, 改派, the 指派 after a
    移交): to whom, at which station, when, from whom and by whom (None: the system), with the reason given. The
    warning keeps only its current holder; the timeline reads its holders from here, so 改派 adds a line and never
    moves the original one."""

    __tablename__ = "warning_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10))  # assign claim reassign transfer (ASSIGNMENT_KINDS)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_warning_assignments_warning_at", "warning_id", "at"),)


class DutyShift(Base):
    """A dissuader on duty (值班) from starts_at to ends_at; dispatch picks among those on duty."""

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class WarningDay(Base):
    """Daily roll-up of the dissuasion metrics (metrics.py, docs/metrics.md): for one Beijing day of 预警时间, one
    community and its station, every numerator and denominator that does not depend on the moment of reading.
    Kept exact by database triggers that mark the days of changed warnings (WarningDayDirty); marked days are
    recomputed from `warnings` before they are read."""

    __tablename__ = "warning_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    community_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[int | None] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    signed: Mapped[int] = mapped_column(Integer, default=0)
    signed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    face_required: Mapped[int] = mapped_column(Integer, default=0)  # dispatched and required face to face
    face_done: Mapped[int] = mapped_column(Integer, default=0)
    outcome_counted: Mapped[int] = mapped_column(Integer, default=0)  # outcome set, not 无需劝阻
    dissuaded: Mapped[int] = mapped_column(Integer, default=0)
    fed_back: Mapped[int] = mapped_column(Integer, default=0)  # dispatched and fed back
    fed_back_late: Mapped[int] = mapped_column(Integer, default=0)
    last_feedback_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)  # latest among fed_back
    response_minutes: Mapped[float] = mapped_column(Float, default=0)  # first contact − dispatch
    response_minutes_warned: Mapped[float] = mapped_column(Float, default=0)  # first contact − 预警时间, same warnings
    responses: Mapped[int] = mapped_column(Integer, default=0)
    loss_avoided: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    loss_avoided_estimated: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)  # of it, from 拟转账金额

    __table_args__ = (Index("ix_warning_days_day_community", "day", "community_id"),
                      Index("ix_warning_days_last_feedback_deadline", "last_feedback_deadline"))


class WarnedPeopleDay(Base):
    """People warned (on any community) on a Beijing day, counted by the day of their previous warning: the people
    warned in a period [a, b] are those of the days in [a, b] whose previous warning is before a (or none), so a
    distinct count over any period is a sum of these rows."""

    __tablename__ = "warned_people_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    previous_day: Mapped[date | None] = mapped_column(Date)
    people: Mapped[int] = mapped_column(Integer, default=0)


class WarningDayDirty(Base):
    """A UTC hour whose warnings changed since the roll-ups were computed (written by triggers, see migration 0013);
    per hour and changing statement on PostgreSQL, per changed row on SQLite. Deleted when its day is recomputed."""

    __tablename__ = "warning_days_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WarningDayState(Base):
    """The UTC offset (minutes) the roll-ups' days were cut with; another offset rebuilds them."""

    __tablename__ = "warning_days_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer)


class WarningHelp(Base):
    """跨所协助首次联系 (dissuasion/help.py): a sibling station's dissuader took over a warning's first contact. The
    warning stays with its station (its rates, its 见面 and feedback); one helper per warning (the key)."""

    __tablename__ = "warning_helps"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), primary_key=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    helped_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    helper: Mapped[User] = relationship()
