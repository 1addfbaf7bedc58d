"""One validation path for every warning that comes in (API, CSV, XLSX): a raw row → a WarningDraft or a reason.

Rows are keyed by the provincial export's Chinese column names; the API's JSON fields are renamed to them first.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

from fanzha.common.money import parse_money
from fanzha.common.text import check_plain, drop_control
from fanzha.detect.taxonomy import FRAUD_TYPE_ALIASES, FRAUD_TYPE_LABELS
from fanzha.imports.reader import Columns
from fanzha.imports.service import RowRejected, identity_cells
from fanzha.imports.values import clean, clean_text, parse_datetime
from fanzha.links.rules import COUNTERPARTY_COLUMNS, BadIdentifier, Identifier
from fanzha.links.rules import from_row as counterparties_of
from fanzha.warnings.enums import GRADE_ALIASES, KIND_ALIASES, KINDS, lookup

COLUMNS = Columns(
    aliases={
        "预警编号": ("预警编码", "指令编号", "预警id", "预警ID", "编号", "预警单号", "指令编码"),
        "预警类型": ("预警类别", "预警种类", "类型"),
        "预警级别": ("风险等级", "预警等级", "级别", "风险级别"),
        "预警时间": ("下发时间", "预警日期", "推送时间", "发布时间"),
        "反馈时限": ("反馈期限", "处置时限", "反馈截止时间", "时限"),
        "姓名": ("受害人姓名", "预警对象", "对象姓名", "当事人"),
        "身份证号": ("身份证号码", "公民身份号码", "证件号码", "身份证"),
        "手机号": ("手机号码", "联系电话", "电话号码", "受害人电话", "联系方式", "手机"),
        "户籍地址": ("户籍地", "户籍所在地", "户籍住址"),
        "现住址": ("现住地址", "居住地址", "现居住地", "现居住地址", "住址"),
        "涉诈类型": ("诈骗类型", "案件类型", "涉案类型"),
        "拟转账金额": ("转账金额", "涉案金额", "拟转金额", "金额", "金额（元）"),
        "对方账号": ("对方账户", "收款账号", "涉诈账号", "嫌疑账号"),
        "下发单位": ("下发机关", "推送单位", "来源单位", "预警来源"),
        "备注": ("说明", "附注", "其他说明"),
        **COUNTERPARTY_COLUMNS,
    },
    required=("预警编号", "预警类型", "预警时间"),
)

# The API's JSON names for the same columns.
API_FIELDS = {
    "external_id": "预警编号", "kind": "预警类型", "grade": "预警级别", "warned_at": "预警时间",
    "feedback_deadline": "反馈时限", "name": "姓名", "id_number": "身份证号", "phone": "手机号",
    "household_address": "户籍地址", "current_address": "现住址", "fraud_type": "涉诈类型", "amount": "拟转账金额",
    "counterparty_account": "对方账号", "issuing_unit": "下发单位", "note": "备注",
    "counterparty_phones": "对方电话", "counterparty_urls": "对方网址", "counterparty_apps": "涉诈APP",
    "counterparty_social": "对方社交账号",
}

_EXTERNAL_ID = re.compile(r"[0-9A-Za-z_\-.:/\u4e00-\u9fff]+")
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(小时|h|H|时|分钟|分|min|天|日)?")


@dataclass
class WarningDraft:
    external_id: str
    kind: str
    upstream_grade: str | None
    warned_at: datetime
    upstream_deadline: datetime | None
    name: str
    id_number: str | None
    phone: str | None
    household_address: str
    current_address: str
    fraud_type: str | None
    amount: Decimal | None
    counterparty_account: str
    issuing_unit: str
    note: str
    counterparties: list[Identifier] = field(default_factory=list)  # 对方电话/账号/网址/APP/社交账号 (links.rules)
    # Where 现住址 and 户籍地址 matched (community ids), when the checking process matched them; None: not yet.
    places: tuple[int | None, int | None] | None = None


def _text(row: dict, column: str, limit: int, *, strict: bool, fold: bool = False) -> str:
    """Free text as written; fold=True for a number-like cell (an account) whose full-width digits are folded."""
    value = (clean if fold else clean_text)(row.get(column))
    if not value:
        return ""
    if strict:
        try:
            value = check_plain(value)
        except ValueError as exc:
            raise RowRejected(column, f"{column} {exc}") from exc
    else:
        value = drop_control(value)
    if len(value) > limit:
        raise RowRejected(column, f"{column} 超过{limit}字")
    return value


def _deadline(value: object, warned_at: datetime) -> datetime | None:
    text = clean(value)
    if not text:
        return None
    m = _SPAN.fullmatch(text)
    if m and not (isinstance(value, float | int) and float(value) > 1000):
        number, unit = float(m.group(1)), m.group(2) or "小时"
        minutes = number * {"小时": 60, "h": 60, "H": 60, "时": 60, "分钟": 1, "分": 1, "min": 1, "天": 1440,
                            "日": 1440}[unit]
        if minutes <= 0 or minutes > 60 * 24 * 90:
            raise ValueError(f"反馈时限不合理：{text}")
        return warned_at + timedelta(minutes=minutes)
    return parse_datetime(value)


def _amount(value: object) -> Decimal | None:
    try:
        return parse_money(clean(value), name="拟转账金额")
    except ValueError as exc:
        raise RowRejected("拟转账金额", str(exc)) from exc


def parse_row(row: dict[str, object], *, strict: bool = False) -> WarningDraft:
    """Checks one row. strict=True (the API) refuses control characters; files drop them instead."""
    external_id = clean(row.get("预警编号"))
    if not external_id:
        raise RowRejected("预警编号", "预警编号 为空")
    if len(external_id) > 64 or not _EXTERNAL_ID.fullmatch(external_id):
        raise RowRejected("预警编号", f"预警编号 含有不允许的字符或过长：{external_id[:40]}")
    kind_text = clean(row.get("预警类型"))
    kind = lookup(KIND_ALIASES, kind_text) if kind_text else None
    if kind_text and kind is None and kind_text in KINDS:
        kind = kind_text
    if kind is None:
        raise RowRejected("预警类型", f"未知的预警类型“{kind_text}”" if kind_text else "预警类型 为空")
    grade_text = clean(row.get("预警级别"))
    upstream_grade = None
    if grade_text:
        upstream_grade = GRADE_ALIASES.get(grade_text.lower()) or GRADE_ALIASES.get(grade_text.rstrip("级"))
        if upstream_grade is None:
            raise RowRejected("预警级别", f"未知的预警级别“{grade_text}”（应为 高/中/低）")
    try:
        warned_at = parse_datetime(row.get("预警时间"))
    except ValueError as exc:
        raise RowRejected("预警时间", f"预警时间 {exc}") from exc
    try:
        upstream_deadline = _deadline(row.get("反馈时限"), warned_at)
    except ValueError as exc:
        raise RowRejected("反馈时限", f"反馈时限 {exc}") from exc
    if upstream_deadline is not None and upstream_deadline <= warned_at:
        raise RowRejected("反馈时限", "反馈时限 早于预警时间")
    id_number, phone = identity_cells(row)
    if not id_number and not phone:
        raise RowRejected("身份证号", "身份证号和手机号都为空，无法确定预警对象")
    fraud_text = clean(row.get("涉诈类型"))
    fraud_type = None
    note = _text(row, "备注", 1000, strict=strict)
    if fraud_text:
        fraud_type = lookup(FRAUD_TYPE_ALIASES, fraud_text) or (fraud_text if fraud_text in FRAUD_TYPE_LABELS else None)
        if fraud_type is None:
            fraud_type = "other"
            note = (note + "；" if note else "") + f"涉诈类型原文：{_text(row, '涉诈类型', 60, strict=strict)}"
    try:
        counterparties = counterparties_of(row, victim_phone=phone, victim_id_number=id_number)
    except BadIdentifier as exc:
        raise RowRejected(exc.column, exc.reason) from exc
    return WarningDraft(
        counterparties=counterparties, external_id=external_id, kind=kind, upstream_grade=upstream_grade, warned_at=warned_at,
        upstream_deadline=upstream_deadline, name=_text(row, "姓名", 32, strict=strict), id_number=id_number,
        phone=phone, household_address=_text(row, "户籍地址", 200, strict=strict),
        current_address=_text(row, "现住址", 200, strict=strict), fraud_type=fraud_type,
        amount=_amount(row.get("拟转账金额")), counterparty_account=_text(row, "对方账号", 64, strict=strict, fold=True),
        issuing_unit=_text(row, "下发单位", 64, strict=strict), note=note,
    )


Checked = tuple[int, dict, WarningDraft | None, tuple[str, str] | None]  # number, raw, draft or (column, reason)
PARALLEL_AFTER = 6000  # rows checked in-process before a large input gets a checking process of its own
BLOCK = 2000
AHEAD = 3  # blocks a checking process may run ahead of the writer


def _check(raw: dict, strict: bool) -> tuple[WarningDraft | None, tuple[str, str] | None]:
    try:
        return parse_row(raw, strict=strict), None
    except RowRejected as exc:
        return None, (exc.column, exc.reason)


_MATCHER = None  # in a checking process: the importing run's address matcher


def _init_checker(matcher) -> None:
    global _MATCHER
    _MATCHER = matcher


def _check_block(raws: list[dict], strict: bool) -> list[tuple[WarningDraft | None, tuple[str, str] | None]]:
    out = [_check(raw, strict) for raw in raws]
    if _MATCHER is not None:
        for draft, _ in out:
            if draft is not None:
                draft.places = tuple(_MATCHER.match(text) if text else None
                                     for text in (draft.current_address, draft.household_address))
    return out


def check_rows(rows: Iterable[tuple[int, dict]], *, strict: bool = False, processes: int | None = None,
               matcher=None) -> Iterator[Checked]:
    """Every row checked by parse_row, in order. A large input (more than PARALLEL_AFTER rows) is checked in
    blocks by separate processes while the caller writes the blocks before them, so validation (a third of an
    import's CPU time) runs on another core; small inputs never start a process (API calls pass processes=0)."""
    from fanzha.config import get_settings

    processes = get_settings().import_parse_processes if processes is None else processes
    it = iter(rows)
    first = list(islice(it, PARALLEL_AFTER if processes else None))
    for number, raw in first:
        yield number, raw, *_check(raw, strict)
    if not processes or len(first) < PARALLEL_AFTER:
        return
    yield from _check_in_processes(it, strict, processes, matcher)


def _check_in_processes(it: Iterator[tuple[int, dict]], strict: bool, processes: int, matcher) -> Iterator[Checked]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a clean interpreter, safe in a threaded server or worker (fork would copy their locks and sockets)
    # The address matcher (the standard list, a few hundred KB) goes along, so the checking process also matches
    # 现住址 and 户籍地址 and the writer only reads the answers.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_init_checker,
                             initargs=(matcher,)) as pool:
        pending: deque = deque()
        done = False
        while pending or not done:
            while not done and len(pending) < AHEAD * processes:
                block = list(islice(it, BLOCK))
                if not block:
                    done = True
                    break
                pending.append((block, pool.submit(_check_block, [raw for _, raw in block], strict)))
            if pending:
                block, future = pending.popleft()
                for (number, raw), result in zip(block, future.result(), strict=True):
                    yield number, raw, *result


def _bulk(session, scope, rows, batch_id):
    from fanzha.warnings.service import ingest_rows

    return ingest_rows(session, scope, rows, source="import", batch_id=batch_id)


def _destinations(session, scope, message: str) -> list:
    from fanzha.warnings.placing import destinations

    return destinations(session, scope, message)


def register_importer() -> None:
    from fanzha.imports.service import Importer, register

    register(Importer(
        kind="warning", label="预警指令", columns=COLUMNS, bulk=_bulk, permission="intake_warnings",
        personal=("name", "id_number", "phone"), destinations=_destinations, went_head=("派出所", "新增预警"),
        template_example=[
            ["YJ20260101000001", "资金预警", "高", "2026-01-01 09:30", "24小时", "张某某", "11010519491231002X",
             "13800000000", "江州市江城区中山街道幸福社区", "中山和平路88号幸福小区3栋2单元", "冒充公检法及政府机关",
             "95500", "6222020000000000000", "省反诈中心", "", "", "", "", ""],
            ["YJ20260101000002", "涉诈电话", "", "45292.5", "2026-01-02 09:30", "李某", "", "+86 139 0000 0000",
             "", "白沙镇李家村3组", "刷单返利", "", "", "省反诈中心", "预警时间可为 Excel 序列号",
             "95188123456、+86 170 1234 5678", "shuadan.example.com", "某某优选", "QQ 123456789"],
        ]))


register_importer()
