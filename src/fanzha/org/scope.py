"""Scoping: the one place that decides which areas, and so which records, a user may see.

A user sits on one node of one chain and sees that node and everything below it. Records hang
on leaf communities; a police user reaches a community through the community's `police_path`,
an administrative user through its `path`. Every service query goes through a Scope.

Two rules look at the role as well as the node. A city-wide role (the centre, the 联席办, the auditor)
placed on the top node of either chain acts for the whole city in both chains (`at_root`). A member-unit
liaison (成员单位联络员) acts for its unit wherever it sits: its records are those of its unit
(`unit_only`, `unit_clause`), never those of the area its node covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, exists, false, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from fanzha.common.errors import Forbidden, NotFound
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, User
from fanzha.org.roles import CITY_WIDE_ROLES, Perm, Role, has_perm


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    username: str
    role: str
    area_id: int
    chain: str
    path: str
    unit_id: int | None = None
    level: str = ""
    ip: str = ""
    user_agent: str = ""
    is_system: bool = False

    @classmethod
    def for_user(cls, user: User, *, ip: str = "", user_agent: str = "") -> Scope:
        return cls(user_id=user.id, username=user.username, role=user.role, area_id=user.area_id,
                   chain=user.area.chain, path=user.area.path, unit_id=user.unit_id, level=user.area.level, ip=ip,
                   user_agent=user_agent[:255])

    @classmethod
    def system(cls, session: Session) -> Scope:
        """Everything, for the CLI, the worker and the demo generator; audited as 'system'."""
        return cls(user_id=None, username="system", role="centre_admin", area_id=0, chain="*", path="/",
                   is_system=True)

    # -- permissions ---------------------------------------------------------------------
    def can(self, perm: Perm) -> bool:
        return self.is_system or has_perm(self.role, perm)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise Forbidden("您的角色没有此项权限")

    # -- areas ---------------------------------------------------------------------------
    def area_clause(self) -> ColumnElement[bool]:
        """Areas visible to the user: their own subtree, the communities it covers in the other chain, and the
        nodes of either chain above those communities (so a station sees its township, a township its
        stations). Seeing a node shows its name and structure; records stay limited by community_ids()."""
        if self.is_system:
            return Area.id.is_not(None)
        covered = aliased(Area)
        ids = self.community_ids()
        return or_(
            Area.path.startswith(self.path, autoescape=True),
            Area.id.in_(ids),
            exists().where(covered.id.in_(ids), covered.path.startswith(Area.path)),
            exists().where(covered.id.in_(ids), covered.police_path.startswith(Area.path)),
        )

    def community_ids(self) -> Select[int]:
        """A subquery of the leaf communities in scope: what records are filtered by."""
        q = select(Area.id).where(Area.level == Level.COMMUNITY)
        if self.is_system:
            return q
        if self.chain == Chain.POLICE:
            return q.where(Area.police_path.startswith(self.path, autoescape=True))
        return q.where(Area.path.startswith(self.path, autoescape=True))

    @property
    def is_centre(self) -> bool:
        """At the 市局/分局 level of the police chain: sees warnings not yet placed on any community."""
        return self.is_system or (self.chain == Chain.POLICE and self.level in (Level.BUREAU, Level.BRANCH))

    @property
    def at_root(self) -> bool:
        """Acts for the whole city in both chains: a city-wide role on the top node of either chain (市局, 市)."""
        return self.is_system or (self.role in CITY_WIDE_ROLES and self.path.count("/") == 2
                                  and self.level in (Level.BUREAU, Level.CITY))

    @property
    def unit_only(self) -> bool:
        """A member-unit liaison: sees and changes the records of its own unit, whatever node it sits on."""
        return not self.is_system and self.role == Role.UNIT_LIAISON

    def unit_clause(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        """Rows whose unit column is the user's own unit (none for a liaison placed without one)."""
        return column == self.unit_id if self.unit_id is not None else false()

    def community_clause(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        return column.in_(self.community_ids())

    def subtree_clause(self, area: type[Area] | AliasedClass[Area] = Area) -> ColumnElement[bool]:
        """The nodes of `area` (the Area table or an alias of it) at or under the user's node in the user's own chain:
        what the user runs (their stations, units, users, campaigns) as opposed to what they may only read."""
        return area.path.startswith(self.path, autoescape=True)

    def own_clause(self, area: type[Area] | AliasedClass[Area] = Area) -> ColumnElement[bool]:
        """The SQL twin of `covers`: the nodes of `area` (the Area table or an alias of it) in the user's own subtree —
        in its own chain and, for a police user, the communities its node covers through `police_path`."""
        if self.is_system:
            return area.id.is_not(None)
        clause = self.subtree_clause(area)
        if self.chain == Chain.POLICE:
            clause = or_(clause, area.police_path.startswith(self.path, autoescape=True))
        return clause

    def records_clause(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        """The records hung on a community (warnings, cases, 回访, 止付/冻结 requests …) the user may see, by their
        `community_id` column: those on the communities in scope and, for the centre (`is_centre`), also those not
        yet placed on any community. Every domain's `visible` is this clause."""
        clause = self.community_clause(column)
        return or_(clause, column.is_(None)) if self.is_centre else clause

    def get_area(self, session: Session, area_id: int) -> Area:
        area = session.scalar(select(Area).where(Area.id == area_id, self.area_clause()))
        if area is None:
            raise NotFound("辖区不存在或不在您的管辖范围内")
        return area

    def get_own_area(self, session: Session, area_id: int) -> Area:
        """An area the user may change or place people in: their own subtree only (for a police user also the
        communities their node covers) — never the nodes above, which they may only read."""
        area = session.get(Area, area_id)
        if area is None or not (self.at_root or self.covers(area)):  # the city's own centre runs both chains
            raise NotFound("辖区不存在或不在您的管辖范围内")
        return area

    def covers(self, area: Area) -> bool:
        """Whether `area` lies in the user's own subtree (in its own chain or, for a leaf, through police_path)."""
        if self.is_system or area.path.startswith(self.path):
            return True
        return self.chain == Chain.POLICE and bool(area.police_path and area.police_path.startswith(self.path))
