"""An assessment run (one scheme, one period), its item scores and the corrections made after it was locked."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, User


class AssessmentRun(Base):
    """考核: one scheme over one period for one jurisdiction. Draft until locked; a locked run changes only by
    recorded corrections, and keeps the scheme as it was when it was scored."""

    __tablename__ = "assessment_runs"
    __table_args__ = (UniqueConstraint("scheme_key", "period", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_key: Mapped[str] = mapped_column(String(32))
    # the scheme as scored (a later edit of the file does not rewrite it)
    scheme: Mapped[dict[str, Any]] = mapped_column(JSON)
    period: Mapped[str] = mapped_column(String(16))  # 2026 / 2026-Q3 / 2026-10
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # inclusive
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # the jurisdiction assessed
    status: Mapped[str] = mapped_column(String(8), default="draft")  # draft / locked
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[Area] = relationship()
    scores: Mapped[list[AssessmentScore]] = relationship(back_populates="run", cascade="all, delete-orphan")

    @property
    def title(self) -> str:
        """The scheme's name for the assessed area (江州市反诈工作百分制考核), as scored."""
        from fanzha.assess.scheme import Scheme

        return Scheme.model_validate(self.scheme).title(self.area.label if self.area else "")


class AssessmentScore(Base):
    """One item's points for one assessee (a member unit or a township), with how they came about."""

    __tablename__ = "assessment_scores"
    __table_args__ = (UniqueConstraint("run_id", "pool", "assessee_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id", ondelete="CASCADE"), index=True)
    pool: Mapped[str] = mapped_column(String(10))  # unit / township
    assessee_id: Mapped[int] = mapped_column()  # units.id or areas.id, by pool
    item_key: Mapped[str] = mapped_column(String(40))
    points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # None: not scored yet / data missing
    max_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    basis: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_note: Mapped[str] = mapped_column(Text, default="")  # manual items: what the scorer relied on
    evidence_file: Mapped[str] = mapped_column(String(255), default="")  # stored file name under the data dir
    scored_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[AssessmentRun] = relationship(back_populates="scores")
    scorer: Mapped[User | None] = relationship()


class AssessmentCorrection(Base):
    """A change to a locked run's score: before, after, why and who (更正记录)."""

    __tablename__ = "assessment_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("assessment_scores.id", ondelete="CASCADE"), index=True)
    old_points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    new_points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    reason: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    score: Mapped[AssessmentScore] = relationship()
    corrector: Mapped[User | None] = relationship()
