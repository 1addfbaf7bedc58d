"""The station's board and the lists' Excel exports, driven through the pages.

A hand-made station, 看板派出所, with one village and five warnings whose figures are worked out by hand (now = the
moment the fixture runs):

| warning | state | 未签收 | 已超时 | 已升级 | 积压 |
|---|---|---|---|---|---|
| KB-1 high 资金预警, nobody holds it | sign deadline in 5 min | yes | | | |
| KB-2 medium 涉诈电话, the officer holds it | sign deadline missed 30 min ago, escalated to the 所长 | yes | yes | yes | |
| KB-3 low 资金预警, the dissuader | signed and called, feedback due in 10 h; note `=SUM(A1:A9)` | | | | |
| KB-4 medium 涉诈短信, the dissuader, warned 4 days ago | contact missed 3 days ago, escalated to the dissuader only | | yes | | yes |
| KB-5 high 资金预警, the dissuader | fed back (closed) although its deadlines passed and it was escalated | | | | |

So the board says 未签收 2, 已超时 2, 已升级 1, 积压 1, and each figure's link lists exactly those warnings.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from fanzha.common import tabular
from fanzha.db import utcnow
from fanzha.trail.models import AuditEntry
from support.forms import default_values, parse
from support.web import DEMO_PASSWORD

HEAD, DISSUADER, OFFICER = "kb_suozhang", "kb_quanzu", "kb_minjing"
PHONE, ID_NUMBER = "13912340001", "110105195002037319"
EXPECTED = {"unsigned": {"KB-1", "KB-2"}, "overdue": {"KB-2", "KB-4"}, "escalated": {"KB-2"}, "backlog": {"KB-4"}}


@pytest.fixture(scope="module")
def station(database):
    from fanzha.auth.passwords import hash_password
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.dissuasion.models import Escalation
    from fanzha.org.models import Area, User
    from fanzha.org.names import refresh_labels
    from fanzha.people.models import Person
    from fanzha.prevention.models import Activity
    from fanzha.warnings.models import Warning
    from support.areas import add_area

    now = utcnow()
    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))
        county = add_area(s, chain="admin", level="county", name="看板县", code="KBX", parent_id=city.id)
        town = add_area(s, chain="admin", level="township", name="看板镇", code="KBT", parent_id=county.id)
        st = add_area(s, chain="police", level="station", name="看板派出所", code="KBP", parent_id=bureau.id)
        village = add_area(s, chain="admin", level="community", name="看板村", code="KBV", parent_id=town.id,
                           police_area_id=st.id, police_path=st.path, population=1000, households=300)
        refresh_labels(s)
        pw = hash_password(DEMO_PASSWORD)
        users = {}
        for username, name, role in ((HEAD, "看所长", "station_head"), (DISSUADER, "看劝阻", "dissuader"),
                                     (OFFICER, "看民警", "station_officer")):
            u = User(username=username, display_name=name, password_hash=pw, role=role, area_id=st.id)
            s.add(u)
            users[username] = u
        s.flush()
        person = Person(name="张某", id_number=ID_NUMBER, phone=PHONE, gender="男", community_id=village.id,
                        address="看板村1号", groups=["elderly"])
        s.add(person)
        s.flush()

        def warning(ext, grade, kind, *, warned, holder=None, **kw):
            w = Warning(external_id=ext, kind=kind, risk_grade=grade, grade_reasons=["上级下发"], warned_at=warned,
                        sign_deadline=warned + timedelta(minutes=30), contact_deadline=warned + timedelta(hours=1),
                        feedback_deadline=warned + timedelta(hours=24), name="张某", id_number=ID_NUMBER,
                        phone=PHONE, person_id=person.id, community_id=village.id, station_id=st.id,
                        status="assigned" if holder else "dispatched", dispatched_at=warned,
                        assignee_id=users[holder].id if holder else None, amount=Decimal("95500"))
            for key, value in kw.items():
                setattr(w, key, value)
            s.add(w)
            s.flush()
            return w

        warning("KB-1", "high", "funds", warned=now - timedelta(minutes=25))
        kb2 = warning("KB-2", "medium", "call", warned=now - timedelta(hours=1), holder=OFFICER)
        warning("KB-3", "low", "funds", warned=now - timedelta(hours=14), holder=DISSUADER,
                signed_at=now - timedelta(hours=13, minutes=50), first_contact_at=now - timedelta(hours=13),
                note="=SUM(A1:A9)")
        kb4 = warning("KB-4", "medium", "sms", warned=now - timedelta(days=4), holder=DISSUADER,
                      signed_at=now - timedelta(days=4) + timedelta(minutes=5),
                      contact_deadline=now - timedelta(days=3), feedback_deadline=now + timedelta(hours=2))
        kb5 = warning("KB-5", "high", "funds", warned=now - timedelta(days=2), holder=DISSUADER,
                      feedback_at=now - timedelta(hours=1), outcome="dissuaded")
        for w, level in ((kb2, "assignee"), (kb2, "head"), (kb4, "assignee"), (kb5, "head")):
            s.add(Escalation(warning_id=w.id, step="sign", level=level, at=now, notified=[]))
        s.add(Case(case_number="KB-C-1", name="张某", id_number=ID_NUMBER, phone=PHONE, community_id=village.id,
                   filed_at=now - timedelta(days=1), loss_at=now - timedelta(days=2), fraud_type="brushing",
                   loss_amount=Decimal("95500")))
        s.add(Activity(kind="sweep", community_id=village.id, held_on=(now - timedelta(days=1)).date(),
                       organiser="=HYPERLINK(\"http://x.cn\")", title="看板村扫楼", households=120, leaflets=300,
                       created_by=users[DISSUADER].id))
        ids = {"station": st.id, "village": village.id, "areas": [village.id, st.id, town.id, county.id],
               "users": {k: u.id for k, u in users.items()}, "person": person.id}
    yield ids
    from fanzha.notify.models import Notification

    with session_scope() as s:
        wids = list(s.scalars(select(Warning.id).where(Warning.station_id == ids["station"])))
        s.execute(delete(Escalation).where(Escalation.warning_id.in_(wids)))
        s.execute(delete(Warning).where(Warning.id.in_(wids)))
        s.execute(delete(Case).where(Case.case_number == "KB-C-1"))
        s.execute(delete(Activity).where(Activity.community_id == ids["village"]))
        s.execute(delete(Person).where(Person.id == ids["person"]))
        s.execute(delete(Notification).where(Notification.user_id.in_(list(ids["users"].values()))))
        s.execute(delete(User).where(User.id.in_(list(ids["users"].values()))))
        for area_id in ids["areas"]:
            s.execute(delete(Area).where(Area.id == area_id))


# -- reading pages ---------------------------------------------------------------------------------------------

def _figures(html: str) -> dict[str, tuple[str, int]]:
    """The board's figures: key → (the link, the count it shows)."""
    section = html[html.index('id="board-figures"'):]
    section = section[:section.index("</dl>")]
    return {m[1]: (m[0].replace("&amp;", "&"), int(m[2].replace(",", "")))
            for m in re.findall(r'<a href="(/warnings\?flag=(\w+)[^"]*)">([\d,]+)</a>', section)}


def _listed(html: str) -> set[str]:
    """The 预警编号 of the board's rows (through each row's link to its warning)."""
    return set(re.findall(r">(KB-\d)<", html)) | set(re.findall(r"external-id\">(KB-\d)", html))


def _total(html: str) -> int:
    return int(re.search(r"共 ([\d,]+) 条", html).group(1).replace(",", ""))


def _export_href(html: str, *, full: bool = False) -> str:
    links = [href.replace("&amp;", "&") for href, text in parse(html).links if text == "导出 Excel"
             or (full and text.startswith("导出含完整号码"))]
    return [h for h in links if ("full=true" in h) == full][0]


def _sheet(response) -> list[list[object]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == tabular.MEDIA_TYPES["xlsx"]
    assert response.headers["content-disposition"].startswith("attachment; filename=\"")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"], "a formula cell"
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _last_export(db, entity: str) -> AuditEntry:
    db.expire_all()
    return db.scalar(select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.entity == entity)
                     .order_by(AuditEntry.id.desc()).limit(1))


def _ids_of(rows: list[list[object]]) -> set[str]:
    return {r[0] for r in rows[1:]}


# -- the board -------------------------------------------------------------------------------------------------

def test_the_heads_board_shows_the_hand_counted_figures_and_each_link_lists_exactly_them(station, client_as):
    head = client_as(HEAD)
    page = head.get("/warnings")
    assert page.status_code == 200
    figures = _figures(page.text)
    assert {k: n for k, (_, n) in figures.items()} == {k: len(v) for k, v in EXPECTED.items()}
    for key, (href, count) in figures.items():
        listed = head.get(href)
        assert listed.status_code == 200, href
        assert _total(listed.text) == count, (key, href)
        rows = re.findall(r'<a href="/warnings/(\d+)">', listed.text.split('id="warning-table"', 1)[1])
        assert len(rows) == count, key
        assert _figures(listed.text)[key][1] == count  # the figures above the filtered list stay the scope's
    # Exactly those warnings: their 预警编号 in the export of each filtered list.
    for key, (href, _) in figures.items():
        sheet = _sheet(head.get(_export_href(head.get(href).text)))
        assert _ids_of(sheet) == EXPECTED[key], key


def test_the_centre_sees_every_station_and_our_station_on_its_own_line(station, client_as):
    centre = client_as("yanpan")
    page = centre.get("/warnings")
    totals = {k: n for k, (_, n) in _figures(page.text).items()}
    assert all(totals[k] >= len(EXPECTED[k]) for k in EXPECTED)
    text = page.text.replace("&amp;", "&")
    for key, ids in EXPECTED.items():
        href = f"/warnings?flag={key}&station_id={station['station']}"
        assert f'<a href="{href}">{len(ids)}</a>' in text, key  # the per-station table
        listed = centre.get(href)
        assert _total(listed.text) == len(ids)
    # The station filter narrows the figures to that station.
    one = _figures(centre.get(f"/warnings?station_id={station['station']}").text)
    assert {k: n for k, (_, n) in one.items()} == {k: len(v) for k, v in EXPECTED.items()}


def test_the_filters_work_from_the_form_with_empty_values_and_survive_paging(station, client_as):
    head = client_as(HEAD)
    page = head.get("/warnings")
    form = next(f for f in parse(page.text).forms if any(s["name"] == "flag" for s in f["selects"]))
    names = {s["name"] for s in form["selects"]} | {k for k, _ in form["fields"]}
    assert {"flag", "assignee_id", "kind", "grade", "since", "until"} <= names
    holders = next(s for s in form["selects"] if s["name"] == "assignee_id")
    assert {o["value"] for o in holders["options"]} >= {str(station["users"][DISSUADER]),
                                                       str(station["users"][OFFICER])}
    # As a browser sends it untouched: every field empty but the state.
    sent = default_values(form)
    assert ("since", "") in sent and ("assignee_id", "") in sent
    r = head.get("/warnings", params=sent)
    assert r.status_code == 200 and _total(r.text) == 4  # the open ones

    def listed(**chosen):
        values = [(k, chosen.get(k, v)) for k, v in sent]
        r = head.get("/warnings", params=values)
        assert r.status_code == 200, r.text[:300]
        return _ids_of(_sheet(head.get(_export_href(r.text))))

    assert listed(assignee_id=str(station["users"][DISSUADER])) == {"KB-3", "KB-4"}
    assert listed(kind="funds") == {"KB-1", "KB-3"}
    assert listed(grade="medium") == {"KB-2", "KB-4"}
    assert listed(flag="overdue", grade="medium") == {"KB-2", "KB-4"}
    assert listed(flag="escalated") == {"KB-2"}
    today = (utcnow() + timedelta(hours=8)).date()  # Beijing day
    assert listed(since=str(today - timedelta(days=1))) == {"KB-1", "KB-2", "KB-3"}
    assert listed(until=str(today - timedelta(days=3))) == {"KB-4"}
    assert listed(state="all", since=str(today - timedelta(days=2))) >= {"KB-5"}
    bad = head.get("/warnings", params={"since": "2026-13-01"})
    assert bad.status_code == 422 and "日期格式" in bad.text
    # Paging keeps every filter: the centre's 资金预警 of all time run to several pages.
    centre = client_as("yanpan")
    first = centre.get("/warnings", params={"kind": "funds", "state": "all", "since": "2020-01-01"})
    following = [h for h, text in parse(first.text).links if text == "下一页"]
    assert following, "a second page"
    kept = dict(parse_qsl(urlsplit(following[0].replace("&amp;", "&")).query))
    assert kept == {"kind": "funds", "state": "all", "since": "2020-01-01", "page": "2"}


def test_the_minute_refresh_returns_the_table_and_the_figures_out_of_band(station, client_as):
    head = client_as(HEAD)
    r = head.get("/warnings?flag=overdue", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and 'hx-swap-oob="true"' in r.text
    assert {k: n for k, (_, n) in _figures(r.text).items()} == {k: len(v) for k, v in EXPECTED.items()}
    assert len(re.findall(r'<a href="/warnings/(\d+)">', r.text)) == 2


# -- exports ---------------------------------------------------------------------------------------------------

def test_the_warning_export_is_masked_audited_and_neutralised(station, client_as, db):
    head = client_as(HEAD)
    page = head.get("/warnings?state=all")
    sheet = _sheet(head.get(_export_href(page.text)))
    header, rows = sheet[0], {r[0]: dict(zip(sheet[0], r, strict=False)) for r in sheet[1:]}
    assert header[:7] == ["预警编号", "预警时间", "预警类型", "风险等级", "姓名", "身份证号", "手机号"]
    assert set(rows) == {"KB-1", "KB-2", "KB-3", "KB-4", "KB-5"}
    assert rows["KB-1"]["手机号"] == "139****0001" and rows["KB-1"]["身份证号"] == "110105************"
    assert rows["KB-1"]["姓名"] == "张某"  # as the board shows it
    assert rows["KB-3"]["备注"] == "'=SUM(A1:A9)"  # a formula-looking note is text
    assert (rows["KB-2"]["已超时"], rows["KB-2"]["已升级"], rows["KB-4"]["积压"]) == ("是", "是", "是")
    assert (rows["KB-3"]["已超时"], rows["KB-4"]["已升级"]) == (None, None)
    assert rows["KB-1"]["拟转账金额（元）"] == 95500
    entry = _last_export(db, "warning")
    assert (entry.username, entry.fields) == (HEAD, ["name", "id_number:masked", "phone:masked", "note"])
    assert entry.detail["rows"] == 5 and entry.detail["format"] == "xlsx" and entry.detail["cut"] is False
    assert entry.detail["filters"] == {"state": ""} or entry.detail["filters"].get("state", "") == ""
    # Full numbers: a second link, for roles that may reveal, audited as such.
    full = _sheet(head.get(_export_href(page.text, full=True)))
    assert {r[6] for r in full[1:]} == {PHONE} and {r[5] for r in full[1:]} == {ID_NUMBER}
    entry = _last_export(db, "warning")
    assert entry.fields[:3] == ["name", "id_number", "phone"] and entry.detail["full"] is True


def test_a_role_without_export_permission_sees_no_link_and_is_refused(station, client_as):
    officer = client_as(OFFICER)
    for path in ("/warnings", "/cases", "/people"):
        page = officer.get(path)
        assert page.status_code == 200
        assert "导出 Excel" not in page.text, path
        refused = officer.get(f"{path}.xlsx")
        assert refused.status_code == 403 and "导出个人信息" in refused.text, path
    # The activity ledger carries no protected person: the officer may export it (audited).
    page = officer.get("/prevention/activities")
    assert "导出 Excel" in page.text
    assert officer.get(_export_href(page.text)).status_code == 200
    dissuader = client_as(DISSUADER)
    assert dissuader.get("/warnings.xlsx").status_code == 403
    assert dissuader.get("/warnings.xlsx?full=true").status_code == 403


def test_the_case_people_and_activity_exports_follow_their_lists(station, client_as, db):
    head = client_as(HEAD)
    cases = head.get("/cases", params={"q": "", "fraud_type": "brushing", "solved": "", "start": "", "end": "",
                                       "area_id": ""})
    href = _export_href(cases.text)
    assert "fraud_type=brushing" in href and "start=" not in href
    sheet = _sheet(head.get(href))
    rows = {r[0]: dict(zip(sheet[0], r, strict=False)) for r in sheet[1:]}
    assert "KB-C-1" in rows and all(r["诈骗类型"] == "刷单返利" for r in rows.values())
    assert (rows["KB-C-1"]["手机号"], rows["KB-C-1"]["身份证号"]) == ("139****0001", "110105************")
    entry = _last_export(db, "case")
    assert entry.detail["rows"] == len(rows) and entry.detail["filters"] == {"fraud_type": "brushing"}
    assert entry.fields == ["name", "id_number:masked", "phone:masked", "victim_sex", "victim_age"]

    people = head.get("/people", params={"q": "张某"})
    sheet = _sheet(head.get(_export_href(people.text)))
    ours = [r for r in sheet[1:] if r[6] == "看板镇·看板村" or r[6] == "看板村"]
    assert len(ours) == 1 and ours[0][1:3] == ["110105************", "139****0001"]
    assert ours[0][8] == "老年人"
    full = _sheet(head.get(_export_href(people.text, full=True)))
    assert [r[1:3] for r in full[1:] if r[6] == ours[0][6]] == [[ID_NUMBER, PHONE]]
    entry = _last_export(db, "person")
    assert entry.fields[:3] == ["name", "id_number", "phone"] and entry.detail["rows"] == len(full) - 1

    activities = head.get("/prevention/activities")
    sheet = _sheet(head.get(_export_href(activities.text)))
    ours = [dict(zip(sheet[0], r, strict=False)) for r in sheet[1:] if r[2] == "看板村扫楼"]
    assert len(ours) == 1 and ours[0]["组织"] == "'=HYPERLINK(\"http://x.cn\")" and ours[0]["入户"] == 120
    entry = _last_export(db, "activity")
    assert entry.username == HEAD and entry.detail["rows"] == len(sheet) - 1


def test_a_long_list_is_cut_at_the_cap_and_says_so(station, client_as, monkeypatch, db):
    from fanzha.audit import exports
    from fanzha.web.render import env

    monkeypatch.setattr(exports, "ROW_CAP", 2)
    monkeypatch.setitem(env.globals, "export_cap", 2)
    head = client_as(HEAD)
    page = head.get("/warnings")
    assert "只导出前 2 条" in page.text
    sheet = _sheet(head.get(_export_href(page.text)))
    assert len(sheet) == 1 + 2 + 1 and sheet[-1][0].startswith("（仅导出前 2 行")
    assert _last_export(db, "warning").detail["cut"] is True
