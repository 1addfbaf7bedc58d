"""The vulnerable groups (易受骗群体) as a 人群类别 cell names them: the words for each group of `org.enums.GROUPS`,
and the age from which a person counts as 老年人.

Every list that names groups (the registry's lists, prevention's activities, a case's victim profile) reads them here.
"""

from __future__ import annotations

import re

from fanzha.org.enums import GROUPS

ELDERLY_AGE = 60

# What a 人群类别 cell may say for each group (cells may hold several, separated by 、,，;；/ or spaces).
GROUP_ALIASES: dict[str, tuple[str, ...]] = {
    "student_teacher": ("师生", "学生", "教师", "老师", "在校学生", "在校生", "教职工", "大学生", "中学生"),
    "accountant": ("财会人员", "财会", "会计", "出纳", "财务", "财务人员"),
    "company_head": ("企业负责人", "法定代表人", "法人", "企业主", "个体工商户", "负责人"),
    "medical": ("医护", "医护人员", "医生", "护士", "医务人员"),
    "investor": ("理财投资", "投资理财", "理财", "投资", "有理财投资行为人", "股民"),
    "repeat_warned": ("多次被预警", "多次预警", "多次被预警人员"),
    "elderly": ("老年人", "老人", "老年"),
    "single_divorced": ("单身离异", "单身", "离异", "丧偶"),
    "past_victim": ("曾被骗", "受害人", "被骗人员"),
}
_SPLIT = re.compile(r"[、,，;；/|\s]+")


def parse_groups(text: str) -> tuple[list[str], list[str]]:
    """(group keys, words not understood) of a 人群类别 cell."""
    keys, unknown = [], []
    for word in (w for w in _SPLIT.split(text or "") if w):
        key = next((k for k, words in GROUP_ALIASES.items() if word in words or word == GROUPS.get(k) or word == k),
                   None)
        if key is None:
            unknown.append(word)
        elif key not in keys:
            keys.append(key)
    return sorted(keys), unknown
