"""宣防 records: campaigns with covered areas and quotas, 督导/约谈, activities with photos, coverage targets,
无诈社区 status and its history, knowledge tests and their attempts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, Unit, User


class Campaign(Base):
    """宣传专项行动: dated, run by one node (area_id), covering some areas, with quotas per area and metric."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 行动编号: what plan spreadsheets name
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="special")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # the node that runs it
    owners: Mapped[str] = mapped_column(String(200), default="")  # 负责人, as the plan names them
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()


class CampaignArea(Base):
    """A node the campaign covers: every community under it (in its chain) takes part."""

    __tablename__ = "campaign_areas"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True, index=True)

    area: Mapped[Area] = relationship()


class Quota(Base):
    """任务数: what one area should achieve in one metric over the whole campaign."""

    __tablename__ = "campaign_quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    metric: Mapped[str] = mapped_column(String(24))
    target: Mapped[int] = mapped_column(Integer)

    area: Mapped[Area] = relationship()

    __table_args__ = (UniqueConstraint("campaign_id", "area_id", "metric", name="uq_campaign_quotas_area_metric"),)


class Supervision(Base):
    """督导/约谈 of a lagging area, with a follow-up date and the outcome found then."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()
    campaign: Mapped[Campaign] = relationship()
    by_user: Mapped[User | None] = relationship()


class Activity(Base):
    """宣传活动 on one leaf: kind, date, organiser, and what it reached, one column per metric (enums.METRICS)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    held_on: Mapped[date] = mapped_column(Date, index=True)
    organiser_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    organiser: Mapped[str] = mapped_column(String(64), default="")  # as written in a spreadsheet or on the form
    # Legacy single link, kept in step by prevention/counting.py only because assess/figures.py still reads it: the
    # first campaign the activity counts toward, or none. Everything in prevention reads activity_campaigns.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Whom and what it was aimed at (对象人群, 针对诈骗类型): keys of org.enums.GROUPS and detect.taxonomy.FRAUD_TYPES, or
    # empty (未注明). A member unit's activity names one of its unit's duty groups (prevention/service.py).
    target_group: Mapped[str] = mapped_column(String(32), default="")
    fraud_type: Mapped[str] = mapped_column(String(32), default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    shops: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    leaflets: Mapped[int] = mapped_column(Integer, default=0)
    app_installs: Mapped[int] = mapped_column(Integer, default=0)
    jzz_registrations: Mapped[int] = mapped_column(Integer, default=0)
    pledges: Mapped[int] = mapped_column(Integer, default=0)
    vulnerable_found: Mapped[int] = mapped_column(Integer, default=0)
    issues: Mapped[int] = mapped_column(Integer, default=0)
    forwards: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(8), default="form")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last 更正 by the recorder
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 已撤回 (by the recorder): counts nowhere
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")

    community: Mapped[Area] = relationship()
    unit: Mapped[Unit | None] = relationship()
    organiser_user: Mapped[User | None] = relationship(foreign_keys=[organiser_user_id])
    recorder: Mapped[User | None] = relationship(foreign_keys=[created_by])
    # Every campaign it counts toward (written only by prevention/counting.py).
    campaigns: Mapped[list[Campaign]] = relationship(secondary="activity_campaigns", viewonly=True,
                                                     order_by="Campaign.starts_on, Campaign.id")
    photos: Mapped[list[ActivityPhoto]] = relationship(order_by="ActivityPhoto.id")

    __table_args__ = (Index("ix_activities_campaign_held", "campaign_id", "held_on"),
                      Index("ix_activities_unit_group", "unit_id", "target_group"))


class ActivityCampaign(Base):
    """An activity counts toward a campaign (计入专项行动): one row per campaign whose dates and areas hold it."""

    __tablename__ = "activity_campaigns"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class ActivityPhoto(Base):
    __tablename__ = "activity_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoverageTarget(Base):
    """A dated target: metric / leaf denominator ≥ pct by due_on, for the communities under area_id."""

    __tablename__ = "coverage_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    metric: Mapped[str] = mapped_column(String(24))
    denominator: Mapped[str] = mapped_column(String(16))
    target_pct: Mapped[float] = mapped_column(Numeric(5, 1))
    due_on: Mapped[date] = mapped_column(Date)
    counts_from: Mapped[date | None] = mapped_column(Date)  # activities before it do not count; none = all
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()


class FraudFreeStatus(Base):
    """无诈社区: the current verdict for one community and the reasons, as last recomputed."""

    __tablename__ = "fraud_free_status"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    fraud_free: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Area] = relationship()


class FraudFreeChange(Base):
    """When a community gained or lost 无诈社区 status, and why."""

    __tablename__ = "fraud_free_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    gained: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(JSON, default=list)

    community: Mapped[Area] = relationship()


class Quiz(Base):
    """A knowledge test (知识测试) from the question bank, assigned to roles under one node."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    questions: Mapped[list] = mapped_column(JSON, default=list)  # question codes of the bank
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    score: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("quiz_id", "user_id", name="uq_quiz_attempts_quiz_user"),)
