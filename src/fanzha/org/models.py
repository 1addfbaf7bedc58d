"""Areas of both hierarchies (辖区), member units (成员单位) and users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Connection, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.enums import GROUPS


class Area(Base):
    """One node of either chain. `path` is '/1/7/42/' (ids from the root), so a subtree is a prefix."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(16))
    kind_label: Mapped[str] = mapped_column(String(16), default="")  # 街道/镇/乡/团场/社区/村/连队 …
    name: Mapped[str] = mapped_column(String(64))
    # What people see (河口镇·金鸡村 where 金鸡村 repeats): the rule and its refresh are in org/names.py. Until the
    # refresh runs, a new area shows its bare name. 320: four names of a chain, their "·" and a code still fit.
    label: Mapped[str] = mapped_column(String(320), default=lambda ctx: ctx.get_current_parameters()["name"],
                                       server_default="")
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    # Leaf (村/社区) only: the police node that covers it (警务区 or 派出所) and that node's path.
    police_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    police_path: Mapped[str | None] = mapped_column(String(255), index=True)
    population: Mapped[int] = mapped_column(Integer, default=0)  # 常住人口
    households: Mapped[int] = mapped_column(Integer, default=0)  # 户数
    shops: Mapped[int] = mapped_column(Integer, default=0)  # 商铺/企业数
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    police_area: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[police_area_id])

    __table_args__ = (Index("ix_areas_chain_level", "chain", "level"),)


class Unit(Base):
    """A member unit of the joint meeting or an employer, with duties over groups of people."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # the admin node it reports to
    duty_groups: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of org.enums.GROUPS
    is_member: Mapped[bool] = mapped_column(Boolean, default=True)  # 联席会议成员单位 vs plain employer
    contact_name: Mapped[str] = mapped_column(String(32), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()

    @property
    def known_duty_groups(self) -> list[str]:
        """Its duty groups that are groups the platform knows (org.enums.GROUPS), in the unit's order."""
        return [g for g in (self.duty_groups or []) if g in GROUPS]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[Area] = relationship()
    unit: Mapped[Unit | None] = relationship()


# Writing an area (a new one, a rename, a move, a deletion) marks its session; the commit refreshes the labels, so
# a writer that forgot `names.refresh_labels` (or a test building a tree by hand) still leaves no name ambiguous.
STALE_LABELS = "fanzha.area_labels_stale"


def _mark(target: Area) -> None:
    session = Session.object_session(target)
    if session is not None:
        session.info[STALE_LABELS] = True


@event.listens_for(Area, "after_insert")
@event.listens_for(Area, "after_delete")
def _area_added_or_removed(mapper: Mapper[Area], connection: Connection, target: Area) -> None:
    _mark(target)


@event.listens_for(Area, "after_update")
def _area_changed(mapper: Mapper[Area], connection: Connection, target: Area) -> None:
    if get_history(target, "name").has_changes() or get_history(target, "parent_id").has_changes():
        _mark(target)


@event.listens_for(Session, "do_orm_execute")
def _area_statement(state: ORMExecuteState) -> None:
    """`delete(Area)…` and `update(Area)…` run as statements, outside the per-object events above."""
    if (state.is_update or state.is_delete or state.is_insert) and any(m.class_ is Area for m in state.all_mappers):
        state.session.info[STALE_LABELS] = True


@event.listens_for(Session, "before_commit")
def _refresh_stale_labels(session: Session) -> None:
    session.flush()  # the commit's own flush, done first so that it marks the session if it writes an area
    if session.info.get(STALE_LABELS):
        from fanzha.org.names import refresh_labels

        refresh_labels(session)
