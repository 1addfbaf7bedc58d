"""The one rule module of 回访: why one is scheduled and when it falls due, the states the field records, and the
宣防漏洞 categories a 回访 finds (反查宣防漏洞). Pure data and small predicates, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

# Why a 回访 exists. defrauded/repeat/sample come from a warning's 反馈; case from a filed case's victim (立案受骗人),
# warned or not (兵团: 回访资金预警人群和立案的受骗人, 反查宣防漏洞).
REASONS = {"defrauded": "被骗回访", "repeat": "重复预警回访", "sample": "劝阻成功抽样回访", "case": "立案受害人回访"}
DUE_DAYS = {"defrauded": 7, "repeat": 30, "sample": 15, "case": 7}
SAMPLE_EVERY = 5  # one in five successful dissuasions is called back (by warning id, so it is reproducible)
# A case registered up to this many days after it was filed is visited; older register rows are history. The upgrade
# to 回访 complete (migration 0030) scheduled the cases of the last 30 days the same way, without escalation.
CASE_WINDOW_DAYS = 30

# The states as the field uses them (one city platform's 回访状态), plus 已被骗/未被骗.
STATES = {
    "not_defrauded": "未被骗",
    "defrauded": "已被骗",
    "dissuaded": "已劝阻",
    "not_found_yet": "暂时找不到",
    "not_found": "确实找不到",
    "mismatch": "不符",
    "repeat": "重复预警",
}
# 暂时找不到 keeps the 回访 open: it falls due again this many days later (and may escalate again then).
RETRY_DAYS = 3
OPEN_STATES = ("not_found_yet",)
# States in which the person was reached: only these record 宣防漏洞, and only these count as 回访 done on the
# 宣防漏洞 page (确实找不到 and 不符 reached nobody, or the wrong person).
REACHED_STATES = ("not_defrauded", "defrauded", "dissuaded", "repeat")
# What a 回访 recorded before the field's states became these (migration 0030).
OLD_STATES = {"safe": "not_defrauded", "defrauded_later": "defrauded", "not_confirmed": "mismatch",
              "unreachable": "not_found"}

# 宣防漏洞 found at a 回访: why outreach did not protect the person. 其他 needs its text.
GAPS = {
    "no_app": "未下载APP",
    "no_alert": "未开启预警",
    "no_outreach": "未接到宣传",
    "not_met": "未见面",
    "family_unaware": "家属不知情",
    "other": "其他",
}
# A person found 已被骗 is asked where outreach missed them: at least one category.
GAPS_REQUIRED = ("defrauded",)


def due(reason: str, start: datetime, now: datetime) -> datetime:
    """When a 回访 falls due: its days after `start` (the 反馈, or the case's filing), and never sooner than a day
    after it is scheduled (a case registered weeks after its filing is not overdue on arrival)."""
    return max(start + timedelta(days=DUE_DAYS[reason]), now + timedelta(days=1))


def case_in_window(filed_at: datetime, now: datetime) -> bool:
    return filed_at >= now - timedelta(days=CASE_WINDOW_DAYS)


def check(state: str, gaps: list[str], other: str) -> list[tuple[str, str]]:
    """What is wrong with a 回访 as recorded: (field, Chinese message) pairs, empty when it may be saved."""
    problems = []
    if not state:
        return [("outcome", "请选择回访状态")]
    if state not in STATES:
        return [("outcome", "回访状态应为 " + "、".join(STATES.values()) + " 之一")]
    if bad := [g for g in gaps if g not in GAPS]:
        problems.append(("gaps", f"未知的宣防漏洞：{'、'.join(bad)}"))
    elif gaps and state not in REACHED_STATES:
        problems.append(("gaps", f"“{STATES[state]}”时没有见到本人，不能登记宣防漏洞"))
    elif state in GAPS_REQUIRED and not gaps:
        problems.append(("gaps", f"“{STATES[state]}”请至少选择一项宣防漏洞（为何没防住）"))
    if "other" in gaps and not other.strip():
        problems.append(("missed_outreach", "选择了“其他”漏洞，请写明具体情况"))
    return problems
