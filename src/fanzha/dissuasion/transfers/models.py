"""One transfer request (移交) of a warning: from its station to another (移交待审 → 已接收 / 已退回), or out of the
platform's area to a unit named in words (已移交外地, which closes the warning)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area


class WarningTransfer(Base):
    __tablename__ = "warning_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    from_station_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    to_station_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))  # None: out of the platform's area
    to_unit: Mapped[str] = mapped_column(String(100), default="")  # 外地接收单位, in words
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))  # pending, accepted, returned, outside
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(String(200), default="")  # 退回原因

    from_station: Mapped[Area | None] = relationship(foreign_keys=[from_station_id])
    to_station: Mapped[Area | None] = relationship(foreign_keys=[to_station_id])

    __table_args__ = (
        # One pending transfer per warning, held by the database too (two heads pressing at once).
        Index("uq_warning_transfers_pending", "warning_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_warning_transfers_to_status", "to_station_id", "status"),
    )
