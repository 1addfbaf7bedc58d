"""Importing warning instructions (预警指令) from the files the provincial platform really exports, every expected
figure worked out by hand from the fixture, the demo county (seed 7) and triage_default.toml.

Demo facts the fixture relies on (checked in test_demo_facts_the_fixture_relies_on):

  standard address      community               station                  dissuader
  中山迎宾大道288号     锦绣社区 JZ0101001      中山东派出所 JZ0101PS1   ps01_quanzu
  中山人民路82号        翠湖社区 JZ0101007      中山东派出所 JZ0101PS1   ps01_quanzu
  紫荆花园              紫荆社区 JZ0101003      中山东派出所 JZ0101PS1   ps01_quanzu
  人民新村              人民社区 JZ0101002      中山西派出所 JZ0101PS2   ps02_quanzu
  解放迎宾大道241号     光明社区 JZ0102015      解放东派出所 JZ0102PS1   ps03_quanzu
  河口镇枫林村3组       枫林村   JZ0203001      河口派出所   JZ0203PS1   ps11_quanzu
  白沙镇桃园村2组       桃园村   JZ0401003      白沙派出所   JZ0401PS1   ps19_quanzu
  demo people: 杨华 439901200508275751 (师生, 锦绣社区); 孟建国 phone 13798728775 (阳光社区 JZ0103015);
  叶浩华 439901196501093251 (老年人, 翠湖社区); none of the three has a warning in the demo.
  The ID numbers and phones of the other rows belong to nobody in the demo.

tests/fixtures/warnings_provincial_gbk.csv — GBK, CRLF, header variants (预警编码 预警类别 风险等级 下发时间 反馈期限,
a column with a blank header, 受害人姓名 身份证号码 联系电话 户籍地 居住地址 诈骗类型 涉案金额 收款账号 下发机关 备注).
Lines as the spreadsheet numbers them (times are Beijing time; "→ station" = where the warning is dispatched):

   2 GBKFX-0001 资金预警 高, "2026/3/5 8:05", 反馈期限 12小时, 杨华's ID, 居住地址 江州市江城区中山迎宾大道288号,
     冒充公检法, 9.55万        → created; person 杨华 by ID; current → 锦绣社区 → JZ0101PS1; high (upstream 高; the
                                 amount, 师生 and 冒充公检法 rules add "另：…"); amount 95500.00; feedback 20:05 (upstream)
   3 GBKFX-0002 涉诈电话, serial 46086.4027777778, no ID, phone "+86 137 9872 8775", 居住地址 解放迎宾大道241号
                              → created; person 孟建国 by phone; current → 光明社区 → JZ0102PS1 (the address wins over
                                 his registered 阳光社区); medium (kind); warned 09:40; feedback 09:40 next day (24 h)
   4 GBKFX-0003 资金预警 中, "2026年3月5日 14时30分", 24小时, 刘晓梅 43990319880412108x, "139 0731 2245",
     中山人民路82号3栋2单元1102, 虚假投资理财, "95,500"
                              → created; NEW person 43990319880412108X; current → 翠湖社区 → JZ0101PS1; high
                                 (升为高 by ≥5万); amount 95500.00; repeat 0
   5 GBKFX-0004 涉诈短信, 16:45, same ID (lower-case x), 户籍地 江州市中山人民路82号, no 居住地址
                              → created; same person as line 4; household → 翠湖社区 → JZ0101PS1; repeat_count 1,
                                 medium ("升为中：此前已被预警 1 次（重复预警）" on top of sms' low)
   6 GBKFX-0005 涉诈APP 低, serial 46086.6875, 15-digit 439901650109325, no address
                              → created; ID widened to 439901196501093251 = 叶浩华; placed on his own community
                                 翠湖社区 (match_source person) → JZ0101PS1; medium (低 raised by 老年人); warned 16:30
   7 GBKFX-0006 资金预警 低, 10:00, 反馈期限 2026-03-06 18:00, 周建军 439904199111051630, 户籍地 湖南省长沙市岳麓区,
     居住地址 人民新村12幢      → created; NEW person; current → 人民社区 → JZ0101PS2; low: the upstream 低 wins over
                                 资金预警's base 高 and no rule raises it; feedback 2026-03-06 18:00 (upstream)
   8 GBKFX-0007 电话, "2026/3/5 11:20", no name, no ID, "+86 186 0731 4521", 江州市河口镇枫林村3组
                              → created; NEW person by phone (name （未知）); current → 枫林村 → JZ0203PS1; medium
   9 GBKFX-0008 涉诈网址, "2026-03-05 09:00:00", 赵国庆 15-digit 439904720815123, 户籍地 白沙县白沙镇桃园村2组,
     居住地址 外省务工暂住       → created; ID widened to 439904197208151233, NEW person (男, born 1972-08-15); the current
                                 address matches nothing, household → 桃园村 → JZ0401PS1; low
  10 GBKFX-0009 境外来电, 王芳, "159 7310 0266", 湖南省长沙市岳麓区麓山南路 / 广东省深圳市南山区科技园南路18号
                              → created, status unplaced (待分配): no address in the county, no known person, so no
                                 station and no person until an analyst places it; medium
  11 GBKFX-0010 ID 439902199001012356 → rejected 身份证号 "身份证号 校验位错误" (the check digit should be 5)
  12 GBKFX-0011 下发时间 "3月5日上午" → rejected 预警时间 "预警时间 无法识别的时间：3月5日上午"
  13 GBKFX-0012 预警类别 "直播带货" → rejected 预警类型 "未知的预警类型“直播带货”"
  14 GBKFX-0013 neither ID nor phone → rejected 身份证号 "身份证号和手机号都为空，无法确定预警对象"
  15 GBKFX-0001 again (平台重复推送) → duplicate of line 2 inside the file
  16 ",,,,,,,,,,,,,,," (an empty row Excel leaves) → skipped, not read
  17 GBKFX-0014 涉诈电话 中, 17:05, 陈静 439903198503082777, "133 0731 8890", 中山街道紫荆花园5栋1单元302, 冒充公检法
                              → created; NEW person; current → 紫荆社区 → JZ0101PS1; medium (upstream 中, "另：高损失…")

Totals: read 15 (lines 2–15, 17), created 10 (2–10, 17), updated 0, duplicates 1 (15), rejected 4 (11–14).
Imported again: created 0, updated 0, duplicates 11, rejected 4.

The GBK file is imported once per test process by the session fixture `gbk_run` (as yanpan, through a stored batch
and run_batch, as the web page does). Other tests import copies whose 预警编号 read GBKFX<tag>- instead of GBKFX-;
none of the counts above depend on the tag.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fanzha.addresses.models import StandardAddress
from fanzha.addresses.service import AddressMatcher
from fanzha.imports import service as imports
from fanzha.imports.models import ImportBatch, ImportRowError
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.warnings import service as warnings_service
from fanzha.warnings.dispatch import station_of_communities
from fanzha.warnings.models import Warning

pytestmark = pytest.mark.usefixtures("gbk_run")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GBK_FILE = FIXTURES / "warnings_provincial_gbk.csv"
BEIJING = ZoneInfo("Asia/Shanghai")
SYSTEM_ERROR = "导入过程中出现系统错误，本批次未写入任何数据，请稍后重试或联系管理员"
GBK_SUMMARY = {"read": 15, "created": 10, "updated": 0, "duplicates": 1, "rejected": 4}
GBK_AGAIN = {"read": 15, "created": 0, "updated": 0, "duplicates": 11, "rejected": 4}
GBK_ERRORS = [
    (11, "身份证号", "身份证号 校验位错误", "GBKFX-0010"),
    (12, "预警时间", "预警时间 无法识别的时间：3月5日上午", "GBKFX-0011"),
    (13, "预警类型", "未知的预警类型“直播带货”", "GBKFX-0012"),
    (14, "身份证号", "身份证号和手机号都为空，无法确定预警对象", "GBKFX-0013"),
]
# 预警编号 → (community code, station code, match source, risk grade, repeat count); None: 待分配
GBK_PLACED = {
    "GBKFX-0001": ("JZ0101001", "JZ0101PS1", "current", "high", 0),
    "GBKFX-0002": ("JZ0102015", "JZ0102PS1", "current", "medium", 0),
    "GBKFX-0003": ("JZ0101007", "JZ0101PS1", "current", "high", 0),
    "GBKFX-0004": ("JZ0101007", "JZ0101PS1", "household", "medium", 1),
    "GBKFX-0005": ("JZ0101007", "JZ0101PS1", "person", "medium", 0),
    "GBKFX-0006": ("JZ0101002", "JZ0101PS2", "current", "low", 0),
    "GBKFX-0007": ("JZ0203001", "JZ0203PS1", "current", "medium", 0),
    "GBKFX-0008": ("JZ0401003", "JZ0401PS1", "household", "low", 0),
    "GBKFX-0009": (None, None, None, "medium", 0),
    "GBKFX-0014": ("JZ0101003", "JZ0101PS1", "current", "medium", 0),
}
# The standard addresses the fixture's good rows contain → (community, station), as noted by hand above.
DEMO_ADDRESSES = {
    "中山迎宾大道288号": ("JZ0101001", "JZ0101PS1"), "中山人民路82号": ("JZ0101007", "JZ0101PS1"),
    "紫荆花园": ("JZ0101003", "JZ0101PS1"), "人民新村": ("JZ0101002", "JZ0101PS2"),
    "解放迎宾大道241号": ("JZ0102015", "JZ0102PS1"), "河口镇枫林村3组": ("JZ0203001", "JZ0203PS1"),
    "白沙镇桃园村2组": ("JZ0401003", "JZ0401PS1"),
    # used by the XLSX variant
    "中山建设路54号": ("JZ0101003", "JZ0101PS1"), "河口镇五星村4组": ("JZ0203003", "JZ0203PS1"),
    "白沙镇高坪村1组": ("JZ0401001", "JZ0401PS1"),
}
OUTSIDE_ADDRESSES = ["广东省深圳市南山区科技园南路18号", "湖南省长沙市岳麓区麓山南路", "湖南省长沙市岳麓区", "外省务工暂住",
                     "北京市朝阳区建国路88号"]
DEMO_PEOPLE = {"439901200508275751": ("杨华", "JZ0101001"), "439901196501093251": ("叶浩华", "JZ0101007")}
DEMO_PHONE = ("13798728775", "孟建国", "JZ0103015")
NEW_IDS = ["43990319880412108X", "439904199111051630", "439904197208151233", "439903198503082777"]
NEW_PHONES = ["13907312245", "15873106612", "18607314521", "15973100266", "13307318890"]


def beijing(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING).astimezone(UTC)


def scope_of(session, username: str) -> Scope:
    return Scope.for_user(session.scalar(select(User).where(User.username == username)))


def tagged_copy(tmp_path: Path, tag: str, name: str = "预警指令导出.csv") -> Path:
    """The GBK fixture with 预警编号 GBKFX-… → GBKFX<tag>-…, still GBK with CRLF."""
    text = GBK_FILE.read_bytes().decode("gbk")
    target = tmp_path / name
    target.write_bytes(text.replace("GBKFX-", f"GBKFX{tag}-").encode("gbk"))
    return target


def stored_batch(path: Path, username: str | None) -> int:
    """A committed batch as the web page (or the CLI, username None) makes it, not yet run."""
    from fanzha.db import session_scope

    with session_scope() as session:
        scope = scope_of(session, username) if username else Scope.system(session)
        copy = path.with_name("upload_" + path.name)
        copy.write_bytes(path.read_bytes())
        return imports.create_batch(session, scope, "warning", path.name, imports.store_upload(path.name, copy)).id


def batch_scope(session, batch):
    from fanzha.worker.tasks import _batch_scope

    return _batch_scope(session, batch)


def warnings_like(session, prefix: str) -> list[Warning]:
    return list(session.scalars(select(Warning).where(Warning.external_id.startswith(prefix, autoescape=True))
                                .order_by(Warning.external_id)))


def code_of(session, area_id: int | None) -> str | None:
    return session.get(Area, area_id).code if area_id else None


# -- the GBK file, imported once ------------------------------------------------------------------------------

@dataclass
class Snapshot:
    status: str
    community: str | None
    station: str | None
    match_source: str | None
    risk_grade: str
    upstream_grade: str | None
    reasons: list[str]
    repeat_count: int
    id_number: str | None
    phone: str | None
    amount: Decimal | None
    warned_at: datetime
    feedback_deadline: datetime
    upstream_deadline: bool
    person_id: int | None
    person: tuple | None  # (name, id_number, phone, community code, gender, birth date)
    assignee: tuple | None  # (username, role, station code)
    batch_id: int | None


@dataclass
class Run:
    batch_id: int
    summary: dict
    prior: dict[str, int]  # earlier warnings of the demo people, by their ID number / phone
    unknown_before: bool  # none of NEW_IDS / NEW_PHONES belonged to anybody before the import
    rows: dict[str, Snapshot]


def _snapshot(session, w: Warning) -> Snapshot:
    person = session.get(Person, w.person_id) if w.person_id else None
    assignee = session.get(User, w.assignee_id) if w.assignee_id else None
    return Snapshot(
        status=w.status, community=code_of(session, w.community_id), station=code_of(session, w.station_id),
        match_source=w.match_source, risk_grade=w.risk_grade, upstream_grade=w.upstream_grade,
        reasons=list(w.grade_reasons), repeat_count=w.repeat_count, id_number=w.id_number, phone=w.phone,
        amount=w.amount, warned_at=w.warned_at, feedback_deadline=w.feedback_deadline,
        upstream_deadline=w.upstream_deadline, person_id=w.person_id,
        person=(person.name, person.id_number, person.phone, code_of(session, person.community_id), person.gender,
                person.birth_date) if person else None,
        assignee=(assignee.username, assignee.role, code_of(session, assignee.area_id)) if assignee else None,
        batch_id=w.batch_id)


@pytest.fixture(scope="session")
def gbk_run(database, tmp_path_factory) -> Run:
    from fanzha.db import session_scope

    with session_scope() as s:
        people = {p.id_number: p.id for p in s.scalars(select(Person).where(Person.id_number.in_(DEMO_PEOPLE)))}
        people |= {p.phone: p.id for p in s.scalars(select(Person).where(Person.phone == DEMO_PHONE[0]))}
        prior = {key: s.scalar(select(func.count()).select_from(Warning).where(Warning.person_id == pid))
                 for key, pid in people.items()}
        unknown = not s.scalar(select(func.count()).select_from(Person).where(
            Person.id_number.in_(NEW_IDS) | Person.phone.in_(NEW_PHONES)))
    path = tmp_path_factory.mktemp("gbk") / "江州预警指令.csv"
    path.write_bytes(GBK_FILE.read_bytes())
    batch_id = stored_batch(path, "yanpan")
    summary = imports.run_batch(batch_id, batch_scope)
    with session_scope() as s:
        rows = {w.external_id: _snapshot(s, w) for w in warnings_like(s, "GBKFX-")}
    return Run(batch_id, summary, prior, unknown, rows)


def test_demo_facts_the_fixture_relies_on(db, gbk_run):
    stations = station_of_communities(db)
    for text, (community, station) in DEMO_ADDRESSES.items():
        row = db.scalar(select(StandardAddress).where(StandardAddress.text == text))
        assert row is not None, f"demo standard address {text} missing"
        assert (code_of(db, row.community_id), code_of(db, stations[row.community_id])) == (community, station), text
    matcher = AddressMatcher(db)
    assert [t for t in OUTSIDE_ADDRESSES if matcher.match(t) is not None] == []
    for idn, (name, community) in DEMO_PEOPLE.items():
        person = db.scalar(select(Person).where(Person.id_number == idn))
        assert (person.name, code_of(db, person.community_id)) == (name, community)
    phone_people = db.scalars(select(Person).where(Person.phone == DEMO_PHONE[0])).all()
    assert [(p.name, code_of(db, p.community_id)) for p in phone_people] == [DEMO_PHONE[1:]]
    assert gbk_run.prior == {"439901200508275751": 0, "439901196501093251": 0, "13798728775": 0}
    assert gbk_run.unknown_before
    quanzu = {u.username: code_of(db, u.area_id) for u in db.scalars(
        select(User).where(User.username.in_(["ps01_quanzu", "ps02_quanzu", "ps03_quanzu", "ps11_quanzu",
                                              "ps19_quanzu"])))}
    assert quanzu == {"ps01_quanzu": "JZ0101PS1", "ps02_quanzu": "JZ0101PS2", "ps03_quanzu": "JZ0102PS1",
                      "ps11_quanzu": "JZ0203PS1", "ps19_quanzu": "JZ0401PS1"}
    lines = GBK_FILE.read_bytes().decode("gbk").split("\r\n")
    assert lines[0].startswith("预警编码,预警类别,风险等级,下发时间,反馈期限,,受害人姓名,身份证号码,联系电话")
    assert len(lines) == 18 and lines[-1] == ""
    with pytest.raises(UnicodeDecodeError):
        GBK_FILE.read_bytes().decode("utf-8")


def test_gbk_counts_and_rejected_rows(db, gbk_run):
    assert gbk_run.summary == GBK_SUMMARY
    batch = db.get(ImportBatch, gbk_run.batch_id)
    assert (batch.status, batch.kind, batch.read, batch.created, batch.duplicates, batch.rejected) == \
        ("done", "warning", 15, 10, 1, 4)
    errors = db.scalars(select(ImportRowError).where(ImportRowError.batch_id == gbk_run.batch_id)
                        .order_by(ImportRowError.row_number)).all()
    assert [(e.row_number, e.column, e.reason, e.raw["预警编号"]) for e in errors] == GBK_ERRORS
    assert sorted(gbk_run.rows) == sorted(GBK_PLACED)
    assert {w.batch_id for w in gbk_run.rows.values()} == {gbk_run.batch_id}


def test_gbk_rows_land_at_the_hand_noted_station(gbk_run):
    got = {ext: (w.community, w.station, w.match_source, w.risk_grade, w.repeat_count)
           for ext, w in gbk_run.rows.items()}
    assert got == GBK_PLACED
    for ext, w in gbk_run.rows.items():
        if w.station is None:
            assert (w.status, w.assignee, w.person_id) == ("unplaced", None, None), ext
            continue
        # No station of the demo keeps a roster: each warning goes straight to the station's dissuader.
        assert w.status in ("assigned", "dispatched"), ext
        if w.status == "assigned":
            assert w.assignee[1:] == ("dissuader", w.station), ext


def test_gbk_people_attach_by_id_else_phone_and_ids_are_widened(db, gbk_run):
    rows = gbk_run.rows
    yang = db.scalar(select(Person).where(Person.id_number == "439901200508275751"))
    meng = db.scalar(select(Person).where(Person.phone == "13798728775"))
    ye = db.scalar(select(Person).where(Person.id_number == "439901196501093251"))
    assert rows["GBKFX-0001"].person_id == yang.id                       # by ID
    assert (rows["GBKFX-0002"].person_id, rows["GBKFX-0002"].id_number) == (meng.id, None)  # by phone
    assert (rows["GBKFX-0005"].person_id, rows["GBKFX-0005"].id_number) == (ye.id, "439901196501093251")  # 15 → 18
    # New people, made by the import on the community the warning was placed on
    liu = rows["GBKFX-0003"]
    assert liu.id_number == "43990319880412108X"
    assert liu.person == ("刘晓梅", "43990319880412108X", "13907312245", "JZ0101007", "女", datetime(1988, 4, 12).date())
    assert rows["GBKFX-0004"].person_id == liu.person_id
    assert rows["GBKFX-0006"].person[1:4] == ("439904199111051630", "15873106612", "JZ0101002")
    assert rows["GBKFX-0007"].person[:4] == ("（未知）", None, "18607314521", "JZ0203001")
    zhao = rows["GBKFX-0008"]
    assert zhao.id_number == "439904197208151233"
    assert zhao.person == ("赵国庆", "439904197208151233", None, "JZ0401003", "男", datetime(1972, 8, 15).date())
    assert rows["GBKFX-0014"].person[1:4] == ("439903198503082777", "13307318890", "JZ0101003")
    # Every placed warning has its person: by ID number if the row has one, else by phone.
    for ext, w in rows.items():
        if w.station is None:
            continue
        if w.id_number:
            assert w.person[1] == w.id_number, ext
        else:
            assert w.person[2] == w.phone, ext
    assert rows["GBKFX-0002"].phone == "13798728775" and rows["GBKFX-0007"].phone == "18607314521"
    # One new person per new identity, however many warnings it has
    assert db.scalar(select(func.count()).select_from(Person).where(Person.id_number == "43990319880412108X")) == 1


def test_gbk_second_warning_of_the_same_person_is_a_repeat(gbk_run):
    first, second = gbk_run.rows["GBKFX-0003"], gbk_run.rows["GBKFX-0004"]
    assert (first.repeat_count, second.repeat_count) == (0, 1)
    assert second.reasons == ["上级未定级，按预警类型“涉诈短信”定为低", "升为中：此前已被预警 1 次（重复预警）"]
    assert not any("重复预警" in r for r in first.reasons)


def test_gbk_upstream_grade_and_deadline_win(gbk_run):
    rows = gbk_run.rows
    funds_low = rows["GBKFX-0006"]  # 资金预警 would be 高 by its kind; upstream said 低
    assert (funds_low.upstream_grade, funds_low.risk_grade) == ("low", "low")
    assert funds_low.reasons == ["上级下发级别：低", "资金预警须见面劝阻", "反馈时限按上级下发"]
    assert (funds_low.warned_at, funds_low.feedback_deadline) == (beijing("2026-03-05 10:00"), beijing("2026-03-06 18:00"))
    assert funds_low.upstream_deadline
    first = rows["GBKFX-0001"]
    assert (first.warned_at, first.feedback_deadline) == (beijing("2026-03-05 08:05"), beijing("2026-03-05 20:05"))
    assert first.reasons == ["上级下发级别：高", "另：拟转账金额 95,500.00 元，达到5万元", "另：易受骗群体：师生",
                             "另：高损失诈骗类型：冒充公检法及政府机关", "资金预警须见面劝阻", "反馈时限按上级下发"]
    raised = rows["GBKFX-0003"]  # upstream 中, raised by the amount
    assert (raised.upstream_grade, raised.risk_grade) == ("medium", "high")
    assert "升为高：拟转账金额 95,500.00 元，达到5万元" in raised.reasons
    assert (raised.warned_at, raised.feedback_deadline) == (beijing("2026-03-05 14:30"), beijing("2026-03-06 14:30"))
    # No upstream deadline: the rules' 24 h (1440 min) for every grade
    serial = rows["GBKFX-0002"]
    assert (serial.warned_at, serial.feedback_deadline, serial.upstream_deadline) == \
        (beijing("2026-03-05 09:40"), beijing("2026-03-06 09:40"), False)
    assert serial.reasons == ["上级未定级，按预警类型“涉诈电话”定为中"]
    assert rows["GBKFX-0005"].warned_at == beijing("2026-03-05 16:30")
    assert rows["GBKFX-0007"].warned_at == beijing("2026-03-05 11:20")
    assert rows["GBKFX-0008"].warned_at == beijing("2026-03-05 09:00")
    assert rows["GBKFX-0005"].reasons == ["上级下发级别：低", "升为中：易受骗群体：老年人"]
    assert first.amount == raised.amount == Decimal("95500.00")  # "9.55万" and "95,500"


def test_gbk_error_file_has_every_bad_row_with_its_reason(db, gbk_run):
    data = b"".join(imports.error_file(db, scope_of(db, "yanpan"), gbk_run.batch_id))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "原因", "预警编号", "预警类型", "预警级别", "预警时间", "反馈时限", "姓名", "身份证号",
                       "手机号", "户籍地址", "现住址", "涉诈类型", "拟转账金额", "对方账号", "下发单位", "备注"]
    assert [(int(r[0]), r[1], r[2], r[3]) for r in rows[1:]] == GBK_ERRORS
    by_id = {r[3]: dict(zip(rows[0], r, strict=False)) for r in rows[1:]}
    assert by_id["GBKFX-0010"]["身份证号"] == "439902199001012356"
    assert by_id["GBKFX-0011"]["预警时间"] == "3月5日上午"
    assert by_id["GBKFX-0012"]["预警类型"] == "直播带货"
    assert (by_id["GBKFX-0013"]["身份证号"], by_id["GBKFX-0013"]["手机号"]) == ("", "")


def test_gbk_imported_again_is_all_duplicates(db, gbk_run):
    tally = imports.run_file(db, scope_of(db, "yanpan"), "warning", GBK_FILE)
    assert tally.summary() == GBK_AGAIN
    assert [e[0] for e in tally.errors] == [11, 12, 13, 14]
    assert len(warnings_like(db, "GBKFX-")) == 10


# -- re-sent instructions, repeats across chunks, a crash half way -------------------------------------------

def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(["预警编号,预警类型,预警级别,预警时间,反馈时限,手机号,现住址", *rows]) + "\r\n").encode("gbk"))
    return path


def test_a_resent_raised_grade_updates_and_a_lower_one_never_lowers(db, tmp_path):
    yanpan = scope_of(db, "yanpan")
    address = "中山建设路54号"
    first = _csv(tmp_path, "1.csv", [f"RESEND-0001,涉诈短信,低,2026-03-05 10:00,,15073101234,{address}",
                                     f"RESEND-0002,涉诈短信,,2026-03-05 10:00,,15073101235,{address}"])
    assert imports.run_file(db, yanpan, "warning", first).summary() == \
        {"read": 2, "created": 2, "updated": 0, "duplicates": 0, "rejected": 0}
    w1, w2 = warnings_like(db, "RESEND-")
    assert (w1.upstream_grade, w1.risk_grade, w2.upstream_grade, w2.risk_grade) == ("low", "low", None, "low")

    raised = _csv(tmp_path, "2.csv", [f"RESEND-0001,涉诈短信,高,2026-03-05 10:00,,15073101234,{address}",
                                      f"RESEND-0002,涉诈短信,中,2026-03-05 10:00,,15073101235,{address}"])
    assert imports.run_file(db, yanpan, "warning", raised).summary() == \
        {"read": 2, "created": 0, "updated": 2, "duplicates": 0, "rejected": 0}
    db.flush()
    db.refresh(w1)
    db.refresh(w2)
    assert (w1.upstream_grade, w1.risk_grade) == ("high", "high")
    assert w1.grade_reasons == ["上级下发级别：高", "上级重新下发，已更新"]
    assert (w2.upstream_grade, w2.risk_grade) == ("medium", "medium")
    assert w1.sign_deadline == beijing("2026-03-05 10:05")  # high: sign within 5 minutes

    # The same again, then lower grades: duplicates, and nothing goes down.
    lower = _csv(tmp_path, "3.csv", [f"RESEND-0001,涉诈短信,高,2026-03-05 10:00,,15073101234,{address}",
                                     f"RESEND-0001,涉诈短信,中,2026-03-05 10:00,,15073101234,{address}",
                                     f"RESEND-0002,涉诈短信,低,2026-03-05 10:00,,15073101235,{address}"])
    assert imports.run_file(db, yanpan, "warning", lower).summary() == \
        {"read": 3, "created": 0, "updated": 0, "duplicates": 3, "rejected": 0}
    db.flush()
    db.refresh(w1)
    db.refresh(w2)
    assert (w1.upstream_grade, w1.risk_grade, w2.upstream_grade, w2.risk_grade) == ("high", "high", "medium", "medium")

    # A new upstream deadline is an update too.
    moved = _csv(tmp_path, "4.csv", [f"RESEND-0002,涉诈短信,,2026-03-05 10:00,6小时,15073101235,{address}"])
    assert imports.run_file(db, yanpan, "warning", moved).summary() == \
        {"read": 1, "created": 0, "updated": 1, "duplicates": 0, "rejected": 0}
    db.flush()
    db.refresh(w2)
    assert (w2.feedback_deadline, w2.upstream_deadline, w2.risk_grade) == (beijing("2026-03-05 16:00"), True, "medium")


def test_the_same_number_twice_in_one_file_is_a_duplicate_across_chunks(db, monkeypatch):
    """The first row of a 预警编号 stands: a later row of the same file, in a later chunk and with a higher grade,
    is counted as a duplicate, not as an update of the warning the file itself just created."""
    monkeypatch.setattr(warnings_service, "CHUNK", 2)
    row = {"预警编号": "TWICE-1", "预警类型": "涉诈短信", "预警级别": "低", "预警时间": "2026-03-05 10:00",
           "身份证号": "43990319920117104X", "现住址": "紫荆花园3栋"}
    other = row | {"预警编号": "TWICE-2"}
    tally = warnings_service.ingest_rows(db, scope_of(db, "yanpan"), [(2, row), (3, other), (4, row | {"预警级别": "高"})])
    assert tally.summary() == {"read": 3, "created": 2, "updated": 0, "duplicates": 1, "rejected": 0}
    assert [w.upstream_grade for w in warnings_like(db, "TWICE-")] == ["low", "low"]


def test_a_number_already_on_file_met_twice_in_one_file_is_updated_once(db, monkeypatch):
    """An instruction already on file, re-sent twice in one file (in two chunks): the first re-sent row updates it,
    the second is a duplicate — as if both rows were in one chunk."""
    monkeypatch.setattr(warnings_service, "CHUNK", 1)
    row = {"预警编号": "RESENT-1", "预警类型": "涉诈短信", "预警级别": "低", "预警时间": "2026-03-05 10:00",
           "身份证号": "43990319920117104X", "现住址": "紫荆花园3栋"}
    yanpan = scope_of(db, "yanpan")
    warnings_service.ingest_rows(db, yanpan, [(2, row)])
    tally = warnings_service.ingest_rows(db, yanpan, [(2, row | {"预警级别": "中"}), (3, row | {"预警级别": "高"})])
    assert tally.summary() == {"read": 2, "created": 0, "updated": 1, "duplicates": 1, "rejected": 0}
    assert [w.upstream_grade for w in warnings_like(db, "RESENT-")] == ["medium"]


def test_repeat_counts_of_unplaced_warnings_survive_an_emptied_cache(db, monkeypatch):
    """Warnings that land nowhere (待分配) have no person: their count by ID number is kept when the cache empties."""
    monkeypatch.setattr(warnings_service, "CHUNK", 1)
    monkeypatch.setattr(warnings_service, "PEOPLE_CACHE", 0)
    # An ID number no other test gives a person (test_bad_input registers the GB example 11010519491231002X).
    rows = [(n, {"预警编号": f"NOWHERE-{n}", "预警类型": "涉诈短信", "预警时间": f"2026-03-05 1{n}:00",
                 "身份证号": "439999194901017713", "现住址": "外省务工暂住"}) for n in (1, 2, 3)]  # on no one's record
    warnings_service.ingest_rows(db, scope_of(db, "yanpan"), rows)
    ws = warnings_like(db, "NOWHERE-")
    assert [(w.status, w.person_id) for w in ws] == [("unplaced", None)] * 3
    assert [w.repeat_count for w in ws] == [0, 1, 2]


@pytest.mark.parametrize("cache", [200_000, 0])
def test_repeat_counts_carry_across_chunks(db, monkeypatch, cache):
    """A person the import itself creates keeps counting when later warnings fall in a later chunk — from the
    run's cache, or from the table when the cache has been emptied (cache 0: emptied before every chunk)."""
    monkeypatch.setattr(warnings_service, "CHUNK", 1)
    monkeypatch.setattr(warnings_service, "PEOPLE_CACHE", cache)
    rows = [(n, {"预警编号": f"CHUNKREP{cache}-{n}", "预警类型": "涉诈短信", "预警时间": f"2026-03-05 1{n}:00",
                 "身份证号": "43990319920117104X", "现住址": "紫荆花园3栋"}) for n in (1, 2, 3)]
    tally = warnings_service.ingest_rows(db, scope_of(db, "yanpan"), rows)
    assert tally.summary() == {"read": 3, "created": 3, "updated": 0, "duplicates": 0, "rejected": 0}
    ws = warnings_like(db, f"CHUNKREP{cache}-")
    assert [w.repeat_count for w in ws] == [0, 1, 2]
    assert [w.risk_grade for w in ws] == ["low", "medium", "high"]
    assert "升为高：此前已被预警 2 次（多次预警）" in ws[2].grade_reasons
    assert len({w.person_id for w in ws}) == 1 and ws[0].person_id is not None


def test_a_crash_on_the_second_chunk_leaves_nothing_from_the_batch(db, tmp_path, monkeypatch):
    tag = "crash"
    batch_id = stored_batch(tagged_copy(tmp_path, tag), "yanpan")
    monkeypatch.setattr(warnings_service, "CHUNK", 3)
    real_apply = warnings_service._apply
    calls = []

    def crashing(ctx, chunk, tally):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_apply(ctx, chunk, tally)

    monkeypatch.setattr(warnings_service, "_apply", crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        imports.run_batch(batch_id, batch_scope)
    assert calls == [3, 3]  # the first chunk went in before the second failed

    db.expire_all()
    assert warnings_like(db, f"GBKFX{tag}-") == []
    assert db.scalar(select(func.count()).select_from(Warning).where(Warning.batch_id == batch_id)) == 0
    assert db.scalar(select(func.count()).select_from(ImportRowError).where(ImportRowError.batch_id == batch_id)) == 0
    batch = db.get(ImportBatch, batch_id)
    assert (batch.status, batch.message, batch.read, batch.created) == ("failed", SYSTEM_ERROR, 0, 0)

    # Fixed and run again, the same batch goes through.
    monkeypatch.setattr(warnings_service, "_apply", real_apply)
    assert imports.run_batch(batch_id, batch_scope) == GBK_SUMMARY
    db.expire_all()
    assert len(warnings_like(db, f"GBKFX{tag}-")) == 10


# -- XLSX -----------------------------------------------------------------------------------------------------

def test_xlsx_with_merged_title_serial_dates_and_a_blank_header(db, tmp_path):
    """An .xlsx as an office saves it: merged title row, header on row 2 with a blank cell (column F), Excel serial
    dates as plain numbers next to a real date cell and text, numbers where text belongs, a blank row.

      3 XLSFX-0001 资金预警 高, 46086.34375, 处置时限 24, ID 43990319790923107x, phone 13973104455 (a number),
        中山建设路54号2栋, 金额 95500 (a number)        → created; 紫荆社区 → JZ0101PS1; 08:15, feedback +24 h; high
      4 XLSFX-0002 涉诈电话, a date cell 2026-03-05 10:30, "+86 135 7310 2288", 江州河口镇五星村4组
                                                      → created; 五星村 → JZ0203PS1; medium
      5 (blank)                                       → skipped
      6 XLSFX-0003 短信 低, "2026-03-05 11:00", 处置时限 46087.5 (a serial date), 15-digit 439903650101102,
        户籍所在地 白沙镇高坪村1组                      → created; household → 高坪村 → JZ0401PS1; ID widened to
                                                        439903196501011028; feedback 2026-03-06 12:00; low
      7 XLSFX-0004 预警等级 紫色                       → rejected 预警级别
      8 XLSFX-0005 phone 12345 (a number)             → rejected 手机号
      9 XLSFX-0001 again                              → duplicate
     10 XLSFX-0006 境外来电, 北京市朝阳区建国路88号   → created, unplaced
    Totals: read 7, created 4, updated 0, duplicates 1, rejected 2.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "预警指令"
    header = ["指令编号", "预警种类", "预警等级", "预警时间", "处置时限", None, "对象姓名", "公民身份号码", "手机号码",
              "户籍所在地", "现居住地址", "案件类型", "金额（元）", "对方账户", "来源单位", "说明"]
    rows = {
        1: ["江州市反诈中心预警指令（省平台导出）"],
        2: header,
        3: ["XLSFX-0001", "资金预警", "高", 46086.34375, 24, "已签收", "郑小红", "43990319790923107x", 13973104455,
            None, "中山建设路54号2栋", "刷单", 95500, "6222021234567890123", "省反诈中心", None],
        4: ["XLSFX-0002", "涉诈电话", None, datetime(2026, 3, 5, 10, 30), None, None, "吴海", None,
            "+86 135 7310 2288", None, "江州河口镇五星村4组", "冒充客服", None, None, "国家反诈中心", None],
        6: ["XLSFX-0003", "短信", "低", "2026-03-05 11:00", 46087.5, None, "钱某", "439903650101102", None,
            "白沙镇高坪村1组", None, None, None, None, "省反诈中心", None],
        7: ["XLSFX-0004", "资金预警", "紫色", 46086.5, None, None, "孙某", None, "13973108888", None, "紫荆花园",
            None, None, None, "省反诈中心", None],
        8: ["XLSFX-0005", "涉诈电话", None, 46086.5, None, None, "李某", None, 12345, None, "紫荆花园", None, None,
            None, "省反诈中心", None],
        9: ["XLSFX-0001", "资金预警", "高", 46086.34375, 24, None, "郑小红", "43990319790923107x", 13973104455,
            None, "中山建设路54号2栋", "刷单", 95500, "6222021234567890123", "省反诈中心", "重复推送"],
        10: ["XLSFX-0006", "境外来电", None, 46086.75, None, None, "周某", None, "13873105566", None,
             "北京市朝阳区建国路88号", None, None, None, "国家反诈中心", None],
    }
    for number, values in rows.items():
        for col, value in enumerate(values, start=1):
            ws.cell(row=number, column=col, value=value)
    ws.merge_cells("A1:P1")
    path = tmp_path / "预警指令.xlsx"
    wb.save(path)

    tally = imports.run_file(db, scope_of(db, "yanpan"), "warning", path)
    assert tally.summary() == {"read": 7, "created": 4, "updated": 0, "duplicates": 1, "rejected": 2}
    assert [(n, c, r) for n, c, r, _ in tally.errors] == [
        (7, "预警级别", "未知的预警级别“紫色”（应为 高/中/低）"),
        (8, "手机号", "手机号 格式不对（应为11位手机号或带区号的固定电话）"),
    ]
    assert tally.errors[1][3]["手机号"] == 12345
    got = {w.external_id: (code_of(db, w.community_id), code_of(db, w.station_id), w.match_source, w.risk_grade,
                           w.warned_at, w.feedback_deadline) for w in warnings_like(db, "XLSFX-")}
    assert got == {
        "XLSFX-0001": ("JZ0101003", "JZ0101PS1", "current", "high", beijing("2026-03-05 08:15"),
                       beijing("2026-03-06 08:15")),
        "XLSFX-0002": ("JZ0203003", "JZ0203PS1", "current", "medium", beijing("2026-03-05 10:30"),
                       beijing("2026-03-06 10:30")),
        "XLSFX-0003": ("JZ0401001", "JZ0401PS1", "household", "low", beijing("2026-03-05 11:00"),
                       beijing("2026-03-06 12:00")),
        "XLSFX-0006": (None, None, None, "medium", beijing("2026-03-05 18:00"), beijing("2026-03-06 18:00")),
    }
    first = db.scalar(select(Warning).where(Warning.external_id == "XLSFX-0001"))
    assert (first.id_number, first.phone, first.amount) == ("43990319790923107X", "13973104455", Decimal("95500.00"))
    third = db.scalar(select(Warning).where(Warning.external_id == "XLSFX-0003"))
    assert third.id_number == "439903196501011028" and third.person.id_number == "439903196501011028"
    assert db.scalar(select(Warning.status).where(Warning.external_id == "XLSFX-0006")) == "unplaced"


# -- web, CLI, API --------------------------------------------------------------------------------------------

def test_web_import_as_the_analyst(client_as, db, tmp_path):
    tag = "web"
    client = client_as("yanpan")
    page = client.get("/warnings/import")
    assert page.status_code == 200
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    content = tagged_copy(tmp_path, tag).read_bytes()

    def upload() -> int:
        response = client.post("/warnings/import", data={"csrf_token": token},
                               files={"file": ("省平台预警指令.csv", content, "text/csv")}, follow_redirects=False)
        assert response.status_code == 303, response.text
        match = re.fullmatch(r"/imports/(\d+)", response.headers["location"])
        assert match
        return int(match.group(1))

    batch_id = upload()
    status = client.get(f"/imports/{batch_id}")
    assert status.status_code == 200
    assert "已完成" in status.text and "省平台预警指令.csv" in status.text
    assert re.findall(r"<dt>(\S+?)</dt><dd>(\d+)</dd>", status.text) == \
        [("读取", "15"), ("新增", "10"), ("更新", "0"), ("重复", "1"), ("错误", "4")]
    assert f'href="/imports/{batch_id}/errors.csv"' in status.text

    errors = client.get(f"/imports/{batch_id}/errors.csv")
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == \
        [(str(n), c, reason, ext.replace("GBKFX-", f"GBKFX{tag}-")) for n, c, reason, ext in GBK_ERRORS]
    assert len(warnings_like(db, f"GBKFX{tag}-")) == 10

    again = upload()
    assert again != batch_id
    status = client.get(f"/imports/{again}")
    assert re.findall(r"<dt>(\S+?)</dt><dd>(\d+)</dd>", status.text) == \
        [("读取", "15"), ("新增", "0"), ("更新", "0"), ("重复", "11"), ("错误", "4")]
    db.expire_all()
    assert len(warnings_like(db, f"GBKFX{tag}-")) == 10


def test_web_import_needs_the_intake_permission(client_as, tmp_path):
    client = client_as("ps01_quanzu")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/warnings").text).group(1)
    response = client.post("/warnings/import", data={"csrf_token": token},
                           files={"file": ("a.csv", tagged_copy(tmp_path, "denied").read_bytes(), "text/csv")},
                           follow_redirects=False)
    assert response.status_code == 403


def test_cli_import_prints_one_json_line(db, tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    path = tagged_copy(tmp_path, "cli")
    result = CliRunner().invoke(app, ["warnings", "import", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == GBK_SUMMARY
    again = CliRunner().invoke(app, ["warnings", "import", str(path)])
    assert again.exit_code == 0 and json.loads(again.stdout) == GBK_AGAIN
    ws = warnings_like(db, "GBKFXcli-")
    assert len(ws) == 10 and {w.source for w in ws} == {"import"}
    batch = db.get(ImportBatch, ws[0].batch_id)
    assert (batch.kind, batch.created_by, batch.filename) == ("warning", None, "预警指令导出.csv")


def test_cli_import_of_an_unreadable_file_fails_with_the_message(tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    path = tmp_path / "预警.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    result = CliRunner().invoke(app, ["warnings", "import", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "不支持旧版 .xls 文件" in result.stderr
    header_only = tmp_path / "预警.csv"
    header_only.write_bytes("姓名,手机号\n张三,13800000000\n".encode("gbk"))
    result = CliRunner().invoke(app, ["warnings", "import", str(header_only)])
    assert result.exit_code == 1
    assert "缺少必需的列：预警编号、预警类型、预警时间" in result.stderr


def test_api_one_warning_201_then_200_for_the_same_number(api_as, db):
    api = api_as("yanpan")
    body = {"external_id": "APIFX-0001", "kind": "涉诈电话", "warned_at": "2026-03-05 10:00", "name": "黄某",
            "phone": "+86 150 7310 1236", "current_address": "江州市中山建设路54号"}
    first = api.post("/api/v1/warnings", json=body)
    assert first.status_code == 201, first.text
    out = first.json()
    assert (out["external_id"], out["risk_grade"], out["phone"], out["masked"]) == \
        ("APIFX-0001", "medium", "150****1236", True)
    assert code_of(db, out["station_id"]) == "JZ0101PS1" and code_of(db, out["community_id"]) == "JZ0101003"
    assert "outcome" not in out

    again = api.post("/api/v1/warnings", json=body)
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["id"]) == ("duplicate", out["id"])

    raised = api.post("/api/v1/warnings", json=body | {"grade": "高"})
    assert raised.status_code == 200
    assert (raised.json()["outcome"], raised.json()["risk_grade"]) == ("updated", "high")

    bad = api.post("/api/v1/warnings", json=body | {"external_id": "APIFX-0002", "id_number": "439902199001012356"})
    assert bad.status_code == 422
    assert "身份证号 校验位错误" in bad.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Warning).where(Warning.external_id.startswith("APIFX-"))) == 1


def test_api_batch_reports_errors_by_index(api_as, db):
    api = api_as("yanpan")
    good = {"kind": "资金预警", "warned_at": "2026-03-05 10:00", "amount": "9.55万", "phone": "13973109999",
            "current_address": "人民新村3幢"}
    body = {"warnings": [
        good | {"external_id": "APIBATCH-1"},                                             # 0 created
        good | {"external_id": "APIBATCH-2", "id_number": "439902199001012356"},          # 1 bad checksum
        good | {"external_id": "APIBATCH-3", "warned_at": "昨天下午"},                     # 2 bad time
        good | {"external_id": "APIBATCH-4", "name": "张三\x07"},                         # 3 a control character
        good | {"external_id": "APIBATCH-1", "grade": "低"},                               # 4 duplicate of 0
        good | {"external_id": "APIBATCH-5", "kind": "境外来电", "amount": None, "phone": "13973109998",
                "current_address": "上海市浦东新区世纪大道1号"},                            # 5 created, unplaced
        good | {"external_id": "APIBATCH-6", "kind": "视频号"},                            # 6 unknown kind
    ]}
    response = api.post("/api/v1/warnings:batch", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "read": 7, "created": 2, "updated": 0, "duplicates": 1, "rejected": 4,
        "errors": [
            {"index": 1, "column": "身份证号", "reason": "身份证号 校验位错误"},
            {"index": 2, "column": "预警时间", "reason": "预警时间 无法识别的时间：昨天下午"},
            {"index": 3, "column": "姓名", "reason": "姓名 含有控制字符（请删去不可见字符后重新填写）"},
            {"index": 6, "column": "预警类型", "reason": "未知的预警类型“视频号”"},
        ]}
    db.expire_all()
    made = {w.external_id: (w.status, code_of(db, w.station_id), w.risk_grade, w.amount, w.source)
            for w in warnings_like(db, "APIBATCH-")}
    assert made["APIBATCH-1"][1:] == ("JZ0101PS2", "high", Decimal("95500.00"), "api")
    assert made["APIBATCH-5"] == ("unplaced", None, "medium", None, "api")
    assert sorted(made) == ["APIBATCH-1", "APIBATCH-5"]
