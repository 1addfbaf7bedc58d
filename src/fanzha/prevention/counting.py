"""Which campaigns an activity counts toward (计入哪些专项行动), the one rule, and who may correct or withdraw one.

An activity counts toward EVERY campaign whose dates include its day and whose covered areas hold its community (in
either chain), unless it is withdrawn (已撤回). The rule is applied when the activity is recorded and again when it
is corrected; the result is written to activity_campaigns, which every per-campaign figure reads (progress,
laggards, the campaign's activity list). Figures that count activities without a campaign (coverage, 无诈社区) use
`counted()` to leave withdrawn ones out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from fanzha.config import get_settings
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.prevention.models import Activity, ActivityCampaign, Campaign, CampaignArea


def holding_nodes(leaf: Area) -> set[int]:
    """The community and every node above it in both chains: a campaign covering any of them covers the community."""
    ids = {leaf.id}
    for path in (leaf.path, leaf.police_path or ""):
        ids.update(int(x) for x in path.strip("/").split("/") if x)
    return ids


def _running(session: Session, first: date, last: date) -> list[tuple[Campaign, set[int]]]:
    """Campaigns running on some day in [first, last], each with the nodes it covers."""
    campaigns = list(session.scalars(select(Campaign).where(Campaign.starts_on <= last, Campaign.ends_on >= first)
                                     .order_by(Campaign.starts_on, Campaign.id)))
    nodes: dict[int, set[int]] = {c.id: set() for c in campaigns}
    if campaigns:
        for campaign_id, area_id in session.execute(select(CampaignArea.campaign_id, CampaignArea.area_id)
                                                    .where(CampaignArea.campaign_id.in_(nodes))):
            nodes[campaign_id].add(area_id)
    return [(c, nodes[c.id]) for c in campaigns]


def _counts_toward(c: Campaign, covered: set[int], leaf: Area, day: date) -> bool:
    """The rule: the campaign's dates include the day and it covers the community or a node above it."""
    return c.starts_on <= day <= c.ends_on and not covered.isdisjoint(holding_nodes(leaf))


def covering(session: Session, leaf: Area, day: date) -> list[Campaign]:
    """Every campaign running on `day` that covers `leaf`, earliest start first."""
    return [c for c, covered in _running(session, day, day) if _counts_toward(c, covered, leaf, day)]


def relink(session: Session, a: Activity) -> list[Campaign]:
    """Re-decides where `a` counts and writes it; a withdrawn activity counts nowhere. Returns the campaigns."""
    return relink_all(session, [a])[a.id]


def relink_all(session: Session, activities: list[Activity]) -> dict[int, list[Campaign]]:
    """`relink` for many activities at once (imports of old data, the demo): the campaigns are read once."""
    live = [a for a in activities if a.withdrawn_at is None]
    running = _running(session, min(a.held_on for a in live), max(a.held_on for a in live)) if live else []
    leaves = {x.id: x for x in session.scalars(select(Area).where(Area.id.in_({a.community_id for a in live})))}
    ids = [a.id for a in activities]
    for chunk in range(0, len(ids), 500):
        session.execute(delete(ActivityCampaign).where(ActivityCampaign.activity_id.in_(ids[chunk:chunk + 500])))
    out: dict[int, list[Campaign]] = {}
    for a in activities:
        found = [c for c, covered in running if a.withdrawn_at is None
                 and _counts_toward(c, covered, leaves[a.community_id], a.held_on)]
        session.add_all(ActivityCampaign(activity_id=a.id, campaign_id=c.id) for c in found)
        a.campaign_id = found[0].id if found else None  # the legacy column assess/figures.py reads
        out[a.id] = found
    session.flush()
    for a in activities:
        session.expire(a, ["campaigns"])
    return out


def counted() -> ColumnElement[bool]:
    """Activities that count anywhere: not withdrawn."""
    return Activity.withdrawn_at.is_(None)


def in_campaign(campaign_id: int) -> ColumnElement[bool]:
    """Activities that count toward the campaign."""
    return Activity.id.in_(select(ActivityCampaign.activity_id).where(ActivityCampaign.campaign_id == campaign_id))


def message(campaigns: Iterable[Campaign]) -> str:
    """What the recorder is told after saving (the form, the API and the import say the same)."""
    names = "、".join(f"“{c.name}”" for c in campaigns)
    return f"计入专项行动：{names}" if names else "未计入任何专项行动（活动已保存；当天没有覆盖该村/社区的行动）"


# -- 更正 and 撤回 -----------------------------------------------------------------------------------------------

def window() -> timedelta:
    return timedelta(days=get_settings().activity_edit_days)


def refusal(scope: Scope, a: Activity, now: datetime) -> str | None:
    """Why the user may not correct or withdraw `a` now, or None when they may: only its recorder, only within the
    window after recording (FANZHA_ACTIVITY_EDIT_DAYS), never once withdrawn."""
    if a.withdrawn_at is not None:
        return "该活动已撤回，不能再更正或撤回"
    if scope.user_id is None or a.created_by != scope.user_id:
        return "只有记录人本人可以更正或撤回该活动"
    if now - a.created_at > window():
        return f"记录已超过 {get_settings().activity_edit_days} 天，不能再更正或撤回，请联系上级"
    return None
