"""The victim's profile on a case (受害人画像) and the words registers use for channel and 可防性.

Sex and age come from the row when given, else from the ID number (15-digit IDs are widened first), else from the
matched person. The groups are a snapshot at the loss: the person's declared groups, the groups the registry derives
(老年人, 多次被预警, 曾被骗: cases/derived_groups.py, as of the day before the loss, so this case does not make its own victim 曾被骗), 老年人
from the age, and groups read from the occupation (教师 → 师生, 会计 → 财会人员 …).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.derived_groups import load_derived
from fanzha.cases.enums import CHANNELS
from fanzha.common.ages import age_on
from fanzha.common.identity import id_number_birth_date, id_number_gender
from fanzha.common.localtime import local_day
from fanzha.org.groups import ELDERLY_AGE
from fanzha.org.models import Unit
from fanzha.people.models import Person

CHANNEL_ALIASES = {
    "phone": ("电话", "来电", "电话联系", "打电话", "座机", "境外来电", "语音电话"),
    "sms": ("短信", "短消息", "彩信", "信息"),
    "social": ("社交软件", "社交", "微信", "qq", "聊天软件", "陌陌", "探探", "社交软件(微信/qq等)", "网络社交"),
    "app": ("app", "手机app", "应用", "软件", "手机软件", "下载app"),
    "website": ("网站", "网页", "网址", "链接", "钓鱼网站", "网站/网页"),
    "game": ("游戏", "游戏平台", "网络游戏"),
    "livestream": ("直播", "短视频", "抖音", "快手", "直播/短视频平台", "直播平台"),
    "other": ("其他", "其它", "当面", "线下"),
}
PREVENTABLE_WORDS = {"是": True, "可防": True, "可防性": True, "可防性案件": True, "y": True, "yes": True, "1": True,
                     "否": False, "不可防": False, "非可防": False, "非可防性案件": False, "n": False, "no": False,
                     "0": False}
SEX_WORDS = {"男": "男", "女": "女", "m": "男", "f": "女", "male": "男", "female": "女", "男性": "男", "女性": "女"}
# Occupation words → 易受骗群体 (org.enums.GROUPS keys); a word found anywhere in the occupation counts.
OCCUPATION_GROUPS = {
    "student_teacher": ("教师", "老师", "学生", "教职工", "教员", "校长", "大学生", "研究生"),
    "accountant": ("会计", "出纳", "财务", "财会"),
    "medical": ("医生", "护士", "医师", "医护", "医务"),
    "company_head": ("企业负责人", "法人", "法定代表人", "企业主", "个体工商户", "老板", "总经理", "董事长"),
    "investor": ("股民", "投资人"),
}
_NAME_JUNK = re.compile(r"[\s()（）\[\]【】·.,，、\-—_\"'“”]")


def lookup_channel(text: str) -> str | None:
    """The CHANNELS key for a cell, or None when the word is not one registers use."""
    word = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    if word in CHANNELS:
        return word
    for key, words in CHANNEL_ALIASES.items():
        if word == CHANNELS[key].lower().replace(" ", "") or word in words:
            return key
    return None


def occupation_groups(occupation: str) -> list[str]:
    return sorted(k for k, words in OCCUPATION_GROUPS.items() if any(w in occupation for w in words))


def unit_key(name: str) -> str:
    """A unit name compared loosely: full-width folded, spaces, brackets and punctuation dropped."""
    return _NAME_JUNK.sub("", unicodedata.normalize("NFKC", name or "")).lower()


class UnitMatcher:
    """Employer names to member/employer units: the exact name, else the loose key (one query at start)."""

    def __init__(self, session: Session):
        self.exact: dict[str, int] = {}
        self.loose: dict[str, int] = {}
        for uid, name in session.execute(select(Unit.id, Unit.name).order_by(Unit.id)):
            self.exact.setdefault(name, uid)
            self.loose.setdefault(unit_key(name), uid)

    def match(self, name: str) -> int | None:
        if not name:
            return None
        return self.exact.get(name) or self.loose.get(unit_key(name))


@dataclass
class Profile:
    sex: str
    age: int | None
    groups: list[str]


def victim_profile(session: Session, *, person: Person | None, id_number: str | None, loss_at: datetime,
                   sex: str = "", age: int | None = None, occupation: str = "") -> Profile:
    loss_day = local_day(loss_at)
    if not sex:
        sex = id_number_gender(id_number) if id_number else (person.gender if person else "")
    if age is None:
        birth = None
        if id_number:
            birth = id_number_birth_date(id_number)
        elif person is not None:
            birth = person.birth_date
        age = age_on(birth, loss_day)
        if age is not None and age < 0:  # a birth date after the loss: no age rather than a wrong one
            age = None
    groups = set(occupation_groups(occupation))
    if person is not None:
        derived = load_derived(session, loss_day - timedelta(days=1), [person.id])
        groups |= set(derived.groups(person.id, person.birth_date, person.groups))
    if age is not None and age >= ELDERLY_AGE:
        groups.add("elderly")
    return Profile(sex=sex, age=age, groups=sorted(groups))
