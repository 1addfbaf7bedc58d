"""Triage (研判分级): the grade, its reasons in plain Chinese, and the deadlines, from a rules file the centre edits.

Upstream 预警级别 and 反馈时限 win. Local rules fill in a missing grade and may raise one, never lower it;
each rule that fires adds its reason. The defaults are in triage_default.toml beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, StrictInt, create_model, field_validator

from fanzha.common.rules import RulesModel, all_of, load_rules_file, one_of, register
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.enums import GROUPS
from fanzha.warnings.enums import GRADE_ORDER, GRADES, KINDS

DEFAULT_RULES = Path(__file__).with_name("triage_default.toml")
CONDITIONS = {"amount_at_least", "group_in", "repeat_at_least", "fraud_type_in", "kind_in", "counterparty_linked"}


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


Grade = Literal["high", "medium", "low"]

BaseGrades = create_model(
    "BaseGrades", __base__=RulesModel, __doc__="The grade of a warning whose upstream level is blank, by kind.",
    **{kind: (Grade, Field(description=f"{label} ({kind}).")) for kind, label in KINDS.items()})  # type: ignore[call-overload]


class FaceToFace(RulesModel):
    """Which warnings require face-to-face dissuasion (见面劝阻)."""

    kinds: list[str] = Field(["funds"], description="Kinds (预警类型) that always require it.")
    grades: list[Grade] = Field([], description="Grades that require it whatever the kind.")

    _kinds = field_validator("kinds")(lambda v: all_of(v, KINDS))


class StepDeadlines(RulesModel):
    """Deadlines in minutes from 预警时间."""

    sign: StrictInt = Field(ge=0, description="签收 (sign for the warning).")
    contact: StrictInt = Field(ge=0, description="首次联系 (first contact).")
    face: StrictInt = Field(ge=0, description="见面 (face-to-face); 0 = none, the visit is then owed within feedback.")
    feedback: StrictInt = Field(ge=0, description="反馈 (feedback), unless upstream set its own 反馈时限.")


class GradeDeadlines(RulesModel):
    high: StepDeadlines = Field(description="高 (high grade).")
    medium: StepDeadlines = Field(description="中 (medium grade).")
    low: StepDeadlines = Field(description="低 (low grade).")


class RaiseRule(RulesModel):
    """A raising rule ([[raise]]): when it holds, the grade rises to `to` (never falls) and its reason is added."""

    when: str = Field(description="The condition: " + ", ".join(sorted(CONDITIONS)) + ".")
    value: Any = Field(None, description="The condition's value: an amount in yuan (amount_at_least), a count "
                                         "(repeat_at_least), or a list of groups, fraud types or kinds (…_in).")
    to: Grade = Field(description="The grade to raise to.")
    reason: str = Field(min_length=1, description="The reason shown (原因说明); may use {amount}, {groups}, {n}, "
                                                  "{fraud_type}, {kind}, {linked}.")

    _when = field_validator("when")(lambda v: one_of(v, sorted(CONDITIONS)))


class TriageFile(RulesModel):
    """triage_default.toml: the triage rules (研判分级规则)."""

    base_grade: BaseGrades = Field(description="The grade by kind when upstream gave none (基础级别).")  # type: ignore[valid-type]
    face_to_face: FaceToFace = Field(FaceToFace(), description="Which warnings require 见面劝阻.")
    deadlines: GradeDeadlines = Field(description="Deadlines per grade (处置时限), minutes.")
    raises: list[RaiseRule] = Field([], alias="raise", description="Raising rules (升级规则), checked in order.")

    def rules(self) -> Rules:
        return Rules(base_grade=self.base_grade.model_dump(), face_kinds=frozenset(self.face_to_face.kinds),
                     face_grades=frozenset(self.face_to_face.grades),
                     deadlines={g: getattr(self.deadlines, g).model_dump() for g in GRADES},
                     raises=tuple(Rule(r.when, r.value, r.to, r.reason) for r in self.raises))


FILE = register("triage", "研判规则文件", TriageFile, DEFAULT_RULES, setting="FANZHA_TRIAGE_RULES",
                summary="The grade of a warning, the rules that raise it, who must be seen face to face and the "
                        "deadlines per grade (研判分级).")


def load_rules(path: Path | None = None) -> Rules:
    return load_rules_file(TriageFile, path or DEFAULT_RULES, what=FILE.title).rules()


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
