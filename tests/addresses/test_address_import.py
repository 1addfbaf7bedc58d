"""Importing standard addresses from the files users really send, with every expected figure worked out by hand.

Demo county (seed 7) facts the fixtures rely on, checked in test_demo_communities_the_fixtures_rely_on:
ps01_suozhang (中山东派出所) covers 锦绣社区 JZ0101001 and 紫荆社区 JZ0101003; 人民社区 JZ0101002 belongs
to ps02_suozhang (中山西派出所); 人民社区 has namesakes elsewhere in the county; 幸福里社区 does not exist.

tests/fixtures/addresses_gbk.csv — saved by Excel as GBK, CRLF line ends; a blank-header column and a 备注
column the importer does not know. Its lines, numbered as the spreadsheet shows them:

     1  地址名称,类型,,所属社区,备注
     2  锦绣社区清风街1号,门牌,,锦绣社区,                          → created (门牌, 锦绣社区)
     3  清风街锦绣花园,小区,,锦绣社区,新建小区                     → created (小区, 锦绣社区)
     4  紫荆社区清风街8号,,,紫荆社区,类型未填                      → created (类型 guessed 门牌 from "8号")
     5  清风街99号,门牌,,幸福里社区,社区名写错                     → rejected 所属村社区 (no such community)
     6  ,门牌,,锦绣社区,地址漏填                                    → rejected 标准地址 (empty)
     7  清风街<script>alert(1)</script>号,门牌,,锦绣社区,          → created: text as typed, escaped where shown
     8  清风街12号,别墅,,紫荆社区,                                  → rejected 地址类型 (别墅 unknown)
     9  (blank line)                                                → skipped, but still counts as a line
    10  锦绣社区清风街1号,门牌,,锦绣社区,与第2行重复              → duplicate of line 2
    11  清风街20号,门牌,,人民社区,外所社区                         → rejected 所属村社区 for ps01 (ps02's community)
    12  紫荆社区 清风街 8 号,门牌,,紫荆社区,与第4行只差空格        → duplicate of line 4 (spaces do not count)
    13  紫荆社区清风街１６号,门牌,,紫荆社区,全角数字               → created, stored as 紫荆社区清风街16号

For ps01_suozhang: read 11 (lines 2–8, 10–13), created 5 (2, 3, 4, 7, 13), updated 0, duplicates 2 (10, 12),
rejected 4 (5, 6, 8, 11). Imported a second time: created 0, duplicates 7 (the 5 created + the 2 duplicates),
rejected 4.

The database is shared by all tests of a run, so each test imports a copy in which "清风街" becomes
"清风街<tag>" (tag: a few ASCII letters unique to the test); none of the figures above depend on the tag.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fanzha.addresses.models import StandardAddress
from fanzha.imports import service as imports
from fanzha.imports.models import ImportBatch, ImportRowError
from fanzha.imports.reader import FileProblem
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GBK_FILE = FIXTURES / "addresses_gbk.csv"
SYSTEM_ERROR = "导入过程中出现系统错误，本批次未写入任何数据，请稍后重试或联系管理员"


# -- helpers -----------------------------------------------------------------------------

def scope_of(session, username: str) -> Scope:
    user = session.scalar(select(User).where(User.username == username))
    return Scope.for_user(user)


def gbk_copy(tmp_path: Path, tag: str, name: str = "江州地址.csv") -> Path:
    """The committed GBK fixture with 清风街 → 清风街<tag>, still GBK with CRLF."""
    text = GBK_FILE.read_bytes().decode("gbk")
    target = tmp_path / name
    target.write_bytes(text.replace("清风街", f"清风街{tag}").encode("gbk"))
    return target


def write_csv(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    target = tmp_path / name
    target.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return target


def tagged(session, tag: str) -> dict[str, tuple[str, str]]:
    """text → (kind, community code) of the addresses whose text contains the tag."""
    rows = session.execute(select(StandardAddress.text, StandardAddress.kind, Area.code)
                           .join(Area, Area.id == StandardAddress.community_id)
                           .where(StandardAddress.text.contains(tag))).all()
    return {text: (kind, code) for text, kind, code in rows}


def code_of(session, community_id: int) -> str:
    return session.get(Area, community_id).code


def community(session, code: str) -> Area:
    return session.scalar(select(Area).where(Area.code == code))


def gbk_expected_errors(tag: str) -> list[tuple[int, str, str, dict]]:
    return [
        (5, "所属村社区", "村/社区“幸福里社区”不存在或不在您的管辖范围内",
         {"标准地址": f"清风街{tag}99号", "地址类型": "门牌", "所属村社区": "幸福里社区"}),
        (6, "标准地址", "标准地址 为空",
         {"标准地址": "", "地址类型": "门牌", "所属村社区": "锦绣社区"}),
        (8, "地址类型", "地址类型“别墅”应为 小区、村、路段、门牌 之一",
         {"标准地址": f"清风街{tag}12号", "地址类型": "别墅", "所属村社区": "紫荆社区"}),
        (11, "所属村社区", "村/社区“人民社区”不存在或不在您的管辖范围内",
         {"标准地址": f"清风街{tag}20号", "地址类型": "门牌", "所属村社区": "人民社区"}),
    ]


def gbk_expected_created(tag: str) -> dict[str, tuple[str, str]]:
    return {
        f"锦绣社区清风街{tag}1号": ("door", "JZ0101001"),
        f"清风街{tag}锦绣花园": ("estate", "JZ0101001"),
        f"紫荆社区清风街{tag}8号": ("door", "JZ0101003"),
        f"紫荆社区清风街{tag}16号": ("door", "JZ0101003"),
        # Markup is text like any other: stored as typed, escaped wherever it is shown.
        f"清风街{tag}<script>alert(1)</script>号": ("door", "JZ0101001"),
    }


def new_batch(path: Path, username: str | None) -> int:
    """A stored batch as the web page or the CLI makes it (committed), not yet run."""
    from fanzha.db import session_scope

    with session_scope() as session:
        scope = scope_of(session, username) if username else Scope.system(session)
        copy = path.with_name("upload_" + path.name)
        copy.write_bytes(path.read_bytes())
        batch = imports.create_batch(session, scope, "address", path.name, imports.store_upload(path.name, copy))
        return batch.id


def batch_scope(session, batch):
    from fanzha.worker.tasks import _batch_scope

    return _batch_scope(session, batch)


# -- the demo facts the fixtures use ------------------------------------------------------

def test_demo_communities_the_fixtures_rely_on(db):
    ps01, ps02 = scope_of(db, "ps01_suozhang"), scope_of(db, "ps02_suozhang")
    ps01_names = dict(db.execute(select(Area.name, Area.code).where(Area.id.in_(ps01.community_ids()))).all())
    ps02_names = dict(db.execute(select(Area.name, Area.code).where(Area.id.in_(ps02.community_ids()))).all())
    assert ps01_names["锦绣社区"] == "JZ0101001"
    assert ps01_names["紫荆社区"] == "JZ0101003"
    assert "人民社区" not in ps01_names
    assert ps02_names["人民社区"] == "JZ0101002"
    assert "锦绣社区" not in ps02_names
    assert db.scalar(select(func.count()).select_from(Area).where(Area.name == "人民社区")) > 1
    assert db.scalar(select(func.count()).select_from(Area).where(Area.name == "幸福里社区")) == 0
    assert GBK_FILE.read_bytes().decode("gbk").splitlines()[0] == "地址名称,类型,,所属社区,备注"
    with pytest.raises(UnicodeDecodeError):
        GBK_FILE.read_bytes().decode("utf-8")


# -- the GBK CSV --------------------------------------------------------------------------

def test_gbk_csv_counts_rows_and_reasons(db, tmp_path):
    tag = "gbkcounts"
    tally = imports.run_file(db, scope_of(db, "ps01_suozhang"), "address", gbk_copy(tmp_path, tag))
    assert tally.summary() == {"read": 11, "created": 5, "updated": 0, "duplicates": 2, "rejected": 4}
    assert tally.errors == gbk_expected_errors(tag)
    assert tagged(db, tag) == gbk_expected_created(tag)


def test_gbk_csv_imported_again_is_all_duplicates(db, tmp_path):
    tag = "gbkagain"
    path = gbk_copy(tmp_path, tag)
    scope = scope_of(db, "ps01_suozhang")
    first = imports.run_file(db, scope, "address", path)
    second = imports.run_file(db, scope, "address", path)
    assert first.summary() == {"read": 11, "created": 5, "updated": 0, "duplicates": 2, "rejected": 4}
    assert second.summary() == {"read": 11, "created": 0, "updated": 0, "duplicates": 7, "rejected": 4}
    assert [e[0] for e in second.errors] == [5, 6, 8, 11]
    assert tagged(db, tag) == gbk_expected_created(tag)


def test_gbk_csv_as_the_other_station(db, tmp_path):
    """ps02 sees 人民社区 but neither 锦绣社区 nor 紫荆社区: only line 11 goes in."""
    tag = "gbkpstwo"
    tally = imports.run_file(db, scope_of(db, "ps02_suozhang"), "address", gbk_copy(tmp_path, tag))
    # Lines 2,3,4,7,10,12,13: 锦绣/紫荆 out of scope; 5: unknown; 6 empty; 8: 紫荆 checked before 别墅.
    assert tally.summary() == {"read": 11, "created": 1, "updated": 0, "duplicates": 0, "rejected": 10}
    assert [(n, c) for n, c, *_ in tally.errors] == [
        (2, "所属村社区"), (3, "所属村社区"), (4, "所属村社区"), (5, "所属村社区"), (6, "标准地址"), (7, "所属村社区"),
        (8, "所属村社区"), (10, "所属村社区"), (12, "所属村社区"), (13, "所属村社区")]
    assert tagged(db, tag) == {f"清风街{tag}20号": ("door", "JZ0101002")}


# -- XLSX with a title row ----------------------------------------------------------------

def test_xlsx_with_title_row_blank_rows_and_codes(db, tmp_path):
    tag = "xlsxtitle"
    ps01 = scope_of(db, "ps01_suozhang")
    ps02 = scope_of(db, "ps02_suozhang")
    c1, c2 = db.scalars(select(Area).where(Area.id.in_(ps01.community_ids())).order_by(Area.code).limit(2)).all()
    other = db.scalars(select(Area).where(Area.id.in_(ps02.community_ids())).order_by(Area.code).limit(1)).one()

    wb = Workbook()
    ws = wb.active
    ws.title = "标准地址"
    rows = {
        1: ["江州市标准地址表"],                                         # title, merged A1:E1
        2: ["序号", "详细地址", "类别", "村/社区", "社区编码"],          # header
        3: [1, f"{tag}大道1号", "门牌", c1.name, c1.code],              # created in c1
        4: [2, f"{tag}花园", "小区", None, c2.code.lower()],            # created in c2 (code in lower case)
        # 5: blank
        6: [3, f"{tag}大道2号", "门牌", c1.name, "JZ9999999"],          # rejected: unknown code
        7: [4, f"{tag}大道3号", None, other.name, other.code],          # rejected: another station's community
        8: [None, "  ", None, None, None],                               # only a space: skipped
        9: [5, f"{tag}大道1号", "门牌", c1.name, c1.code],              # duplicate of row 3
        10: [6, None, "门牌", c1.name, c1.code],                         # rejected: address empty
        11: [7, f"{tag}大道5号", "门牌", None, None],                    # rejected: no community at all
        12: [8, f"{tag}大道", "路段", None, f" {c2.code} "],             # created in c2 as road
    }
    for number, values in rows.items():
        for col, value in enumerate(values, start=1):
            ws.cell(row=number, column=col, value=value)
    ws.merge_cells("A1:E1")
    path = tmp_path / "江州市标准地址表.xlsx"
    wb.save(path)

    tally = imports.run_file(db, ps01, "address", path)
    assert tally.summary() == {"read": 8, "created": 3, "updated": 0, "duplicates": 1, "rejected": 4}
    assert [(n, c, r) for n, c, r, _ in tally.errors] == [
        (6, "村社区编码", "村社区编码 JZ9999999 不存在或不在您的管辖范围内"),
        (7, "村社区编码", f"村社区编码 {other.code} 不存在或不在您的管辖范围内"),
        (10, "标准地址", "标准地址 为空"),
        (11, "所属村社区", "所属村社区 和 村社区编码 都为空"),
    ]
    assert tally.errors[2][3] == {"标准地址": None, "地址类型": "门牌", "所属村社区": c1.name, "村社区编码": c1.code}
    assert tagged(db, tag) == {
        f"{tag}大道1号": ("door", c1.code),
        f"{tag}花园": ("estate", c2.code),
        f"{tag}大道": ("road", c2.code),
    }


def test_row_numbers_follow_the_spreadsheet(db, tmp_path):
    """Header on line 1 → first data line is 2; a title line above the header shifts every number by one."""
    scope = scope_of(db, "ps01_suozhang")
    body = ["标准地址,所属村社区", "rownum甲路1号,幸福里社区", "rownum甲路2号,锦绣社区", "rownum甲路3号,幸福里社区"]
    plain = imports.run_file(db, scope, "address", write_csv(tmp_path, "plain.csv", body))
    titled = imports.run_file(db, scope, "address",
                              write_csv(tmp_path, "titled.csv", ["江州市标准地址表,"] + body, "utf-8-sig"))
    assert [e[0] for e in plain.errors] == [2, 4]
    assert [e[0] for e in titled.errors] == [3, 5]
    assert plain.summary() == {"read": 3, "created": 1, "updated": 0, "duplicates": 0, "rejected": 2}
    assert titled.summary() == {"read": 3, "created": 0, "updated": 0, "duplicates": 1, "rejected": 2}


# -- updates and scope --------------------------------------------------------------------

def test_address_moved_to_another_community_counts_as_updated(db, tmp_path):
    scope = scope_of(db, "ps01_suozhang")
    first = write_csv(tmp_path, "a.csv", ["标准地址,所属村社区", "movedtest路1号,锦绣社区", "movedtest路2号,锦绣社区"])
    # The second file moves 路1号 to 紫荆社区 as 路段 (written with spaces); 路2号 stays where it is.
    second = write_csv(tmp_path, "b.csv", ["地址,类型,社区", "movedtest路 1 号,路段,紫荆社区", "movedtest路2号,门牌,锦绣社区"])
    assert imports.run_file(db, scope, "address", first).summary() == \
        {"read": 2, "created": 2, "updated": 0, "duplicates": 0, "rejected": 0}
    assert imports.run_file(db, scope, "address", second).summary() == \
        {"read": 2, "created": 0, "updated": 1, "duplicates": 1, "rejected": 0}
    assert tagged(db, "movedtest") == {"movedtest路1号": ("road", "JZ0101003"),
                                       "movedtest路2号": ("door", "JZ0101001")}


def test_station_head_cannot_import_into_another_stations_community(db, tmp_path):
    lines = ["标准地址,所属村社区,村社区编码",
             "scopetest路1号,锦绣社区,",        # ps01's
             "scopetest路2号,人民社区,",        # ps02's, by name
             "scopetest路3号,,JZ0101002"]       # ps02's, by code
    path = write_csv(tmp_path, "scope.csv", lines)
    ps01 = imports.run_file(db, scope_of(db, "ps01_suozhang"), "address", path)
    assert ps01.summary() == {"read": 3, "created": 1, "updated": 0, "duplicates": 0, "rejected": 2}
    assert [(n, c, r) for n, c, r, _ in ps01.errors] == [
        (3, "所属村社区", "村/社区“人民社区”不存在或不在您的管辖范围内"),
        (4, "村社区编码", "村社区编码 JZ0101002 不存在或不在您的管辖范围内"),
    ]
    ps02 = imports.run_file(db, scope_of(db, "ps02_suozhang"), "address", path)
    assert ps02.summary() == {"read": 3, "created": 2, "updated": 0, "duplicates": 0, "rejected": 1}
    assert [(n, c, r) for n, c, r, _ in ps02.errors] == [
        (2, "所属村社区", "村/社区“锦绣社区”不存在或不在您的管辖范围内")]
    assert tagged(db, "scopetest") == {"scopetest路1号": ("door", "JZ0101001"),
                                       "scopetest路2号": ("door", "JZ0101002"),
                                       "scopetest路3号": ("door", "JZ0101002")}


def test_station_head_cannot_move_another_stations_address(db, tmp_path):
    """An address registered under ps02's 人民社区 is not ps01's to move into 锦绣社区; the city admin may."""
    ps02_file = write_csv(tmp_path, "ps02.csv", ["标准地址,所属村社区", "stealtest路9号,人民社区"])
    ps01_file = write_csv(tmp_path, "ps01.csv", ["标准地址,所属村社区", "stealtest路9号,锦绣社区"])
    admin_file = write_csv(tmp_path, "admin.csv", ["标准地址,村社区编码", "stealtest路9号,JZ0101001"])
    assert imports.run_file(db, scope_of(db, "ps02_suozhang"), "address", ps02_file).created == 1
    ps01 = imports.run_file(db, scope_of(db, "ps01_suozhang"), "address", ps01_file)
    assert ps01.summary() == {"read": 1, "created": 0, "updated": 0, "duplicates": 0, "rejected": 1}
    assert [(n, c) for n, c, *_ in ps01.errors] == [(2, "标准地址")]
    assert "管辖范围以外" in ps01.errors[0][2]
    assert tagged(db, "stealtest") == {"stealtest路9号": ("door", "JZ0101002")}
    admin = imports.run_file(db, scope_of(db, "admin"), "address", admin_file)
    assert admin.summary() == {"read": 1, "created": 0, "updated": 1, "duplicates": 0, "rejected": 0}
    assert tagged(db, "stealtest") == {"stealtest路9号": ("door", "JZ0101001")}


def test_namesake_communities_need_a_code(db, tmp_path):
    """Under the city admin 人民社区 is ambiguous (three of them); the code settles it, and so does the name as
    every page shows it, with its township (docs/areas.md)."""
    path = write_csv(tmp_path, "namesake.csv", ["标准地址,所属村社区,村社区编码",
                                                "namesake路1号,人民社区,", "namesake路2号,人民社区,JZ0101002",
                                                "namesake路3号,临江街道·人民社区,"])
    tally = imports.run_file(db, scope_of(db, "admin"), "address", path)
    assert tally.summary() == {"read": 3, "created": 2, "updated": 0, "duplicates": 0, "rejected": 1}
    assert [(n, c, r) for n, c, r, _ in tally.errors] == [
        (2, "所属村社区", "村/社区“人民社区”有重名（中山街道·人民社区、临江街道·人民社区、新港街道·人民社区），"
                     "请填写村社区编码或带上级的名称")]
    assert tagged(db, "namesake") == {"namesake路2号": ("door", "JZ0101002"), "namesake路3号": ("door", "JZ0201011")}


# -- batches: error file, crash, file problems ---------------------------------------------

def test_error_file_is_a_bom_csv_with_row_column_reason_and_values(db, tmp_path):
    tag = "errfile"
    batch_id = new_batch(gbk_copy(tmp_path, tag), "ps01_suozhang")
    assert imports.run_batch(batch_id, batch_scope) == \
        {"read": 11, "created": 5, "updated": 0, "duplicates": 2, "rejected": 4}
    batch = db.get(ImportBatch, batch_id)
    assert (batch.status, batch.read, batch.created, batch.updated, batch.duplicates, batch.rejected) == \
        ("done", 11, 5, 0, 2, 4)
    assert batch.finished_at is not None

    data = b"".join(imports.error_file(db, scope_of(db, "ps01_suozhang"), batch_id))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "原因", "标准地址", "地址类型", "所属村社区"]
    assert rows[1:] == [
        [str(n), col, reason, raw["标准地址"], raw["地址类型"], raw["所属村社区"]]
        for n, col, reason, raw in gbk_expected_errors(tag)]

    # The city admin above the station may read it; the neighbouring station may not.
    assert b"".join(imports.error_file(db, scope_of(db, "admin"), batch_id)) == data
    from fanzha.common.errors import NotFound

    with pytest.raises(NotFound):
        imports.error_file(db, scope_of(db, "ps02_suozhang"), batch_id)


def test_crash_half_way_leaves_nothing_and_marks_the_batch_failed(db, tmp_path, monkeypatch):
    lines = ["标准地址,所属村社区", "crashtest路1号,锦绣社区", "crashtest路2号,锦绣社区", "crashtest路3号,锦绣社区"]
    batch_id = new_batch(write_csv(tmp_path, "crash.csv", lines), "ps01_suozhang")
    importer = imports.IMPORTERS["address"]
    real = importer.make_handler

    def make_handler(session, scope):
        handle = real(session, scope)

        def crashing(row):
            if row["标准地址"] == "crashtest路2号":  # spreadsheet row 3
                raise RuntimeError("disk full")
            return handle(row)

        return crashing

    monkeypatch.setattr(importer, "make_handler", make_handler)
    with pytest.raises(RuntimeError, match="disk full"):
        imports.run_batch(batch_id, batch_scope)

    db.expire_all()
    assert tagged(db, "crashtest") == {}
    batch = db.get(ImportBatch, batch_id)
    assert (batch.status, batch.message) == ("failed", SYSTEM_ERROR)
    assert (batch.read, batch.created, batch.rejected) == (0, 0, 0)
    assert db.scalar(select(func.count()).select_from(ImportRowError).where(ImportRowError.batch_id == batch_id)) == 0

    # Fixed and run again, the same batch goes through.
    monkeypatch.setattr(importer, "make_handler", real)
    assert imports.run_batch(batch_id, batch_scope) == \
        {"read": 3, "created": 3, "updated": 0, "duplicates": 0, "rejected": 0}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("地址.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
     "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入"),
    ("地址.pdf", b"%PDF-1.4\n", "不支持的文件类型 .pdf，请上传 .xlsx 或 .csv"),
    ("地址", "标准地址,所属村社区\n人民路1号,锦绣社区\n".encode(), "不支持的文件类型 (无扩展名)，请上传 .xlsx 或 .csv"),
    ("地址.xlsx", "标准地址,所属村社区\n".encode(), "无法打开 Excel 文件，请确认是 .xlsx 格式且未损坏"),
    ("地址.csv", "江州市地址\n人民路1号,锦绣社区\n".encode(), "找不到表头行：前10行中没有可识别的列名，请使用导入模板"),
    ("地址.csv", "所属社区,社区编码\n锦绣社区,JZ0101001\n".encode(), "缺少必需的列：标准地址"),
])
def test_unreadable_files_are_a_file_problem(db, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileProblem) as info:
        imports.run_file(db, Scope.system(db), "address", path)
    assert str(info.value) == message


def test_tab_separated_gbk_txt_with_blank_rows(db, tmp_path):
    """Excel's 文本文件（制表符分隔）: GBK, tabs, and here a blank row and a row of empty cells."""
    lines = ["标准地址\t地址类型\t所属村社区",       # 1
             "tabtxt路1号\t门牌\t锦绣社区",         # 2 created
             "",                                     # 3 blank
             "tabtxt路2号\t路段\t紫荆社区",         # 4 created
             "\t\t",                                 # 5 empty cells only
             "tabtxt路3号\t门牌\t幸福里社区"]       # 6 rejected
    tally = imports.run_file(db, scope_of(db, "ps01_suozhang"), "address", write_csv(tmp_path, "地址.txt", lines, "gbk"))
    assert tally.summary() == {"read": 3, "created": 2, "updated": 0, "duplicates": 0, "rejected": 1}
    assert [(n, c) for n, c, *_ in tally.errors] == [(6, "所属村社区")]
    assert tagged(db, "tabtxt") == {"tabtxt路1号": ("door", "JZ0101001"), "tabtxt路2号": ("road", "JZ0101003")}


def test_header_below_row_ten_is_not_found(db, tmp_path):
    lines = ["江州市标准地址表"] + [""] * 9 + ["标准地址,所属村社区", "lateheader路1号,锦绣社区"]
    with pytest.raises(FileProblem, match="找不到表头行"):
        imports.run_file(db, Scope.system(db), "address", write_csv(tmp_path, "late.csv", lines))


def test_a_file_problem_fails_the_batch_with_its_message(db, tmp_path):
    path = tmp_path / "旧表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    batch_id = new_batch(path, "ps01_suozhang")
    assert imports.run_batch(batch_id, batch_scope) == {}
    batch = db.get(ImportBatch, batch_id)
    assert (batch.status, batch.message) == ("failed", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入")


def test_an_overlong_cell_is_a_row_error_not_a_crash(db, tmp_path):
    """Reasons quote the cell; a 300-character community name must still fit the error table (PostgreSQL)."""
    long_name = "长" * 300
    path = write_csv(tmp_path, "long.csv", ["标准地址,所属村社区", f"longcell路1号,{long_name}",
                                            "longcell路2号,锦绣社区", "longcell" + "路" * 200 + ",锦绣社区"])
    batch_id = new_batch(path, "ps01_suozhang")
    assert imports.run_batch(batch_id, batch_scope) == \
        {"read": 3, "created": 1, "updated": 0, "duplicates": 0, "rejected": 2}
    errors = db.scalars(select(ImportRowError).where(ImportRowError.batch_id == batch_id)
                        .order_by(ImportRowError.row_number)).all()
    assert [(e.row_number, e.column) for e in errors] == [(2, "所属村社区"), (4, "标准地址")]
    assert errors[0].reason.startswith("村/社区“长长")
    assert len(errors[0].reason) == 255 and errors[0].reason.endswith("长…")
    assert errors[0].raw["所属村社区"] == long_name
    assert errors[1].reason == "标准地址 超过200字"


# -- web and CLI ---------------------------------------------------------------------------

def test_web_upload_runs_the_batch_and_offers_the_error_file(client_as, db, tmp_path):
    tag = "webupload"
    client = client_as("ps01_suozhang")
    page = client.get("/addresses")
    assert page.status_code == 200
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    content = gbk_copy(tmp_path, tag).read_bytes()

    response = client.post("/addresses/import", data={"csrf_token": token},
                           files={"file": ("江州地址.csv", content, "text/csv")}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/imports/(\d+)", response.headers["location"])
    assert match
    batch_id = int(match.group(1))

    status = client.get(f"/imports/{batch_id}")
    assert status.status_code == 200
    assert "已完成" in status.text
    assert "江州地址.csv" in status.text
    numbers = re.findall(r"<dt>(\S+?)</dt><dd>(\d+)</dd>", status.text)
    assert numbers == [("读取", "11"), ("新增", "5"), ("更新", "0"), ("重复", "2"), ("错误", "4")]
    assert f'href="/imports/{batch_id}/errors.csv"' in status.text

    errors = client.get(f"/imports/{batch_id}/errors.csv")
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("text/csv")
    assert errors.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert [(r[0], r[1]) for r in rows] == [("行号", "列"), ("5", "所属村社区"), ("6", "标准地址"),
                                            ("8", "地址类型"), ("11", "所属村社区")]
    assert rows[2][3:] == ["", "门牌", "锦绣社区"]
    assert tagged(db, tag) == gbk_expected_created(tag)
    listed = client.get("/addresses", params={"q": f"清风街{tag}<script>"})
    assert f"清风街{tag}&lt;script&gt;alert(1)&lt;/script&gt;号" in listed.text and "<script>alert(1)" not in listed.text

    # Another station's head cannot open the batch.
    assert client_as("ps02_suozhang").get(f"/imports/{batch_id}/errors.csv").status_code == 404


def test_web_upload_refuses_xls_and_missing_csrf(client_as):
    client = client_as("ps01_suozhang")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/addresses").text).group(1)
    old = client.post("/addresses/import", data={"csrf_token": token},
                      files={"file": ("旧表.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 60, "application/vnd.ms-excel")},
                      follow_redirects=False)
    assert old.status_code == 422
    assert "不支持的文件类型 .xls，请上传 .xlsx 或 .csv" in old.text
    forged = client.post("/addresses/import", files={"file": ("a.csv", "标准地址,社区\nx,y\n".encode(), "text/csv")},
                         follow_redirects=False)
    assert forged.status_code == 403


def test_cli_import_prints_one_json_line(db, tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    # The CLI runs as the system: every community is in scope, so 人民社区 alone is ambiguous.
    path = write_csv(tmp_path, "cli地址.csv", ["标准地址,所属村社区,村社区编码",
                                               "clitest路1号,,JZ0101001",       # created
                                               "clitest路2号,人民社区,",        # rejected: namesakes
                                               "clitest路3号,,JZ0202011",       # created (another district)
                                               "clitest路1号,,JZ0101003"])      # updated: moved to 紫荆社区
    result = CliRunner().invoke(app, ["addresses", "import", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"read": 4, "created": 2, "updated": 1, "duplicates": 0, "rejected": 1}
    assert tagged(db, "clitest") == {"clitest路1号": ("door", "JZ0101003"), "clitest路3号": ("door", "JZ0202011")}


def test_cli_import_of_an_xls_file_fails_with_the_message(tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    path = tmp_path / "旧表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    result = CliRunner().invoke(app, ["addresses", "import", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "不支持旧版 .xls 文件" in result.stderr
