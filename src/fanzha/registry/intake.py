"""Member units' lists of vulnerable people (易受骗群体名单) through the one import path.

A row names a person by 身份证号 (checksum validated; 15 digits widened), else by 手机号. Someone already on file
gets the row's groups added; a name, phone, unit or community that disagrees with the record keeps the record (the
first list wins) and the disagreement is written down with the row (RegistryEntry.note). Someone new is placed on a
community through the standard address list; an address that matches none goes to the 待落地 list with its reason.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.addresses.service import AddressMatcher
from fanzha.common.ages import age_on
from fanzha.common.identity import id_number_birth_date, id_number_gender, mask_phone
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, Tally, identity_cells, register
from fanzha.imports.values import clean
from fanzha.org.enums import GROUPS
from fanzha.org.groups import ELDERLY_AGE, parse_groups
from fanzha.org.models import Unit
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.schemas import NAME_PATTERN
from fanzha.registry.models import RegistryEntry, RegistryUnplaced

COLUMNS = Columns(
    aliases={
        "姓名": ("人员姓名", "名字", "学生姓名", "教师姓名", "纳税人姓名", "联系人"),
        "身份证号": ("身份证号码", "证件号码", "公民身份号码", "身份证", "证件号"),
        "手机号": ("手机号码", "联系电话", "电话", "手机", "联系方式"),
        "人群类别": ("群体", "群体类别", "人员类别", "类别", "易受骗群体", "人员类型", "身份"),
        "单位": ("所在单位", "工作单位", "学校", "单位名称", "报送单位", "企业名称"),
        "住址": ("地址", "现住址", "居住地址", "家庭住址", "户籍地址", "详细地址"),
    },
    required=("姓名",),
)


def _unit(session: Session, text: str, cache: dict[str, Unit | None]) -> Unit | None:
    if text not in cache:
        cache[text] = session.scalar(select(Unit).where((Unit.name == text) | (Unit.code == text.upper())).limit(1))
    return cache[text]


def run_registry(session: Session, scope: Scope, rows, batch_id: int | None) -> Tally:
    import re

    units: dict[str, Unit | None] = {}
    in_scope = scope.community_clause(Person.community_id)
    # The city's own centre (市局) reaches every community: no need to ask per row. A 分局 is asked.
    matcher = AddressMatcher(session, None if scope.at_root else scope)  # new people land only in one's own areas
    tally = Tally()
    today = local_day(utcnow())

    def handle(number: int, row: dict[str, object]) -> str:
        name = clean(row.get("姓名"))
        if not re.fullmatch(NAME_PATTERN, name):
            raise RowRejected("姓名", f"姓名 为空或格式不对：{name[:20]}")
        id_number, phone = identity_cells(row)
        if not id_number and not phone:
            raise RowRejected("身份证号", "身份证号和手机号至少填写一项")
        unit_text = clean(row.get("单位"))[:100]
        unit = _unit(session, unit_text, units) if unit_text else None
        groups, unknown = parse_groups(clean(row.get("人群类别")))
        if unknown:
            raise RowRejected("人群类别", f"未知的人群类别：{'、'.join(unknown)}（可用：{'、'.join(GROUPS.values())}）")
        if not groups and unit is not None and len(unit.duty_groups or []) == 1:
            groups = list(unit.duty_groups)  # a school's list needs no 类别 column: the unit has one duty group
        if not groups:
            raise RowRejected("人群类别", "人群类别 为空，且单位不能确定群体")
        notes = []
        age = age_on(id_number_birth_date(id_number), today) if id_number else None
        if "elderly" in groups and age is not None and age < ELDERLY_AGE:  # the ID number outranks the list
            groups = [g for g in groups if g != "elderly"]
            notes.append(f"名单列为老年人，但按身份证号为 {age} 岁，未计入老年人")
            if not groups:
                raise RowRejected("人群类别", f"名单列为老年人，但按身份证号为 {age} 岁")
        if unit_text and unit is None:
            notes.append(f"单位“{unit_text}”不在成员单位名录中")
        address = clean(row.get("住址"))[:200]
        person = None
        if id_number:
            person = session.scalar(select(Person).where(Person.id_number == id_number))
            if person is not None and not scope.at_root and not session.scalar(
                    select(Person.id).where(Person.id == person.id, in_scope)):
                raise RowRejected("身份证号", "该身份证号的人员登记在您的辖区以外，请由其辖区或反诈中心导入")
        if person is None and phone:
            found = session.scalar(select(Person).where(Person.phone == phone, in_scope).order_by(Person.id).limit(1))
            if found is not None and not (id_number and found.id_number and found.id_number != id_number):
                person = found
        if person is None:
            community_id = matcher.match(address) if address else None
            if community_id is None:
                reason = "住址为空" if not address else f"住址“{address[:40]}”未匹配到标准地址"
                return "unplaced:" + reason
            person = Person(name=name, id_number=id_number, phone=phone, community_id=community_id,
                            address=address, groups=groups, unit_id=unit.id if unit else None)
            if id_number:
                person.gender, person.birth_date = id_number_gender(id_number), id_number_birth_date(id_number)
            session.add(person)
            session.flush()
            outcome = "created"
        else:
            outcome = _merge(session, matcher, person, name=name, id_number=id_number, phone=phone, address=address,
                             unit=unit, groups=groups, notes=notes)
        session.add(RegistryEntry(person_id=person.id, batch_id=batch_id, row_number=number, groups=groups,
                                  unit_id=unit.id if unit else None, note="；".join(notes)))
        return outcome

    for number, row in rows:
        tally.read += 1
        try:
            with session.begin_nested():
                result = handle(number, row)
        except RowRejected as exc:
            tally.rejected += 1
            tally.errors.append((number, exc.column, exc.reason, {k: _text(v) for k, v in row.items()}))
            continue
        if result.startswith("unplaced:"):
            reason = result.removeprefix("unplaced:")
            _hold(session, scope, batch_id, number, row, reason)
            tally.rejected += 1
            tally.errors.append((number, "住址", f"{reason}，已列入待落地名单", {k: _text(v) for k, v in row.items()}))
        elif result == "created":
            tally.created += 1
        elif result == "updated":
            tally.updated += 1
        else:
            tally.duplicates += 1
    if batch_id is not None or tally.read:
        from fanzha.audit import service as audit

        audit.record(session, scope, "create", "registry_entry", batch_id or "",
                     fields=["name", "id_number", "phone"], detail=tally.summary())
    return tally


def _text(value: object) -> object:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def _merge(session: Session, matcher: AddressMatcher, person: Person, *, name: str, id_number: str | None,
           phone: str | None, address: str, unit: Unit | None, groups: list[str], notes: list[str]) -> str:
    """Adds groups and fills blanks; anything that disagrees keeps the record and is noted."""
    changed = False
    if name != person.name:
        notes.append(f"姓名不一致：名单为“{name}”，保留已登记的“{person.name}”")
    if phone and person.phone and phone != person.phone:
        notes.append(f"手机号不一致：名单为 {mask_phone(phone)}，保留已登记的 {mask_phone(person.phone)}")
    elif phone and not person.phone:
        person.phone, changed = phone, True
    if id_number and not person.id_number:
        person.id_number, changed = id_number, True
        person.gender, person.birth_date = id_number_gender(id_number), id_number_birth_date(id_number)
    if unit is not None and person.unit_id and person.unit_id != unit.id:
        notes.append(f"单位不一致：名单为“{unit.name}”，保留已登记的单位")
    elif unit is not None and not person.unit_id:
        person.unit_id, changed = unit.id, True
    if address:
        community_id = matcher.match(address)
        if community_id is not None and community_id != person.community_id:
            notes.append(f"住址“{address[:40]}”指向另一村/社区，保留已登记的村/社区")
        if not person.address:
            person.address, changed = address, True
    merged = sorted(set(person.groups or []) | set(groups))
    if merged != sorted(person.groups or []):
        person.groups, changed = merged, True
    return "updated" if changed else "duplicate"


def _hold(session: Session, scope: Scope, batch_id: int | None, number: int, row: dict, reason: str) -> None:
    id_number, phone = identity_cells(row)
    groups, _ = parse_groups(clean(row.get("人群类别")))
    unit_text = clean(row.get("单位"))[:100]
    unit = session.scalar(select(Unit).where((Unit.name == unit_text) | (Unit.code == unit_text.upper())).limit(1)
                          ) if unit_text else None
    if not groups and unit is not None and len(unit.duty_groups or []) == 1:
        groups = list(unit.duty_groups)
    same = [RegistryUnplaced.id_number == id_number] if id_number else [RegistryUnplaced.phone == phone]
    held = session.scalar(select(RegistryUnplaced).where(RegistryUnplaced.person_id.is_(None), *same).limit(1))
    if held is not None:  # on two lists and placed by neither: one entry to place, with both lists' groups
        held.groups = sorted(set(held.groups or []) | set(groups))
        return
    session.add(RegistryUnplaced(batch_id=batch_id, row_number=number, name=clean(row.get("姓名"))[:32],
                                 id_number=id_number, phone=phone, address=clean(row.get("住址"))[:200],
                                 groups=groups, unit_id=unit.id if unit else None, reason=reason[:255],
                                 area_id=scope.area_id or None))
    session.flush()


register(Importer(kind="registry", label="易受骗群体名单", columns=COLUMNS, bulk=run_registry,
                  permission="manage_registry", personal=("name", "id_number", "phone"),
                  template_example=[["张某某", "11010519491231002X", "13800000000", "老年人、理财投资", "江州市民政局",
                                     "中山和平路88号"]]))
