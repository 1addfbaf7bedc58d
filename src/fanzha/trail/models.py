"""Audit entries and their seals; database triggers refuse UPDATE, DELETE and TRUNCATE on both (migrations 0001, 0026)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fanzha.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: entries outlive users
    username: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(24), index=True)
    entity: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # which personal fields were shown or changed
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class AuditSeal(Base):
    """One link of the audit log's hash chain (fanzha.audit.seals): the rows after `from_id` up to `last_id`,
    how many, and the digest over the previous seal's digest and those rows. Append-only like the log."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))  # exclusive
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
