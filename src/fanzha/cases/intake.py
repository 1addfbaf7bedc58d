"""Cases come in by the same path as warnings: one row check, shared by the form, the API and CSV/XLSX files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.addresses.service import AddressMatcher
from fanzha.cases.models import Case
from fanzha.common.money import parse_money
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, identity_cells, register
from fanzha.imports.values import clean, parse_datetime
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.service import find as find_person
from fanzha.warnings.enums import FRAUD_TYPE_ALIASES, FRAUD_TYPES, lookup

COLUMNS = Columns(
    aliases={
        "案件编号": ("立案编号", "案件编码", "警情编号", "案号"),
        "立案时间": ("立案日期", "受案时间"),
        "被骗时间": ("损失时间", "发案时间", "案发时间", "转账时间"),
        "姓名": ("受害人", "受害人姓名", "事主姓名"),
        "身份证号": ("身份证号码", "证件号码", "公民身份号码"),
        "手机号": ("手机号码", "联系电话", "电话"),
        "发案地址": ("案发地址", "现住址", "地址", "发案地点"),
        "诈骗类型": ("案件类型", "涉诈类型", "案件类别"),
        "损失金额": ("被骗金额", "涉案金额", "金额", "损失金额（元）"),
        "简要案情": ("案情", "案情简介", "备注"),
    },
    required=("案件编号", "立案时间"),
)


@dataclass
class CaseDraft:
    case_number: str
    filed_at: datetime
    loss_at: datetime
    name: str
    id_number: str | None
    phone: str | None
    address: str
    fraud_type: str
    loss_amount: Decimal
    narrative: str


def parse_row(row: dict[str, object]) -> CaseDraft:
    number = clean(row.get("案件编号"))
    if not number or len(number) > 64 or not re.fullmatch(r"[0-9A-Za-z_\-.:/\u4e00-\u9fff]+", number):
        raise RowRejected("案件编号", "案件编号 为空或含有不允许的字符")
    try:
        filed_at = parse_datetime(row.get("立案时间"))
    except ValueError as exc:
        raise RowRejected("立案时间", f"立案时间 {exc}") from exc
    loss_text = row.get("被骗时间")
    try:
        loss_at = parse_datetime(loss_text) if clean(loss_text) else filed_at
    except ValueError as exc:
        raise RowRejected("被骗时间", f"被骗时间 {exc}") from exc
    if loss_at > filed_at:
        raise RowRejected("被骗时间", "被骗时间 晚于立案时间")
    id_number, phone = identity_cells(row)
    try:
        amount = parse_money(clean(row.get("损失金额")), name="损失金额") or Decimal(0)
    except ValueError as exc:
        raise RowRejected("损失金额", str(exc)) from exc
    type_text = clean(row.get("诈骗类型"))
    fraud_type = (lookup(FRAUD_TYPE_ALIASES, type_text) or (type_text if type_text in FRAUD_TYPES else "other")
                  ) if type_text else "other"
    soft = str.maketrans({"'": "’", '"': "”", ";": "；", "<": "〈", ">": "〉", "\\": "＼"})
    return CaseDraft(number, filed_at, loss_at, clean(row.get("姓名"))[:32].translate(soft), id_number, phone,
                     clean(row.get("发案地址"))[:200].translate(soft), fraud_type, amount.quantize(Decimal("0.01")),
                     clean(row.get("简要案情"))[:5000].translate(soft))


def make_handler(session: Session, scope: Scope):
    matcher = AddressMatcher(session, None if scope.is_centre else scope)

    def handle(row: dict[str, object]) -> str:
        d = parse_row(row)
        if session.scalar(select(Case.id).where(Case.case_number == d.case_number)):
            return "duplicate"
        # Only people within the user's areas are matched: a case never reveals where someone lives elsewhere.
        person = find_person(session, d.id_number, d.phone, where=scope.community_clause(Person.community_id))
        community_id = matcher.match(d.address) if d.address else None
        if community_id is None and person is not None:
            community_id = person.community_id
        session.add(Case(case_number=d.case_number, person_id=person.id if person else None, name=d.name,
                         id_number=d.id_number, phone=d.phone, community_id=community_id, address=d.address,
                         filed_at=d.filed_at, loss_at=d.loss_at, fraud_type=d.fraud_type, loss_amount=d.loss_amount,
                         narrative=d.narrative, source="import"))
        session.flush()
        return "created"

    return handle


register(Importer(kind="case", label="案件", columns=COLUMNS, make_handler=make_handler, permission="write_cases",
                  template_example=[["JZ2026000001", "2026-03-05 16:00", "2026-03-05 10:20", "张某某",
                                     "11010519491231002X", "13800000000", "中山和平路88号", "冒充公检法及政府机关", "95.5万",
                                     "对方自称公安民警，以涉嫌洗钱为由要求转账至安全账户"]]))
