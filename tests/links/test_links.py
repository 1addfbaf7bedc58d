"""串并案: counterparty identifiers on cases and warnings (forms, API, imports), records linked by a shared one or a
blocklisted one, shown on both pages within scope (another station's records only counted), a new warning raised by
an open case, and the centre's list by identifier."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from fanzha.addresses.models import StandardAddress
from fanzha.cases.models import Case
from fanzha.links.models import CounterpartyId
from fanzha.links.rules import BadIdentifier, from_row, parse_cell
from fanzha.org.models import Area, User
from fanzha.trail.models import AuditEntry
from fanzha.warnings.models import Warning
from support.forms import form_to

ACCOUNT = "6222 0211 0000 8888 123"  # 对方账号 as the first station wrote it
ACCOUNT_KEY = "6222021100008888123"
STATION_A, STATION_B = "ps01_minjing", "ps03_minjing"  # officers of two stations in two townships


def _address(db, username: str) -> tuple[str, str]:
    """A standard address on a community of the user's station, and that community's label."""
    station = db.get(Area, db.scalar(select(User.area_id).where(User.username == username)))
    text, label = db.execute(select(StandardAddress.text, Area.label)
                             .join(Area, Area.id == StandardAddress.community_id)
                             .where(Area.police_path.startswith(station.path)).order_by(StandardAddress.id)
                             .limit(1)).one()
    return text, label


def _file_case(client, number: str, address: str, **cells) -> str:
    """Registers a case through the form as a browser sends it; returns the case page's address."""
    page = client.get("/cases/new")
    form = form_to(page.text, "/cases")
    data = dict(form["fields"])
    data.update({"案件编号": number, "立案时间": "2026-11-20 10:00", "发案地址": address, "损失金额": "95.5万",
                 "姓名": "张某", "诈骗类型": "虚假网络投资理财", **cells})
    r = client.post("/cases", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    return r.headers["location"]


def test_rules_read_cells_as_the_blocklist_spells_them():
    assert [i.key for i in parse_cell("phone", "95188123456、+86 170 1234 5678，13800000000 13900000000")] == [
        "95188123456", "17012345678", "13800000000", "13900000000"]
    assert [i.key for i in parse_cell("account", "6222 0200 0000 0000 000; Abc@alipay.com")] == [
        "6222020000000000000", "abc@alipay.com"]
    assert [i.key for i in parse_cell("url", "https://www.Shuadan.example.com/a/")] == ["shuadan.example.com/a"]
    assert [i.key for i in parse_cell("social", "QQ 123456789, wxid_abc123, 微信：Abc_12345")] == [
        "123456789", "wxid_abc123", "abc_12345"]
    assert [i.key for i in parse_cell("app", "某某 优选、TikTok")] == ["某某优选", "tiktok"]
    assert [i.key for i in parse_cell("phone", "１７０ １２３４ ５６７８")] == ["17012345678"]  # full-width: the checker's way
    with pytest.raises(BadIdentifier) as bad:
        parse_cell("phone", "13800000000、12ab")
    assert bad.value.column == "对方电话" and "“12ab”格式不对" in bad.value.reason
    # The victim's own phone or ID number is never a link, in whichever cell it was written.
    own = from_row({"对方电话": "13800000000、17012345678", "对方账号": "110105194912310021"},
                   victim_phone="13800000000", victim_id_number="110105194912310021")
    assert [(i.kind, i.key) for i in own] == [("phone", "17012345678")]


def test_two_cases_linked_by_a_shared_account_and_a_warning_raised_by_one_in_two_stations(client_as, api_as, db):
    """Station A and station B each file a case paid into the same account; the centre's next warning naming it is
    raised to 高 with the reason; each station sees its own record linked and the other only counted; the centre sees
    all, and its 串并 list counts both cases, the warning, the loss and the two communities."""
    officer_a, officer_b = STATION_A, STATION_B
    (address_a, label_a), (address_b, label_b) = _address(db, officer_a), _address(db, officer_b)
    page_a, page_b = client_as(officer_a), client_as(officer_b)
    case_a = _file_case(page_a, "J2911-0001", address_a, 对方账号=ACCOUNT, 对方电话="17012345678")
    case_b = _file_case(page_b, "J2911-0002", address_b, 对方账号=ACCOUNT_KEY, 涉诈APP="某某优选")

    text_a = page_a.get(case_a).text
    assert "串并案" in text_a and "6222****8123" in text_a and ACCOUNT_KEY not in text_a  # masked
    assert "另有 1 条外辖区串并记录（联系反诈中心）" in text_a and "J2911-0002" not in text_a

    centre = api_as("yanpan")
    r = centre.post("/api/v1/warnings", json={
        "external_id": "Y2911-0001", "kind": "资金预警", "grade": "中", "warned_at": "2026-11-25 09:00",
        "name": "李某", "phone": "13912340001", "current_address": address_a, "amount": "30000",
        "counterparty_account": ACCOUNT_KEY})
    assert r.status_code == 201, r.text
    warning = r.json()
    assert warning["risk_grade"] == "high"  # 中 upstream, raised: an open case holds the account
    assert any(re.fullmatch(r"升为高：串并：对方账号 6222\*\*\*\*8123 与2起在办案件相同", g)
               for g in warning["grade_reasons"]), warning["grade_reasons"]

    # Both pages: station A sees its case and the warning linked, station B's case only counted.
    text_a = page_a.get(case_a).text
    assert "Y2911-0001" in text_a and "另有 1 条外辖区串并记录（联系反诈中心）" in text_a and "J2911-0002" not in text_a
    warning_page = page_a.get(f"/warnings/{warning['id']}").text
    assert "J2911-0001" in warning_page and "J2911-0002" not in warning_page
    assert "另有 1 条外辖区串并记录（联系反诈中心）" in warning_page and "串并：对方账号" in warning_page
    text_b = page_b.get(case_b).text
    assert "另有 2 条外辖区串并记录（联系反诈中心）" in text_b
    assert "J2911-0001" not in text_b and "Y2911-0001" not in text_b
    assert page_b.get(f"/warnings/{warning['id']}").status_code == 404

    # The same through the API, for each of them and for the centre.
    case_a_id, case_b_id = int(case_a.rsplit("/", 1)[1]), int(case_b.rsplit("/", 1)[1])
    seen_b = api_as(officer_b).get(f"/api/v1/cases/{case_b_id}/links").json()
    assert (seen_b["linked"], seen_b["hidden"]) == ([], 2)
    assert api_as(officer_b).get(f"/api/v1/cases/{case_a_id}/links").status_code == 404
    seen = centre.get(f"/api/v1/cases/{case_a_id}/links").json()
    assert seen["hidden"] == 0 and {x["number"] for x in seen["linked"]} == {"J2911-0002", "Y2911-0001"}
    assert {(o["kind"], o["value"], o["shared"]) for o in seen["identifiers"]} == {
        ("account", "6222****8123", 2), ("phone", "170****5678", 0)}
    assert "J2911-0002" in client_as("yanpan").get(case_a).text

    # The centre's 串并 list: page (in its navigation) and API; stations have neither.
    board = centre.get("/api/v1/links?kind=account").json()
    row = next(r for r in board if r["value"] == "6222****8123")
    assert (row["cases"], row["warnings"], row["loss"]) == (2, 1, "1910000.00")
    assert sorted(row["areas"]) == sorted({label_a, label_b})
    centre_page = client_as("yanpan").get("/links")
    assert centre_page.status_code == 200 and 'href="/links"' in centre_page.text and "6222****8123" in centre_page.text
    assert page_a.get("/links").status_code == 403 and api_as(officer_a).get("/api/v1/links").status_code == 403
    assert 'href="/links"' not in text_a
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity == "case_links", AuditEntry.entity_id == str(case_b_id))) >= 2


def test_a_blocklisted_phone_raises_a_warning_and_flags_it(api_as, session, db):
    from fanzha.blocklist.models import BlocklistEntry

    session.add(BlocklistEntry(kind="phone", value="170 9999 0029", key="17099990029", source="测试"))
    session.commit()
    centre = api_as("yanpan")
    address, _ = _address(db, STATION_A)
    r = centre.post("/api/v1/warnings", json={
        "external_id": "Y2911-0002", "kind": "涉诈短信", "warned_at": "2026-11-26 09:00", "phone": "13912340002",
        "current_address": address, "counterparty_phones": "170-9999-0029、400 800 1234",
        "counterparty_urls": "www.fake-bank.example.com/login", "counterparty_apps": "某某理财",
        "counterparty_social": "QQ 88886666"})
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["risk_grade"] == "high" and any("对方电话 170****0029 在黑名单中" in g for g in w["grade_reasons"])
    # Re-sent by the province with its own 高: updated, and the 串并 reason stays with the grade.
    again = centre.post("/api/v1/warnings", json={"external_id": "Y2911-0002", "kind": "涉诈短信", "grade": "高",
                                                  "warned_at": "2026-11-26 09:00", "phone": "13912340002"})
    assert again.status_code == 200 and again.json()["outcome"] == "updated"
    assert any("对方电话 170****0029 在黑名单中" in g for g in again.json()["grade_reasons"])
    links = centre.get(f"/api/v1/warnings/{w['id']}/links").json()
    assert {(o["kind"], o["blocklisted"]) for o in links["identifiers"]} == {
        ("phone", True), ("phone", False), ("url", False), ("app", False), ("social", False)}
    assert any(r["blocklisted"] and r["value"] == "170****0029" for r in centre.get("/api/v1/links").json())
    bad = centre.post("/api/v1/warnings", json={"external_id": "Y2911-0003", "kind": "涉诈短信",
                                                "warned_at": "2026-11-26 09:00", "phone": "13912340003",
                                                "counterparty_urls": "不是网址"})
    assert bad.status_code == 422 and "对方网址" in bad.text and "格式不对" in bad.text


def test_case_form_empty_and_bad_identifiers_and_edit(client_as, db):
    page = client_as(STATION_A)
    address, _ = _address(db, STATION_A)
    # Empty cells: a case without counterparty identifiers.
    url = _file_case(page, "J2911-0011", address)
    case_id = int(url.rsplit("/", 1)[1])
    assert db.scalar(select(func.count()).select_from(CounterpartyId).where(
        CounterpartyId.record_kind == "case", CounterpartyId.record_id == case_id)) == 0
    assert "未登记对方电话" in page.get(url).text
    # A bad value: the form comes back with the field named, in Chinese, what was typed kept.
    form = dict(form_to(page.get("/cases/new").text, "/cases")["fields"])
    form.update({"案件编号": "J2911-0012", "立案时间": "2026-11-20 10:00", "发案地址": address, "对方账号": "账号？"})
    r = page.post("/cases", data=form)
    assert r.status_code == 422 and "对方账号 “账号？”格式不对" in r.text and 'value="账号？"' in r.text
    assert db.scalar(select(Case.id).where(Case.case_number == "J2911-0012")) is None
    # The edit form shows what is held and replaces it; the victim's own phone is dropped.
    edit = form_to(page.get(url + "/edit").text, "/edit")
    data = dict(edit["fields"])
    data.update({"手机号": "14533330029", "对方电话": "14533330029、17000000029", "对方网址": "a.example.com"})
    assert page.post(url + "/edit", data=data, follow_redirects=False).status_code == 303
    db.expire_all()
    held = set(db.execute(select(CounterpartyId.kind, CounterpartyId.key).where(
        CounterpartyId.record_kind == "case", CounterpartyId.record_id == case_id)).all())
    assert held == {("phone", "17000000029"), ("url", "a.example.com")}
    again = dict(form_to(page.get(url + "/edit").text, "/edit")["fields"])
    assert again["对方电话"] == "17000000029" and again["对方网址"] == "a.example.com"
    again["对方网址"] = ""
    assert page.post(url + "/edit", data=again, follow_redirects=False).status_code == 303
    db.expire_all()
    assert set(db.scalars(select(CounterpartyId.kind).where(CounterpartyId.record_kind == "case",
                                                            CounterpartyId.record_id == case_id))) == {"phone"}


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    return buf.getvalue().encode("utf-8")


def test_imports_keep_good_rows_and_report_a_bad_identifier(session, db, tmp_path):
    from fanzha.imports.service import run_file
    from fanzha.org.scope import Scope

    system = Scope.system(session)
    address, _ = _address(db, STATION_A)
    path = tmp_path / "cases.csv"
    path.write_bytes(_csv(["案件编号", "立案时间", "发案地址", "损失金额", "收款账号", "对方号码", "涉诈App", "对方QQ"], [
        ["J2911-0021", "2026-11-01 10:00", address, "5000", "6222021100007777001", "17012340029", "某某优选",
         "QQ 12345678"],
        ["J2911-0022", "2026-11-02 10:00", address, "6000", "6222021100007777001；6222 0211 0000 7777 002", "", "", ""],
        ["J2911-0023", "2026-11-03 10:00", address, "7000", "", "", "", "微信 一二三"],
    ]))
    tally = run_file(session, system, "case", path)
    assert tally.summary() == {"read": 3, "created": 2, "updated": 0, "duplicates": 0, "rejected": 1}
    assert tally.errors[0][:2] == (4, "对方社交账号") and "“微信 一二三”格式不对" in tally.errors[0][2]
    two = session.scalar(select(Case.id).where(Case.case_number == "J2911-0022"))
    assert set(session.scalars(select(CounterpartyId.key).where(CounterpartyId.record_kind == "case",
                                                                CounterpartyId.record_id == two))) == {
        "6222021100007777001", "6222021100007777002"}

    warnings = tmp_path / "warnings.csv"
    warnings.write_bytes(_csv(["预警编号", "预警类型", "预警时间", "手机号", "现住址", "对方账号", "对方电话", "对方网址",
                               "涉诈APP", "对方社交账号"], [
        ["Y2911-0021", "资金预警", "2026-11-04 10:00", "13912340011", address, "6222021100007777002", "", "", "", ""],
        ["Y2911-0022", "涉诈电话", "2026-11-04 11:00", "13912340012", address, "", "170-12ab", "", "", ""],
        ["Y2911-0023", "涉诈网址", "2026-11-04 12:00", "13912340013", address, "", "13912340013",
         "pay.example.com、http://www.b.example.com/", "某某优选", "wxid_t29abc"],
    ]))
    tally = run_file(session, system, "warning", warnings)
    assert (tally.created, tally.rejected) == (2, 1)
    assert tally.errors[0][:2] == (3, "对方电话") and "“170-12ab”格式不对" in tally.errors[0][2]
    session.expire_all()
    linked = session.scalar(select(Warning).where(Warning.external_id == "Y2911-0021"))
    assert linked.risk_grade == "high" and any("对方账号 6222****7002 与1起在办案件相同" in g for g in linked.grade_reasons)
    third = session.scalar(select(Warning).where(Warning.external_id == "Y2911-0023"))
    # the warned person's own phone, written as a counterparty, is left out
    assert set(session.execute(select(CounterpartyId.kind, CounterpartyId.key).where(
        CounterpartyId.record_kind == "warning", CounterpartyId.record_id == third.id)).all()) == {
        ("url", "pay.example.com"), ("url", "b.example.com"), ("app", "某某优选"), ("social", "wxid_t29abc")}


def test_the_demo_county_shows_links_on_first_run(client_as, api_as, db):
    """The demo's account ring spans ps01's and ps03's stations: each station's case page shows its own record and
    counts the other's; a warning is raised by the open case, another holds a blocklisted number; the centre's list
    shows the ring with both communities."""
    ring = db.scalars(select(CounterpartyId).where(CounterpartyId.kind == "account",
                                                  CounterpartyId.key.startswith("62170029"))).all()
    assert {r.record_kind for r in ring} == {"case", "warning"} and len(ring) == 3
    board = api_as("yanpan").get("/api/v1/links").json()
    row = next(r for r in board if r["kind"] == "account" and r["value"].startswith("6217"))
    assert (row["cases"], row["warnings"]) == (2, 1) and len(row["areas"]) >= 2  # two stations' communities
    assert any(r["blocklisted"] for r in board)
    case_ids = [r.record_id for r in ring if r.record_kind == "case"]
    seen = {}
    for username in (STATION_A, STATION_B):
        api = api_as(username)
        for case_id in case_ids:
            answer = api.get(f"/api/v1/cases/{case_id}/links")
            if answer.status_code == 200:
                seen[username] = answer.json()
                assert "外辖区串并记录" in client_as(username).get(f"/cases/{case_id}").text
    assert seen[STATION_A]["hidden"] == 1 and seen[STATION_A]["linked"]  # its own records linked; ps03's case counted
    assert seen[STATION_B]["hidden"] == 2  # station A's case and warning, counted only
    raised = db.scalars(select(Warning.grade_reasons).where(Warning.id.in_(
        select(CounterpartyId.record_id).where(CounterpartyId.record_kind == "warning")))).all()
    assert any(g.startswith("升为高：串并：对方账号") and "在办案件" in g for reasons in raised for g in reasons)
    assert any("在黑名单中" in g for reasons in raised for g in reasons)


def test_ascii_cells_are_spelled_as_the_checker_spells_them():
    """links.rules spells plain ASCII without importing the detect package; its keys are the checker's."""
    from fanzha.detect.extract import canonical as checker
    from fanzha.links.rules import canonical

    samples = {"phone": ["+86 170 1234 5678", "8613812345678", "010-12345678", "400 800 1234", "12"],
               "qq": ["12345678", "1234", "QQ 123456"],
               "url": ["https://www.A.example.com/x/", "HTTP://b.example.com", "no dot", "www.x.cn/"],
               "wechat": ["wxid_abc123", "Abc_12345", "1abc", "ab"]}
    for kind, values in samples.items():
        for value in values:
            assert canonical(kind, value) == checker(kind, value), (kind, value)
