"""APP/金钟罩注册名单: who registered on the 国家反诈中心APP or 金钟罩, and when, from the lists carriers and stations send.

A row names a person by 身份证号, else by 手机号, among the people within the importer's areas; someone not on file
is rejected with the reason (the list does not create people). A row gives either 注册类型 (APP / 金钟罩 / 两者) with
注册日期, or the dates in their own columns (APP注册日期, 金钟罩注册日期). A person keeps the earliest date known:
a later list that repeats a registration does not move it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from fanzha.common.localtime import local_day
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, identity_cells, register
from fanzha.imports.values import clean, parse_datetime
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.service import find

COLUMNS = Columns(
    aliases={
        "身份证号": ("身份证号码", "证件号码", "公民身份号码", "身份证"),
        "手机号": ("手机号码", "注册手机号", "联系电话", "电话", "手机"),
        "姓名": ("人员姓名", "用户姓名"),
        "注册类型": ("类型", "注册平台", "平台"),
        "注册日期": ("注册时间", "开通时间", "开通日期"),
        "APP注册日期": ("国家反诈中心APP注册日期", "APP注册时间", "反诈APP注册日期"),
        "金钟罩注册日期": ("金钟罩注册时间", "金钟罩开通日期", "金钟罩开通时间"),
    },
    required=(),
)


def _kinds(text: str) -> tuple[str, ...]:
    word = text.strip().lower()
    has_app = "app" in word or "反诈中心" in word
    has_jzz = "金钟罩" in word or word == "jzz"
    if word in ("两者", "都有", "均注册", "both"):
        return ("app", "jzz")
    kinds = tuple(k for k, flag in (("app", has_app), ("jzz", has_jzz)) if flag)
    if not kinds:
        raise RowRejected("注册类型", f"注册类型 无法识别：{text}（应为APP、金钟罩或两者）")
    return kinds


def _day(row: dict[str, object], column: str) -> date | None:
    if not clean(row.get(column)):
        return None
    try:
        return local_day(parse_datetime(row.get(column)))
    except ValueError as exc:
        raise RowRejected(column, f"{column} {exc}") from exc


def parse_row(row: dict[str, object]) -> tuple[str | None, str | None, dict[str, date]]:
    id_number, phone = identity_cells(row)
    if not id_number and not phone:
        raise RowRejected("身份证号", "身份证号和手机号都为空，无法找到本人")
    dates: dict[str, date] = {}
    if clean(row.get("注册类型")) or clean(row.get("注册日期")):
        day = _day(row, "注册日期")
        if day is None:
            raise RowRejected("注册日期", "注册日期 为空")
        for kind in _kinds(clean(row.get("注册类型")) or "APP"):
            dates[kind] = day
    for kind, column in (("app", "APP注册日期"), ("jzz", "金钟罩注册日期")):
        day = _day(row, column)
        if day is not None:
            dates[kind] = min(day, dates.get(kind, day))
    if not dates:
        raise RowRejected("注册日期", "没有注册日期（填注册类型和注册日期，或APP注册日期/金钟罩注册日期）")
    return id_number, phone, dates


def make_handler(session: Session, scope: Scope) -> Callable[[dict[str, object]], str]:
    def handle(row: dict[str, object]) -> str:
        id_number, phone, dates = parse_row(row)
        person = find(session, id_number, phone, where=scope.community_clause(Person.community_id))
        if person is None:
            raise RowRejected("身份证号" if id_number else "手机号", "您辖区的人员中没有此人（按身份证号、再按手机号查找）")
        changed = False
        for kind, day in dates.items():
            column = "app_registered_on" if kind == "app" else "jzz_registered_on"
            current = getattr(person, column)
            if current is None or day < current:
                setattr(person, column, day)
                changed = True
        return "updated" if changed else "duplicate"

    return handle


register(Importer(kind="app_registration", label="APP/金钟罩注册名单", columns=COLUMNS, make_handler=make_handler,
                  permission="write_cases", personal=("name", "id_number", "phone"),
                  template_example=[["11010519491231002X", "13800000000", "张某某", "金钟罩", "2026-03-01", "", ""]]))
