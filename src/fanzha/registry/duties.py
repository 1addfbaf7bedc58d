"""三包 (包村、包社区、包企业): one responsible member of staff per village, community and enterprise.

Each item weighs what it asks of the person responsible for it, over the window (cases by loss time):

    weight = 1 + 1 × cases + 0.2 × min(loss in 万元, 50) + 0.05 × vulnerable people

(the 1 is the visit every item needs; the loss term is capped so that one 500万 case does not make a village weigh
as much as a hundred). Staff are the active 社区民警, 网格员 and 派出所民警. Allocation is greedy LPT — items heaviest
first, each to the least-loaded member of staff, preferring staff whose own area holds the item unless they already
carry more than a tenth of the average load above the least-loaded — followed by local improvement: moves and swaps
between the most and least loaded until neither lowers the maximum nor raises the minimum. Items reassigned by hand
(source = manual) stay where they were put when the allocation is run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.cases.derived_groups import day_end
from fanzha.cases.models import Case
from fanzha.common.errors import Invalid, NotFound
from fanzha.db import utcnow
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.registry.models import Duty
from fanzha.registry.risk import Population

STAFF_ROLES = (Role.COMMUNITY_POLICE, Role.GRID_WORKER, Role.STATION_OFFICER)
BASE, PER_CASE, PER_WAN, LOSS_CAP_WAN, PER_VULNERABLE = 1.0, 1.0, 0.2, 50.0, 0.05
LOCAL_SLACK = 0.10


@dataclass
class Item:
    key: str
    weight: float
    local: frozenset[int] = frozenset()
    pinned: int | None = None
    factors: dict = field(default_factory=dict)


def weight_of(cases: int, loss: Decimal | float, vulnerable: int) -> float:
    wan = float(loss or 0) / 10_000
    return round(BASE + PER_CASE * cases + PER_WAN * min(wan, LOSS_CAP_WAN) + PER_VULNERABLE * vulnerable, 3)


def allocate(items: list[Item], staff: list[int], *, slack: float = LOCAL_SLACK, rounds: int = 10_000
             ) -> dict[str, int]:
    """item key → staff id. Pure: the same items and staff give the same answer."""
    if not staff:
        return {}
    loads = {u: 0.0 for u in staff}
    owner: dict[str, int] = {}
    for it in items:
        if it.pinned in loads:
            owner[it.key] = it.pinned
            loads[it.pinned] += it.weight
    free = sorted((it for it in items if it.key not in owner), key=lambda it: (-it.weight, it.key))
    target = sum(it.weight for it in items) / len(staff)
    for it in free:
        u = min(staff, key=lambda s: (loads[s] + (0 if s in it.local else slack * target), s))
        owner[it.key] = u
        loads[u] += it.weight
    _improve(items, owner, loads, rounds)
    return owner


def _improve(items: list[Item], owner: dict[str, int], loads: dict[int, float], rounds: int) -> None:
    weight = {it.key: it.weight for it in items}
    movable = {it.key for it in items if it.pinned not in loads}
    held: dict[int, list[str]] = {u: [] for u in loads}
    for key, u in owner.items():
        held[u].append(key)
    eps = 1e-9

    def best_exchange(a: int, b: int) -> tuple[float, str | None, str | None]:
        """Best move a→b or swap between a (heavier) and b: the change d taken from a, closest to gap/2."""
        gap = loads[a] - loads[b]
        best = (gap, None, None)  # |gap/2 - d| to beat, as the distance of doing nothing
        for x in held[a]:
            if x not in movable:
                continue
            d = weight[x]
            if eps < d < gap - eps and abs(gap / 2 - d) < abs(gap / 2 - best[0]) - eps:
                best = (d, x, None)
            for y in held[b]:
                if y not in movable:
                    continue
                d2 = weight[x] - weight[y]
                if eps < d2 < gap - eps and abs(gap / 2 - d2) < abs(gap / 2 - best[0]) - eps:
                    best = (d2, x, y)
        return best

    for _ in range(rounds):
        order = sorted(loads, key=lambda u: (loads[u], u))
        lo, hi = order[0], order[-1]
        done = False
        # Lower the maximum (pair the heaviest with the lightest first), else raise the minimum.
        for a, partners in ((hi, order[:-1]), (None, order[1:][::-1])):
            for p in partners:
                x_from, x_to = (a, p) if a is not None else (p, lo)
                if loads[x_from] - loads[x_to] <= eps:
                    continue
                d, x, y = best_exchange(x_from, x_to)
                if x is None:
                    continue
                held[x_from].remove(x)
                held[x_to].append(x)
                owner[x] = x_to
                if y is not None:
                    held[x_to].remove(y)
                    held[x_from].append(y)
                    owner[y] = x_from
                loads[x_from] -= d
                loads[x_to] += d
                done = True
                break
            if done:
                break
        if not done:
            return


def balance(loads: list[float]) -> float:
    """max / min of the loads (inf when someone carries nothing)."""
    if not loads:
        return 0.0
    return max(loads) / min(loads) if min(loads) > 0 else float("inf")


# -- the county's items and staff -------------------------------------------------------------------------------

def staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role.in_([r.value for r in STAFF_ROLES]),
                                                   User.is_active.is_(True))
                                .options(joinedload(User.area)).order_by(User.id)))


def _enterprises(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(or_(Unit.is_member.is_(False), Unit.kind == "enterprise"))
                                .options(joinedload(Unit.area)).order_by(Unit.id)))


def items(session: Session, pop: Population, people: list[User]) -> list[Item]:
    end = day_end(pop.rates.today)
    window = (Case.loss_at >= end - timedelta(days=pop.rates.window_days), Case.loss_at < end)
    leaves = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY).order_by(Area.id)))
    by_leaf = {cid: (n, loss) for cid, n, loss in session.execute(
        select(Case.community_id, func.count(), func.coalesce(func.sum(Case.loss_amount), 0))
        .where(Case.community_id.is_not(None), *window).group_by(Case.community_id))}
    units = _enterprises(session)
    by_unit = {uid: (n, loss) for uid, n, loss in session.execute(
        select(Person.unit_id, func.count(), func.coalesce(func.sum(Case.loss_amount), 0))
        .select_from(Case).join(Person, Person.id == Case.person_id).where(Person.unit_id.in_([u.id for u in units]), *window)
        .group_by(Person.unit_id))}
    vulnerable_leaf: dict[int, int] = {}
    vulnerable_unit: dict[int, int] = {}
    for pid, cid, uid in session.execute(select(Person.id, Person.community_id, Person.unit_id)):
        if pop.groups.get(pid):
            vulnerable_leaf[cid] = vulnerable_leaf.get(cid, 0) + 1
            if uid:
                vulnerable_unit[uid] = vulnerable_unit.get(uid, 0) + 1
    covers = _coverage(leaves, people)
    township_of = {a.id: a.parent_id for a in leaves}
    pins = dict(session.execute(select(Duty.item_key, Duty.user_id).where(Duty.source == "manual")).all())
    out = []
    for a in leaves:
        n, loss = by_leaf.get(a.id, (0, 0))
        v = vulnerable_leaf.get(a.id, 0)
        key = f"area:{a.id}"
        out.append(Item(key, weight_of(n, loss, v), frozenset(covers.get(a.id, ())), pins.get(key),
                        {"cases": int(n), "loss": float(loss or 0), "vulnerable": v}))
    local_units: dict[int, set[int]] = {}
    for leaf_id, users in covers.items():
        local_units.setdefault(township_of[leaf_id], set()).update(users)
    for u in units:
        n, loss = by_unit.get(u.id, (0, 0))
        v = vulnerable_unit.get(u.id, 0)
        key = f"unit:{u.id}"
        out.append(Item(key, weight_of(n, loss, v), frozenset(local_units.get(u.area_id, ())), pins.get(key),
                        {"cases": int(n), "loss": float(loss or 0), "vulnerable": v}))
    return out


def _coverage(leaves: list[Area], people: list[User]) -> dict[int, set[int]]:
    """leaf id → staff whose own area holds it."""
    out: dict[int, set[int]] = {}
    for leaf in leaves:
        for u in people:
            path = u.area.path
            if (leaf.path or "").startswith(path) or (u.area.chain == Chain.POLICE and
                                                     (leaf.police_path or "").startswith(path)):
                out.setdefault(leaf.id, set()).add(u.id)
    return out


def _require_centre(scope: Scope) -> None:
    scope.require(Perm.ALLOCATE_DUTIES)
    if not (scope.is_system or scope.is_centre):
        raise NotFound("三包分配由反诈中心统一进行")


def run(session: Session, scope: Scope, pop: Population) -> dict[str, float]:
    """Allocates every item afresh (hand-made assignments stay) and stores it; returns the balance measured."""
    _require_centre(scope)
    people = staff(session)
    if not people:
        raise Invalid("没有可包保的工作人员（社区民警、网格员、派出所民警）")
    its = items(session, pop, people)
    owner = allocate(its, [u.id for u in people])
    existing = {d.item_key: d for d in session.scalars(select(Duty))}
    now = utcnow()
    for it in its:
        kind, _, ident = it.key.partition(":")
        d = existing.get(it.key)
        if d is None:
            d = Duty(item_key=it.key, community_id=int(ident) if kind == "area" else None,
                     unit_id=int(ident) if kind == "unit" else None, user_id=owner[it.key], source="auto")
            session.add(d)
        elif d.source != "manual" or d.user_id != owner[it.key]:
            d.user_id, d.source = owner[it.key], "auto"
        d.weight, d.factors, d.updated_by, d.updated_at = it.weight, it.factors, scope.user_id, now
    session.flush()
    summary = summarise(session)
    audit.record(session, scope, "update", "duty", "", detail={"items": len(its), "staff": len(people),
                                                               "ratio": round(summary["ratio"], 4)})
    summary.pop("loads"), summary.pop("counts")
    return summary


def summarise(session: Session) -> dict:
    """Loads per member of staff over all stored duties, the balance, and how many items sit with local staff."""
    people = staff(session)
    loads = {u.id: 0.0 for u in people}
    count = {u.id: 0 for u in people}
    duties = list(session.scalars(select(Duty)))
    leaves = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY)))
    covers = _coverage(leaves, people)
    local = 0
    for d in duties:
        if d.user_id in loads:
            loads[d.user_id] += d.weight
            count[d.user_id] += 1
        if d.community_id and d.user_id in covers.get(d.community_id, ()):
            local += 1
    values = list(loads.values())
    leaf_duties = sum(1 for d in duties if d.community_id)
    return {"ratio": balance(values) if values else 0.0, "max": max(values, default=0.0),
            "min": min(values, default=0.0), "items": len(duties), "staff": len(values), "loads": loads,
            "counts": count, "local_share": local / leaf_duties if leaf_duties else 0.0}


def duty_visible(scope: Scope):
    """Items of the user's areas; for a member-unit liaison only its own unit's item (its 包企业 entry), never the
    villages of the node it sits on."""
    if scope.is_system or scope.is_centre:
        return Duty.id.is_not(None)
    if scope.unit_only:
        return scope.unit_clause(Duty.unit_id)
    return or_(Duty.community_id.in_(scope.community_ids()),
               Duty.unit_id.in_(select(Unit.id).where(Unit.area_id.in_(select(Area.id).where(scope.area_clause())))))


def list_duties(session: Session, scope: Scope) -> list[Duty]:
    scope.require(Perm.READ_PREVENTION)
    return list(session.scalars(select(Duty).where(duty_visible(scope))
                                .options(joinedload(Duty.community), joinedload(Duty.unit), joinedload(Duty.user))
                                .order_by(Duty.weight.desc(), Duty.id)))


def reassign(session: Session, scope: Scope, duty_id: int, user_id: int) -> Duty:
    _require_centre(scope)
    d = session.scalar(select(Duty).where(Duty.id == duty_id))
    if d is None:
        raise NotFound("包保项不存在")
    u = session.scalar(select(User).where(User.id == user_id, User.role.in_([r.value for r in STAFF_ROLES]),
                                          User.is_active.is_(True)))
    if u is None:
        raise Invalid("应选择在岗的社区民警、网格员或派出所民警", details=[{"loc": ["user_id"], "msg": "不是可包保的工作人员"}])
    before = d.user_id
    d.user_id, d.source, d.updated_by, d.updated_at = u.id, "manual", scope.user_id, utcnow()
    session.flush()
    audit.record(session, scope, "update", "duty", d.id, detail={"item": d.item_key, "from": before, "to": u.id})
    return d
