"""Spreadsheets for 宣防 through the one import path: campaign plans (任务分解表) and activity reports (活动台账)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fanzha.common.errors import DomainError
from fanzha.common.localtime import local_day
from fanzha.detect.taxonomy import FRAUD_TYPE_ALIASES, FRAUD_TYPE_LABELS
from fanzha.imports.reader import Columns
from fanzha.imports.service import Destination, Importer, RowRejected, register, went_of
from fanzha.imports.values import clean, parse_datetime, parse_int
from fanzha.org.enums import GROUPS, Level
from fanzha.org.groups import parse_groups
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.prevention import service
from fanzha.prevention.enums import ACTIVITY_KINDS, METRIC_ALIASES, METRICS, lookup_kind, lookup_metric
from fanzha.prevention.models import Activity, Campaign
from fanzha.warnings.enums import lookup

PLAN_COLUMNS = Columns(
    aliases={
        "行动编号": ("行动代码", "专项行动编号", "行动名称", "专项行动"),
        "辖区编码": ("辖区代码", "单位编码", "区划代码", "编码"),
        "辖区名称": ("辖区", "单位", "单位名称", "责任单位", "乡镇", "派出所", "村社区"),
        "指标": ("任务指标", "指标名称", "任务类型"),
        "任务数": ("目标数", "任务量", "目标", "任务"),
    },
    required=("行动编号", "指标", "任务数"),
)

ACTIVITY_COLUMNS = Columns(
    aliases={
        "活动日期": ("日期", "开展日期", "活动时间", "时间"),
        "活动类型": ("类型", "活动形式", "形式"),
        "村社区编码": ("辖区编码", "社区编码", "村编码"),
        "村社区": ("村/社区", "社区", "村", "辖区名称", "所属村社区"),
        "地点": ("活动地点", "详细地址", "地址"),
        "组织单位": ("组织者", "承办单位", "单位", "组织人"),
        "行动编号": ("专项行动", "行动名称"),
        "主题": ("活动主题", "标题", "活动名称"),
        "备注": ("说明",),
        **{label: tuple(a for a in METRIC_ALIASES[key] if a != label) for key, label in METRICS.items()},
        "对象人群": ("人群类别", "宣传对象", "目标人群", "对象"),
        "针对诈骗类型": ("诈骗类型", "案件类型", "宣传主题类型"),
    },
    required=("活动日期", "活动类型"),
)


def _campaign(session: Session, scope: Scope, text: str, cache: dict[str, Campaign | None]) -> Campaign | None:
    if text not in cache:
        found = session.scalar(select(Campaign).where(Campaign.code == text.upper(), service.campaign_visible(scope)))
        if found is None:
            named = list(session.scalars(select(Campaign).where(Campaign.name == text,
                                                                service.campaign_visible(scope)).limit(2)))
            found = named[0] if len(named) == 1 else None
        cache[text] = found
    return cache[text]


def _area(session: Session, scope: Scope, code: str, name: str, *, leaf: bool) -> Area:
    if code:
        area = session.scalar(select(Area).where(Area.code == code))
        if area is None:
            raise RowRejected("辖区编码", f"辖区编码 {code} 不存在")
        if name and name not in (area.name, area.label):  # the plan sheet we write carries the label
            raise RowRejected("辖区名称", f"辖区名称“{name}”与编码 {code}（{area.label}）不一致")
    elif name:
        # A name as registered (金鸡村) or as shown where it repeats (河口镇·金鸡村, org/names.py).
        stmt = select(Area).where(or_(Area.name == name, Area.label == name))
        if leaf:
            stmt = stmt.where(Area.level == Level.COMMUNITY)
        found = [a for a in session.scalars(stmt.order_by(Area.code).limit(20)) if scope.is_system or scope.covers(a)
                 or scope.at_root]
        if len(found) != 1:
            shared = "、".join(a.label for a in found[:5]) + (f"等{len(found)}处" if len(found) > 5 else "")
            raise RowRejected("辖区名称", f"辖区名称“{name}”重名（{shared}），请填写辖区编码或带上级的名称" if found
                              else f"辖区名称“{name}”在您的辖区内找不到")
        area = found[0]
    else:
        raise RowRejected("辖区编码", "辖区编码和辖区名称都为空")
    try:
        return scope.get_own_area(session, area.id)
    except DomainError as exc:
        raise RowRejected("辖区编码", f"{area.label} 不在您的管辖范围内") from exc


def make_plan_handler(session: Session, scope: Scope):
    cache: dict[str, Campaign | None] = {}

    def handle(row: dict[str, object]) -> str:
        text = clean(row.get("行动编号"))
        c = _campaign(session, scope, text, cache) if text else None
        if c is None:
            raise RowRejected("行动编号", f"找不到专项行动“{text}”（请填写行动编号）")
        area = _area(session, scope, clean(row.get("辖区编码")), clean(row.get("辖区名称")), leaf=False)
        metric = lookup_metric(clean(row.get("指标")))
        if metric is None:
            raise RowRejected("指标", f"未知的指标“{clean(row.get('指标'))}”，可用：{'、'.join(METRICS.values())}")
        try:
            target = parse_int(row.get("任务数"), name="任务数")
        except ValueError as exc:
            raise RowRejected("任务数", str(exc)) from exc
        try:
            return service.set_quota(session, scope, c.id, area_id=area.id, metric=metric, target=target)
        except DomainError as exc:
            raise RowRejected("辖区编码" if "辖区" in exc.message else "任务数", exc.message) from exc

    return handle


def _aim(group_text: str, type_text: str) -> tuple[str, str]:
    """对象人群 and 针对诈骗类型 cells as keys (one group per row; the words member units' lists use)."""
    group = ""
    if group_text:
        keys, unknown = parse_groups(group_text)
        if unknown or len(keys) != 1:
            raise RowRejected("对象人群", f"对象人群 应为一个人群（如 {'、'.join(list(GROUPS.values())[:4])}），"
                                        f"无法识别：{group_text}")
        group = keys[0]
    fraud_type = ""
    if type_text:
        fraud_type = lookup(FRAUD_TYPE_ALIASES, type_text) or (type_text if type_text in FRAUD_TYPE_LABELS else "")
        fraud_type = fraud_type or next((k for k, v in FRAUD_TYPE_LABELS.items() if v == type_text), "")
        if not fraud_type:
            raise RowRejected("针对诈骗类型", f"未知的诈骗类型：{type_text}")
    return group, fraud_type


def make_activity_handler(session: Session, scope: Scope):
    cache: dict[str, Campaign | None] = {}

    def handle(row: dict[str, object]) -> str:
        try:
            held_on = local_day(parse_datetime(row.get("活动日期")))
        except ValueError as exc:
            raise RowRejected("活动日期", f"活动日期 {exc}") from exc
        kind = lookup_kind(clean(row.get("活动类型")))
        if kind is None:
            raise RowRejected("活动类型", f"未知的活动类型“{clean(row.get('活动类型'))}”，可用："
                                        f"{'、'.join(ACTIVITY_KINDS.values())}")
        leaf = _area(session, scope, clean(row.get("村社区编码")), clean(row.get("村社区")), leaf=True)
        if leaf.level != Level.COMMUNITY:
            raise RowRejected("村社区", f"{leaf.label} 不是村/社区")
        counts = {}
        for key, label in METRICS.items():
            try:
                counts[key] = parse_int(row.get(label), name=label)
            except ValueError as exc:
                raise RowRejected(label, str(exc)) from exc
        campaign_text = clean(row.get("行动编号"))
        campaign = _campaign(session, scope, campaign_text, cache) if campaign_text else None
        if campaign_text and campaign is None:
            raise RowRejected("行动编号", f"找不到专项行动“{campaign_text}”")
        organiser = clean(row.get("组织单位"))[:64]
        target_group, fraud_type = _aim(clean(row.get("对象人群")), clean(row.get("针对诈骗类型")))
        same = select(Activity.id).where(Activity.held_on == held_on, Activity.kind == kind,
                                         Activity.community_id == leaf.id, Activity.organiser == organiser,
                                         *(getattr(Activity, k) == v for k, v in counts.items()),
                                         service.activity_visible(scope))  # never another unit's row: nothing leaks
        if session.scalar(same.limit(1)):
            return "duplicate"
        draft = service.ActivityDraft(kind=kind, community_id=leaf.id, held_on=held_on, counts=counts,
                                      address=clean(row.get("地点")), title=clean(row.get("主题")),
                                      note=clean(row.get("备注")), organiser=organiser,
                                      campaign_id=campaign.id if campaign else None, source="import",
                                      target_group=target_group, fraud_type=fraud_type)
        try:
            a = service.create_activity(session, scope, draft)
        except DomainError as exc:
            column = (exc.details[0]["loc"][0] if exc.details else "") or "活动日期"
            labels = {"held_on": "活动日期", "campaign_id": "行动编号", "counts": "入户", "kind": "活动类型",
                      "community_id": "村社区", "target_group": "对象人群", "fraud_type": "针对诈骗类型"}
            raise RowRejected(labels.get(column, METRICS.get(column, column)), exc.message) from exc
        return "created", [str(c.id) for c in a.campaigns] or [""]

    return handle


def activity_destinations(session: Session, scope: Scope, message: str) -> list[Destination]:
    """Where an activity sheet's new rows count (the import's say of counting.message): per campaign, how many of
    them count toward it (a row may count toward several), then how many count toward none."""
    counts = went_of(message)
    ids = [int(k) for k in counts if k]
    campaigns = list(session.scalars(select(Campaign).where(Campaign.id.in_(ids), service.campaign_visible(scope))
                                     .order_by(Campaign.starts_on, Campaign.id))) if ids else []
    out = [Destination(f"“{c.name}”", counts[str(c.id)], f"/prevention/campaigns/{c.id}", "查看进度") for c in campaigns]
    if counts.get(""):
        out.append(Destination("未计入任何专项行动（当天没有覆盖该村/社区的行动）", counts[""]))
    return out


register(Importer(kind="campaign_plan", label="专项行动任务分解", columns=PLAN_COLUMNS, make_handler=make_plan_handler,
                  permission="manage_campaigns",
                  template_example=[["XF20260408-SL", "JZ0101", "城关街道", "入户", "5000"],
                                    ["XF20260408-SL", "JZ0101", "城关街道", "商铺", "600"]]))
register(Importer(kind="activity", label="宣传活动", columns=ACTIVITY_COLUMNS, make_handler=make_activity_handler,
                  permission="record_activities", destinations=activity_destinations,
                  went_head=("计入专项行动", "新增活动"),
                  template_example=[["2026-04-08", "扫楼", "JZ0101001", "和平社区", "和平小区1-6栋", "城关派出所", "",
                                     "扫楼集中宣防", "", "320", "25", "1", "400", "600", "120", "150", "0", "3", "0",
                                     "0", "老年人", "冒充公检法及政府机关"]]))
