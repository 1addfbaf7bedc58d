"""The 打 side records (止付, 冻结, 断卡线索, 封号): entered on a case page or the API, or imported as lists.

An action hangs on a case when the list names one (案件编号), and is scoped by that case's community; a lead without a
case is placed by its 地址 on a community, and only the centre may hold one that lands nowhere. The target (card,
phone or account number) and its holder are personal data: masked unless the role may see them in full.
An imported row is idempotent by (类别, 账号, 案件编号): a known one only has its 状态/完成时间/金额 brought up to date,
and a row still saying 已申请 never takes back a later answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fanzha.addresses.service import AddressMatcher
from fanzha.audit import service as audit
from fanzha.cases.enums import ACTION_KINDS, ACTION_STATUSES, ACTION_TARGET_TYPES
from fanzha.cases.intake import _SOFT, visible
from fanzha.cases.models import Case, CaseAction
from fanzha.common.errors import Invalid, NotFound
from fanzha.common.identity import mask_id_number, mask_phone, normalize_id_number
from fanzha.common.money import parse_money
from fanzha.db import utcnow
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, register
from fanzha.imports.values import clean, parse_datetime
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

COLUMNS = Columns(
    aliases={
        "类别": ("处置类别", "类型", "措施", "处置措施", "名单类别"),
        "账号": ("卡号", "银行卡号", "手机号码", "电话号码", "账户", "涉案账号", "号码", "微信号", "QQ号", "对象"),
        "对象类型": ("账号类型", "卡类型", "号码类型"),
        "案件编号": ("立案编号", "案号", "关联案件"),
        "户主姓名": ("开户人", "持卡人", "机主姓名", "户名", "姓名"),
        "户主身份证号": ("开户人身份证号", "持卡人身份证号", "机主身份证号", "身份证号"),
        "机构": ("开户行", "开户银行", "运营商", "平台", "所属平台"),
        "金额": ("止付金额", "冻结金额", "涉案金额"),
        "状态": ("办理状态", "处置状态", "结果"),
        "申请时间": ("提交时间", "发起时间", "日期"),
        "完成时间": ("办结时间", "反馈时间"),
        "地址": ("户籍地址", "现住址", "开户地址"),
        "备注": ("说明",),
    },
    required=("类别", "账号"),
)
KIND_WORDS = {"快速查询": "query", "查询": "query", "止付": "stop_payment", "紧急止付": "stop_payment", "冻结": "freeze", "断卡": "card_lead",
              "断卡线索": "card_lead", "两卡": "card_lead", "涉诈两卡": "card_lead", "封号": "account_block",
              "封停": "account_block", "封禁": "account_block"}
TARGET_WORDS = {"银行卡": "bank_card", "银行账户": "bank_card", "电话卡": "phone_card", "手机卡": "phone_card",
                "手机号": "phone_card", "微信": "wechat", "qq": "qq", "支付宝": "alipay", "app": "app",
                "app账号": "app", "其他": "other"}
STATUS_WORDS = {v: k for k, v in ACTION_STATUSES.items()} | {"申请": "requested", "已提交": "requested",
                                                            "成功": "done", "已办结": "done", "已止付": "done",
                                                            "已冻结": "done", "已封停": "done", "失败": "failed",
                                                            "移交": "referred"}


def mask_target(value: str | None) -> str:
    """Card and account numbers as phones are shown: the first and last digits only (6222****1234)."""
    if not value:
        return ""
    if len(value) >= 12:
        return value[:4] + "****" + value[-4:]
    return mask_phone(value)


def _word(table: dict[str, str], keys: dict[str, str], text: str) -> str | None:
    word = text.strip().lower()
    if word in keys:
        return word
    return table.get(word) or next((v for k, v in table.items() if k in word), None) or next(
        (k for k, label in keys.items() if label.lower() == word), None)


def guess_target_type(target: str) -> str:
    if re.fullmatch(r"1[3-9]\d{9}", target):
        return "phone_card"
    if re.fullmatch(r"\d{15,19}", target):
        return "bank_card"
    return "other"


def parse_action(row: dict[str, object]) -> dict:
    kind_text = clean(row.get("类别"))
    kind = _word(KIND_WORDS, ACTION_KINDS, kind_text)
    if kind is None:
        raise RowRejected("类别", f"类别 无法识别：{kind_text}（应为快速查询、止付、冻结、断卡线索或封号）")
    target = re.sub(r"[\s\-]", "", clean(row.get("账号")))
    if not target or len(target) > 64 or not re.fullmatch(r"[0-9A-Za-z_@.+]+", target):
        raise RowRejected("账号", "账号 为空或含有不允许的字符")
    type_text = clean(row.get("对象类型"))
    target_type = _word(TARGET_WORDS, ACTION_TARGET_TYPES, type_text) if type_text else guess_target_type(target)
    if target_type is None:
        raise RowRejected("对象类型", f"对象类型 无法识别：{type_text}")
    holder_id = clean(row.get("户主身份证号"))
    try:
        holder_id = normalize_id_number(holder_id) if holder_id else None
    except ValueError as exc:
        raise RowRejected("户主身份证号", f"户主{exc}") from exc
    amount_text = clean(row.get("金额"))
    if amount_text.startswith("-"):
        raise RowRejected("金额", f"金额 不能为负数：{amount_text}")
    try:
        amount = parse_money(amount_text, name="金额") or Decimal(0)
    except ValueError as exc:
        raise RowRejected("金额", str(exc)) from exc
    status_text = clean(row.get("状态"))
    status = _word(STATUS_WORDS, ACTION_STATUSES, status_text) if status_text else "requested"
    if status is None:
        raise RowRejected("状态", f"状态 无法识别：{status_text}（应为已申请、已完成、未成功或已移交）")
    times: dict[str, datetime | None] = {}
    for column in ("申请时间", "完成时间"):
        try:
            times[column] = parse_datetime(row.get(column)) if clean(row.get(column)) else None
        except ValueError as exc:
            raise RowRejected(column, f"{column} {exc}") from exc
    requested_at = times["申请时间"] or utcnow()
    if times["完成时间"] and times["完成时间"] < requested_at:
        raise RowRejected("完成时间", "完成时间 早于申请时间")
    return {"kind": kind, "target": target, "target_type": target_type, "case_number": clean(row.get("案件编号")),
            "holder_name": clean(row.get("户主姓名"))[:32].translate(_SOFT), "holder_id_number": holder_id,
            "institution": clean(row.get("机构"))[:64].translate(_SOFT), "amount": amount, "status": status,
            "requested_at": requested_at, "done_at": times["完成时间"] or (requested_at if status == "done" else None),
            "address": clean(row.get("地址"))[:200], "note": clean(row.get("备注"))[:2000].translate(_SOFT)}


def action_visible(scope: Scope):
    return scope.records_clause(CaseAction.community_id)


def make_handler(session: Session, scope: Scope):
    matcher = AddressMatcher(session, None if scope.is_centre else scope)

    def handle(row: dict[str, object]) -> str:
        a = parse_action(row)
        case = None
        if a["case_number"]:
            case = session.scalar(select(Case).where(Case.case_number == a["case_number"], visible(scope)))
            if case is None:
                raise RowRejected("案件编号", f"案件编号 {a['case_number']} 不存在或不在您的管辖范围内")
        community_id = case.community_id if case else (matcher.match(a["address"]) if a["address"] else None)
        if community_id is None and not scope.is_centre:
            raise RowRejected("地址", "无法定位到您辖区内的村/社区（请填写案件编号或地址）")
        known = session.scalar(select(CaseAction).where(
            CaseAction.kind == a["kind"], CaseAction.target == a["target"],
            CaseAction.case_id == case.id if case else CaseAction.case_id.is_(None)))
        if known is not None:
            if session.scalar(select(CaseAction.id).where(CaseAction.id == known.id, action_visible(scope))) is None:
                raise RowRejected("账号", "该账号的同类记录已由其他辖区登记")
            changed = False
            if a["status"] == "requested":  # a list that still says 已申请 never takes back a later answer
                a["status"], a["done_at"] = None, None
            for key in ("status", "done_at", "amount"):
                if a[key] and getattr(known, key) != a[key]:
                    setattr(known, key, a[key])
                    changed = True
            return "updated" if changed else "duplicate"
        fields = {k: v for k, v in a.items() if k not in ("case_number", "address")}
        session.add(CaseAction(**fields, case_id=case.id if case else None, community_id=community_id,
                               created_by=scope.user_id))
        session.flush()
        return "created"

    return handle


def add(session: Session, scope: Scope, case_id: int, raw: dict) -> CaseAction:
    """One action entered on a case page or through the API, checked as an imported row."""
    scope.require(Perm.WRITE_CASES)
    case = session.scalar(select(Case).where(Case.id == case_id, visible(scope)))
    if case is None:
        raise NotFound("案件不存在或不在您的管辖范围内")
    try:
        a = parse_action({**raw, "案件编号": case.case_number})
    except RowRejected as exc:
        raise Invalid(exc.reason, details=[{"loc": [exc.column], "msg": exc.reason}]) from exc
    fields = {k: v for k, v in a.items() if k not in ("case_number", "address")}
    action = CaseAction(**fields, case_id=case.id, community_id=case.community_id, created_by=scope.user_id)
    if action.status == "requested" and action.kind in ("query", "stop_payment", "freeze"):
        from fanzha.cases.requests.service import deadline_for  # a case's request waits in the centre's queue too

        action.deadline_at = deadline_for(action.kind, action.requested_at)
    session.add(action)
    session.flush()
    audit.record(session, scope, "create", "case_action", action.id, fields=["id_number"] if a["holder_id_number"]
                 else [], detail={"case_id": case.id, "kind": action.kind})
    return action


def list_for_case(session: Session, scope: Scope, case_id: int) -> list[CaseAction]:
    scope.require(Perm.READ_CASES)
    if session.scalar(select(Case.id).where(Case.id == case_id, visible(scope))) is None:
        raise NotFound("案件不存在或不在您的管辖范围内")
    rows = list(session.scalars(select(CaseAction).where(CaseAction.case_id == case_id)
                                .order_by(CaseAction.requested_at, CaseAction.id)))
    if rows:
        audit.record(session, scope, "view", "case_action", "", fields=["id_number"],
                     detail={"case_id": case_id, "ids": [a.id for a in rows]})
    return rows


def search(session: Session, scope: Scope, *, kind: str = "", limit: int = 50, offset: int = 0) -> list[CaseAction]:
    """Actions within the user's areas, newest first (leads without a case included)."""
    scope.require(Perm.READ_CASES)
    stmt = select(CaseAction).where(action_visible(scope)).options(joinedload(CaseAction.case))
    if kind:
        stmt = stmt.where(CaseAction.kind == kind)
    rows = list(session.scalars(stmt.order_by(CaseAction.requested_at.desc(), CaseAction.id.desc())
                                .limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "case_action", "", fields=["id_number"],
                     detail={"ids": [a.id for a in rows]})
    return rows


def shown(action: CaseAction, full: bool) -> dict[str, str]:
    """Target and holder as a page or the API shows them: masked unless `full`."""
    return {"target": action.target if full else mask_target(action.target),
            "holder_id_number": (action.holder_id_number or "") if full else mask_id_number(action.holder_id_number)}


register(Importer(kind="case_action", label="止付/冻结/断卡线索/封号名单", columns=COLUMNS, make_handler=make_handler,
                  permission="write_cases", personal=("name", "id_number", "phone"),
                  template_example=[["断卡线索", "6222020200112233445", "银行卡", "JZ2026000001", "李某某", "",
                                     "中国工商银行江州支行", "", "已移交", "2026-03-06 09:00", "", "", "涉案一级卡"]]))
