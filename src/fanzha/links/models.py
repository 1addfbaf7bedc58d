"""The counterparty identifiers of cases and warnings (对方电话/账号/网址/APP/社交账号), one row each.

Two records are linked (串并) when they hold the same (kind, key); a record is flagged when one of its keys is on the
blocklist. The row names its record, not an area: whom a record belongs to is read from the record itself at query
time, so a warning placed later or a case moved to another community is scoped where it now is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanzha.db import Base, UTCDateTime, utcnow


class CounterpartyId(Base):
    __tablename__ = "counterparty_ids"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(8))  # case / warning
    record_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # links.rules.KINDS
    key: Mapped[str] = mapped_column(String(200))  # links.rules.key_of
    value: Mapped[str] = mapped_column(String(200), default="")  # as written
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("record_kind", "record_id", "kind", "key", name="uq_counterparty_ids_record_key"),
        Index("ix_counterparty_ids_kind_key", "kind", "key"),
    )
