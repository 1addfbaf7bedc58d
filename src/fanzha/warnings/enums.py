"""Kinds, grades and statuses of warnings, with the Chinese words the provincial exports use.

The fraud types (诈骗类型) of warnings, cases and prevention are in `fanzha.detect.taxonomy`.
"""

from __future__ import annotations

KINDS = {
    "funds": "资金预警",
    "call": "涉诈电话",
    "sms": "涉诈短信",
    "app": "涉诈APP",
    "url": "涉诈网址",
    "overseas_call": "境外来电",
    "other": "其他",
}


def warning_label(kind: str) -> str:
    """The kind as a warning's name: 资金预警, 涉诈电话预警 (never 资金预警预警)."""
    name = KINDS.get(kind, KINDS["other"])
    return name if name.endswith("预警") else f"{name}预警"


KIND_ALIASES = {
    "资金": "funds", "资金预警": "funds", "资金类预警": "funds", "涉案资金": "funds", "转账预警": "funds",
    "电话": "call", "涉诈电话": "call", "电话预警": "call", "来电预警": "call", "涉诈来电": "call",
    "短信": "sms", "涉诈短信": "sms", "短信预警": "sms",
    "app": "app", "涉诈app": "app", "app预警": "app", "涉诈应用": "app", "诈骗app": "app",
    "网址": "url", "涉诈网址": "url", "网址预警": "url", "涉诈网站": "url", "url": "url", "域名": "url",
    "境外来电": "overseas_call", "境外电话": "overseas_call", "国际来电": "overseas_call",
    "其他": "other", "其它": "other",
}

GRADES = {"high": "高", "medium": "中", "low": "低"}
GRADE_ORDER = {"low": 0, "medium": 1, "high": 2}
GRADE_ALIASES = {"高": "high", "高风险": "high", "一级": "high", "红色": "high", "中": "medium", "中风险": "medium",
                 "二级": "medium", "橙色": "medium", "黄色": "medium", "低": "low", "低风险": "low", "三级": "low",
                 "蓝色": "low", "high": "high", "medium": "medium", "low": "low"}

STATUSES = {
    "unplaced": "待分配",  # no leaf found: an analyst places it
    "dispatched": "已下发",  # at a station, waiting for a dissuader
    "assigned": "已指派",  # a dissuader has it
}

# 反馈结果: how a warning ended, set with its feedback (dissuasion/service.py)
OUTCOMES = {
    "dissuaded": "劝阻成功",
    "defrauded": "已被骗",
    "unreachable": "无法联系",
    "not_needed": "无需劝阻",
    "refused": "拒绝配合",
    "outside": "已移交外地",  # closed by a 移交 out of the area (dissuasion/transfers), never chosen with feedback
}


def lookup(aliases: dict[str, str], text: str) -> str | None:
    key = text.strip().lower().replace(" ", "").replace("类", "")
    if key in aliases:
        return aliases[key]
    hits = [(len(a), v) for a, v in aliases.items() if a and a in key]
    return max(hits)[1] if hits else None
