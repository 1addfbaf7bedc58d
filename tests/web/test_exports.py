"""Exports that carry no formulas: every CSV and XLSX route, walked with records whose text looks like formulas.

A warning for a person named `=cmd|' /C calc'!A0` comes in by import, its feedback note `=1+2` comes back in the
provincial feedback file, a member unit's list puts the person into a 精准滴灌 list, a blocklist entry has the source
`-2+3`, a campaign the code `-2-3`, and rejected rows hold `+1+2`, `@SUM(A1)`, `\t=1` and `\r=1`. Every export route
is then opened as a spreadsheet would open it: no cell is a formula and no text cell starts like one.
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.common import tabular
from fanzha.common.identity import id_check_digit
from fanzha.imports.service import IMPORTERS
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.trail.models import AuditEntry
from fanzha.web.app import all_routes
from support.web import csrf_of, login, make_client

SRC = Path(__file__).resolve().parents[2] / "src" / "fanzha"
CALC = "=cmd|' /C calc'!A0"
DAY = "2024-02-03"  # before the demo county's year: the only warning fed back that day is this file's
PERIOD = f"since={DAY}&until={DAY}"
EXT = "XPORT-20240203-1"
ID_NUMBER = "11010519500203731" + id_check_digit("11010519500203731")  # born 1950-02-03
PHONE = "16612340203"
# Station 5: no other test reads its records, so the formula-looking ones stay out of their files.
HEAD, OFFICER = "ps05_suozhang", "ps05_minjing"


def starts_like_a_formula(text: str) -> bool:
    return text.startswith(("\t", "\r")) or text.lstrip().startswith(("=", "+", "-", "@"))


# -- the neutraliser -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, written", [
    (CALC, "'" + CALC),
    ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    (" =1+2", "' =1+2"),             # a leading blank does not hide it
    ("\u3000-1", "'\u3000-1"),       # nor a full-width one
    ("+8613912345678", "'+8613912345678"),
    ("13912345678", "13912345678"),  # a phone stays text, untouched
    ("110105195002037319", "110105195002037319"),
    ("张某某", "张某某"),
    ("a=1+2", "a=1+2"),
    ("＝1+2", "＝1+2"),                # full-width: no spreadsheet evaluates it
    ("", ""),
    (None, None),
    (-5, -5),                        # numbers stay numbers, negative ones too
    (-95.5, -95.5),
    (Decimal("-95500.00"), Decimal("-95500.00")),
    (True, True),
    (date(2026, 3, 5), date(2026, 3, 5)),
])
def test_cell_neutralises_text_that_starts_like_a_formula(value, written):
    assert tabular.cell(value) == written
    assert type(tabular.cell(value)) is type(written)


def test_csv_is_utf8_with_bom_and_neutralised():
    data = tabular.csv_bytes(["姓名", "金额"], [["=1+2", -5], ["张某某", Decimal("95500.00")]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "姓名,金额\r\n'=1+2,-5\r\n张某某,95500.00\r\n"


def test_a_row_with_the_callers_own_cells_neutralises_the_rest_only():
    buf = io.StringIO()
    tabular.CsvWriter(buf).writerow_own(["=1+2", "张某某"], ["fraud", 0.93, '[{"rule": "x"}]', ""])
    assert buf.getvalue() == "'=1+2,张某某,fraud,0.93,\"[{\"\"rule\"\": \"\"x\"\"}]\",\r\n"


def test_xlsx_keeps_numbers_and_stores_text_as_text():
    data = tabular.xlsx_bytes(["姓名", "金额", "备注"], [["=1+2", -5, "\x07铃=2"], ["@A1", 95.5, None]], sheet="表")
    ws = load_workbook(io.BytesIO(data))["表"]
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["姓名", "金额", "备注"], ["'=1+2", -5, "铃=2"],
                                                             ["'@A1", 95.5, None]]
    assert [c.data_type for c in ws[2]] == ["s", "n", "s"]


def test_content_disposition_carries_the_chinese_name():
    assert tabular.content_disposition("反馈表-2026-03-01.xlsx", "feedback-2026-03-01.xlsx") == (
        "attachment; filename=\"feedback-2026-03-01.xlsx\"; "
        "filename*=UTF-8''%E5%8F%8D%E9%A6%88%E8%A1%A8-2026-03-01.xlsx")
    assert tabular.content_disposition("黑名单 \"x\".csv").startswith('attachment; filename="x.csv"; filename*=')


# -- records with formula-looking text, through the normal routes ------------------------------------------------

def _client(app, username: str, *, api: bool = False):
    client = make_client(app)
    if api:
        r = client.post("/api/v1/auth/token", json={"username": username, "password": "Fanzha@2026"})
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    else:
        assert login(client, username).status_code == 303
    return client


def _csv_file(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _import(api, kind: str, rows: list[list[str]]) -> dict:
    r = api.post(f"/api/v1/imports/{kind}", files={"file": (f"{kind}.csv", io.BytesIO(_csv_file(rows)), "text/csv")})
    assert r.status_code == 202, r.text
    batch = api.get(f"/api/v1/imports/{r.json()['id']}").json()
    assert batch["status"] == "done", batch
    return batch


@pytest.fixture(scope="module")
def records(app):
    """Ids of what the walk opens: import batches, the 精准滴灌 list, the campaign."""
    from fanzha.db import session_scope

    with session_scope() as s:
        head = s.scalar(select(User).where(User.username == HEAD))
        scope = Scope.for_user(head)
        address = s.scalar(select(StandardAddress).where(scope.community_clause(StandardAddress.community_id))
                           .order_by(StandardAddress.id).limit(1))
        address_text, community_id = address.text, address.community_id
        township = s.get(Area, s.get(Area, community_id).parent_id).code
        assert s.scalar(select(Person.id).where(Person.id_number == ID_NUMBER)) is None
    api = _client(app, "yanpan", api=True)
    header = ["预警编号", "预警类型", "预警时间", "姓名", "身份证号", "手机号", "现住址", "备注"]
    warning = _import(api, "warning", [
        header,
        [EXT, "资金预警", f"{DAY} 09:00", CALC, ID_NUMBER, PHONE, address_text, "@SUM(A1)"],
        ["XPORT-20240203-2", "资金预警", f"{DAY} 09:00", "+1+2", "110105195002030000", "", "\t=1", "\r=1"],
    ])
    assert (warning["created"], warning["rejected"]) == (1, 1)
    feedback = _import(api, "feedback", [
        ["预警编号", "反馈单位", "反馈时间", "联系方式", "是否接通", "未接原因", "劝阻对象", "是否被骗", "受骗金额", "劝阻金额",
         "劝阻结果", "诈骗类型", "上门情况", "处置内容", "提交类型", "备注"],
        [EXT, "", f"{DAY} 11:00", "电话", "是", "", "本人", "否", "", "95500.00", "及时劝阻", "", "", "", "首次", "=1+2"],
        ["=HYPERLINK(\"http://x.cn\")", "", f"{DAY} 11:00", "", "", "", "", "", "", "", "及时劝阻", "", "", "", "", "+1+2"],
    ])
    assert (feedback["updated"], feedback["rejected"]) == (1, 1)
    registry = _import(api, "registry", [
        ["姓名", "身份证号", "手机号", "人群类别", "单位", "住址"],
        ["张某某", ID_NUMBER, "", "理财投资", "", ""],    # the same person by ID number: the registered name stays
        ["@SUM(A1)", "", PHONE, "理财投资", "", "\t=1"],  # a name that is no name: rejected
    ])
    assert (registry["updated"], registry["rejected"]) == (1, 1)
    blocklist = _import(_client(app, "admin", api=True), "blocklist", [
        ["号码/网址/账号", "类型", "来源"],
        ["https://fanzha-export-test.cn/pay", "网址", "-2+3"],
        ["=1+2", "", "\r=1"],
    ])
    assert (blocklist["created"], blocklist["rejected"]) == (1, 1)

    head_page = _client(app, HEAD)
    r = head_page.post("/registry/lists", data={"csrf_token": csrf_of(head_page), "group": "investor", "top_n": "2",
                                                "window_days": "365", "name": "导出测试名单"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    list_id = int(r.headers["location"].rsplit("/", 1)[1])
    admin = _client(app, "admin")
    r = admin.post("/prevention/campaigns", data={
        "csrf_token": csrf_of(admin), "name": "导出测试行动", "kind": "special", "starts_on": "2024-02-01",
        "ends_on": "2024-02-29", "owners": "", "note": "=1+2", "code": "-2-3", "area_codes": township},
        follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    campaign_id = int(r.headers["location"].rsplit("/", 1)[1])
    return {"warning": warning["id"], "feedback": feedback["id"], "registry": registry["id"],
            "blocklist": blocklist["id"], "list_id": list_id, "campaign_id": campaign_id}


# -- the walk ----------------------------------------------------------------------------------------------------

def _requests(r: dict) -> dict[tuple[str, str], list[tuple[str, dict | None, str]]]:
    """Every export route → the requests that open it: (url, form data for a POST, a cell the file must hold)."""
    batches = [(r["warning"], "'+1+2"), (r["feedback"], "'=HYPERLINK(\"http://x.cn\")"),
               (r["registry"], "'@SUM(A1)"), (r["blocklist"], "'=1+2")]
    form = {"since": DAY, "until": DAY}
    return {
        ("GET", "/prevention/campaigns/{campaign_id}/plan.csv"):
            [(f"/prevention/campaigns/{r['campaign_id']}/plan.csv", None, "'-2-3")],
        ("GET", "/warnings/feedback-export"):
            [(f"/warnings/feedback-export?{PERIOD}&fmt={fmt}", None, "'=1+2") for fmt in ("xlsx", "csv")],
        ("POST", "/warnings/feedback-export"):
            [("/warnings/feedback-export", form | {"fmt": fmt}, "'=1+2") for fmt in ("xlsx", "csv")],
        ("GET", "/blocklist/export.{fmt}"):
            [(f"/blocklist/export.{fmt}", None, "'-2+3") for fmt in ("csv", "xlsx")],
        ("GET", "/imports/{batch_id}/errors.csv"):
            [(f"/imports/{b}/errors.csv", None, cell) for b, cell in batches],
        ("GET", "/api/v1/imports/{batch_id}/errors.csv"):
            [(f"/api/v1/imports/{b}/errors.csv", None, cell) for b, cell in batches],
        ("GET", "/import-templates/{kind}.csv"):
            [(f"/import-templates/{kind}.csv", None, "") for kind in IMPORTERS],
        ("GET", "/api/v1/import-templates/{kind}.csv"):
            [(f"/api/v1/import-templates/{kind}.csv", None, "") for kind in IMPORTERS],
        ("GET", "/registry/lists/{list_id}/push.{fmt}"):
            [(f"/registry/lists/{r['list_id']}/push.{fmt}", None, "'" + CALC) for fmt in ("csv", "xlsx")],
        # The lists' 导出 Excel (tests/dissuasion/test_board_exports.py has their filters, masking and audit).
        ("GET", "/warnings.xlsx"): [(f"/warnings.xlsx?q={EXT}", None, "'" + CALC)],
        ("GET", "/cases.xlsx"): [("/cases.xlsx", None, "")],
        ("GET", "/people.xlsx"): [(f"/people.xlsx?q={ID_NUMBER}", None, "'" + CALC)],
        ("GET", "/prevention/activities.xlsx"): [("/prevention/activities.xlsx", None, "")],
    }


def _cells(response) -> list[list[object]]:
    """The file's cells as a spreadsheet reads them; an XLSX formula cell fails here."""
    if response.headers["content-type"].startswith("text/csv"):
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.headers["content-type"] == tabular.MEDIA_TYPES["xlsx"]
    rows = []
    for ws in load_workbook(io.BytesIO(response.content)).worksheets:
        for row in ws.iter_rows():
            assert not [c.coordinate for c in row if c.data_type == "f"], "a formula cell"
            rows.append([c.value for c in row])
    return rows


def test_every_export_opens_without_a_live_formula(records, app, db):
    page, api = _client(app, "admin"), _client(app, "admin", api=True)
    csrf = csrf_of(page)
    calc_name = db.scalar(select(Person.name).where(Person.id_number == ID_NUMBER))
    assert calc_name.startswith("=cmd|")  # stored as typed: neutralised only on the way out
    opened = 0
    for (method, _), requests in _requests(records).items():
        for url, form, planted in requests:
            client = api if url.startswith("/api/") else page
            response = client.post(url, data=form | {"csrf_token": csrf}) if method == "POST" else client.get(url)
            assert response.status_code == 200, f"{method} {url} → {response.status_code} {response.text[:200]}"
            disposition = response.headers["content-disposition"]
            assert disposition.startswith("attachment; filename=\"") and "filename*=UTF-8''" in disposition
            cells = _cells(response)
            text = [c for row in cells for c in row if isinstance(c, str)]
            assert not [c for c in text if starts_like_a_formula(c)], f"{url}: {[c for c in text if starts_like_a_formula(c)]}"
            if planted:
                expected = "'" + calc_name if planted == "'" + CALC else planted
                assert expected in text, f"{url} does not hold {expected!r}"
            opened += 1
    assert opened == 2 + 2 + 2 + 4 + 4 + 2 * len(IMPORTERS) + 3 + 4


def test_rejected_rows_echo_every_cell_neutralised(records, app):
    rows = list(csv.reader(io.StringIO(_client(app, "admin").get(
        f"/imports/{records['warning']}/errors.csv").content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["行号", "列", "原因"]
    echoed = dict(zip(rows[0], rows[1], strict=False))
    assert (echoed["行号"], echoed["姓名"], echoed["现住址"], echoed["备注"]) == ("3", "'+1+2", "'\t=1", "'\r=1")


def test_the_push_file_keeps_numbers_as_numbers(records, app):
    x = _client(app, HEAD).get(f"/registry/lists/{records['list_id']}/push.xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    ours = [r for r in rows[1:] if r[0].startswith("'=cmd|")]
    assert len(ours) == 1 and ours[0][1] == PHONE
    # 风险分 and 计费字数 are numbers, not text (a whole score such as 116.0 reads back from the file as 116).
    assert isinstance(ours[0][3], int | float) and isinstance(ours[0][6], int)


# -- a new export route cannot slip past the walk ----------------------------------------------------------------

def _module_functions(module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(inspect.getsource(module))
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _downloads(node) -> bool:
    return any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "download"
               and isinstance(c.func.value, ast.Name) and c.func.value.id == "tabular" for c in ast.walk(node))


def _reaches_download(functions: dict, name: str, seen: set[str]) -> bool:
    """Whether the function, or a function of the same module it calls, returns a file through tabular.download."""
    if name in seen or name not in functions:
        return False
    seen.add(name)
    node = functions[name]
    if _downloads(node):
        return True
    called = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    return any(_reaches_download(functions, n, seen) for n in called)


def test_the_walk_covers_every_export_route():
    found, reached = set(), set()
    for path, methods, endpoint in all_routes():
        functions = _module_functions(sys.modules[endpoint.__module__])
        seen: set[str] = set()
        if _reaches_download(functions, endpoint.__name__, seen):
            found |= {(m, path) for m in methods - {"HEAD"}}
            reached |= {(endpoint.__module__, n) for n in seen}
    walked = set(_requests({k: 0 for k in ("warning", "feedback", "registry", "blocklist", "list_id",
                                           "campaign_id")}))
    assert found == walked, f"export routes the walk does not open: {found - walked}; gone: {walked - found}"
    # Every call of tabular.download sits on the way of a route, where the walk finds it.
    for file in SRC.rglob("*.py"):
        module = ".".join(file.relative_to(SRC.parent).with_suffix("").parts)
        if "tabular.download(" not in file.read_text(encoding="utf-8") or module == "fanzha.common.tabular":
            continue
        callers = {(module, name) for name, node in _module_functions(sys.modules[module]).items()
                   if _downloads(node)}
        assert callers <= reached, f"tabular.download called outside a walked route: {callers - reached}"


# Demo input files imitate what member units send (a GBK CSV, an XLSX); they are read in, never offered.
WRITES_ITS_OWN = {"common/tabular.py", "demo/registry.py"}
OWN_WRITER = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|text/csv|spreadsheetml")


def test_no_csv_or_xlsx_is_written_past_the_one_writer():
    offenders = [str(f.relative_to(SRC)) for f in SRC.rglob("*.py")
                 if str(f.relative_to(SRC)) not in WRITES_ITS_OWN and OWN_WRITER.search(f.read_text(encoding="utf-8"))]
    assert not offenders, f"write CSV/XLSX through fanzha.common.tabular: {offenders}"


# -- personal-data exports: permission and audit ----------------------------------------------------------------

def _last_export(db, entity: str, entity_id: object = "") -> AuditEntry:
    db.expire_all()
    return db.scalar(select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.entity == entity,
                                              AuditEntry.entity_id == str(entity_id))
                     .order_by(AuditEntry.id.desc()).limit(1))


def test_a_role_without_export_personal_gets_403_and_no_button(records, app, db):
    officer, head = _client(app, OFFICER), _client(app, HEAD)
    refused = officer.get(f"/warnings/feedback-export?{PERIOD}&fmt=csv")
    assert refused.status_code == 403 and "导出个人信息" in refused.text
    assert "/warnings/feedback-export" not in officer.get(f"/metrics?{PERIOD}").text
    assert "/warnings/feedback-export" in head.get(f"/metrics?{PERIOD}").text
    # The officer files cases: the rejected rows of his own upload hold only what he sent, so he may fix them
    # (audited as an export of his own upload); another officer's upload needs the permission.
    api = _client(app, OFFICER, api=True)
    batch = _import(api, "case", [["案件编号", "立案时间", "姓名"], ["", "2024-02-03 16:00", "=1+2"]])
    assert batch["rejected"] == 1
    assert api.get(f"/api/v1/imports/{batch['id']}/errors.csv").status_code == 200
    assert _last_export(db, "import_errors", batch["id"]).detail["own_upload"] is True
    assert f"/imports/{batch['id']}/errors.csv" in officer.get(f"/imports/{batch['id']}").text
    theirs = _import(_client(app, HEAD, api=True), "case", [["案件编号", "立案时间", "姓名"], ["", "2024-02-03 16:00", "张某"]])
    assert api.get(f"/api/v1/imports/{theirs['id']}/errors.csv").status_code in (403, 404)
    status = officer.get(f"/imports/{theirs['id']}")
    assert status.status_code == 404 or ("errors.csv" not in status.text and "需由有导出权限的人员" in status.text)
    assert f"/imports/{batch['id']}/errors.csv" in head.get(f"/imports/{batch['id']}").text
    assert head.get(f"/imports/{batch['id']}/errors.csv").status_code == 200
    # An error file without people (the blocklist's) needs no such permission.
    assert "/errors.csv" in _client(app, "admin").get(f"/imports/{records['blocklist']}").text


def test_each_personal_export_is_audited_with_its_fields_and_rows(records, app, db):
    page = _client(app, HEAD)
    push = page.get(f"/registry/lists/{records['list_id']}/push.csv")
    entry = _last_export(db, "target_list", records["list_id"])
    lines = push.content.decode("utf-8-sig").strip().split("\r\n")
    assert (entry.username, entry.fields) == (HEAD, ["name", "phone"])
    assert entry.detail == {"rows": len(lines) - 1, "format": "csv"}

    assert page.get(f"/warnings/feedback-export?{PERIOD}&fmt=xlsx").status_code == 200
    entry = _last_export(db, "feedback")
    assert (entry.username, entry.fields) == (HEAD, ["note"])  # the provincial columns name no dissuader, 备注 is free text
    assert entry.detail == {"rows": 1, "format": "xlsx", "marked": False}

    assert _client(app, "yanpan").get(f"/imports/{records['warning']}/errors.csv").status_code == 200
    entry = _last_export(db, "import_errors", records["warning"])
    assert (entry.username, entry.fields) == ("yanpan", ["name", "id_number", "phone"])
    assert entry.detail == {"rows": 1, "format": "csv", "kind": "warning", "own_upload": True}


def test_download_names_are_chinese_with_an_ascii_fallback(records, app):
    list_id = records["list_id"]
    r = _client(app, "admin").get(f"/registry/lists/{list_id}/push.xlsx")
    chinese = quote(f"精准滴灌推送名单-{list_id}.xlsx")
    assert r.headers["content-disposition"] == (
        f"attachment; filename=\"push-{list_id}.xlsx\"; filename*=UTF-8''{chinese}")
    assert r.headers["cache-control"] == "no-store"
