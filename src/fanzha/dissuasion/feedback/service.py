"""Feedback up the chain (反馈): the provincial feedback file out, and the same file back in (round trip).

Each column of the file is one field below (FIELDS); which columns, their headers and their order come from a TOML
template the centre edits (feedback_default.toml). How each provincial field is read from the contacts and the
outcome is written once here and in docs/metrics.md#feedback-file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from fanzha.audit import exports
from fanzha.audit import service as audit
from fanzha.common import tabular
from fanzha.common.rules import RulesModel, load_rules_file
from fanzha.common.rules import register as register_rules
from fanzha.common.timefmt import fmt_minute
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.dissuasion.enums import (
    CALL_CHANNELS,
    CHANNELS,
    FACE_CHANNELS,
    NO_ANSWER_REASONS,
    RESULTS,
    SUCCESS_KINDS,
    TARGETS,
)
from fanzha.dissuasion.models import Contact
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, register
from fanzha.imports.values import clean, parse_datetime
from fanzha.org.models import User
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import losses
from fanzha.warnings.enums import OUTCOMES
from fanzha.warnings.metrics import loss_avoided_of
from fanzha.warnings.models import Warning

DEFAULT_COLUMNS = Path(__file__).with_name("feedback_default.toml")
FIELDS = {"external_id", "signed_at", "channels", "face", "outcome", "feedback_at", "feedback_by", "station",
          "amount_protected", "loss", "note",
          # the provincial feedback's own fields (issue 28): 联系方式 … 提交类型
          "contact_mode", "reached", "no_answer_reason", "target", "defrauded", "result", "fraud_type", "visit",
          "actions", "submission"}
OUTCOME_BY_LABEL = {v: k for k, v in OUTCOMES.items()}
# 联系方式 in the provincial four: a call to a family member is a call; 见面 and 上门走访 are told apart.
MODES = {"phone": "电话", "family": "电话", "sms": "短信", "face_to_face": "见面", "visit": "上门"}
FAILED = "劝阻无效"  # 劝阻结果 of 已被骗 and 拒绝配合
SUCCESS_BY_LABEL = {v: k for k, v in SUCCESS_KINDS.items()}
TARGET_BY_LABEL = {v: k for k, v in TARGETS.items()}
# Columns that carry personal data (a dissuader's name, free text about the person), as audited on export.
PERSONAL = {"feedback_by": "name", "note": "note"}


class FeedbackColumns(RulesModel):
    """feedback_default.toml: the columns of the provincial feedback file (反馈表), in order."""

    columns: list[tuple[str, str]] = Field(description="Each column: [header, field]; the fields are "
                                                       f"{', '.join(sorted(FIELDS))} (docs/metrics.md#feedback-file). "
                                                       "external_id (预警编号) is required.")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, cols: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if bad := [f for _, f in cols if f not in FIELDS]:
            raise ValueError(f"不认识的字段 {bad}")
        if "external_id" not in [f for _, f in cols]:
            raise ValueError("必须包含 external_id（预警编号）列")
        return cols


FILE = register_rules("feedback_columns", "反馈表列文件", FeedbackColumns, DEFAULT_COLUMNS,
                      setting="FANZHA_FEEDBACK_COLUMNS",
                      summary="The columns of the provincial feedback file (反馈表): headers, order and the field "
                              "each takes.")


@lru_cache
def columns(path: Path | None = None) -> list[tuple[str, str]]:
    from fanzha.config import get_settings

    path = Path(path or get_settings().feedback_columns or DEFAULT_COLUMNS)
    return list(load_rules_file(FeedbackColumns, path, what=FILE.title).columns)


def _loss(w: Warning, case_losses: dict) -> str:
    """受骗金额 of a 已被骗 feedback: the person's filed cases once there are any (the register's figure), until then
    what the dissuader reported."""
    if w.outcome != "defrauded":
        return ""
    amount = case_losses.get(w.person_id) if w.person_id else None
    amount = amount if amount is not None else w.amount_lost
    return f"{amount:.2f}" if amount is not None else ""


def _protected(w: Warning) -> str:
    """劝阻金额: 避免损失 as the metrics page counts it (metrics.loss_avoided_of) — what the dissuader recorded with
    劝阻成功, else the 拟转账金额 — so the file's column adds up to the page's figure."""
    amount, _ = loss_avoided_of(w)
    return f"{amount:.2f}" if amount is not None else ""


def _distinct(labels) -> str:
    return "、".join(dict.fromkeys(labels))


def _reached(calls: list[Contact]) -> str:
    """是否接通: 是 when any call (to the person or a family member) was answered — a refusal was answered too —,
    否 when every call went unanswered, empty without a call."""
    if not calls:
        return ""
    return "是" if any(c.result != "not_reached" for c in calls) else "否"


def _no_answer(calls: list[Contact]) -> str:
    """未接原因: the reason of the last unanswered call, when no call was answered."""
    if _reached(calls) != "否":
        return ""
    return NO_ANSWER_REASONS.get(calls[-1].no_answer_reason or "", "")


def _target(w: Warning, contacts: list[Contact]) -> str:
    """劝阻对象: as chosen with the feedback; else 本人 when the person was reached in any contact, 亲友 when only a
    family member was; empty when nobody was (or for 无法联系)."""
    if w.outcome in ("unreachable", "outside"):
        return ""
    if w.feedback_target:
        return TARGETS[w.feedback_target]
    reached = [c.channel for c in contacts if c.result != "not_reached"]
    if any(ch != "family" for ch in reached):
        return TARGETS["self"]
    return TARGETS["family"] if reached else ""


def _result(w: Warning) -> str:
    """劝阻结果 in the provincial three: a 劝阻成功 as recorded (自主防范 or 及时劝阻; none recorded: 及时劝阻, what
    a dissuasion that worked is unless told otherwise), 已被骗 and 拒绝配合 劝阻无效, the rest empty."""
    if w.outcome == "dissuaded":
        return SUCCESS_KINDS[w.success_kind or "stopped"]
    return FAILED if w.outcome in ("defrauded", "refused") else ""


def _defrauded(w: Warning) -> str:
    """是否被骗: 是 for 已被骗, 否 for 劝阻成功 and 无需劝阻, empty where nobody knows (无法联系, 拒绝配合, 移交外地)."""
    if w.outcome == "defrauded":
        return "是"
    return "否" if w.outcome in ("dissuaded", "not_needed") else ""


def _line(c: Contact) -> str:
    """One contact in 处置内容 and 上门情况: when, how, with what result (no free text: the notes go in 备注)."""
    reason = NO_ANSWER_REASONS.get(c.no_answer_reason or "", "")
    return f"{fmt_minute(c.at)} {CHANNELS[c.channel]}：{RESULTS[c.result]}" + (f"（{reason}）" if reason else "")


def _visit(contacts: list[Contact]) -> str:
    """上门情况: each 见面/上门走访 in order, with where and whether it counts (evidence); 未上门 without one."""
    lines = [_line(c) + (f"，{c.location}" if c.location else "") + ("，有现场证据" if c.counts_as_face else "")
             for c in contacts if c.channel in FACE_CHANNELS]
    return "；".join(lines) if lines else "未上门"


def _submission(w: Warning) -> str:
    """提交类型: 首次 until the feedback was sent up once (a marked export), 再次 after."""
    return "再次" if w.feedback_submissions > 0 else "首次"


def _rows(session: Session, warnings: list[Warning]) -> list[dict[str, str]]:
    ids = [w.id for w in warnings]
    contacts: dict[int, list[Contact]] = {}
    for c in session.scalars(select(Contact).where(Contact.warning_id.in_(ids)).order_by(Contact.at, Contact.id)):
        contacts.setdefault(c.warning_id, []).append(c)
    L = losses.columns()
    lost = dict(session.execute(select(L.person_id, func.sum(L.loss_amount)).where(
        L.person_id.in_([w.person_id for w in warnings if w.person_id])).group_by(L.person_id)).all())
    names = dict(session.execute(select(User.id, User.display_name)).all())
    out = []
    for w in warnings:
        mine = contacts.get(w.id, [])
        calls = [c for c in mine if c.channel in CALL_CHANNELS]
        values = {
            "external_id": w.external_id, "signed_at": fmt_minute(w.signed_at),
            "channels": _distinct(CHANNELS[c.channel] for c in mine), "face": "是" if w.face_at else "否",
            "outcome": OUTCOMES.get(w.outcome or "", ""), "feedback_at": fmt_minute(w.feedback_at),
            "feedback_by": names.get(w.assignee_id, ""), "station": w.station.label if w.station else "",
            "amount_protected": _protected(w),
            "loss": _loss(w, lost),
            "note": w.outcome_note or "",
            "contact_mode": _distinct(MODES[c.channel] for c in mine), "reached": _reached(calls),
            "no_answer_reason": _no_answer(calls), "target": _target(w, mine), "defrauded": _defrauded(w),
            "result": _result(w), "fraud_type": FRAUD_TYPE_LABELS.get(w.fraud_type or "", ""), "visit": _visit(mine),
            "actions": "；".join(_line(c) for c in mine), "submission": _submission(w),
        }
        out.append(values)
    return out


def table(session: Session, scope: Scope, warnings: list[Warning], *, fmt: str, mark: bool = True,
          cols: list[tuple[str, str]] | None = None) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """The selected warnings' feedback as (columns, rows) in the configured provincial column order (or `cols`, a
    template's columns); marks them exported — sent once more, so that their next sending is a 再次.
    A personal-data export (file or API answer): it needs export_personal and is audited with its fields and rows."""
    scope.require(Perm.READ_WARNINGS)
    exports.require(scope)
    cols = cols or columns()
    rows = _rows(session, warnings)
    if mark:
        now = utcnow()
        for w in warnings:
            w.feedback_exported_at = now
            w.feedback_record().submissions += 1
    exports.record(session, scope, "feedback", "", fields=[PERSONAL[f] for _, f in cols if f in PERSONAL],
                   rows=len(rows), fmt=fmt, detail={"marked": mark})
    return cols, rows


def export(session: Session, scope: Scope, warnings: list[Warning], *, fmt: str = "xlsx", mark: bool = True,
           cols: list[tuple[str, str]] | None = None) -> bytes:
    """The feedback file (xlsx or csv) of `table`."""
    cols, rows = table(session, scope, warnings, fmt=fmt, mark=mark, cols=cols)
    return tabular.write(fmt, [h for h, _ in cols], ([r[f] for _, f in cols] for r in rows), sheet="反馈")


def fed_back_in(session: Session, scope: Scope, area, since, until, *, only_new: bool = False) -> list[Warning]:
    """The warnings fed back in [since, until) under `area` (None: all the scope sees) — the page's, the API's and
    the file's selection; only_new: those never sent up."""
    from fanzha.warnings.metrics import area_clause

    cond = area_clause(session, area) & (Warning.feedback_at >= since) & (Warning.feedback_at < until)
    if only_new:
        cond = cond & Warning.feedback_exported_at.is_(None)
    return closed_warnings(session, scope, cond)


def closed_warnings(session: Session, scope: Scope, condition) -> list[Warning]:
    from fanzha.warnings.service import visible

    return list(session.scalars(select(Warning).where(visible(scope), Warning.feedback_at.is_not(None), condition)
                                .options(joinedload(Warning.station), selectinload(Warning.feedback_detail))
                                .order_by(Warning.feedback_at)))


# -- the same file back in: the provincial platform's view of our feedback, or a test instance ---------------


def _feedback_columns() -> Columns:
    return Columns(aliases={h: () for h, _ in columns()}, required=(next(h for h, f in columns() if f == "external_id"),))


def _outcome_of(get, present, w: Warning) -> tuple[str | None, str | None]:
    """(outcome, 自主防范/及时劝阻) a row says: from 劝阻结果 (outcome) in a template that has it, else from the provincial
    劝阻结果 and 是否被骗 — 自主防范/及时劝阻 劝阻成功, 劝阻无效 已被骗 when 是否被骗 is 是 and 拒绝配合 otherwise, an empty one
    无需劝阻 when 是否被骗 is 否, else 无法联系 (a 已移交外地 stays so)."""
    if "outcome" in present:
        label = get("outcome")
        outcome = OUTCOME_BY_LABEL.get(label)
        if label and outcome is None:
            raise RowRejected(present["outcome"], f"未知的劝阻结果“{label}”")
        return outcome, w.success_kind if outcome == "dissuaded" else None
    label, defrauded = get("result"), get("defrauded")
    if label in SUCCESS_BY_LABEL:
        return "dissuaded", SUCCESS_BY_LABEL[label]
    if label == FAILED:
        return ("defrauded" if defrauded == "是" else "refused"), None
    if label:
        raise RowRejected(present["result"], f"未知的劝阻结果“{label}”，应为 自主防范、及时劝阻、劝阻无效 之一或不填")
    if defrauded == "否":
        return "not_needed", None
    return ("outside" if w.outcome == "outside" else "unreachable"), None


def _comparable(field: str, value):
    """A field as the file carries it: times to the minute, an empty note as empty."""
    if field in ("signed_at", "feedback_at"):
        return fmt_minute(value)
    return (value or "") if field == "outcome_note" else value


def _handler(session: Session, scope: Scope):
    by_field = {f: h for h, f in columns()}
    users = {name: uid for uid, name in session.execute(select(User.id, User.display_name))}

    def get(row, field):
        return clean(row.get(by_field.get(field, ""), ""))

    def handle(row: dict) -> str:
        """Sets what the template's columns carry, and only that: a file without 签收时间 or 备注 leaves them."""
        from fanzha.common.money import parse_money
        from fanzha.warnings.service import visible

        ext = get(row, "external_id")
        w = session.scalar(select(Warning).where(Warning.external_id == ext, visible(scope)))
        if w is None:
            raise RowRejected(by_field["external_id"], f"预警编号 {ext} 不存在或不在您的管辖范围内")
        new: dict = {}
        if "outcome" in by_field or "result" in by_field:
            new["outcome"], new["success_kind"] = _outcome_of(lambda f: get(row, f), by_field, w)
        for field in ("signed_at", "feedback_at"):
            if field in by_field:
                try:
                    new[field] = parse_datetime(get(row, field)) if get(row, field) else None
                except ValueError as exc:
                    raise RowRejected(by_field[field], str(exc)) from exc
        if "amount_protected" in by_field:
            try:
                amount = parse_money(get(row, "amount_protected"), name="劝阻金额")
            except ValueError as exc:
                raise RowRejected(by_field["amount_protected"], str(exc)) from exc
            if new.get("outcome", w.outcome) == "dissuaded" and w.amount_protected is None and amount is not None \
                    and amount == w.amount:
                amount = None  # the file's estimate of an unrecorded amount (the 拟转账金额) stays an estimate
            new["amount_protected"] = amount
        if "target" in by_field:
            label = get(row, "target")
            if label and label not in TARGET_BY_LABEL:
                raise RowRejected(by_field["target"], f"未知的劝阻对象“{label}”，应为 本人、亲友 之一或不填")
            new["feedback_target"] = TARGET_BY_LABEL.get(label)
        kept = {k: new.pop(k) for k in ("feedback_target", "success_kind") if k in new}
        if "note" in by_field:
            new["outcome_note"] = get(row, "note")
        if {k: _comparable(k, getattr(w, k)) for k in [*new, *kept]} == \
                {k: _comparable(k, v) for k, v in [*new.items(), *kept.items()]}:
            return "duplicate"
        for k, v in new.items():
            setattr(w, k, v)
        if any(kept.values()) or w.feedback_detail is not None:
            record = w.feedback_record()
            record.target = kept.get("feedback_target", record.target)
            record.success_kind = kept.get("success_kind", record.success_kind)
        if w.feedback_submissions:  # sent up before and changed since: among the unsent again, as a 再次
            w.feedback_exported_at = None
        audit.record(session, scope, "update", "warning", w.id, detail={"feedback_import": True})
        who = users.get(get(row, "feedback_by"))
        if who and w.signed_by is None:
            w.signed_by = who
        return "updated"

    return handle


register(Importer(kind="feedback", label="反馈", columns=_feedback_columns(), make_handler=_handler,
                  permission="intake_warnings", personal=("name", "note"),
                  template_example=[["YJ20260101000001", "中山东派出所", "2026-01-01 11:00", "电话、见面", "是", "", "本人",
                                     "否", "", "95500.00", "及时劝阻", "虚假网络投资理财",
                                     "2026-01-01 10:20 见面：已联系上，幸福小区3栋，有现场证据",
                                     "2026-01-01 09:40 电话：已联系上；2026-01-01 10:20 见面：已联系上", "首次", ""]]))
