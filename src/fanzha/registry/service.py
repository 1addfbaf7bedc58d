"""The registry within the user's areas: people with their groups (declared and derived) and risk, 待落地 placing,
target lists (精准滴灌) with their push file, door-to-door print and campaign. Scoped and audited here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import exports
from fanzha.audit import service as audit
from fanzha.common import tabular
from fanzha.common.errors import Invalid, NotFound
from fanzha.common.identity import id_number_birth_date, id_number_gender, mask_name, mask_phone
from fanzha.common.localtime import local_day
from fanzha.common.privacy import identity, identity_fields
from fanzha.common.text import check_plain
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.detect.advice import ADVICE, FRAUD_TYPE_NAMES
from fanzha.org.enums import GROUPS
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under, top_area
from fanzha.people.models import Person
from fanzha.registry import sms
from fanzha.registry.models import RegistryEntry, RegistryUnplaced, TargetList, TargetMember
from fanzha.registry.risk import Population, Score, load_population

TOP_TYPES = 3


def _bad(field_name: str, message: str) -> Invalid:
    return Invalid(message, details=[{"loc": [field_name], "msg": message}])


def today() -> date:
    return local_day(utcnow())


def population(session: Session, *, on: date | None = None, window_days: int | None = None) -> Population:
    s = get_settings()
    return load_population(session, on or today(), window_days=window_days or s.registry_window_days,
                           prior_strength=s.registry_prior_strength)


# -- the registry ------------------------------------------------------------------------------------------------

@dataclass
class Row:
    person: Person
    groups: list[str]
    score: Score


def registry(session: Session, scope: Scope, pop: Population, *, group: str = "", community_id: int | None = None,
             limit: int = 50, offset: int = 0) -> tuple[list[Row], int]:
    """People of the user's areas in at least one group (or in `group`), highest risk first; one audited view."""
    scope.require(Perm.READ_PEOPLE)
    if group and group not in GROUPS:
        raise _bad("group", "未知的群体")
    stmt = select(Person.id).where(scope.community_clause(Person.community_id))
    if community_id:
        stmt = stmt.where(Person.community_id == community_id)
    ids = [pid for pid in session.scalars(stmt)
           if (group in pop.groups.get(pid, []) if group else pop.groups.get(pid))]
    ranked = sorted(ids, key=lambda pid: (-pop.score_of(pid).value, pid))
    page = ranked[offset:offset + limit]
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(page))
                                                .options(joinedload(Person.community)))}
    rows = [Row(people[pid], pop.groups.get(pid, []), pop.score_of(pid)) for pid in page]
    if rows:
        audit.record(session, scope, "view", "person", "", fields=["name"],
                     detail={"ids": [r.person.id for r in rows], "registry": group or "all"})
    return rows, len(ranked)


def person_risk(session: Session, scope: Scope, pop: Population, person_id: int) -> Row:
    scope.require(Perm.READ_PEOPLE)
    person = session.scalar(select(Person).where(Person.id == person_id, scope.community_clause(Person.community_id))
                            .options(joinedload(Person.community)))
    if person is None:
        raise NotFound("人员不存在或不在您的管辖范围内")
    audit.record(session, scope, "view", "person", person.id, fields=["name"], detail={"risk": True})
    return Row(person, pop.groups.get(person.id, []), pop.score_of(person.id))


def entries_of(session: Session, person_id: int) -> list[RegistryEntry]:
    return list(session.scalars(select(RegistryEntry).where(RegistryEntry.person_id == person_id)
                                .options(joinedload(RegistryEntry.unit)).order_by(RegistryEntry.id)))


def group_counts(pop: Population, session: Session, scope: Scope) -> dict[str, int]:
    ids = set(session.scalars(select(Person.id).where(scope.community_clause(Person.community_id))))
    counts = {g: 0 for g in GROUPS}
    for pid in ids:
        for g in pop.groups.get(pid, []):
            counts[g] = counts.get(g, 0) + 1
    return counts


def batch_notes(session: Session, scope: Scope, batch_id: int) -> tuple[list[RegistryEntry], list[RegistryUnplaced]]:
    """What an import merged with a disagreement, and whom it could not place (the batch itself is checked by the
    import path's own scoping)."""
    from fanzha.imports.service import get_batch

    scope.require(Perm.MANAGE_REGISTRY)
    get_batch(session, scope, batch_id)
    notes = list(session.scalars(select(RegistryEntry).where(RegistryEntry.batch_id == batch_id,
                                                             RegistryEntry.note != "",
                                                             scope.community_clause(
                                                                 select(Person.community_id).where(
                                                                     Person.id == RegistryEntry.person_id)
                                                                 .scalar_subquery()))
                                 .options(joinedload(RegistryEntry.person)).order_by(RegistryEntry.row_number)))
    held = list(session.scalars(select(RegistryUnplaced).where(RegistryUnplaced.batch_id == batch_id)
                                .order_by(RegistryUnplaced.row_number)))
    return notes, held


# -- 待落地 ---------------------------------------------------------------------------------------------------------

def _unplaced_visible(scope: Scope):
    if scope.is_system:
        return RegistryUnplaced.id.is_not(None)
    return RegistryUnplaced.area_id.in_(select(Area.id).where(scope.subtree_clause()))


def list_unplaced(session: Session, scope: Scope) -> list[RegistryUnplaced]:
    scope.require(Perm.MANAGE_REGISTRY)
    rows = list(session.scalars(select(RegistryUnplaced).where(RegistryUnplaced.person_id.is_(None),
                                                               _unplaced_visible(scope))
                                .order_by(RegistryUnplaced.id).limit(500)))
    if rows:
        audit.record(session, scope, "view", "registry_unplaced", "", fields=["name"],
                     detail={"ids": [r.id for r in rows]})
    return rows


def place(session: Session, scope: Scope, unplaced_id: int, community_id: int) -> Person:
    """Puts a held person on a community in the user's own areas (and on the registry)."""
    scope.require(Perm.MANAGE_REGISTRY)
    held = session.scalar(select(RegistryUnplaced).where(RegistryUnplaced.id == unplaced_id,
                                                         RegistryUnplaced.person_id.is_(None),
                                                         _unplaced_visible(scope)))
    if held is None:
        raise NotFound("待落地人员不存在或已落地")
    area = session.scalar(select(Area).where(Area.id == community_id, Area.id.in_(scope.community_ids())))
    if area is None:
        raise _bad("community_id", "村/社区不存在或不在您的管辖范围内")
    person = None
    if held.id_number:
        person = session.scalar(select(Person).where(Person.id_number == held.id_number))
    if person is None:
        person = Person(name=held.name, id_number=held.id_number, phone=held.phone, community_id=area.id,
                        address=held.address, groups=list(held.groups or []), unit_id=held.unit_id)
        if held.id_number:
            person.gender = id_number_gender(held.id_number)
            person.birth_date = id_number_birth_date(held.id_number)
        session.add(person)
    else:
        person.groups = sorted(set(person.groups or []) | set(held.groups or []))
    session.flush()
    session.add(RegistryEntry(person_id=person.id, batch_id=held.batch_id, row_number=held.row_number,
                              groups=list(held.groups or []), unit_id=held.unit_id,
                              note=f"人工落地到{area.label}"))
    held.person_id, held.placed_at = person.id, utcnow()
    audit.record(session, scope, "update", "registry_unplaced", held.id, fields=["name"],
                 detail={"community": area.id, "person": person.id})
    return person


# -- targeting (精准滴灌) -----------------------------------------------------------------------------------------

def top_types(pop: Population, k: int = TOP_TYPES) -> dict[str, list[tuple[str, int, int, float]]]:
    """For each group: (fraud type, victims in the group, members, smoothed rate), the most hit first."""
    r = pop.rates
    return {g: [(t, r.victims.get((g, t), 0), r.members.get(g, 0), r.rate(g, t)) for t in r.top_types(g, k)]
            for g in GROUPS if g != "past_victim" or r.members.get(g)}


def advices(fraud_types: list[str]) -> list[str]:
    return [ADVICE.get(t, ADVICE["other"]) for t in fraud_types]


def list_visible(scope: Scope):
    """A list is seen wherever its node is visible: made for the user's node, one above it (a county-wide list reaches
    every grid worker) or one below it. Its members are still limited to the user's own communities."""
    if scope.is_system:
        return TargetList.id.is_not(None)
    return TargetList.area_id.in_(select(Area.id).where(scope.area_clause()))


def create_list(session: Session, scope: Scope, pop: Population, *, group: str, top_n: int = TOP_TYPES,
                name: str = "", area_id: int | None = None) -> TargetList:
    scope.require(Perm.MANAGE_REGISTRY)
    if group not in GROUPS:
        raise _bad("group", "未知的群体")
    if not 1 <= top_n <= 5:
        raise _bad("top_n", "诈骗类型数应为 1 到 5")
    try:
        name = check_plain(name)
    except ValueError as exc:
        raise _bad("name", f"名单名称{exc}") from exc
    node = scope.get_own_area(session, area_id or scope.area_id) if (area_id or scope.area_id) else None
    if node is None:
        node = top_area(session, chain=None)
    types = pop.rates.top_types(group, top_n)
    leaves = select(Area.id).where(Area.id.in_(scope.community_ids()), communities_under(node))
    people = [p for p in session.execute(select(Person.id, Person.name, Person.gender, Person.community_id)
                                         .where(Person.community_id.in_(leaves)))
              if group in pop.groups.get(p.id, [])]
    tl = TargetList(name=(name.strip() or f"{GROUPS[group]}精准滴灌名单 {pop.rates.today:%Y-%m-%d}")[:100], group=group,
                    fraud_types=types, window_days=pop.rates.window_days, as_of=pop.rates.today, area_id=node.id,
                    created_by=scope.user_id)
    session.add(tl)
    session.flush()
    words = advices(types)
    if people:
        session.execute(insert(TargetMember), [
            {"list_id": tl.id, "person_id": p.id, "community_id": p.community_id, "score": pop.score_of(p.id).value,
             "fraud_types": types, "message": sms.compose(words, name=p.name, gender=p.gender)} for p in people])
    audit.record(session, scope, "create", "target_list", tl.id,
                 detail={"group": group, "types": types, "people": len(people), "area": node.id})
    return tl


def get_list(session: Session, scope: Scope, list_id: int) -> TargetList:
    scope.require(Perm.READ_PEOPLE)
    tl = session.scalar(select(TargetList).where(TargetList.id == list_id, list_visible(scope))
                        .options(joinedload(TargetList.area)))
    if tl is None:
        raise NotFound("名单不存在或不在您的管辖范围内")
    return tl


def lists(session: Session, scope: Scope) -> list[tuple[TargetList, int]]:
    scope.require(Perm.READ_PEOPLE)
    count = (select(func.count()).where(TargetMember.list_id == TargetList.id,
                                        scope.community_clause(TargetMember.community_id)).scalar_subquery())
    return [(tl, n) for tl, n in session.execute(select(TargetList, count).where(list_visible(scope))
                                                .options(joinedload(TargetList.area))
                                                .order_by(TargetList.id.desc()).limit(100))]


def members(session: Session, scope: Scope, tl: TargetList, *, community_id: int | None = None,
            audit_fields: list[str] | None = None) -> list[TargetMember]:
    """The list's people in the user's areas, highest risk first; audited as one view."""
    stmt = (select(TargetMember).where(TargetMember.list_id == tl.id,
                                       scope.community_clause(TargetMember.community_id))
            .options(joinedload(TargetMember.person), joinedload(TargetMember.community))
            .order_by(TargetMember.community_id, TargetMember.score.desc(), TargetMember.id))
    if community_id:
        stmt = stmt.where(TargetMember.community_id == community_id)
    rows = sorted(session.scalars(stmt), key=lambda m: (-m.score, m.id))
    if rows:
        audit.record(session, scope, "view", "target_list", tl.id, fields=audit_fields or ["name"],
                     detail={"people": len(rows), "community": community_id})
    return rows


@dataclass(frozen=True)
class PrintedMember:
    """One line of the door-to-door list as the viewer may see it."""

    id: int
    person_id: int
    community_id: int
    community: Area
    name: str
    address: str
    phone: str
    score: float
    fraud_types: list[str]


def print_members(session: Session, scope: Scope, tl: TargetList, *, community_id: int | None = None,
                  reveal: bool = False) -> list[PrintedMember]:
    """The door-to-door print list: masked phones unless revealed (pii_full), the reveal audited with its numbers."""
    scope.require(Perm.READ_PEOPLE)
    if reveal:
        scope.require(Perm.PII_FULL)
    stmt = (select(TargetMember).where(TargetMember.list_id == tl.id,
                                       scope.community_clause(TargetMember.community_id))
            .options(joinedload(TargetMember.person), joinedload(TargetMember.community)))
    if community_id:
        stmt = stmt.where(TargetMember.community_id == community_id)
    full_name = scope.can(Perm.PII_FULL)
    out = []
    for m in sorted(session.scalars(stmt), key=lambda m: (-m.score, m.id)):
        shown = identity(name=m.person.name, id_number=None, phone=m.person.phone, full=reveal, name_full=full_name)
        out.append(PrintedMember(m.id, m.person_id, m.community_id, m.community, shown.name, m.person.address or "",
                                 shown.phone, m.score, list(m.fraud_types or [])))
    if out:
        fields = identity_fields(full=reveal, name_full=full_name, with_ages=False)
        audit.record(session, scope, "reveal" if reveal else "view", "target_list", tl.id,
                     fields=[f for f in fields if not f.startswith("id_number")] + ["address"],
                     detail={"people": len(out), "community": community_id, "ids": [m.person_id for m in out]})
    return out


def print_list(session: Session, scope: Scope, list_id: int, *, community_id: int | None = None,
               reveal: bool = False) -> tuple[TargetList, list[PrintedMember]]:
    """The door-to-door list of a target list (of one of its communities if asked), for the page and the API alike;
    a community with nobody of the list in the user's areas is not found."""
    tl = get_list(session, scope, list_id)
    rows = print_members(session, scope, tl, community_id=community_id, reveal=reveal)
    if community_id and not rows:
        raise NotFound("该村/社区不在名单内或不在您的管辖范围内")
    return tl, rows


def by_community(rows: list) -> list[tuple[Area, list]]:
    """Members (or printed lines) by community, the riskiest community first."""
    groups: dict[int, tuple[Area, list]] = {}
    for m in rows:
        groups.setdefault(m.community_id, (m.community, []))[1].append(m)
    out = [(a, sorted(ms, key=lambda m: (-m.score, m.id))) for a, ms in groups.values()]
    return sorted(out, key=lambda x: (-max(m.score for m in x[1]), x[0].code))


EXPORT_HEADER = ["姓名", "手机号", "村/社区", "风险分", "重点防范类型", "推送内容", "计费字数"]


def push_file(session: Session, scope: Scope, tl: TargetList, fmt: str) -> bytes:
    """The push file (推送名单) as CSV or XLSX: full numbers only for roles that may see them. A personal-data
    export: it needs export_personal and is audited with its fields and rows."""
    scope.require(Perm.MANAGE_REGISTRY)
    exports.require(scope)
    full = scope.can(Perm.PII_FULL)
    fields = ["name", "phone"] if full else ["name"]
    rows = members(session, scope, tl, audit_fields=fields)
    out = []
    for m in rows:
        if not m.person.phone:
            continue
        out.append([m.person.name if full else mask_name(m.person.name),
                    m.person.phone if full else mask_phone(m.person.phone), m.community.label, m.score,
                    "、".join(FRAUD_TYPE_NAMES[t] for t in m.fraud_types), m.message, sms.sms_units(m.message)])
    data = tabular.write(fmt, EXPORT_HEADER, out, sheet="推送名单", widths={"F": 80})
    exports.record(session, scope, "target_list", tl.id, fields=fields, rows=len(out), fmt=fmt)
    return data


def to_campaign(session: Session, scope: Scope, list_id: int, *, starts_on: date, ends_on: date):
    """The list becomes a campaign's task list: a 专项行动 over the list's communities whose 入户 quota in each is the
    number of listed people living there; the list keeps the campaign's link."""
    from fanzha.prevention import service as prevention

    scope.require(Perm.MANAGE_CAMPAIGNS)
    tl = get_list(session, scope, list_id)
    if tl.campaign_id:
        raise _bad("campaign", "该名单已生成专项行动")
    counts = dict(session.execute(select(TargetMember.community_id, func.count())
                                  .where(TargetMember.list_id == tl.id,
                                         scope.community_clause(TargetMember.community_id))
                                  .group_by(TargetMember.community_id)).all())
    if not counts:
        raise _bad("list", "名单中没有您辖区内的人员")
    draft = prevention.CampaignDraft(name=f"{tl.name}·入户宣防"[:100], kind="special", starts_on=starts_on,
                                     ends_on=ends_on, area_ids=sorted(counts),
                                     note=f"由精准滴灌名单“{tl.name}”生成：{sum(counts.values())} 人，"
                                          f"重点防范{'、'.join(FRAUD_TYPE_NAMES[t] for t in tl.fraud_types)}；"
                                          f"各村/社区入户任务数 = 名单人数。")
    campaign = prevention.create_campaign(session, scope, draft)
    for community_id, n in sorted(counts.items()):
        prevention.set_quota(session, scope, campaign.id, area_id=community_id, metric="households", target=n)
    tl.campaign_id = campaign.id
    audit.record(session, scope, "update", "target_list", tl.id, detail={"campaign": campaign.id})
    return campaign


def campaign_quotas(session: Session, campaign_id: int) -> dict[int, int]:
    """The 入户 quota per community of a campaign made from a list (community id → households)."""
    from fanzha.prevention.models import Quota

    return dict(session.execute(select(Quota.area_id, Quota.target).where(Quota.campaign_id == campaign_id,
                                                                         Quota.metric == "households")
                                .order_by(Quota.area_id)).all())


def window_start(pop: Population) -> date:
    return pop.rates.today - timedelta(days=pop.rates.window_days - 1)
