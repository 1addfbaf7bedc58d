"""Triage (研判分级): the grade, its reasons in plain Chinese, and the deadlines, from a rules file the centre edits.

Upstream 预警级别 and 反馈时限 win. Local rules fill in a missing grade and may raise one, never lower it;
each rule that fires adds its reason. The defaults are in triage_default.toml beside this module.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.enums import GROUPS
from fanzha.warnings.enums import GRADE_ORDER, GRADES, KINDS

DEFAULT_RULES = Path(__file__).with_name("triage_default.toml")
CONDITIONS = {"amount_at_least", "group_in", "repeat_at_least", "fraud_type_in", "kind_in", "counterparty_linked"}


class RulesError(ValueError):
    """The rules file is wrong; the message says where."""


@dataclass(frozen=True)
class Rule:
    when: str
    value: object
    to: str
    reason: str


@dataclass(frozen=True)
class Rules:
    base_grade: dict[str, str]
    face_kinds: frozenset[str]
    face_grades: frozenset[str]
    deadlines: dict[str, dict[str, int]]
    raises: tuple[Rule, ...]


@dataclass
class Facts:
    kind: str
    upstream_grade: str | None = None
    amount: Decimal | None = None
    groups: tuple[str, ...] = ()
    repeats: int = 0
    fraud_type: str | None = None
    linked: str = ""  # 串并: the counterparty matches an open case or the blocklist (links.store.match_reason)


@dataclass
class Verdict:
    grade: str
    reasons: list[str] = field(default_factory=list)
    face_required: bool = False


def load_rules(path: Path | None = None) -> Rules:
    path = Path(path or DEFAULT_RULES)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"研判规则文件 {path} 无法读取：{exc}") from exc
    base = data.get("base_grade", {})
    for kind in KINDS:
        if base.get(kind) not in GRADES:
            raise RulesError(f"{path}: [base_grade] 缺少或写错了 {kind} 的级别（应为 high/medium/low）")
    deadlines = data.get("deadlines", {})
    for grade in GRADES:
        d = deadlines.get(grade)
        if not d or any(not isinstance(d.get(k), int) or d[k] < 0 for k in ("sign", "contact", "face", "feedback")):
            raise RulesError(f"{path}: [deadlines.{grade}] 需要 sign/contact/face/feedback 四个非负整数（分钟）")
    raises = []
    for i, r in enumerate(data.get("raise", []), start=1):
        if r.get("when") not in CONDITIONS:
            raise RulesError(f"{path}: 第{i}条 [[raise]] 的 when 应为 {'、'.join(sorted(CONDITIONS))} 之一")
        if r.get("to") not in GRADES:
            raise RulesError(f"{path}: 第{i}条 [[raise]] 的 to 应为 high/medium/low")
        if not r.get("reason"):
            raise RulesError(f"{path}: 第{i}条 [[raise]] 缺少 reason（原因说明）")
        raises.append(Rule(r["when"], r.get("value"), r["to"], r["reason"]))
    face = data.get("face_to_face", {})
    face_grades = frozenset(face.get("grades", []))
    if bad := [g for g in face_grades if g not in GRADES]:
        raise RulesError(f"{path}: [face_to_face] grades 中的 {bad} 不是 high/medium/low")
    return Rules(base_grade=dict(base), face_kinds=frozenset(face.get("kinds", ["funds"])), face_grades=face_grades,
                 deadlines=deadlines, raises=tuple(raises))


@lru_cache
def current_rules() -> Rules:
    from fanzha.config import get_settings

    return load_rules(get_settings().triage_rules)


def _fires(rule: Rule, facts: Facts) -> bool:
    if rule.when == "amount_at_least":
        return facts.amount is not None and facts.amount >= _decimal(rule.value)
    if rule.when == "group_in":
        return any(g in (rule.value or []) for g in facts.groups)
    if rule.when == "repeat_at_least":
        return facts.repeats >= int(rule.value)
    if rule.when == "fraud_type_in":
        return facts.fraud_type in (rule.value or [])
    if rule.when == "kind_in":
        return facts.kind in (rule.value or [])
    if rule.when == "counterparty_linked":
        return bool(facts.linked)
    return False


def _values(rule: Rule, facts: Facts) -> dict:
    """What a fired rule's reason quotes."""
    if rule.when == "amount_at_least":
        return {"amount": f"{facts.amount:,.2f}"}
    if rule.when == "group_in":
        return {"groups": "、".join(GROUPS.get(g, g) for g in facts.groups if g in (rule.value or []))}
    if rule.when == "repeat_at_least":
        return {"n": facts.repeats}
    if rule.when == "fraud_type_in":
        return {"fraud_type": FRAUD_TYPE_LABELS.get(facts.fraud_type or "", "")}
    if rule.when == "counterparty_linked":
        return {"linked": facts.linked}
    return {"kind": KINDS.get(facts.kind, facts.kind)}


@lru_cache(maxsize=256)
def _decimal(value: object) -> Decimal:
    return Decimal(str(value))


def grade(facts: Facts, rules: Rules | None = None) -> Verdict:
    rules = rules or current_rules()
    if facts.upstream_grade:
        verdict = Verdict(facts.upstream_grade, [f"上级下发级别：{GRADES[facts.upstream_grade]}"])
    else:
        base = rules.base_grade[facts.kind]
        verdict = Verdict(base, [f"上级未定级，按预警类型“{KINDS[facts.kind]}”定为{GRADES[base]}"])
    said: set[str] = set()  # one reason per condition: "≥5万" makes "≥1万" go without saying
    for rule in rules.raises:
        if rule.when in said or not _fires(rule, facts):
            continue
        said.add(rule.when)
        values = _values(rule, facts)
        if GRADE_ORDER[rule.to] > GRADE_ORDER[verdict.grade]:
            verdict.reasons.append(f"升为{GRADES[rule.to]}：" + rule.reason.format(**values))
            verdict.grade = rule.to
        else:
            verdict.reasons.append("另：" + rule.reason.format(**values))
    by_kind = facts.kind in rules.face_kinds
    verdict.face_required = by_kind or verdict.grade in rules.face_grades
    if verdict.face_required:
        verdict.reasons.append("资金预警须见面劝阻" if facts.kind == "funds" else
                               "该类预警须见面劝阻" if by_kind else f"{GRADES[verdict.grade]}风险预警须见面劝阻")
    return verdict


@dataclass
class Deadlines:
    sign: datetime
    contact: datetime
    face: datetime | None
    feedback: datetime
    upstream_feedback: bool


def deadlines(grade_: str, warned_at: datetime, face_required: bool, upstream_feedback: datetime | None,
              rules: Rules | None = None) -> Deadlines:
    d = (rules or current_rules()).deadlines[grade_]
    face = warned_at + timedelta(minutes=d["face"]) if face_required and d["face"] else None
    if face_required and face is None:  # a grade without a face deadline still owes the visit within feedback time
        face = warned_at + timedelta(minutes=d["feedback"])
    return Deadlines(
        sign=warned_at + timedelta(minutes=d["sign"]),
        contact=warned_at + timedelta(minutes=d["contact"]),
        face=face,
        feedback=upstream_feedback or warned_at + timedelta(minutes=d["feedback"]),
        upstream_feedback=upstream_feedback is not None,
    )
