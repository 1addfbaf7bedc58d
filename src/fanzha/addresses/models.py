"""Standard addresses, each tied to one community/village (the leaf of both chains)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area

ADDRESS_KINDS = {"estate": "小区", "village": "村", "road": "路段", "door": "门牌"}


class StandardAddress(Base):
    __tablename__ = "standard_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Area] = relationship()

    __table_args__ = (UniqueConstraint("normalized", name="uq_standard_addresses_normalized"),)
