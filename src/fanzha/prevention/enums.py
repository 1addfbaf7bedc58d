"""The words of prevention work: what is counted (metrics), kinds of activity and campaign, denominators."""

from __future__ import annotations

# Counted on every activity and set as quotas on campaigns; the key is also the Activity column name.
METRICS: dict[str, str] = {
    "households": "入户",
    "shops": "商铺",
    "sessions": "宣讲场次",
    "participants": "参与人数",
    "leaflets": "发放资料",
    "app_installs": "反诈APP安装",
    "jzz_registrations": "金钟罩注册",
    "pledges": "承诺书签订",
    "vulnerable_found": "筛选易受骗人员",
    "issues": "专刊期数",
    "forwards": "转发次数",
}
METRIC_UNITS = {"households": "户", "shops": "个", "sessions": "场", "participants": "人", "leaflets": "份",
                "app_installs": "人", "jzz_registrations": "人", "pledges": "份", "vulnerable_found": "人",
                "issues": "期", "forwards": "次"}
# Header words accepted in spreadsheets for each metric (plans name the metric in a cell, activity files in a header).
METRIC_ALIASES: dict[str, tuple[str, ...]] = {
    "households": ("入户", "入户数", "走访入户", "户数", "入户宣传"),
    "shops": ("商铺", "商铺数", "走访商铺", "沿街商铺", "店面"),
    "sessions": ("场次", "宣讲场次", "活动场次"),
    "participants": ("参与人数", "受众人数", "参加人数", "人数"),
    "leaflets": ("发放资料", "宣传单", "发放宣传单", "资料份数", "宣传资料"),
    "app_installs": ("反诈APP安装", "APP安装", "APP安装数", "国家反诈中心APP", "下载安装APP", "APP注册"),
    "jzz_registrations": ("金钟罩注册", "金钟罩", "金钟罩注册数", "关注金钟罩"),
    "pledges": ("承诺书签订", "承诺书", "签订承诺书"),
    "vulnerable_found": ("筛选易受骗人员", "易受骗人员", "筛查易受骗人员"),
    "issues": ("专刊期数", "专刊", "发布期数"),
    "forwards": ("转发次数", "转发", "转发量"),
}

ACTIVITY_KINDS: dict[str, str] = {
    "lecture": "宣讲",
    "sweep": "扫楼",
    "market": "赶大集",
    "school": "进校园",
    "enterprise": "进企业",
    "community": "进社区",
    "family": "进家庭",
    "broadcast": "LED/广播",
    "live": "直播",
    "training": "培训",
    "pledge": "承诺书签订",
    "online": "线上推送",
    "report": "注册数上报",
    "other": "其他",
}
ACTIVITY_KIND_ALIASES = {"扫街扫楼": "sweep", "扫街": "sweep", "集中宣讲": "lecture", "LED": "broadcast", "广播": "broadcast",
                         "大屏": "broadcast", "专题直播": "live", "专题培训": "training", "承诺书": "pledge",
                         "公众号": "online", "专刊": "online", "网络宣传": "online", "上报": "report"}

CAMPAIGN_KINDS: dict[str, str] = {"sweep": "扫楼", "month": "宣传月", "week": "宣传周", "special": "专项行动"}

# Denominators a coverage target divides by: the leaf columns of Area.
DENOMINATORS: dict[str, str] = {"population": "常住人口", "households": "户数", "shops": "商铺/企业数"}

SUPERVISION_KINDS: dict[str, str] = {"supervise": "督导", "interview": "约谈"}
SUPERVISION_OUTCOMES: dict[str, str] = {"improved": "已整改", "partly": "部分整改", "not_improved": "未整改"}


def lookup_metric(text: str) -> str | None:
    text = text.strip()
    if text in METRICS:
        return text
    for key, label in METRICS.items():
        if text == label or text in METRIC_ALIASES[key]:
            return key
    return None


def lookup_kind(text: str) -> str | None:
    text = text.strip()
    if text in ACTIVITY_KINDS:
        return text
    for key, label in ACTIVITY_KINDS.items():
        if text == label:
            return key
    return ACTIVITY_KIND_ALIASES.get(text)
