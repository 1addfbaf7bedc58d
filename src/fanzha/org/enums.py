"""Chains and levels of the two hierarchies (辖区), with their Chinese labels."""

from __future__ import annotations

from enum import StrEnum


class Chain(StrEnum):
    POLICE = "police"  # 公安: 市局 → 分局/县局 → 派出所 → 警务区
    ADMIN = "admin"  # 行政: 市 → 区/县 → 乡镇/街道 → 村/社区 (兵团: 师市 → 团场 → 连队)


class Level(StrEnum):
    BUREAU = "bureau"  # 市局
    BRANCH = "branch"  # 分局/县局
    STATION = "station"  # 派出所
    BEAT = "beat"  # 警务区
    CITY = "city"  # 市 / 师市
    COUNTY = "county"  # 区/县
    TOWNSHIP = "township"  # 乡镇/街道办事处/团场
    COMMUNITY = "community"  # 村/社区/连队 — the leaf everything hangs on


CHAIN_LABELS = {Chain.POLICE: "公安", Chain.ADMIN: "行政"}
LEVEL_LABELS = {
    Level.BUREAU: "市局",
    Level.BRANCH: "分局/县局",
    Level.STATION: "派出所",
    Level.BEAT: "警务区",
    Level.CITY: "市",
    Level.COUNTY: "区/县",
    Level.TOWNSHIP: "乡镇/街道",
    Level.COMMUNITY: "村/社区",
}
LEVEL_CHAIN = {
    Level.BUREAU: Chain.POLICE,
    Level.BRANCH: Chain.POLICE,
    Level.STATION: Chain.POLICE,
    Level.BEAT: Chain.POLICE,
    Level.CITY: Chain.ADMIN,
    Level.COUNTY: Chain.ADMIN,
    Level.TOWNSHIP: Chain.ADMIN,
    Level.COMMUNITY: Chain.ADMIN,
}
# Which level may sit under which; 兵团's 团场 hangs straight under its 师市.
ALLOWED_PARENTS = {
    Level.BUREAU: (None,),
    Level.BRANCH: (Level.BUREAU,),
    Level.STATION: (Level.BRANCH, Level.BUREAU),
    Level.BEAT: (Level.STATION,),
    Level.CITY: (None,),
    Level.COUNTY: (Level.CITY,),
    Level.TOWNSHIP: (Level.COUNTY, Level.CITY),
    Level.COMMUNITY: (Level.TOWNSHIP,),
}

UNIT_KINDS = {
    "education": "教育",
    "civil_affairs": "民政",
    "tax": "税务",
    "health": "卫健",
    "finance": "金融/银行",
    "telecom": "通信运营商",
    "enterprise": "企业",
    "government": "机关事业单位",
    "other": "其他",
}

# 易受骗群体 (DESIGN.md vocabulary)
GROUPS = {
    "student_teacher": "师生",
    "accountant": "财会人员",
    "company_head": "企业负责人",
    "medical": "医护",
    "investor": "理财投资",
    "repeat_warned": "多次被预警",
    "elderly": "老年人",
    "single_divorced": "单身离异",
    "past_victim": "曾被骗",
}
