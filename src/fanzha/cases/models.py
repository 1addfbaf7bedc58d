"""The Case core: number, person, place (leaf), filing time, loss time, fraud type, loss amount."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area
from fanzha.people.models import Person


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)  # 案件编号
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    name: Mapped[str] = mapped_column(String(32), default="")
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # 立案时间
    loss_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # 损失（被骗）时间: what 预后被骗率 uses
    fraud_type: Mapped[str] = mapped_column(String(32), default="other")
    loss_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")  # 案情
    source: Mapped[str] = mapped_column(String(8), default="form")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person | None] = relationship()
    community: Mapped[Area | None] = relationship()
