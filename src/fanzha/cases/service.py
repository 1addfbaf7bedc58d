"""Cases within the user's areas: list with filters, read (audited), enter and correct through the row check of files,
confirm a suggested type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, object_session

from fanzha.addresses.service import AddressMatcher
from fanzha.audit import service as audit
from fanzha.auth import lookups
from fanzha.cases.intake import UNPLACED, Register, make_handler, parse_row, visible
from fanzha.cases.models import Case
from fanzha.common.errors import Conflict, Invalid, NotFound, not_here
from fanzha.common.localtime import day_start
from fanzha.common.privacy import PII_FIELDS, Identity, identity, identity_fields
from fanzha.common.timefmt import fmt_minute
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.imports.service import RowRejected
from fanzha.links import store as links
from fanzha.links.rules import KINDS as COUNTERPARTY_KINDS
from fanzha.links.rules import joined
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under
from fanzha.people.models import Person
from fanzha.people.service import find as find_person

__all__ = ["visible", "search", "get", "create", "update", "confirm_type", "Filters", "as_row"]


@dataclass
class Filters:
    """List filters: 类型, 待确认类型, 已破/未破, 立案 period (local days, end inclusive), area (either chain)."""

    q: str = ""
    fraud_type: str = ""
    pending_type: bool = False
    solved: str = ""  # "yes" 已破 / "no" 未破 / "" all
    start: date | None = None
    end: date | None = None
    area_id: int | None = None


def _filtered(session: Session, scope: Scope, f: Filters):
    """The list's query: the cases in scope that pass the filters (the list and its export read the same)."""
    stmt = select(Case).where(visible(scope))
    if f.q:
        q = f.q
        stmt = stmt.where(or_(Case.case_number == q, Case.id_number == q.upper(), Case.phone == q, Case.name == q))
    if f.fraud_type:
        stmt = stmt.where(Case.fraud_type == f.fraud_type)
    if f.pending_type:
        stmt = stmt.where(Case.type_status == "suggested")
    if f.solved == "yes":
        stmt = stmt.where(Case.solved_at.is_not(None))
    elif f.solved == "no":
        stmt = stmt.where(Case.solved_at.is_(None))
    if f.start:
        stmt = stmt.where(Case.filed_at >= day_start(f.start))
    if f.end:
        stmt = stmt.where(Case.filed_at < day_start(f.end + timedelta(days=1)))
    if f.area_id:
        node = scope.get_area(session, f.area_id)
        stmt = stmt.where(Case.community_id.in_(select(Area.id).where(communities_under(node))))
    return stmt


def _newest_first(stmt):
    return stmt.options(joinedload(Case.community)).order_by(Case.filed_at.desc(), Case.id.desc())


def search(session: Session, scope: Scope, *, q: str = "", limit: int = 50, offset: int = 0,
           filters: Filters | None = None) -> tuple[list[Case], int]:
    scope.require(Perm.READ_CASES)
    f = filters or Filters(q=q)
    lookups.check(session, scope, f.q, where="case")
    stmt = _filtered(session, scope, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(_newest_first(stmt).limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "case", "", fields=SHOWN_FIELDS, detail={"ids": [c.id for c in rows]})
    return rows, int(total or 0)


EXPORT_HEADER = ("案件编号", "立案时间", "被骗时间", "受害人", "身份证号", "手机号", "性别", "年龄", "诈骗类型", "类型待确认",
                 "损失金额（元）", "追回金额（元）", "冻结金额（元）", "破案时间", "抓获人数", "诈骗渠道", "村/社区")


def export(session: Session, scope: Scope, f: Filters) -> bytes:
    """The register with its filters as an XLSX file (导出 Excel), newest first, at most exports.ROW_CAP rows. The
    victim as a case shows them (name, masked ID number and phone: a case never reveals); a personal-data export
    (export_personal, audited with its fields, rows and filters)."""
    from fanzha.audit import exports
    from fanzha.cases.enums import CHANNELS

    scope.require(Perm.READ_CASES)
    exports.require(scope)
    lookups.check(session, scope, f.q, where="case")
    rows = []
    for c in session.scalars(_newest_first(_filtered(session, scope, f)).limit(exports.ROW_CAP + 1)):
        who = shown_identity(c)
        rows.append([c.case_number, fmt_minute(c.filed_at), fmt_minute(c.loss_at), who.name, who.id_number, who.phone,
                     c.victim_sex, c.victim_age, FRAUD_TYPE_LABELS.get(c.fraud_type, "其他"),
                     "是" if c.type_status == "suggested" else "", c.loss_amount, c.recovered_amount or 0,
                     c.frozen_amount or 0, fmt_minute(c.solved_at), c.suspects_caught or 0,
                     CHANNELS.get(c.channel, ""), c.community.label if c.community else ""])
    detail = {k: v for k, v in (("q", lookups.masked(f.q) if f.q else ""), ("fraud_type", f.fraud_type),
                                ("pending_type", f.pending_type), ("solved", f.solved),
                                ("start", f.start.isoformat() if f.start else ""),
                                ("end", f.end.isoformat() if f.end else ""), ("area_id", f.area_id)) if v}
    return exports.list_file(session, scope, "case", header=EXPORT_HEADER, rows=rows, sheet="案件",
                             fields=identity_fields(full=False, with_ages=False) + ["victim_sex", "victim_age"],
                             detail={"filters": detail})


def _load(session: Session, scope: Scope, case_id: int) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id, visible(scope))
                          .options(joinedload(Case.community), joinedload(Case.employer_unit)))
    if case is None:
        raise NotFound("案件不存在或不在您的管辖范围内")
    return case


def get(session: Session, scope: Scope, case_id: int) -> Case:
    scope.require(Perm.READ_CASES)
    case = _load(session, scope, case_id)
    audit.record(session, scope, "view", "case", case.id, fields=SHOWN_FIELDS)
    return case


# What a case shows of its victim (never revealed: a case is worked through the person's record).
SHOWN_FIELDS = identity_fields(full=False, with_ages=False) + ["victim_sex", "victim_age", "address"]


def shown_identity(c: Case) -> Identity:
    """The victim as every viewer sees them on a case: the one masking path of the API and the pages."""
    return identity(name=c.name, id_number=c.id_number, phone=c.phone, gender=c.victim_sex, full=False)


def _invalid(exc: RowRejected) -> Invalid:
    return Invalid(exc.reason, details=[{"loc": [exc.column], "msg": exc.reason}])


def _refuse_known(session: Session, scope: Scope, number: str, case_id: int | None) -> None:
    """A known case number: named as such only when the case is in the user's areas."""
    if case_id and session.scalar(select(Case.id).where(Case.id == case_id, visible(scope))) is not None:
        raise Conflict(f"案件编号 {number} 已登记", details=[{"loc": ["案件编号"], "msg": "已登记", "case_id": case_id}])
    raise Conflict(not_here("该案件编号"), details=[{"loc": ["案件编号"], "msg": not_here("该案件编号")}])


def create(session: Session, scope: Scope, raw: dict) -> Case:
    """One case from a form or the API, checked exactly as an imported row (a known number is refused here)."""
    scope.require(Perm.WRITE_CASES)
    number = str(raw.get("案件编号") or "").strip()
    if number and (known := session.scalar(select(Case.id).where(Case.case_number == number))):
        _refuse_known(session, scope, number, known)
    try:
        outcome = make_handler(session, scope)(raw)
    except RowRejected as exc:
        raise _invalid(exc) from exc
    if outcome != "created":
        _refuse_known(session, scope, number, session.scalar(select(Case.id).where(Case.case_number == number)))
    case = session.scalar(select(Case).where(Case.case_number == number))
    audit.record(session, scope, "create", "case", case.id, fields=list(PII_FIELDS))
    return case


def as_row(case: Case) -> dict[str, str]:
    """A case as the row of a file would carry it (Chinese column names): what the edit form shows."""

    def t(v):
        return fmt_minute(v) if v else ""

    def money(v):
        return "" if v is None else f"{v:.2f}"

    return {"案件编号": case.case_number, "立案时间": t(case.filed_at), "被骗时间": t(case.loss_at), "姓名": case.name,
            "身份证号": case.id_number or "", "手机号": case.phone or "", "发案地址": case.address,
            "诈骗类型": FRAUD_TYPE_LABELS.get(case.fraud_type, "其他"), "损失金额": money(case.loss_amount),
            "简要案情": case.narrative, "追回金额": money(case.recovered_amount), "冻结金额": money(case.frozen_amount),
            "破案时间": t(case.solved_at), "抓获人数": str(case.suspects_caught or 0), "抓获时间": t(case.caught_at),
            "诈骗渠道": case.channel, "受害人性别": case.victim_sex,
            "受害人年龄": "" if case.victim_age is None else str(case.victim_age),
            "受害人职业": case.victim_occupation, "工作单位": case.employer_name or (
                case.employer_unit.name if case.employer_unit else ""),
            "可防性": "" if case.preventable is None else ("是" if case.preventable else "否"),
            **counterparty_cells(case)}


def counterparty_cells(case: Case) -> dict[str, str]:
    """The case's 对方电话/账号/网址/App/社交账号 as the form's cells (values joined by 、)."""
    held = links.as_items(links.held(object_session(case), "case", case.id)) if case.id else []
    return {column: joined(held, kind) for kind, column in COUNTERPARTY_KINDS.items()}


EDITABLE = ("name", "id_number", "phone", "address", "filed_at", "loss_at", "loss_amount", "narrative",
            "recovered_amount", "frozen_amount", "solved_at", "suspects_caught", "caught_at", "channel", "victim_sex",
            "victim_age", "victim_occupation", "employer_name", "preventable")


def update(session: Session, scope: Scope, case_id: int, raw: dict) -> Case:
    """An officer's correction: every field but the number may change; the type change confirms it."""
    scope.require(Perm.WRITE_CASES)
    case = _load(session, scope, case_id)
    # The edit form shows ID number and phone masked: a masked value sent back means "unchanged".
    merged = {**as_row(case), **{k: v for k, v in raw.items()
                                 if v is not None and not (k in ("身份证号", "手机号") and "*" in str(v))}}
    if str(merged.get("案件编号", "")).strip() != case.case_number:
        raise Invalid("案件编号不能修改", details=[{"loc": ["案件编号"], "msg": "案件编号不能修改"}])
    try:
        d = parse_row(merged)
    except RowRejected as exc:
        raise _invalid(exc) from exc
    before = {k: getattr(case, k) for k in (*EDITABLE, "fraud_type", "community_id", "person_id")}
    reg = Register(session, scope)
    for key in ("name", "id_number", "phone", "address", "filed_at", "loss_at", "loss_amount", "narrative"):
        setattr(case, key, getattr(d, key))
    d.recovered_amount = d.recovered_amount or 0
    d.frozen_amount = d.frozen_amount or 0
    d.suspects_caught = d.suspects_caught or 0
    if (case.id_number, case.phone) != (before["id_number"], before["phone"]):
        person = find_person(session, d.id_number, d.phone, where=scope.community_clause(Person.community_id))
        case.person_id = person.id if person else None
    if case.address != before["address"]:
        community_id = AddressMatcher(session, None if scope.is_centre else scope).match(d.address) if d.address else None
        case.community_id = community_id or (case.person.community_id if case.person else None)
        if not scope.is_centre and case.community_id is None:
            raise Invalid(UNPLACED, details=[{"loc": ["发案地址"], "msg": "无法定位"}])
    reg.describe(case, d, session.get(Person, case.person_id) if case.person_id else None)
    stopped = reg.stop_payment(case, d.stop_amount)
    relinked = links.replace(session, "case", case.id, d.counterparties)
    if d.fraud_type and d.fraud_type != case.fraud_type:
        case.fraud_type, case.type_status, case.type_confidence = d.fraud_type, "confirmed", None
    changed = [k for k, v in before.items() if getattr(case, k) != v] + (["stop_amount"] if stopped else []) + (
        ["counterparties"] if relinked else [])
    if changed:
        from fanzha.db import utcnow
        from fanzha.dissuasion.followups import service as follow_ups

        case.updated_at = utcnow()
        follow_ups.schedule_for_case(session, case, case.updated_at)  # placed now, or moved: its open 回访 follows
        audit.record(session, scope, "update", "case", case.id, fields=[k for k in PII_FIELDS if k in changed],
                     detail={"changed": changed})
    session.flush()
    return case


def confirm_type(session: Session, scope: Scope, case_id: int, fraud_type: str) -> Case:
    """An officer confirms the suggested type or sets another: the type is then 已确认."""
    scope.require(Perm.WRITE_CASES)
    if fraud_type not in FRAUD_TYPE_LABELS:
        raise Invalid("诈骗类型不在十二类之内", details=[{"loc": ["fraud_type"], "msg": "不是允许的取值"}])
    case = _load(session, scope, case_id)
    old, old_status = case.fraud_type, case.type_status
    case.fraud_type, case.type_status = fraud_type, "confirmed"
    audit.record(session, scope, "update", "case", case.id,
                 detail={"fraud_type": [old, fraud_type], "type_status": [old_status, "confirmed"],
                         "confidence": case.type_confidence})
    session.flush()
    return case
