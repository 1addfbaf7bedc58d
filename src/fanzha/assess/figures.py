"""The figures an assessment needs, per assessee and period, read from cases, 断卡 leads, activities and campaigns.

Who is assessed: the townships (乡镇/街道办事处, admin chain) and the member units (成员单位) under the run's node.
Which cases count against whom (the scheme's `case_rule`):
- a township: every case on a community in its subtree;
- a unit, `employer`: cases whose victim works there (`Case.employer_unit_id`);
- a unit, `employer_or_duty`: those, plus cases whose victim belongs to a group the unit has a duty over
  (`Unit.duty_groups`: 税务 → 企业负责人、财会人员, 教育 → 师生 …) and lives within the unit's area. One case can then
  count against more than one unit, as it does in practice (税务 and 财政 both answer for accountants).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case, CaseAction
from fanzha.common import periods
from fanzha.common.errors import Invalid
from fanzha.common.periods import Period
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit
from fanzha.people.models import Person
from fanzha.prevention import counting
from fanzha.prevention.models import Activity, Campaign, Quota

# 六进: 进社区、进村居、进单位、进企业、进小区、进校园 — the activity kinds that are such visits.
SIX_IN_KINDS = {"community", "school", "enterprise", "family", "sweep", "market", "lecture"}
CARD_WORDS = re.compile(r"两卡|断卡|出租|出借|出售|买卖.{0,4}(?:银行卡|电话卡|手机卡|账户|账号)|银行卡|电话卡|物联网卡")


ASSESSED_KINDS = ("year", "quarter", "month")


def parse_period(text: str) -> Period:
    """An assessment period (考核期): 2026 (year), 2026-Q3 (quarter) or 2026-10 (month), as common.periods reads
    them; the run stores its `spec`."""
    form = f"考核期 {text} 格式应为 2026、2026-Q3 或 2026-10"
    try:
        p = periods.parse(text) if (text or "").strip() else None
    except Invalid as exc:  # say what is wrong with a month; anything else gets the forms an assessment takes
        raise Invalid(f"考核期 {text} 的月份应为 1–12" if "月份" in exc.message else form) from exc
    if p is None or p.kind not in ASSESSED_KINDS:
        raise Invalid(form)
    return p


@dataclass
class Assessee:
    pool: str  # unit / township
    id: int
    name: str
    path: str  # the admin path its cases and activities are counted under
    duty_groups: frozenset[str] = frozenset()


@dataclass
class Figures:
    cases: int = 0
    loss: Decimal = Decimal(0)
    case_ids: list[int] = field(default_factory=list)
    card_leads: int = 0
    activities: int = 0
    card_activities: int = 0
    people_reached: int = 0
    app_registrations: int = 0
    campaign_done: int | None = None
    campaign_target: int | None = None


def assessees(session: Session, root: Area, pools: tuple[str, ...]) -> list[Assessee]:
    out: list[Assessee] = []
    if "township" in pools:
        for a in session.scalars(select(Area).where(Area.chain == Chain.ADMIN, Area.level == Level.TOWNSHIP,
                                                    Area.path.startswith(root.path, autoescape=True))
                                 .order_by(Area.code)):
            out.append(Assessee("township", a.id, a.label, a.path))
    if "unit" in pools:
        for u in session.scalars(select(Unit).join(Area, Unit.area_id == Area.id)
                                 .where(Unit.is_member.is_(True), Area.path.startswith(root.path, autoescape=True))
                                 .order_by(Unit.code)):
            out.append(Assessee("unit", u.id, u.name, u.area.path, frozenset(u.duty_groups or ())))
    return out


def _leaf_paths(session: Session, root: Area) -> dict[int, str]:
    return dict(session.execute(select(Area.id, Area.path).where(Area.chain == Chain.ADMIN, Area.level == Level.COMMUNITY,
                                                               Area.path.startswith(root.path, autoescape=True))).all())


def count_cases(session: Session, root: Area, period: Period, date_column: str) -> int:
    start, end = period.bounds()
    col = getattr(Case, date_column)
    leaves = select(Area.id).where(Area.chain == Chain.ADMIN, Area.path.startswith(root.path, autoescape=True))
    return session.scalar(select(func.count()).select_from(Case).where(col >= start, col < end,
                                                                        Case.community_id.in_(leaves))) or 0


def gather(session: Session, root: Area, people: list[Assessee], period: Period, *, unit_rule: str,
           date_column: str) -> dict[tuple[str, int], Figures]:
    """Every assessee's figures for one period, in a handful of queries (a county has thousands of cases a year)."""
    start, end = period.bounds()
    leaves = _leaf_paths(session, root)
    figures = {(a.pool, a.id): Figures() for a in people}
    townships = [a for a in people if a.pool == "township"]
    units = [a for a in people if a.pool == "unit"]

    def township_of(community_id: int | None) -> Assessee | None:
        path = leaves.get(community_id or -1)
        return next((t for t in townships if path and path.startswith(t.path)), None)

    def units_of(employer_id: int | None, groups: list[str] | None, community_id: int | None) -> list[Assessee]:
        path = leaves.get(community_id or -1)
        hit = [u for u in units if u.id == employer_id]
        if unit_rule == "employer_or_duty" and groups and path:
            hit += [u for u in units if u.id != employer_id and u.duty_groups & set(groups) and path.startswith(u.path)]
        return hit

    col = getattr(Case, date_column)
    case_rows = session.execute(select(Case.id, Case.community_id, Case.employer_unit_id, Case.victim_groups,
                                       Case.loss_amount).where(col >= start, col < end).order_by(Case.id)).all()
    against: dict[int, list[Assessee]] = {}
    for cid, community_id, employer_id, groups, loss in case_rows:
        hit = [t for t in [township_of(community_id)] if t] + units_of(employer_id, groups, community_id)
        against[cid] = hit
        for a in hit:
            f = figures[(a.pool, a.id)]
            f.cases += 1
            f.loss += Decimal(loss or 0)
            f.case_ids.append(cid)

    lead_rows = session.execute(select(CaseAction.id, CaseAction.community_id, Case.community_id, CaseAction.case_id,
                                       Case.employer_unit_id, Case.victim_groups)
                                .outerjoin(Case, CaseAction.case_id == Case.id)
                                .where(CaseAction.kind == "card_lead", CaseAction.requested_at >= start,
                                       CaseAction.requested_at < end)).all()
    for _, own_community, case_community, _, employer_id, groups in lead_rows:
        community_id = own_community or case_community
        hit = [t for t in [township_of(community_id)] if t] + units_of(employer_id, groups, community_id)
        for a in hit:
            figures[(a.pool, a.id)].card_leads += 1

    act_rows = session.execute(select(Activity.community_id, Activity.unit_id, Activity.kind, Activity.title,
                                      Activity.note, Activity.participants)
                               .where(Activity.held_on >= period.start, Activity.held_on <= period.end,
                                      counting.counted())).all()
    for community_id, unit_id, kind, title, note, participants in act_rows:
        hit = [t for t in [township_of(community_id)] if t] + [u for u in units if u.id == unit_id]
        about_cards = kind in SIX_IN_KINDS and bool(CARD_WORDS.search(f"{title} {note}"))
        for a in hit:
            f = figures[(a.pool, a.id)]
            f.activities += 1
            f.card_activities += about_cards
            f.people_reached += participants or 0

    reg_rows = session.execute(select(Person.community_id, Person.unit_id).where(
        Person.app_registered_on >= period.start, Person.app_registered_on <= period.end)).all()
    for community_id, unit_id in reg_rows:
        hit = [t for t in [township_of(community_id)] if t] + [u for u in units if u.id == unit_id]
        for a in hit:
            figures[(a.pool, a.id)].app_registrations += 1

    _campaigns(session, townships, figures, period, leaves)
    return figures


def _campaigns(session: Session, townships: list[Assessee], figures: dict[tuple[str, int], Figures], period: Period,
               leaves: dict[int, str]) -> None:
    """Quotas of the campaigns that ran in the period, on the township or below it, against what their activities
    reached in the quota's metric (households, app installs …) within the campaign."""
    quotas = session.execute(select(Quota.campaign_id, Quota.metric, Quota.target, Area.path)
                             .join(Area, Quota.area_id == Area.id).join(Campaign, Quota.campaign_id == Campaign.id)
                             .where(Campaign.starts_on <= period.end, Campaign.ends_on >= period.start)).all()
    if not quotas:
        return
    done_by: dict[tuple[int, str], list[tuple[str, int]]] = defaultdict(list)
    for campaign_id, metric in {(q[0], q[1]) for q in quotas}:
        if not hasattr(Activity, metric):
            continue
        for community_id, value in session.execute(select(Activity.community_id, getattr(Activity, metric))
                                                   .where(counting.in_campaign(campaign_id))):
            done_by[(campaign_id, metric)].append((leaves.get(community_id, ""), value or 0))
    for t in townships:
        target = done = 0
        for campaign_id, metric, quota_target, quota_path in quotas:
            if not quota_path.startswith(t.path):
                continue
            target += quota_target
            done += min(quota_target, sum(v for p, v in done_by[(campaign_id, metric)] if p.startswith(quota_path)))
        if target:
            f = figures[("township", t.id)]
            f.campaign_done, f.campaign_target = done, target
