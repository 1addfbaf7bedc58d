"""Campaigns, quotas, 督导/约谈 and activities: scoped to the user's areas, audited, written through one check each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Forbidden, Invalid, NotFound
from fanzha.common.localtime import local_day
from fanzha.common.photos import check_photo, store_photo
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.enums import GROUPS, Level
from fanzha.org.models import Area, Unit
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import contains
from fanzha.prevention import counting
from fanzha.prevention.enums import ACTIVITY_KINDS, CAMPAIGN_KINDS, METRICS, SUPERVISION_KINDS, SUPERVISION_OUTCOMES
from fanzha.prevention.models import Activity, ActivityPhoto, Campaign, CampaignArea, Quota, Supervision

MAX_COUNT = 10_000_000  # one activity never reaches more; a typo of extra zeros is refused
MAX_PHOTOS = 6


def _bad(field_name: str, message: str) -> Invalid:
    return Invalid(message, details=[{"loc": [field_name], "msg": message}])


# -- campaigns --------------------------------------------------------------------------------------------------

def campaign_visible(scope: Scope):
    """A campaign is seen by whoever runs it (its node or above) and by anyone holding one of its communities."""
    if scope.is_system:
        return Campaign.id.is_not(None)
    covered, leaf, owner = aliased(Area), aliased(Area), aliased(Area)
    ids = scope.community_ids()
    holds_leaf = exists().where(
        CampaignArea.campaign_id == Campaign.id, covered.id == CampaignArea.area_id, leaf.id.in_(ids),
        or_(leaf.id == covered.id, leaf.path.startswith(covered.path), leaf.police_path.startswith(covered.path)))
    runs = exists().where(owner.id == Campaign.area_id, scope.subtree_clause(owner))
    return or_(holds_leaf, runs)


def list_campaigns(session: Session, scope: Scope) -> list[Campaign]:
    scope.require(Perm.READ_PREVENTION)
    return list(session.scalars(select(Campaign).where(campaign_visible(scope)).options(joinedload(Campaign.area))
                                .order_by(Campaign.starts_on.desc(), Campaign.id.desc())))


def get_campaign(session: Session, scope: Scope, campaign_id: int) -> Campaign:
    scope.require(Perm.READ_PREVENTION)
    c = session.scalar(select(Campaign).where(Campaign.id == campaign_id, campaign_visible(scope)))
    if c is None:
        raise NotFound("专项行动不存在或不在您的管辖范围内")
    return c


def _owned_campaign(session: Session, scope: Scope, campaign_id: int) -> Campaign:
    """A campaign the user may change: visible, and run from their own node or below."""
    c = get_campaign(session, scope, campaign_id)
    scope.require(Perm.MANAGE_CAMPAIGNS)
    if not scope.covers(c.area) and not scope.at_root:
        raise NotFound("专项行动不存在或不在您的管辖范围内")
    return c


def covered_areas(session: Session, campaign: Campaign) -> list[Area]:
    return list(session.scalars(select(Area).join(CampaignArea, CampaignArea.area_id == Area.id)
                                .where(CampaignArea.campaign_id == campaign.id).order_by(Area.code)))


@dataclass
class CampaignDraft:
    name: str
    kind: str
    starts_on: date
    ends_on: date
    area_ids: list[int] = field(default_factory=list)
    owners: str = ""
    note: str = ""
    code: str = ""


def create_campaign(session: Session, scope: Scope, d: CampaignDraft) -> Campaign:
    scope.require(Perm.MANAGE_CAMPAIGNS)
    name = d.name.strip()
    if not name:
        raise _bad("name", "请填写行动名称")
    if d.kind not in CAMPAIGN_KINDS:
        raise _bad("kind", "行动类型应为 扫楼、宣传月、宣传周、专项行动 之一")
    if d.ends_on < d.starts_on:
        raise _bad("ends_on", "结束日期早于开始日期")
    if (d.ends_on - d.starts_on).days > 366:
        raise _bad("ends_on", "一项行动不超过一年")
    areas = [scope.get_own_area(session, i) for i in dict.fromkeys(d.area_ids)] or [scope.get_own_area(session, scope.area_id)]
    code = d.code.strip().upper() or f"XF{d.starts_on:%Y%m%d}-{utcnow():%H%M%S%f}"[:32]
    if not re.fullmatch(r"[A-Z0-9\-_.]{1,32}", code):
        raise _bad("code", "行动编号只能由字母、数字、- _ . 组成")
    if session.scalar(select(Campaign.id).where(Campaign.code == code)):
        raise Conflict(f"行动编号 {code} 已存在")
    owner = session.get(Area, scope.area_id) if scope.area_id else areas[0]  # the node that runs it: the user's
    c = Campaign(code=code, name=name[:100], kind=d.kind, starts_on=d.starts_on, ends_on=d.ends_on, area_id=owner.id,
                 owners=d.owners.strip()[:200], note=d.note.strip()[:2000], created_by=scope.user_id)
    session.add(c)
    session.flush()
    for a in areas:
        session.add(CampaignArea(campaign_id=c.id, area_id=a.id))
    session.flush()
    audit.record(session, scope, "create", "campaign", c.id, detail={"name": c.name, "areas": [a.id for a in areas]})
    return c


def set_quota(session: Session, scope: Scope, campaign_id: int, *, area_id: int, metric: str, target: int) -> str:
    """Sets 任务数 for one area and metric: 'created', 'updated' or 'duplicate' (same figure already there)."""
    c = _owned_campaign(session, scope, campaign_id)
    return _set_quota(session, scope, c, scope.get_own_area(session, area_id), metric, target)


def _set_quota(session: Session, scope: Scope, c: Campaign, area: Area, metric: str, target: int) -> str:
    if metric not in METRICS:
        raise _bad("metric", f"未知的指标：{metric}")
    if not 0 <= target <= MAX_COUNT:
        raise _bad("target", "任务数应为 0 到 1000万 之间的整数")
    covered = covered_areas(session, c)
    if not any(a.id == area.id or _under_or_same(a, area) for a in covered):
        raise _bad("area_id", f"{area.label} 不在本行动覆盖的辖区内")
    q = session.scalar(select(Quota).where(Quota.campaign_id == c.id, Quota.area_id == area.id, Quota.metric == metric))
    if q is not None and q.target == target:
        return "duplicate"
    outcome = "updated" if q is not None else "created"
    if q is None:
        q = Quota(campaign_id=c.id, area_id=area.id, metric=metric, target=target)
        session.add(q)
    else:
        q.target = target
    session.flush()
    audit.record(session, scope, "create" if outcome == "created" else "update", "quota", q.id,
                 detail={"campaign": c.id, "area": area.id, "metric": metric, "target": target})
    return outcome


def _under_or_same(outer: Area, node: Area) -> bool:
    """Whether `node` is `outer` or lies beneath it; a node of the other chain counts when all its communities do."""
    if node.id == outer.id:
        return True
    if node.level == Level.COMMUNITY:
        return contains(outer, node)
    if node.chain == outer.chain:
        return node.path.startswith(outer.path)
    return False


# -- 督导/约谈 ----------------------------------------------------------------------------------------------------

def supervision_visible(scope: Scope):
    """督导/约谈 records: those held on the user's own subtree (scope.covers: for a police user also the villages
    its node covers), or recorded by the user; all of them at either chain's top. Not the nodes above or beside the
    user, which area_clause() shows only by name. A member-unit liaison sees none: they are the dealings of the
    centre and the 联席办 with lagging areas, not its unit's work."""
    if scope.at_root:
        return Supervision.id.is_not(None)
    if scope.unit_only:
        return false()
    return or_(Supervision.area_id.in_(select(Area.id).where(scope.own_clause())), Supervision.by_user_id == scope.user_id)


def list_supervisions(session: Session, scope: Scope, campaign_id: int) -> list[Supervision]:
    get_campaign(session, scope, campaign_id)
    return list(session.scalars(select(Supervision).where(Supervision.campaign_id == campaign_id,
                                                          supervision_visible(scope))
                                .options(joinedload(Supervision.area), joinedload(Supervision.by_user))
                                .order_by(Supervision.held_on.desc(), Supervision.id.desc())))


def add_supervision(session: Session, scope: Scope, campaign_id: int, *, area_id: int, kind: str, held_on: date,
                    note: str = "", follow_up_on: date | None = None, now: datetime | None = None) -> Supervision:
    scope.require(Perm.SUPERVISE)
    c = get_campaign(session, scope, campaign_id)
    area = scope.get_own_area(session, area_id)
    if kind not in SUPERVISION_KINDS:
        raise _bad("kind", "方式应为 督导 或 约谈")
    today = local_day(now or utcnow())
    if held_on > today:
        raise _bad("held_on", "日期不能晚于今天")
    if follow_up_on is not None and follow_up_on < held_on:
        raise _bad("follow_up_on", "回头看日期早于督导日期")
    s = Supervision(campaign_id=c.id, area_id=area.id, kind=kind, held_on=held_on, by_user_id=scope.user_id,
                    note=note.strip()[:2000], follow_up_on=follow_up_on)
    session.add(s)
    session.flush()
    audit.record(session, scope, "create", "supervision", s.id, detail={"campaign": c.id, "area": area.id,
                                                                         "kind": kind})
    return s


def record_supervision_outcome(session: Session, scope: Scope, supervision_id: int, *, outcome: str, note: str = "",
                               now: datetime | None = None) -> Supervision:
    scope.require(Perm.SUPERVISE)
    s = session.scalar(select(Supervision).where(Supervision.id == supervision_id, supervision_visible(scope)))
    if s is None or not scope.covers(s.area) and not scope.at_root:
        raise NotFound("督导记录不存在或不在您的管辖范围内")
    if outcome not in SUPERVISION_OUTCOMES:
        raise _bad("outcome", "整改结果应为 已整改、部分整改、未整改 之一")
    s.outcome, s.outcome_note, s.outcome_at = outcome, note.strip()[:2000], now or utcnow()
    audit.record(session, scope, "update", "supervision", s.id, detail={"outcome": outcome})
    return s


# -- activities ---------------------------------------------------------------------------------------------------

def activity_visible(scope: Scope):
    """Activities held in the user's communities; for a member-unit liaison, those its unit organised."""
    if scope.unit_only:
        return scope.unit_clause(Activity.unit_id)
    return scope.community_clause(Activity.community_id)


@dataclass
class ActivityDraft:
    kind: str
    community_id: int
    held_on: date
    counts: dict[str, int] = field(default_factory=dict)
    address: str = ""
    title: str = ""
    note: str = ""
    organiser: str = ""
    # A campaign the recorder names (a sheet's 行动编号, the API): refused unless the rule (counting.py) counts the
    # activity toward it. It never adds a campaign; the rule alone decides.
    campaign_id: int | None = None
    source: str = "form"
    target_group: str = ""  # 对象人群: a key of org.enums.GROUPS, or empty (未注明)
    fraud_type: str = ""  # 针对诈骗类型: a key of detect.taxonomy.FRAUD_TYPES, or empty (综合宣传)


def check_counts(counts: dict[str, object]) -> dict[str, int]:
    out = {}
    for key, value in counts.items():
        if key not in METRICS:
            raise _bad(key, f"未知的指标：{key}")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise _bad(key, f"{METRICS[key]} 应为 0 到 1000万 之间的整数")
        out[key] = value
    return out


def aim_of(session: Session, scope: Scope, target_group: str, fraud_type: str) -> tuple[str, str]:
    """The activity's 对象人群 and 针对诈骗类型, checked. A member unit's activity is aimed at one of its unit's duty
    groups: named, or the only one the unit has; anyone else may leave the group empty (未注明)."""
    target_group, fraud_type = (target_group or "").strip(), (fraud_type or "").strip()
    if target_group and target_group not in GROUPS:
        raise _bad("target_group", f"未知的对象人群：{target_group}")
    if fraud_type and fraud_type not in FRAUD_TYPE_LABELS:
        raise _bad("fraud_type", f"未知的诈骗类型：{fraud_type}")
    duty = _duty_groups(session, scope)
    if not target_group and len(duty) == 1:
        target_group = duty[0]
    if duty and target_group not in duty:
        names = "、".join(GROUPS[g] for g in duty)
        raise _bad("target_group", f"请选择本单位负责的对象人群：{names}" if not target_group
                   else f"{GROUPS[target_group]} 不是本单位负责的人群（本单位负责：{names}）")
    return target_group, fraud_type


def _duty_groups(session: Session, scope: Scope) -> list[str]:
    """A member-unit liaison's duty groups (the groups its unit answers for); none for anyone else."""
    if not scope.unit_only or scope.unit_id is None:
        return []
    unit = session.get(Unit, scope.unit_id)
    return unit.known_duty_groups if unit else []


def aimable_groups(session: Session, scope: Scope) -> dict[str, str]:
    """The 对象人群 the user's activity form offers: a member unit's duty groups, else every group."""
    return {g: GROUPS[g] for g in _duty_groups(session, scope)} or dict(GROUPS)


def _checked(session: Session, scope: Scope, d: ActivityDraft, now: datetime) -> tuple[Area, dict[str, int]]:
    """The draft's community and counts, or Invalid naming the field: one check for recording and correcting.
    The draft's aim (对象人群, 针对诈骗类型) is settled in place (aim_of)."""
    d.target_group, d.fraud_type = aim_of(session, scope, d.target_group, d.fraud_type)
    leaf = scope.get_own_area(session, d.community_id)
    if leaf.level != Level.COMMUNITY:
        raise _bad("community_id", "活动地点应选到村/社区")
    if d.kind not in ACTIVITY_KINDS:
        raise _bad("kind", "未知的活动类型")
    if d.held_on > local_day(now):
        raise _bad("held_on", "活动日期不能晚于今天")
    if d.held_on.year < 2000:
        raise _bad("held_on", "活动日期不合理")
    counts = check_counts(d.counts)
    if not any(counts.values()):
        raise _bad("counts", "请至少填写一项数量（入户、商铺、参与人数、发放资料等）")
    if d.campaign_id is not None:
        campaign = get_campaign(session, scope, d.campaign_id)
        if not campaign.starts_on <= d.held_on <= campaign.ends_on:
            raise _bad("campaign_id", f"活动日期不在“{campaign.name}”的起止日期内")
        if campaign.id not in {c.id for c in counting.covering(session, leaf, d.held_on)}:
            raise _bad("campaign_id", f"{leaf.label} 不在“{campaign.name}”覆盖的辖区内")
    return leaf, counts


def create_activity(session: Session, scope: Scope, d: ActivityDraft, *, now: datetime | None = None,
                    photos: list[bytes] | None = None) -> Activity:
    """Records an activity; it counts toward every campaign the rule finds (a.campaigns, counting.message)."""
    scope.require(Perm.RECORD_ACTIVITIES)
    now = now or utcnow()
    leaf, counts = _checked(session, scope, d, now)
    photos = [p for p in (photos or []) if p]
    if len(photos) > MAX_PHOTOS:
        raise _bad("photo", f"每次最多 {MAX_PHOTOS} 张照片")
    for data in photos:  # every photo checked before the row is added or any file written
        check_photo(data)
    a = Activity(kind=d.kind, community_id=leaf.id, address=d.address.strip()[:200], held_on=d.held_on,
                 organiser_user_id=scope.user_id, unit_id=scope.unit_id, organiser=d.organiser.strip()[:64],
                 title=d.title.strip()[:100], note=d.note.strip()[:2000], source=d.source, created_by=scope.user_id,
                 target_group=d.target_group, fraud_type=d.fraud_type, created_at=now,
                 **{m: counts.get(m, 0) for m in METRICS})
    session.add(a)
    session.flush()
    campaigns = counting.relink(session, a)
    for data in photos:
        session.add(ActivityPhoto(activity_id=a.id, path=store_photo("activities", a.id, data, session=session),
                                  created_at=now))
    audit.record(session, scope, "create", "activity", a.id, detail={"kind": d.kind, "community": leaf.id,
                                                                     "campaigns": [c.id for c in campaigns],
                                                                     "photos": len(photos)})
    return a


def _values(a: Activity) -> dict[str, object]:
    """What a correction may change, as the audit records it before and after."""
    return {"kind": a.kind, "community": a.community_id, "held_on": a.held_on.isoformat(), "address": a.address,
            "title": a.title, "note": a.note, "organiser": a.organiser, "target_group": a.target_group,
            "fraud_type": a.fraud_type, **{m: getattr(a, m) for m in METRICS},
            "campaigns": [c.id for c in a.campaigns]}


def _changeable(session: Session, scope: Scope, activity_id: int, now: datetime) -> Activity:
    scope.require(Perm.RECORD_ACTIVITIES)
    a = get_activity(session, scope, activity_id)
    reason = counting.refusal(scope, a, now)
    if reason:
        raise (Conflict if a.withdrawn_at else Forbidden)(reason)  # a withdrawn one has moved on for everyone
    return a


def correct_activity(session: Session, scope: Scope, activity_id: int, d: ActivityDraft, *,
                     now: datetime | None = None) -> Activity:
    """更正 by the recorder within the window: every field the form holds; the campaigns are decided afresh."""
    now = now or utcnow()
    a = _changeable(session, scope, activity_id, now)
    leaf, counts = _checked(session, scope, d, now)
    old = _values(a)
    a.kind, a.community_id, a.held_on = d.kind, leaf.id, d.held_on
    a.address, a.title, a.note = d.address.strip()[:200], d.title.strip()[:100], d.note.strip()[:2000]
    a.organiser = d.organiser.strip()[:64]
    a.target_group, a.fraud_type = d.target_group, d.fraud_type
    for m in METRICS:
        setattr(a, m, counts.get(m, 0))
    a.corrected_at = now
    session.flush()
    counting.relink(session, a)
    new = _values(a)
    audit.record(session, scope, "update", "activity", a.id,
                 detail={"old": {k: v for k, v in old.items() if new[k] != v},
                         "new": {k: v for k, v in new.items() if old[k] != v}})
    return a


def withdraw_activity(session: Session, scope: Scope, activity_id: int, *, reason: str = "",
                      now: datetime | None = None) -> Activity:
    """撤回 by the recorder within the window: it stops counting everywhere and stays listed as 已撤回."""
    now = now or utcnow()
    a = _changeable(session, scope, activity_id, now)
    reason = reason.strip()[:200]
    if not reason:
        raise _bad("reason", "请填写撤回原因")
    old = [c.id for c in a.campaigns]
    a.withdrawn_at, a.withdraw_reason = now, reason
    counting.relink(session, a)
    audit.record(session, scope, "withdraw", "activity", a.id,
                 detail={"old": {"withdrawn": False, "campaigns": old},
                         "new": {"withdrawn": True, "campaigns": [], "reason": reason}})
    return a


def get_activity(session: Session, scope: Scope, activity_id: int) -> Activity:
    scope.require(Perm.READ_PREVENTION)
    a = session.scalar(select(Activity).where(Activity.id == activity_id, activity_visible(scope))
                       .options(joinedload(Activity.community), joinedload(Activity.photos),
                                selectinload(Activity.campaigns), joinedload(Activity.unit)))
    if a is None:
        raise NotFound("活动记录不存在或不在您的管辖范围内")
    return a


def add_photo(session: Session, scope: Scope, activity_id: int, data: bytes, *, now: datetime | None = None
              ) -> ActivityPhoto:
    scope.require(Perm.RECORD_ACTIVITIES)
    a = get_activity(session, scope, activity_id)
    if not scope.covers(a.community) and not scope.at_root:
        raise NotFound("活动记录不存在或不在您的管辖范围内")
    if a.withdrawn_at is not None:
        raise Conflict("该活动已撤回，不能再补充照片")
    if not data:
        raise _bad("photo", "请选择照片")
    if len(a.photos) >= MAX_PHOTOS:
        raise _bad("photo", f"每次最多 {MAX_PHOTOS} 张照片")
    p = ActivityPhoto(activity_id=a.id, path=store_photo("activities", a.id, data, session=session),
                      created_at=now or utcnow())
    session.add(p)
    session.flush()
    audit.record(session, scope, "create", "activity_photo", p.id, detail={"activity": a.id})
    return p


def get_photo(session: Session, scope: Scope, photo_id: int) -> ActivityPhoto:
    scope.require(Perm.READ_PREVENTION)
    p = session.scalar(select(ActivityPhoto).join(Activity, ActivityPhoto.activity_id == Activity.id)
                       .where(ActivityPhoto.id == photo_id, activity_visible(scope)))
    if p is None:
        raise NotFound("照片不存在或不在您的管辖范围内")
    audit.record(session, scope, "view", "activity_photo", p.id)
    return p


def list_activities(session: Session, scope: Scope, *, campaign_id: int | None = None, mine: bool = False,
                    limit: int = 50, offset: int = 0) -> tuple[list[Activity], int]:
    scope.require(Perm.READ_PREVENTION)
    stmt = select(Activity).where(activity_visible(scope))
    if campaign_id is not None:
        stmt = stmt.where(counting.in_campaign(campaign_id))
    if mine:
        stmt = stmt.where(Activity.created_by == scope.user_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.options(joinedload(Activity.community), joinedload(Activity.unit),
                                             selectinload(Activity.campaigns))
                                .order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit).offset(offset)))
    return rows, int(total or 0)


def withdrawn_count(session: Session, scope: Scope) -> int:
    """How many of the activities the user sees are withdrawn (listed, counted nowhere)."""
    scope.require(Perm.READ_PREVENTION)
    return int(session.scalar(select(func.count()).select_from(Activity)
                              .where(activity_visible(scope), Activity.withdrawn_at.is_not(None))) or 0)


def recordable_leaves(session: Session, scope: Scope) -> list[Area]:
    """Communities the user may record an activity on (their own subtree), for the form's picker."""
    stmt = select(Area).where(Area.level == Level.COMMUNITY)
    if not scope.at_root:
        stmt = stmt.where(scope.own_clause())
    return list(session.scalars(stmt.order_by(Area.code).limit(2000)))
