"""Registry records: where each listed group came from, people waiting to be placed, target lists and 三包 duties."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, Unit, User
from fanzha.people.models import Person


class RegistryEntry(Base):
    """One row of one member unit's list that landed on a person (易受骗群体库的来源): the groups it declared, the
    unit that sent it, and what did not agree with the person already on file (kept as a note, never silently)."""

    __tablename__ = "registry_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer, default=0)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    unit: Mapped[Unit | None] = relationship()


class RegistryUnplaced(Base):
    """A listed person whose address matched no community: held until someone places them (待落地)."""

    __tablename__ = "registry_unplaced"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    groups: Mapped[list] = mapped_column(JSON, default=list)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(String(255), default="")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)  # the importer's node
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # set once placed
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()


class TargetList(Base):
    """精准滴灌 target list: the people of one group with the advice for the fraud types that hit the group most."""

    __tablename__ = "target_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(32))
    fraud_types: Mapped[list] = mapped_column(JSON, default=list)
    window_days: Mapped[int] = mapped_column(Integer, default=365)
    as_of: Mapped[date] = mapped_column(Date)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # the node it was made for
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()


class TargetMember(Base):
    """One person on a target list, as scored when the list was made."""

    __tablename__ = "target_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("target_lists.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    score: Mapped[float] = mapped_column(Float, default=0)
    fraud_types: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(String(200), default="")

    person: Mapped[Person] = relationship()
    community: Mapped[Area] = relationship()


class Duty(Base):
    """三包: one village/community or enterprise and the one member of staff responsible for it."""

    __tablename__ = "duties"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(24), unique=True)  # area:12 or unit:5
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    weight: Mapped[float] = mapped_column(Float, default=0)
    factors: Mapped[dict] = mapped_column(JSON, default=dict)  # cases, loss, vulnerable behind the weight
    source: Mapped[str] = mapped_column(String(8), default="auto")  # auto | manual
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Area | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
