"""Cases come in by the same path as warnings: one row check, shared by the form, the API and CSV/XLSX files.

The register is idempotent by 案件编号. A row whose number is already on file updates that case (see `refresh`):
police exports are re-sent as the 打 side moves on (破案, 抓获, 追回 arrive weeks after 立案), so a later file
carries the same cases with more filled in. What a re-import may change is written once, in UPDATE_RULES.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fanzha.addresses.service import AddressMatcher
from fanzha.cases.models import Case, CaseAction
from fanzha.cases.profile import PREVENTABLE_WORDS, SEX_WORDS, UnitMatcher, lookup_channel, victim_profile
from fanzha.common.errors import not_here
from fanzha.common.money import parse_money
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_ALIASES, FRAUD_TYPE_LABELS
from fanzha.dissuasion.followups import service as follow_ups
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, identity_cells, register
from fanzha.imports.values import clean, clean_text, parse_datetime, parse_int
from fanzha.links import records as link_records
from fanzha.links import store as links
from fanzha.links.rules import COUNTERPARTY_COLUMNS, BadIdentifier, Identifier
from fanzha.links.rules import from_row as counterparties_of
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.service import find as find_person
from fanzha.warnings.enums import lookup

COLUMNS = Columns(
    aliases={
        "案件编号": ("立案编号", "案件编码", "警情编号", "案号"),
        "立案时间": ("立案日期", "受案时间"),
        "被骗时间": ("损失时间", "发案时间", "案发时间", "转账时间"),
        "姓名": ("受害人", "受害人姓名", "事主姓名"),
        "身份证号": ("身份证号码", "证件号码", "公民身份号码", "受害人身份证号"),
        "手机号": ("手机号码", "联系电话", "电话", "受害人联系电话"),
        "发案地址": ("案发地址", "现住址", "地址", "发案地点"),
        "诈骗类型": ("案件类型", "涉诈类型", "案件类别"),
        "损失金额": ("被骗金额", "涉案金额", "金额", "损失金额（元）"),
        "简要案情": ("案情", "案情简介", "备注", "简要案情描述"),
        "追回金额": ("返还金额", "挽损金额", "追缴金额", "追赃金额"),
        "冻结金额": ("冻结资金", "已冻结金额"),
        "止付金额": ("紧急止付金额", "止付资金"),
        "破案时间": ("破案日期",),
        "抓获人数": ("抓获犯罪嫌疑人", "抓获嫌疑人数", "抓获犯罪嫌疑人数", "抓获数"),
        "抓获时间": ("抓获日期",),
        "诈骗渠道": ("接触方式", "联系方式", "诈骗途径", "接触渠道"),
        "受害人性别": ("性别",),
        "受害人年龄": ("年龄",),
        "受害人职业": ("职业",),
        "工作单位": ("受害人工作单位", "单位", "所在单位"),
        "可防性": ("是否可防", "可防性案件", "是否可防性案件"),
        "对方账号": ("对方账户", "收款账号", "涉诈账号", "嫌疑账号", "收款账户", "转入账号"),
        **COUNTERPARTY_COLUMNS,
    },
    required=("案件编号", "立案时间"),
)
# What a re-import (same 案件编号) may change; everything else stays as registered and is corrected on the case page.
UPDATE_RULES = {
    "replace": ("solved_at", "suspects_caught", "caught_at", "recovered_amount", "frozen_amount", "stop_amount"),
    "fill": ("channel", "victim_sex", "victim_age", "victim_occupation", "employer_name", "preventable", "narrative"),
    "kept": ("filed_at", "loss_at", "loss_amount", "name", "id_number", "phone", "address"),
}
_SOFT = str.maketrans({"'": "’", '"': "”", ";": "；", "<": "〈", ">": "〉", "\\": "＼"})


def _read_cases(session: Session, ids: set[int]) -> dict[int, Case]:
    """The cases a 回访 belongs to, for its list (dissuasion.followups.service shows their victim and 案件编号)."""
    return {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}


follow_ups.read_cases_with(_read_cases)


@dataclass
class CaseDraft:
    case_number: str
    filed_at: datetime
    loss_at: datetime
    name: str
    id_number: str | None
    phone: str | None
    address: str
    fraud_type: str  # "" when the row gave none
    loss_amount: Decimal
    narrative: str
    recovered_amount: Decimal | None = None
    frozen_amount: Decimal | None = None
    stop_amount: Decimal | None = None
    solved_at: datetime | None = None
    suspects_caught: int | None = None
    caught_at: datetime | None = None
    channel: str = ""
    victim_sex: str = ""
    victim_age: int | None = None
    victim_occupation: str = ""
    employer_name: str = ""
    preventable: bool | None = None
    counterparties: list[Identifier] = field(default_factory=list)  # 对方电话/账号/网址/APP/社交账号 (links.rules)
    given: set[str] = field(default_factory=set)  # fields the row filled in


def _time(row: dict, column: str) -> datetime | None:
    if not clean(row.get(column)):
        return None
    try:
        return parse_datetime(row.get(column))
    except ValueError as exc:
        raise RowRejected(column, f"{column} {exc}") from exc


def _money(row: dict, column: str) -> Decimal | None:
    text = clean(row.get(column))
    if text.startswith(("-", "－")):
        raise RowRejected(column, f"{column} 不能为负数：{text}")
    try:
        return parse_money(text, name=column)
    except ValueError as exc:
        raise RowRejected(column, str(exc)) from exc


def _not_future(value: datetime | None, column: str) -> None:
    if value is not None and value > utcnow() + timedelta(days=1):
        raise RowRejected(column, f"{column} 晚于当前时间")


def parse_row(row: dict[str, object]) -> CaseDraft:
    number = clean(row.get("案件编号"))
    if not number or len(number) > 64 or not re.fullmatch(r"[0-9A-Za-z_\-.:/\u4e00-\u9fff]+", number):
        raise RowRejected("案件编号", "案件编号 为空或含有不允许的字符")
    filed_at = _time(row, "立案时间")
    if filed_at is None:
        raise RowRejected("立案时间", "立案时间 时间为空")
    loss_at = _time(row, "被骗时间") or filed_at
    if loss_at > filed_at:
        raise RowRejected("被骗时间", "被骗时间 晚于立案时间")
    id_number, phone = identity_cells(row)
    type_text = clean(row.get("诈骗类型"))
    fraud_type = (lookup(FRAUD_TYPE_ALIASES, type_text) or (type_text if type_text in FRAUD_TYPE_LABELS else "other")
                  ) if type_text else ""
    d = CaseDraft(number, filed_at, loss_at, clean_text(row.get("姓名"))[:32].translate(_SOFT), id_number, phone,
                  clean_text(row.get("发案地址"))[:200].translate(_SOFT), fraud_type, _money(row, "损失金额") or Decimal(0),
                  clean_text(row.get("简要案情"))[:5000].translate(_SOFT))
    d.recovered_amount, d.frozen_amount, d.stop_amount = (_money(row, c) for c in ("追回金额", "冻结金额", "止付金额"))
    d.solved_at = _time(row, "破案时间")
    if d.solved_at is not None and d.solved_at < filed_at:
        raise RowRejected("破案时间", "破案时间 早于立案时间")
    _not_future(d.solved_at, "破案时间")
    d.caught_at = _time(row, "抓获时间")
    if d.caught_at is not None and d.caught_at < loss_at:
        raise RowRejected("抓获时间", "抓获时间 早于被骗时间")
    _not_future(d.caught_at, "抓获时间")
    if clean(row.get("抓获人数")):
        try:
            d.suspects_caught = parse_int(row.get("抓获人数"), name="抓获人数")
        except ValueError as exc:
            raise RowRejected("抓获人数", str(exc)) from exc
        if d.suspects_caught > 1000:
            raise RowRejected("抓获人数", f"抓获人数 超出合理范围：{d.suspects_caught}")
    channel_text = clean(row.get("诈骗渠道"))
    if channel_text:
        d.channel = lookup_channel(channel_text) or ""
        if not d.channel:
            raise RowRejected("诈骗渠道", f"诈骗渠道 无法识别：{channel_text}（可填电话、短信、社交软件、手机APP、网站、游戏、直播、其他）")
    _victim(row, d)
    try:
        d.counterparties = counterparties_of(row, victim_phone=phone, victim_id_number=id_number)
    except BadIdentifier as exc:
        raise RowRejected(exc.column, exc.reason) from exc
    d.given = {k for k in ("recovered_amount", "frozen_amount", "stop_amount", "solved_at", "suspects_caught",
                           "caught_at", "victim_age", "preventable") if getattr(d, k) is not None}
    d.given |= {k for k in ("channel", "victim_sex", "victim_occupation", "employer_name", "narrative", "fraud_type")
                if getattr(d, k)}
    return d


def _victim(row: dict, d: CaseDraft) -> None:
    sex = clean(row.get("受害人性别")).lower()
    if sex:
        if sex not in SEX_WORDS:
            raise RowRejected("受害人性别", f"受害人性别 应为男或女：{sex}")
        d.victim_sex = SEX_WORDS[sex]
    age = clean(row.get("受害人年龄")).removesuffix("岁").removesuffix("周岁")
    if age:
        if not age.isdigit() or not 0 <= int(age) <= 120:
            raise RowRejected("受害人年龄", f"受害人年龄 应为0—120的整数：{age}")
        d.victim_age = int(age)
    d.victim_occupation = clean_text(row.get("受害人职业"))[:32].translate(_SOFT)
    d.employer_name = clean_text(row.get("工作单位"))[:100].translate(_SOFT)
    word = clean(row.get("可防性")).lower()
    if word:
        if word not in PREVENTABLE_WORDS:
            raise RowRejected("可防性", f"可防性 应为是/否（可防/不可防）：{word}")
        d.preventable = PREVENTABLE_WORDS[word]


def suggest(narrative: str) -> tuple[str, float] | None:
    """The type the narrative model suggests, or None (no narrative, no model installed, nothing it trusts)."""
    if not narrative.strip():
        return None
    try:
        from fanzha.cases.suggest import suggest_type
    except ImportError:
        return None
    found = suggest_type(narrative)
    if not found or found[0] not in FRAUD_TYPE_LABELS:
        return None
    return found[0], float(found[1])


UNPLACED = "发案地址无法匹配到您辖区内的村/社区（也没有您辖区内的受害人可依），本行未登记：请写明村/社区或标准地址，或交反诈中心登记"


def visible(scope: Scope):
    return scope.records_clause(Case.community_id)


# How links reads cases: a record's links, the centre's list, and the open cases a new warning matches (filed within
# the configured days, or not solved).
link_records.register(link_records.Records(
    kind="case", label="案件", perm=Perm.READ_CASES, model=Case, visible=visible, number=Case.case_number,
    at=Case.filed_at, amount=Case.loss_amount, loss=Case.loss_amount,
    open=lambda since: or_(Case.filed_at >= since, Case.solved_at.is_(None))))


class Register:
    """Writes drafts into the register for one user: new cases, and re-imports of known ones."""

    def __init__(self, session: Session, scope: Scope):
        self.session, self.scope = session, scope
        self.addresses = AddressMatcher(session, None if scope.is_centre else scope)
        self.units = UnitMatcher(session)

    def create(self, d: CaseDraft, source: str = "import") -> Case:
        # Only people within the user's areas are matched: a case never reveals where someone lives elsewhere.
        person = find_person(self.session, d.id_number, d.phone, where=self.scope.community_clause(Person.community_id))
        community_id = self.addresses.match(d.address) if d.address else None
        if community_id is None and person is not None:
            community_id = person.community_id
        if community_id is None and not self.scope.is_centre:
            # A case nobody of the station could see or correct: refused, as the form refuses it (the centre may
            # register an unplaced case, which its own lists show).
            raise RowRejected("发案地址", UNPLACED)
        case = Case(case_number=d.case_number, person_id=person.id if person else None, name=d.name,
                    id_number=d.id_number, phone=d.phone, community_id=community_id, address=d.address,
                    filed_at=d.filed_at, loss_at=d.loss_at, fraud_type=d.fraud_type or "other",
                    loss_amount=d.loss_amount.quantize(Decimal("0.01")), narrative=d.narrative, source=source,
                    type_status="given", recovered_amount=Decimal(0), frozen_amount=Decimal(0), suspects_caught=0)
        if not d.fraud_type:
            found = suggest(d.narrative)
            if found:
                case.fraud_type, case.type_confidence = found
                case.type_status = "suggested"
        self.describe(case, d, person)
        self.session.add(case)
        self.session.flush()
        self.stop_payment(case, d.stop_amount)
        links.add(self.session, "case", [(case.id, d.counterparties)])
        follow_ups.schedule_for_case(self.session, case, utcnow())  # its victim's 回访, a week after filing
        return case

    def describe(self, case: Case, d: CaseDraft, person: Person | None) -> None:
        """The 打 side and the victim's profile, from the draft (as given) and the person (derived)."""
        for key in ("recovered_amount", "frozen_amount", "suspects_caught"):
            if getattr(d, key) is not None:
                setattr(case, key, getattr(d, key))
        case.solved_at, case.caught_at = d.solved_at, d.caught_at
        case.channel, case.preventable = d.channel, d.preventable
        case.victim_occupation = d.victim_occupation
        case.employer_unit_id = self.units.match(d.employer_name)
        if case.employer_unit_id is None and person is not None and not d.employer_name:
            case.employer_unit_id = person.unit_id
        case.employer_name = "" if case.employer_unit_id else d.employer_name  # the name only when no unit matched
        profile = victim_profile(self.session, person=person, id_number=d.id_number, loss_at=d.loss_at,
                                 sex=d.victim_sex, age=d.victim_age, occupation=d.victim_occupation)
        case.victim_sex, case.victim_age, case.victim_groups = profile.sex, profile.age, profile.groups

    def stop_payment(self, case: Case, amount: Decimal | None) -> bool:
        """止付金额 of the register row: one 止付 record per case without a named account, kept up to date."""
        if amount is None:
            return False
        action = self.session.scalar(select(CaseAction).where(CaseAction.case_id == case.id,
                                                              CaseAction.kind == "stop_payment",
                                                              CaseAction.target == ""))
        if action is not None:
            if action.amount == amount:
                return False
            action.amount = amount
            return True
        self.session.add(CaseAction(kind="stop_payment", case_id=case.id, community_id=case.community_id,
                                    amount=amount, status="done", requested_at=case.filed_at,
                                    note="案件登记表中的止付金额", created_by=self.scope.user_id))
        return True

    def refresh(self, case: Case, d: CaseDraft) -> bool:
        """A re-imported row: the 打 side replaced, empty descriptions filled, the registration kept. True if changed."""
        changed = False
        for key in UPDATE_RULES["replace"][:-1]:
            value = getattr(d, key)
            if key in d.given and getattr(case, key) != value:
                setattr(case, key, value)
                changed = True
        if case.solved_at is not None and case.solved_at < case.filed_at:
            raise RowRejected("破案时间", "破案时间 早于已登记的立案时间")
        for key in UPDATE_RULES["fill"]:
            if key in d.given and getattr(case, key) in ("", None):
                if key == "employer_name":
                    if case.employer_unit_id is not None:
                        continue
                    case.employer_unit_id = self.units.match(d.employer_name)
                    case.employer_name = "" if case.employer_unit_id else d.employer_name
                else:
                    setattr(case, key, getattr(d, key))
                changed = True
                if key == "victim_occupation":
                    case.victim_groups = sorted(set(case.victim_groups or [])
                                                | set(victim_profile(self.session, person=None, id_number=None,
                                                                     loss_at=case.loss_at,
                                                                     occupation=d.victim_occupation).groups))
        if d.fraud_type and case.type_status == "suggested" and d.fraud_type != case.fraud_type:
            case.fraud_type, case.type_status, case.type_confidence = d.fraud_type, "given", None
            changed = True
        changed = self.stop_payment(case, d.stop_amount) or changed
        changed = bool(links.add(self.session, "case", [(case.id, d.counterparties)])) or changed  # new ones only
        if changed:
            case.updated_at = utcnow()
        return changed


def make_handler(session: Session, scope: Scope):
    register_ = Register(session, scope)

    def handle(row: dict[str, object]) -> str:
        d = parse_row(row)
        existing = session.scalar(select(Case).where(Case.case_number == d.case_number))
        if existing is None:
            register_.create(d)
            return "created"
        if session.scalar(select(Case.id).where(Case.id == existing.id, visible(scope))) is None:
            raise RowRejected("案件编号", not_here("案件编号"))
        return "updated" if register_.refresh(existing, d) else "duplicate"

    return handle


register(Importer(kind="case", label="案件", columns=COLUMNS, make_handler=make_handler, permission="write_cases",
                  personal=("name", "id_number", "phone"),
                  template_example=[["JZ2026000001", "2026-03-05 16:00", "2026-03-05 10:20", "张某某",
                                     "11010519491231002X", "13800000000", "中山和平路88号", "冒充公检法及政府机关", "95.5万",
                                     "对方自称公安民警，以涉嫌洗钱为由要求转账至安全账户", "2万", "10万", "", "2026-04-20",
                                     "2", "2026-04-18", "电话", "女", "", "退休教师", "", "是", "6222020000000000000",
                                     "95188123456", "", "", ""]]))
