"""Feedback up the chain (反馈): the provincial feedback file out, and the same file back in (round trip)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import exports
from fanzha.audit import service as audit
from fanzha.cases.models import Case
from fanzha.common import tabular
from fanzha.common.timefmt import fmt_minute
from fanzha.db import utcnow
from fanzha.dissuasion.enums import CHANNELS, OUTCOMES
from fanzha.dissuasion.models import Contact
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, register
from fanzha.imports.values import clean, parse_datetime
from fanzha.org.models import User
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings.metrics import loss_avoided_of
from fanzha.warnings.models import Warning

DEFAULT_COLUMNS = Path(__file__).with_name("feedback_default.toml")
FIELDS = {"external_id", "signed_at", "channels", "face", "outcome", "feedback_at", "feedback_by", "station",
          "amount_protected", "loss", "note"}
OUTCOME_BY_LABEL = {v: k for k, v in OUTCOMES.items()}
# Columns that carry personal data (a dissuader's name, free text about the person), as audited on export.
PERSONAL = {"feedback_by": "name", "note": "note"}


@lru_cache
def columns(path: Path | None = None) -> list[tuple[str, str]]:
    from fanzha.config import get_settings

    path = Path(path or get_settings().feedback_columns or DEFAULT_COLUMNS)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cols = [(str(h), str(f)) for h, f in data.get("columns", [])]
    if bad := [f for _, f in cols if f not in FIELDS]:
        raise ValueError(f"{path}: 不认识的字段 {bad}")
    if "external_id" not in [f for _, f in cols]:
        raise ValueError(f"{path}: 必须包含 external_id（预警编号）列")
    return cols


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


def _rows(session: Session, warnings: list[Warning]) -> list[dict[str, str]]:
    ids = [w.id for w in warnings]
    channels: dict[int, list[str]] = {}
    for wid, channel in session.execute(select(Contact.warning_id, Contact.channel).where(Contact.warning_id.in_(ids))
                                        .order_by(Contact.at)):
        channels.setdefault(wid, [])
        if CHANNELS[channel] not in channels[wid]:
            channels[wid].append(CHANNELS[channel])
    losses = dict(session.execute(select(Case.person_id, func.sum(Case.loss_amount)).where(
        Case.person_id.in_([w.person_id for w in warnings if w.person_id])).group_by(Case.person_id)).all())
    names = dict(session.execute(select(User.id, User.display_name)).all())
    out = []
    for w in warnings:
        values = {
            "external_id": w.external_id, "signed_at": fmt_minute(w.signed_at),
            "channels": "、".join(channels.get(w.id, [])), "face": "是" if w.face_at else "否",
            "outcome": OUTCOMES.get(w.outcome or "", ""), "feedback_at": fmt_minute(w.feedback_at),
            "feedback_by": names.get(w.assignee_id, ""), "station": w.station.label if w.station else "",
            "amount_protected": _protected(w),
            "loss": _loss(w, losses),
            "note": w.outcome_note or "",
        }
        out.append(values)
    return out


def export(session: Session, scope: Scope, warnings: list[Warning], *, fmt: str = "xlsx", mark: bool = True) -> bytes:
    """The selected warnings' feedback in the configured provincial column order; marks them exported.
    A personal-data export: it needs export_personal and is audited with its fields and rows."""
    scope.require(Perm.READ_WARNINGS)
    exports.require(scope)
    cols = columns()
    rows = _rows(session, warnings)
    data = tabular.write(fmt, [h for h, _ in cols], ([r[f] for _, f in cols] for r in rows), sheet="反馈")
    if mark:
        now = utcnow()
        for w in warnings:
            w.feedback_exported_at = now
    exports.record(session, scope, "feedback", "", fields=[PERSONAL[f] for _, f in cols if f in PERSONAL],
                   rows=len(rows), fmt=fmt, detail={"marked": mark})
    return data


def closed_warnings(session: Session, scope: Scope, condition) -> list[Warning]:
    from fanzha.warnings.service import visible

    return list(session.scalars(select(Warning).where(visible(scope), Warning.feedback_at.is_not(None), condition)
                                .options(joinedload(Warning.station)).order_by(Warning.feedback_at)))


# -- the same file back in: the provincial platform's view of our feedback, or a test instance ---------------


def _feedback_columns() -> Columns:
    return Columns(aliases={h: () for h, _ in columns()}, required=(next(h for h, f in columns() if f == "external_id"),))


def _handler(session: Session, scope: Scope):
    by_field = {f: h for h, f in columns()}
    users = {name: uid for uid, name in session.execute(select(User.id, User.display_name))}

    def get(row, field):
        return clean(row.get(by_field.get(field, ""), ""))

    def handle(row: dict) -> str:
        from fanzha.warnings.service import visible

        ext = get(row, "external_id")
        w = session.scalar(select(Warning).where(Warning.external_id == ext, visible(scope)))
        if w is None:
            raise RowRejected(by_field["external_id"], f"预警编号 {ext} 不存在或不在您的管辖范围内")
        outcome_label = get(row, "outcome")
        outcome = OUTCOME_BY_LABEL.get(outcome_label)
        if outcome_label and outcome is None:
            raise RowRejected(by_field.get("outcome", ""), f"未知的劝阻结果“{outcome_label}”")
        try:
            signed = parse_datetime(get(row, "signed_at")) if get(row, "signed_at") else None
            fed = parse_datetime(get(row, "feedback_at")) if get(row, "feedback_at") else None
        except ValueError as exc:
            raise RowRejected(by_field.get("feedback_at", ""), str(exc)) from exc
        from fanzha.common.money import parse_money

        try:
            amount = parse_money(get(row, "amount_protected"), name="劝阻金额")
        except ValueError as exc:
            raise RowRejected(by_field.get("amount_protected", ""), str(exc)) from exc
        if outcome == "dissuaded" and w.amount_protected is None and amount is not None and amount == w.amount:
            amount = None  # the file's estimate of an unrecorded amount (the 拟转账金额) stays an estimate
        new = {"signed_at": signed, "feedback_at": fed, "outcome": outcome,
               "amount_protected": amount, "outcome_note": get(row, "note")}
        old = {k: getattr(w, k) for k in new}
        if fmt_minute(old["signed_at"]) == fmt_minute(signed) and fmt_minute(old["feedback_at"]) == fmt_minute(fed) \
                and old["outcome"] == outcome and old["amount_protected"] == new["amount_protected"] \
                and (old["outcome_note"] or "") == new["outcome_note"]:
            return "duplicate"
        for k, v in new.items():
            setattr(w, k, v)
        audit.record(session, scope, "update", "warning", w.id, detail={"feedback_import": True})
        who = users.get(get(row, "feedback_by"))
        if who and w.signed_by is None:
            w.signed_by = who
        return "updated"

    return handle


register(Importer(kind="feedback", label="反馈", columns=_feedback_columns(), make_handler=_handler,
                  permission="intake_warnings", personal=("name", "note"),
                  template_example=[["YJ20260101000001", "2026-01-01 09:33", "电话、见面", "是", "劝阻成功",
                                     "2026-01-01 11:00", "王某", "中山东派出所", "95500.00", "", ""]]))
