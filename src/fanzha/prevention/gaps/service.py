"""宣防漏洞 (反查宣防漏洞): for each victim, which outreach had reached them before the loss, and where it missed.

A victim is a case with a person, an ID number or a phone (one case, one victim). Checks, all strictly before the
loss time (or the loss day, for dated records):
  warned   预警     a warning for the same person, ID number or phone in the `warned.days` days before the loss;
  visited  见面走访  on such a warning, a face-to-face or home-visit contact that reached them, or a done 回访;
  app      国家反诈中心APP registered (Person.app_registered_on) before the loss day;
  jzz      金钟罩   registered (Person.jzz_registered_on) before the loss day;
  campaign 宣传覆盖 a 宣传专项行动 covering their community with dates overlapping the `campaign.days` days up to
           the loss day.
Beside the checks, what the 回访 found: the 宣防漏洞 categories (dissuasion/followups/rules.GAPS) recorded at a done
回访 of the case's victim or of a warning of theirs, tallied by the same groups and areas.
The rules file is prevention/gaps/gaps_default.toml. Service functions are scoped: only cases in the user's areas count.
It judges outreach, so it is prevention's: it reads cases, warnings and dissuasion below it. The case page shows a
victim's panel through cases.views.PANELS (gaps_views.py fills it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.cases.intake import visible
from fanzha.cases.models import Case
from fanzha.common.errors import Invalid
from fanzha.common.localtime import day_start, local_day
from fanzha.common.rules import RulesModel, load_rules_file, register
from fanzha.dissuasion.enums import FACE_CHANNELS
from fanzha.dissuasion.followups.rules import GAPS, REACHED_STATES
from fanzha.dissuasion.models import Contact, FollowUp
from fanzha.org.enums import GROUPS, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under, contains
from fanzha.people.models import Person
from fanzha.prevention.models import Campaign, CampaignArea
from fanzha.warnings.models import Warning

RULES = Path(__file__).with_name("gaps_default.toml")
CHECKS = {"warned": "预警", "visited": "见面/走访", "app": "国家反诈中心APP", "jzz": "金钟罩", "campaign": "宣传活动覆盖"}
NO_GROUP = "none"
UNPLACED = 0
CHUNK = 500
MAX_DAYS = 732


@dataclass(frozen=True)
class Rules:
    warned_days: int = 365
    campaign_days: int = 90


class WarnedCheck(RulesModel):
    days: int = Field(Rules.warned_days, ge=0, description="A warning (预警) for the same person, ID number or phone "
                                                           "counts when issued in these days before the loss time.")


class CampaignCheck(RulesModel):
    days: int = Field(Rules.campaign_days, ge=0, description="A 宣传专项行动 covering the victim's community counts "
                                                             "when its dates overlap these days up to the loss day.")


class GapsFile(RulesModel):
    """gaps_default.toml: the windows of the 宣防漏洞 checks."""

    warned: WarnedCheck = Field(WarnedCheck(), description="The 预警 check.")
    campaign: CampaignCheck = Field(CampaignCheck(), description="The 宣传活动覆盖 check.")


FILE = register("gaps", "宣防漏洞规则文件", GapsFile, RULES,
                summary="The windows of the 宣防漏洞 checks: which outreach had reached a victim before the loss.")


def load_rules(path: Path | None = None) -> Rules:
    f = load_rules_file(GapsFile, path or RULES, what=FILE.title)
    return Rules(warned_days=f.warned.days, campaign_days=f.campaign.days)


class VictimCase:
    """The columns of a case the summary reads, with its community: what `victims_in` loads instead of a Case."""

    __slots__ = ("id", "case_number", "name", "id_number", "phone", "person_id", "community_id", "loss_at",
                 "victim_groups", "community")

    def __init__(self, *values):
        for key, value in zip(self.__slots__, values, strict=False):
            setattr(self, key, value)
        self.community = None


@dataclass
class VictimGaps:
    """What had reached one victim before the loss."""

    case: Case | VictimCase
    warnings: list[tuple[int, datetime]] = field(default_factory=list)  # (warning id, warned at)
    visited_at: datetime | None = None
    app_on: date | None = None
    jzz_on: date | None = None
    campaigns: list[tuple[int, str]] = field(default_factory=list)  # (campaign id, name)
    followed_up: bool = False  # a done 回访 reached them (of the case, or of a warning of theirs)
    found: set[str] = field(default_factory=set)  # 宣防漏洞 categories those 回访 recorded

    @property
    def reached(self) -> dict[str, bool]:
        return {"warned": bool(self.warnings), "visited": self.visited_at is not None, "app": self.app_on is not None,
                "jzz": self.jzz_on is not None, "campaign": bool(self.campaigns)}

    @property
    def missed_all(self) -> bool:
        return not any(self.reached.values())


def _chunks(values: list) -> list[list]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


def is_victim():
    return or_(Case.person_id.is_not(None), Case.id_number.is_not(None), Case.phone.is_not(None))


def analyse(session: Session, cases: list[Case], rules: Rules | None = None) -> list[VictimGaps]:
    """The checks for these cases, in a handful of queries whatever their number."""
    rules = rules or load_rules()
    out = [VictimGaps(c) for c in cases if c.person_id or c.id_number or c.phone]
    if not out:
        return out
    _warnings(session, out, rules)
    _registrations(session, out)
    _campaigns(session, out, rules)
    _found(session, out)
    return out


def _found(session: Session, victims: list[VictimGaps]) -> None:
    """The 宣防漏洞 found at the 回访 of each victim: of their case, or of a warning of theirs before the loss."""
    by_case = {v.case.id: v for v in victims}
    by_warning: dict[int, list[VictimGaps]] = defaultdict(list)
    for v in victims:
        for wid, _ in v.warnings:
            by_warning[wid].append(v)
    done = (FollowUp.done_at.is_not(None), FollowUp.outcome.in_(REACHED_STATES))
    for column, index in ((FollowUp.case_id, {k: [v] for k, v in by_case.items()}), (FollowUp.warning_id, by_warning)):
        for part in _chunks(sorted(index)):
            for key, found in session.execute(select(column, FollowUp.gaps).where(column.in_(part), *done)):
                for v in index[key]:
                    v.followed_up = True
                    v.found.update(g for g in (found or []) if g in GAPS)


def _warnings(session: Session, victims: list[VictimGaps], rules: Rules) -> None:
    earliest = min(v.case.loss_at for v in victims) - timedelta(days=rules.warned_days)
    latest = max(v.case.loss_at for v in victims)
    found: dict[int, tuple] = {}
    keys = {"person_id": {v.case.person_id for v in victims if v.case.person_id},
            "id_number": {v.case.id_number for v in victims if v.case.id_number},
            "phone": {v.case.phone for v in victims if v.case.phone}}
    for column, values in keys.items():
        for part in _chunks(sorted(values)):
            col = getattr(Warning, column)
            for row in session.execute(select(Warning.id, Warning.person_id, Warning.id_number, Warning.phone,
                                              Warning.warned_at)
                                       .where(col.in_(part), Warning.warned_at >= earliest, Warning.warned_at < latest)):
                found[row.id] = row
    by_key: dict[tuple[str, object], list] = defaultdict(list)
    for row in found.values():
        for column in keys:
            if getattr(row, column):
                by_key[(column, getattr(row, column))].append(row)
    visits: dict[int, list[datetime]] = defaultdict(list)
    ids = sorted(found)
    for part in _chunks(ids):
        for wid, at in session.execute(select(Contact.warning_id, Contact.at).where(
                Contact.warning_id.in_(part), Contact.channel.in_(FACE_CHANNELS), Contact.result == "reached")):
            visits[wid].append(at)
        for wid, at in session.execute(select(FollowUp.warning_id, FollowUp.done_at).where(
                FollowUp.warning_id.in_(part), FollowUp.done_at.is_not(None), FollowUp.outcome.in_(REACHED_STATES))):
            visits[wid].append(at)
    for v in victims:
        c = v.case
        start = c.loss_at - timedelta(days=rules.warned_days)
        rows = {r.id: r for column in keys for r in by_key.get((column, getattr(c, column)), [])
                if getattr(c, column)}
        mine = sorted((r.warned_at, r.id) for r in rows.values() if start <= r.warned_at < c.loss_at)
        v.warnings = [(wid, at) for at, wid in mine]
        seen = [at for _, wid in mine for at in visits.get(wid, []) if at < c.loss_at]
        v.visited_at = max(seen) if seen else None


def _registrations(session: Session, victims: list[VictimGaps]) -> None:
    ids = sorted({v.case.person_id for v in victims if v.case.person_id})
    dates: dict[int, tuple] = {}
    for part in _chunks(ids):
        for pid, app, jzz in session.execute(select(Person.id, Person.app_registered_on, Person.jzz_registered_on)
                                             .where(Person.id.in_(part))):
            dates[pid] = (app, jzz)
    for v in victims:
        app, jzz = dates.get(v.case.person_id, (None, None))
        day = local_day(v.case.loss_at)
        v.app_on = app if app and app < day else None
        v.jzz_on = jzz if jzz and jzz < day else None


def _campaigns(session: Session, victims: list[VictimGaps], rules: Rules) -> None:
    days = [local_day(v.case.loss_at) for v in victims]
    first, last = min(days) - timedelta(days=rules.campaign_days), max(days)
    campaigns = list(session.scalars(select(Campaign).where(Campaign.starts_on <= last, Campaign.ends_on >= first)))
    if not campaigns:
        return
    covered: dict[int, list[Area]] = defaultdict(list)
    for cid, area in session.execute(select(CampaignArea.campaign_id, Area).join(Area, CampaignArea.area_id == Area.id)
                                     .where(CampaignArea.campaign_id.in_([c.id for c in campaigns]))):
        covered[cid].append(area)
    leaves = {a.id: a for a in session.scalars(select(Area).where(
        Area.id.in_({v.case.community_id for v in victims if v.case.community_id})))}
    reaching = {leaf_id: [c for c in campaigns if any(contains(a, leaf) for a in covered[c.id])]
                for leaf_id, leaf in leaves.items()}  # per community, not per victim: a county has few
    for v, day in zip(victims, days, strict=False):
        since = day - timedelta(days=rules.campaign_days)
        v.campaigns = [(c.id, c.name) for c in reaching.get(v.case.community_id, [])
                       if c.starts_on <= day and c.ends_on >= since]


def for_case(session: Session, scope: Scope, case: Case) -> VictimGaps | None:
    """The panel on a case page (the case already read through the scoped service)."""
    scope.require(Perm.READ_CASES)
    found = analyse(session, [case])
    return found[0] if found else None


@dataclass
class Bucket:
    key: object
    label: str
    victims: list[VictimGaps] = field(default_factory=list)

    def reached(self, check: str) -> int:
        return sum(1 for v in self.victims if v.reached[check])

    def missed(self, check: str) -> int:
        return len(self.victims) - self.reached(check)

    @property
    def missed_all(self) -> int:
        return sum(1 for v in self.victims if v.missed_all)

    @property
    def followed_up(self) -> int:
        return sum(1 for v in self.victims if v.followed_up)

    def found(self, gap: str) -> int:
        """Victims whose 回访 found this 宣防漏洞."""
        return sum(1 for v in self.victims if gap in v.found)


@dataclass
class Summary:
    start: date
    end: date
    total: Bucket
    by_group: list[Bucket]
    by_area: list[Bucket]
    chain: str


def victims_in(session: Session, scope: Scope, start: date, end: date, area_id: int | None = None) -> list[VictimGaps]:
    """Victims whose loss fell in [start, end] (local days), within the user's areas (and `area_id` if given)."""
    scope.require(Perm.READ_CASES)
    if end < start or (end - start).days > MAX_DAYS:
        raise Invalid(f"时间段应为开始不晚于结束、且不超过{MAX_DAYS}天",
                      details=[{"loc": ["start"], "msg": "时间段不对"}])
    stmt = (select(*(getattr(Case, k) for k in VictimCase.__slots__ if k != "community"))
            .where(visible(scope), is_victim(), Case.loss_at >= day_start(start),
                   Case.loss_at < day_start(end + timedelta(days=1))).order_by(Case.loss_at, Case.id))
    if area_id:
        node = scope.get_area(session, area_id)
        stmt = stmt.where(Case.community_id.in_(select(Area.id).where(communities_under(node))))
    # Plain rows, not ORM objects: a city's year is tens of thousands of victims and only these columns are read.
    rows = [VictimCase(*row) for row in session.execute(stmt)]
    areas = {a.id: a for part in _chunks(sorted({r.community_id for r in rows if r.community_id}))
             for a in session.scalars(select(Area).where(Area.id.in_(part)))}
    for r in rows:
        r.community = areas.get(r.community_id)
    return analyse(session, rows)


def _area_of(session: Session, victims: list[VictimGaps], chain: str) -> dict[int, Area]:
    """Community id → its township (admin chain) or station (police chain)."""
    level = Level.STATION if chain == "police" else Level.TOWNSHIP
    nodes = {a.id: a for a in session.scalars(select(Area).where(Area.level == level))}
    out = {}
    for v in victims:
        leaf = v.case.community
        if leaf is None or leaf.id in out:
            continue
        path = (leaf.police_path or "") if chain == "police" else leaf.path
        out[leaf.id] = next((nodes[int(p)] for p in path.strip("/").split("/") if p and int(p) in nodes), None)
    return out


def summary(session: Session, scope: Scope, start: date, end: date, *, area_id: int | None = None,
            chain: str = "admin") -> Summary:
    victims = victims_in(session, scope, start, end, area_id)
    total = Bucket("all", "合计", victims)
    groups = {k: Bucket(k, label) for k, label in GROUPS.items()}
    groups[NO_GROUP] = Bucket(NO_GROUP, "无群体标记")
    for v in victims:  # a victim counts once in each of their groups
        for key in (v.case.victim_groups or [NO_GROUP]):
            groups.setdefault(key, Bucket(key, GROUPS.get(key, key))).victims.append(v)
    area_of = _area_of(session, victims, chain)
    areas: dict[int, Bucket] = {}
    for v in victims:
        node = area_of.get(v.case.community_id) if v.case.community_id else None
        key = node.id if node else UNPLACED
        if key not in areas:
            areas[key] = Bucket(key, node.label if node else "未定位到村/社区")
        areas[key].victims.append(v)
    if victims:
        audit.record(session, scope, "view", "case_gaps", "", detail={"start": str(start), "end": str(end),
                                                                      "victims": len(victims)})
    return Summary(start, end, total, [b for b in groups.values() if b.victims],
                   sorted(areas.values(), key=lambda b: (-len(b.victims), b.label)), chain)


def missed(session: Session, scope: Scope, start: date, end: date, *, check: str, group: str = "",
           area_key: int | None = None, area_id: int | None = None, chain: str = "admin") -> list[VictimGaps]:
    """The victims behind one number of the summary: those `check` missed, in one group or one area row."""
    victims = victims_in(session, scope, start, end, area_id)
    if group:
        victims = [v for v in victims if group in (v.case.victim_groups or [NO_GROUP])]
    if area_key is not None:
        area_of = _area_of(session, victims, chain)
        victims = [v for v in victims if ((area_of.get(v.case.community_id).id if area_of.get(v.case.community_id)
                                           else UNPLACED) if v.case.community_id else UNPLACED) == area_key]
    out = [v for v in victims if (v.missed_all if check == "all" else not v.reached[check])]
    if out:
        audit.record(session, scope, "view", "case", "", fields=["name"], detail={"ids": [v.case.id for v in out],
                                                                                   "gaps": check})
    return out
