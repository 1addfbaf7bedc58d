"""The area trees (行政/公安两条链): which communities lie under a node of either chain, and a node's children.

Every domain that walks the trees asks here; the paths themselves are kept by `fanzha.org.service`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.org.scope import Scope


def at_top() -> ColumnElement[bool]:
    """The nodes at the top of their chain (市, 市局): those without a parent."""
    return Area.parent_id.is_(None)


def is_top(node: Area) -> bool:
    """Whether `node` is the top of its chain (市 or 市局)."""
    return node.parent_id is None


def top_area(session: Session, chain: str | None = Chain.ADMIN) -> Area | None:
    """The top of a chain (市 or 市局; with `chain=None` the first made of either): the deployment's own name for
    itself (江州市), not a place of any article."""
    stmt = select(Area).where(at_top())
    if chain is not None:
        stmt = stmt.where(Area.chain == chain)
    return session.scalar(stmt.order_by(Area.id).limit(1))


def communities_under(node: Area) -> ColumnElement[bool]:
    """Communities (leaves) beneath `node`: by admin path for an admin node, by police_path for a police node."""
    if node.level == Level.COMMUNITY:
        return Area.id == node.id
    if node.chain == Chain.POLICE:
        return and_(Area.level == Level.COMMUNITY, Area.police_path.startswith(node.path, autoescape=True))
    return and_(Area.level == Level.COMMUNITY, Area.path.startswith(node.path, autoescape=True))


def contains(node: Area, leaf: Area) -> bool:
    """Whether the community `leaf` lies under `node` (in node's chain)."""
    if node.level == Level.COMMUNITY:
        return node.id == leaf.id
    if node.chain == Chain.POLICE:
        return bool(leaf.police_path and leaf.police_path.startswith(node.path))
    return leaf.path.startswith(node.path)


def node_contains(outer: Area, inner: Area) -> bool:
    """Whether `inner` (any node) lies strictly under `outer` in the same chain, or is a leaf under it."""
    if inner.id == outer.id:
        return False
    if inner.level == Level.COMMUNITY:
        return contains(outer, inner)
    return inner.chain == outer.chain and inner.path.startswith(outer.path)


def children(session: Session, node: Area, chain: str) -> list[Area]:
    """The rows one level down from `node`, in `chain`: a county's townships, a station's beats, a beat's
    communities. From a node of the other chain, the townships (乡镇/街道/团场) or the stations (派出所) that hold its
    communities, found by their level on each community's path: a 团场 sits straight under its 师市 and a station may
    sit straight under the 市局, so their depth differs."""
    if node.level == Level.COMMUNITY:
        return []
    if node.chain == chain:
        rows = list(session.scalars(select(Area).where(Area.parent_id == node.id).order_by(Area.code)))
        if rows:
            return rows
        if chain == Chain.POLICE:  # a beat (警务区) holds its communities through police_area_id
            return list(session.scalars(select(Area).where(Area.police_area_id == node.id).order_by(Area.code)))
        return []
    leaves = list(session.scalars(select(Area).where(communities_under(node))))
    paths = {leaf.police_path or "" for leaf in leaves} if chain == Chain.POLICE else {leaf.path for leaf in leaves}
    ancestors = {int(x) for p in paths for x in p.strip("/").split("/") if x}
    level = Level.STATION if chain == Chain.POLICE else Level.TOWNSHIP
    return list(session.scalars(select(Area).where(Area.id.in_(ancestors), Area.level == level)
                                .order_by(Area.code))) if ancestors else []


def scoped_leaves(session: Session, scope: Scope, *extra: ColumnElement[bool]) -> list[Area]:
    """The communities `scope` covers, narrowed by `extra` clauses."""
    return list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY, scope.community_clause(Area.id),
                                                   *extra)))
