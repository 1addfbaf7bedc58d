"""The register of issued documents (发文登记) and where areas lie on the map (centroid, imported boundary)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, User


class IssuedDocument(Base):
    """One numbered document as it went out. Its DOCX and PDF are stored, not regenerated: cases entered after the
    date must not change what was issued (docs/bulletins.md). Numbers run per kind per year, without gaps: a
    number is taken in the same transaction that stores the files, so a failure leaves no hole."""

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # daily/weekly/monthly/quarterly (函告/通告/报告 later)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))  # 发文字号 as printed: 江反诈〔2026〕12号
    period: Mapped[str] = mapped_column(String(16), default="")  # 2026-10, 2026-W41 …; "" for documents about no period
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)  # None: the whole jurisdiction
    title: Mapped[str] = mapped_column(String(200))
    addressee: Mapped[str] = mapped_column(String(300), default="")  # 主送
    issued_on: Mapped[date] = mapped_column(Date)  # 成文日期
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_by_name: Mapped[str] = mapped_column(String(32), default="")
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # headline figures, for the register page
    # A bulletin's edition of its period: 0 the original, n the n-th revision (修订), which replaces `revises_id`.
    # `edition_key` (kind:period:area:edition) is unique, so one period cannot be issued twice as an original, not
    # even by a double click or two issuers at once; documents about no period (三告) have none.
    edition: Mapped[int] = mapped_column(Integer, default=0)
    revises_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"))
    revision_note: Mapped[str] = mapped_column(String(300), default="")  # 修订说明
    edition_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    docx: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    area: Mapped[Area | None] = relationship()
    issuer: Mapped[User | None] = relationship()
    revises: Mapped[IssuedDocument | None] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("kind", "year", "seq", name="uq_issued_documents_kind_year_seq"),)


class AreaGeo(Base):
    """Where an area lies: its centroid (for bubbles) and, when one was imported, its boundary (GeoJSON geometry,
    WGS-84 lon/lat) for the choropleth."""

    __tablename__ = "area_geo"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    boundary: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # GeoJSON Polygon/MultiPolygon
    source: Mapped[str] = mapped_column(String(64), default="")  # file name, or demo
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship()
