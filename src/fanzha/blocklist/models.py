"""Report bundles imported, the review queue (群众举报 and the entities each names) and the blocklist (黑名单)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow


class ReportBundle(Base):
    """A signed bundle of reports brought in from the public app; its id makes a second import a no-op."""

    __tablename__ = "report_bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(64), unique=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file
    filename: Mapped[str] = mapped_column(String(255), default="")
    exported_at: Mapped[str] = mapped_column(String(40), default="")  # as the public app wrote it
    reports: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicReport(Base):
    """One report (举报) as a person sent it from the public app: no reporter identity travels with it."""

    __tablename__ = "public_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # given by the public app
    bundle_id: Mapped[int] = mapped_column(ForeignKey("report_bundles.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="other")
    text: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[str] = mapped_column(String(200), default="")
    risk: Mapped[str] = mapped_column(String(16), default="")  # the checker's verdict when reported
    fraud_type: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending / reviewed

    entities: Mapped[list[ReportEntity]] = relationship(back_populates="report", order_by="ReportEntity.id")


class ReportEntity(Base):
    """A phone, link, account, QQ or WeChat id a report names, waiting for an analyst's approve or reject."""

    __tablename__ = "report_entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("public_reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), index=True)  # extract.canonical
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending / approved / rejected
    note: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[PublicReport] = relationship(back_populates="entities")


class BlocklistEntry(Base):
    """A number, link or account the centre has confirmed (黑名单); looked up by its canonical key."""

    __tablename__ = "blocklist"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_blocklist_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(200), default="")  # 举报 <uid> / 导入 <file> / the note given
    report_entity_id: Mapped[int | None] = mapped_column(ForeignKey("report_entities.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
