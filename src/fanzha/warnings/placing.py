"""待分配 (warnings whose address matched no community) and 分配: the queue searched and paged, the community picker's
choices (each named with its township and station, from the unambiguous labels of org/names.py), the picker's text
read back, the confirmation's and the message's sentences; and where an import's new warnings went."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from fanzha.audit import service as audit
from fanzha.auth import lookups
from fanzha.common.errors import Invalid
from fanzha.imports.service import Destination, went_of
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings.dispatch import station_of_communities
from fanzha.warnings.models import Warning
from fanzha.warnings.service import visible

PICK_FIELD = "community"


@dataclass(frozen=True)
class Choice:
    """One community of the picker: its id and the text the picker shows and sends back."""

    id: int
    text: str


def choice_text(community: Area, township: Area | None, station: Area | None) -> str:
    """某镇 某村（某派出所）; a community whose label already names its township is not named twice."""
    place = community.label
    if township is not None and township.name not in community.label.split("·"):
        place = f"{township.label} {community.label}"
    return f"{place}（{station.label}）" if station is not None else place


def choices(session: Session, scope: Scope) -> list[Choice]:
    """The communities a warning may be placed on: in the user's scope and covered by a station, by township."""
    township = aliased(Area)
    stations = station_of_communities(session)
    labels = dict(session.execute(select(Area.id, Area).where(Area.id.in_(set(stations.values())))).all())
    rows = session.execute(select(Area, township).outerjoin(township, Area.parent_id == township.id)
                           .where(Area.level == Level.COMMUNITY, Area.id.in_(scope.community_ids()))
                           .order_by(township.path, Area.path)).all()
    return [Choice(c.id, choice_text(c, t, labels.get(stations[c.id]))) for c, t in rows if c.id in stations]


def resolve(session: Session, scope: Scope, text: str, community_id: int = 0) -> Choice:
    """The community the picker names: its full text, or a community's own label or name when only one has it.
    Nothing chosen, or a text that names none, is refused and nothing is placed."""
    options = choices(session, scope)
    if community_id:
        found = next((c for c in options if c.id == community_id), None)
        if found is not None:
            return found
    text = " ".join(text.split())
    if not text and not community_id:
        raise Invalid("请选择要分配到的村/社区（可输入名称搜索），本条预警未分配",
                      details=[{"loc": [PICK_FIELD], "msg": "必选"}])
    found = next((c for c in options if c.text == text), None)
    if found is None and text:
        named = session.scalars(select(Area.id).where(Area.level == Level.COMMUNITY,
                                                      or_(Area.label == text, Area.name == text))).all()
        if len(named) == 1:
            found = next((c for c in options if c.id == named[0]), None)
    if found is None:
        raise Invalid(f"没有找到“{text[:40]}”，请从列表中选择您辖区内的村/社区，本条预警未分配",
                      details=[{"loc": [PICK_FIELD], "msg": "村/社区不对"}])
    return found


def confirm_sentence(w: Warning, choice: Choice) -> str:
    return f"将预警 {w.external_id} 分配到 {choice.text}"


def placed_sentence(w: Warning) -> str:
    """The message after 分配: where the warning went and to whom."""
    place = choice_text(w.community, w.community.parent, w.station) if w.community else "—"
    who = f"，已指派给 {w.assignee.display_name}" if w.assignee else "，该所暂无在岗劝阻员，等待认领"
    return f"已将预警 {w.external_id} 分配到 {place}{who}"


def unplaced(session: Session, scope: Scope, q: str = "", *, limit: int, offset: int) -> tuple[list[Warning], int]:
    """待分配, newest first; `q` finds text in either address, a 预警编号 (or part of it) or a whole name."""
    scope.require(Perm.INTAKE_WARNINGS)
    q = q.strip()
    lookups.check(session, scope, q, where="warning")
    stmt = select(Warning).where(visible(scope), Warning.status == "unplaced")
    if q:
        stmt = stmt.where(or_(Warning.current_address.contains(q, autoescape=True),
                              Warning.household_address.contains(q, autoescape=True),
                              Warning.external_id.contains(q, autoescape=True), Warning.name == q,
                              Warning.phone == q, Warning.id_number == q.upper()))
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Warning.id).subquery()))
    rows = list(session.scalars(stmt.order_by(Warning.warned_at.desc(), Warning.id.desc())
                                .limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "warning", "", fields=["name:masked", "address"],
                     detail={"ids": [w.id for w in rows], **({"q": lookups.masked(q)} if q else {})})
    return rows, int(total or 0)


def placed_warning(session: Session, scope: Scope, warning_id: int) -> Warning | None:
    """The warning just placed, for the message on the 待分配 page (None when out of scope)."""
    return session.scalar(select(Warning).where(Warning.id == warning_id, visible(scope))
                          .options(joinedload(Warning.community), joinedload(Warning.station),
                                   joinedload(Warning.assignee)))


def destinations(session: Session, scope: Scope, message: str) -> list[Destination]:
    """Where an import's new warnings went, from the counts its batch kept (`went` in its summary): one line a
    station (linked to the board filtered by it), most first, then 待分配. Stations outside the reader's scope are
    summed in one line without a link."""
    counts = went_of(message)
    ids = [int(k) for k in counts if k]
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(ids)))} if ids else {}
    shown = sorted((a for a in areas.values() if scope.covers(a)), key=lambda a: (-counts[str(a.id)], a.path))
    out = [Destination(a.label, counts[str(a.id)], f"/warnings?station_id={a.id}", "查看该所预警") for a in shown]
    if elsewhere := sum(counts.values()) - counts.get("", 0) - sum(d.count for d in out):
        out.append(Destination("其他派出所", elsewhere, ""))
    if counts.get(""):
        out.append(Destination("待分配（地址未匹配到村/社区）", counts[""], "/warnings/unplaced", "去分配"))
    return out
