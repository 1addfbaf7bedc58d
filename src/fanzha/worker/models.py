"""The worker's heartbeat, so pages can say whether background work is running."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fanzha.db import Base, UTCDateTime


class WorkerBeat(Base):
    __tablename__ = "worker_beats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
