"""An activity counts toward every campaign that covers its place and day; its recorder corrects or withdraws it.

A county built by hand (its own codes, AC…), under the demo city and bureau:

    admin:  活动县 AC → 东镇 ACE → 东一村 ACE1, 东二村 ACE2;  → 西镇 ACW → 西一村 ACW1
    police: 活动县局 ACGA → 东派出所 ACP1 ⊃ ACE1, ACW1;  → 西派出所 ACP2 ⊃ ACE2

Campaigns (2026, long past, so every day of them has elapsed and a quota is due in full):

    宣传月  ACYUE   03-01 … 03-31 over 活动县, quota 入户 300 on the county
    扫楼日  ACSAOLOU 03-10 only    over 东镇,   quota 入户 100 on 东镇

People: act_grid (网格员, 东镇), act_sqmj (社区民警, 东派出所), act_head (所长, 西派出所: holds 东二村).

Activities (入户), where they count:

    A1 东一村 03-10  40  by act_grid, the web form   → 扫楼日 and 宣传月
    A2 东二村 03-10  25  by act_grid, the API        → 扫楼日 and 宣传月
    A3 西一村 03-10  30  by act_sqmj, the API        → 宣传月 only (西镇 is not in the 扫楼日)
    A4 东一村 03-15  20  by act_grid, a spreadsheet  → 宣传月 only (the 扫楼日 is over)
    A5 西一村 02-20  50  by act_sqmj, the web form   → neither (before the month)

    扫楼日 入户 = A1 + A2 = 40 + 25 = 65 of 100;  宣传月 = 40 + 25 + 30 + 20 = 115 of 300
    宣传月 by township: 东镇 40 + 25 + 20 = 85, 西镇 30;  by station: 东派出所 40 + 30 + 20 = 90, 西派出所 25

Then: act_grid corrects A1 to 03-15 (扫楼日 65 → 25, 宣传月 stays 115) and withdraws A2 (扫楼日 25 → 0, 宣传月
115 → 90); act_sqmj corrects A3 to 35 through the API (宣传月 90 → 95) and withdraws A5 (nothing moves). act_sqmj
may not touch A1 (not the recorder); nobody may once the window (FANZHA_ACTIVITY_EDIT_DAYS, 7) has passed.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fanzha.db import session_scope, utcnow
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope
from fanzha.prevention import counting, progress, service
from fanzha.prevention.models import Activity, Campaign
from fanzha.trail.models import AuditEntry
from support.areas import add_area
from support.dissuasion import PNG
from support.forms import default_values, multipart, parse
from support.web import DEMO_PASSWORD, csrf_of

MONTH, SWEEP = "ACYUE", "ACSAOLOU"
PEOPLE = {"act_grid": ("grid_worker", "ACE"), "act_sqmj": ("community_police", "ACP1"),
          "act_head": ("station_head", "ACP2")}


@pytest.fixture(scope="module")
def county(app):
    """The hand-made county, its two campaigns with their quotas, and its three users; area ids by code."""
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn

    with session_scope() as s:
        if s.scalar(select(Area).where(Area.code == "AC")) is None:
            city = s.scalar(select(Area).where(Area.level == Level.CITY))
            bureau = s.scalar(select(Area).where(Area.level == Level.BUREAU))

            made = {"": city, "GA": bureau}
            leaf = {"population": 1000, "households": 400, "shops": 40}
            for chain, level, name, code, parent, station in (
                    ("admin", "county", "活动县", "AC", "", None), ("police", "branch", "活动县局", "ACGA", "GA", None),
                    ("police", "station", "活动东派出所", "ACP1", "ACGA", None),
                    ("police", "station", "活动西派出所", "ACP2", "ACGA", None),
                    ("admin", "township", "活动东镇", "ACE", "AC", None), ("admin", "township", "活动西镇", "ACW", "AC", None),
                    ("admin", "community", "活动东一村", "ACE1", "ACE", "ACP1"),
                    ("admin", "community", "活动东二村", "ACE2", "ACE", "ACP2"),
                    ("admin", "community", "活动西一村", "ACW1", "ACW", "ACP1")):
                at = made.get(station)
                held = {"police_area_id": at.id, "police_path": at.path, **leaf} if at else {}
                made[code] = add_area(s, chain=chain, level=level, name=name, code=code, parent_id=made[parent].id,
                                      **held)
            c, east = made["AC"], made["ACE"]
            sys = Scope.system(s)
            month = service.create_campaign(s, sys, service.CampaignDraft(
                name="活动县反诈宣传月", kind="month", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
                area_ids=[c.id], code=MONTH))
            sweep = service.create_campaign(s, sys, service.CampaignDraft(
                name="活动东镇扫楼日", kind="sweep", starts_on=date(2026, 3, 10), ends_on=date(2026, 3, 10),
                area_ids=[east.id], code=SWEEP))
            service.set_quota(s, sys, month.id, area_id=c.id, metric="households", target=300)
            service.set_quota(s, sys, sweep.id, area_id=east.id, metric="households", target=100)
            s.flush()
            areas = {a.code: a.id for a in s.scalars(select(Area).where(Area.code.startswith("AC")))}
            for username, (role, where) in PEOPLE.items():
                users.create_user(s, sys, UserIn(username=username, display_name="测试", role=role,
                                               password=DEMO_PASSWORD, area_id=areas[where]))
    with session_scope() as s:
        ids = {a.code: a.id for a in s.scalars(select(Area).where(Area.code.startswith("AC")))}
        ids.update({c.code: c.id for c in s.scalars(select(Campaign).where(Campaign.code.in_([MONTH, SWEEP])))})
        return ids


def _form(client, url: str, action: str) -> dict:
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    return next(f for f in parse(page.text).forms if f["action"] == action)


def _submit(client, form: dict, **values) -> object:
    """Sends the form as a browser does after the user filled `values` in (a file input left empty)."""
    data = [(k, values.pop(k) if k in values else v) for k, v in default_values(form)]
    data += list(values.items())
    if form["enctype"] == "multipart/form-data":
        body, kind = multipart(data, [(f["name"], ("", b"", "application/octet-stream")) for f in form["files"]])
        return client.post(form["action"], content=body, headers={"Content-Type": kind}, follow_redirects=False)
    return client.post(form["action"], data=dict(data), follow_redirects=False)


def _record_by_form(client, community_id: int, day: date, households: int) -> tuple[int, str]:
    """Records through the real form; returns the new id and the message on the page it lands on."""
    form = _form(client, "/prevention/activities/new", "/prevention/activities")
    r = _submit(client, form, kind="sweep", community_id=str(community_id), held_on=day.isoformat(),
                households=str(households))
    assert r.status_code == 303, r.text[:500]
    page = client.get(r.headers["location"])
    return int(r.headers["location"].split("/")[-1].split("?")[0]), _counted(page.text)


def _counted(html: str) -> str:
    return re.search(r'<p class="\w+" id="counted">([^<]*)</p>', html).group(1)


def _api_body(community_id: int, day: date, households: int) -> dict:
    return {"kind": "sweep", "community_id": community_id, "held_on": day.isoformat(),
            "counts": {"households": households}}


def _households(db, ids, code: str) -> int:
    db.expire_all()
    p = progress.progress(db, Scope.system(db), ids[code], now=utcnow(), node_id=ids["AC"], chain="admin")
    return p.total.achieved["households"]


def _page_total(client, campaign_id: int) -> int:
    """已完成 in the 合计 row of the campaign's progress page (入户)."""
    html = client.get(f"/prevention/campaigns/{campaign_id}", params={"metric": "households"}).text
    row = re.search(r'<tr class="total">(.*?)</tr>', html, re.S).group(1)
    return int(re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)[2].replace(",", ""))


@pytest.fixture(scope="module")
def recorded(county, app):
    """A1–A5 recorded as the module docstring says; returns their ids and the messages the recorders were given."""
    from support.web import login, make_client

    grid, sqmj = make_client(app), make_client(app)
    login(grid, "act_grid")
    login(sqmj, "act_sqmj")
    token = {}
    for name in ("act_grid", "act_sqmj"):
        client = make_client(app)
        token[name] = client.post("/api/v1/auth/token", json={"username": name, "password": DEMO_PASSWORD}
                                  ).json()["access_token"]
        client.close()
    out, said = {}, {}
    out["A1"], said["A1"] = _record_by_form(grid, county["ACE1"], date(2026, 3, 10), 40)
    r = grid.post("/api/v1/prevention/activities", json=_api_body(county["ACE2"], date(2026, 3, 10), 25),
                  headers={"Authorization": f"Bearer {token['act_grid']}"})
    assert r.status_code == 201, r.text
    out["A2"], said["A2"] = r.json()["id"], r.json()
    r = sqmj.post("/api/v1/prevention/activities", json=_api_body(county["ACW1"], date(2026, 3, 10), 30),
                  headers={"Authorization": f"Bearer {token['act_sqmj']}"})
    assert r.status_code == 201, r.text
    out["A3"], said["A3"] = r.json()["id"], r.json()
    sheet = "活动日期,活动类型,村社区编码,入户\r\n2026-03-15,扫楼,ACE1,20\r\n"
    r = grid.post("/api/v1/imports/activity", files={"file": ("台账.csv", io.BytesIO(sheet.encode("gbk")))},
                  headers={"Authorization": f"Bearer {token['act_grid']}"})
    assert r.status_code == 202, r.text
    said["import"] = grid.get(f"/imports/{r.json()['id']}").text
    with session_scope() as s:
        out["A4"] = s.scalar(select(Activity.id).where(Activity.community_id == county["ACE1"],
                                                       Activity.source == "import"))
    out["A5"], said["A5"] = _record_by_form(sqmj, county["ACW1"], date(2026, 2, 20), 50)
    grid.close()
    sqmj.close()
    return out, said


def test_the_rule_finds_every_campaign_that_covers_the_place_and_day(county, db):
    east1, west1 = db.get(Area, county["ACE1"]), db.get(Area, county["ACW1"])
    assert [c.code for c in counting.covering(db, east1, date(2026, 3, 10))] == [MONTH, SWEEP]
    assert [c.code for c in counting.covering(db, west1, date(2026, 3, 10))] == [MONTH]
    assert [c.code for c in counting.covering(db, east1, date(2026, 3, 11))] == [MONTH]
    assert counting.covering(db, west1, date(2026, 2, 28)) == []
    # Through the police chain too: a campaign on 西派出所 covers 东二村, which it holds.
    assert counting.holding_nodes(db.get(Area, county["ACE2"])) >= {county["ACP2"], county["ACE"], county["AC"]}


def test_each_recorder_is_told_where_it_counts(county, recorded):
    _, said = recorded
    assert said["A1"] == "计入专项行动：“活动县反诈宣传月”、“活动东镇扫楼日”"
    assert [c["name"] for c in said["A2"]["campaigns"]] == ["活动县反诈宣传月", "活动东镇扫楼日"]
    assert said["A2"]["message"] == said["A1"]
    assert said["A3"]["message"] == "计入专项行动：“活动县反诈宣传月”"
    assert said["A5"].startswith("未计入任何专项行动（活动已保存")
    # The import's result says where its new row counts, with a link to that campaign's progress.
    table = re.search(r'<table id="destinations">(.*?)</table>', said["import"], re.S).group(1)
    assert "<th>计入专项行动</th>" in table
    assert re.findall(r'<tr><td>([^<]*)</td><td class="num">(\d+)</td><td><a href="([^"]*)"', table) == [
        ("“活动县反诈宣传月”", "1", f"/prevention/campaigns/{county[MONTH]}")]


def test_progress_follows_recording_correction_and_withdrawal(county, recorded, db, client_as, api_as):
    """One story, in order: the figures as recorded, then after each correction and withdrawal."""
    ids, _ = recorded
    assert _households(db, county, SWEEP) == 65 and _households(db, county, MONTH) == 115
    sys = Scope.system(db)
    p = progress.progress(db, sys, county[MONTH], now=utcnow(), node_id=county["AC"], chain="admin")
    assert {f.area.code: f.achieved["households"] for f in p.rows} == {"ACE": 85, "ACW": 30}
    p = progress.progress(db, sys, county[MONTH], now=utcnow(), node_id=county["AC"], chain="police")
    assert {f.area.code: f.achieved["households"] for f in p.rows} == {"ACP1": 90, "ACP2": 25}
    # Laggards: 扫楼日 东镇 65 < 100; 宣传月 county 115 < 300.
    assert [(g.area.code, g.achieved, g.gap) for g in progress.laggards(db, sys, county[SWEEP], now=utcnow())] == [
        ("ACE", 65, 35)]
    assert [(g.area.code, g.achieved) for g in progress.laggards(db, sys, county[MONTH], now=utcnow())] == [
        ("AC", 115)]
    # Both progress pages: the centre reads the county (65 and 115), the grid worker their 东镇 (65 and 85).
    centre, page = client_as("admin"), client_as("act_grid")
    assert _page_total(centre, county[SWEEP]) == 65 and _page_total(centre, county[MONTH]) == 115
    assert _page_total(page, county[SWEEP]) == 65 and _page_total(page, county[MONTH]) == 85
    # The campaign's activity list holds A1 in both, A3 only in the month.
    month_list = page.get("/prevention/activities", params={"campaign_id": county[MONTH]}).text
    sweep_list = page.get("/prevention/activities", params={"campaign_id": county[SWEEP]}).text
    link = '/prevention/activities/{}"'.format
    assert link(ids["A1"]) in sweep_list and link(ids["A4"]) not in sweep_list and link(ids["A4"]) in month_list
    # The legacy single link (read by assess) holds the first campaign it counts toward.
    assert db.get(Activity, ids["A1"]).campaign_id == county[MONTH]
    assert db.get(Activity, ids["A5"]).campaign_id is None

    grid = page
    # A1 to 03-15 through the detail page's 更正 link and the form it opens, holding the current values.
    detail = grid.get(f"/prevention/activities/{ids['A1']}").text
    assert f"/prevention/activities/{ids['A1']}/edit" in [href for href, _ in parse(detail).links]
    form = _form(grid, f"/prevention/activities/{ids['A1']}/edit", f"/prevention/activities/{ids['A1']}/edit")
    assert ("households", "40") in default_values(form)
    r = _submit(grid, form, held_on="2026-03-15")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=2")
    assert _counted(grid.get(r.headers["location"]).text) == "计入专项行动：“活动县反诈宣传月”"
    assert _households(db, county, SWEEP) == 25 and _households(db, county, MONTH) == 115
    # A2 withdrawn through the detail page's form: it counts nowhere.
    form = next(f for f in parse(grid.get(f"/prevention/activities/{ids['A2']}").text).forms
                if f["action"].endswith("/withdraw"))
    assert _submit(grid, form, reason="").status_code == 422  # a reason is asked for
    r = _submit(grid, form, reason="重复登记")
    assert r.status_code == 303
    assert "已撤回" in grid.get(r.headers["location"]).text
    assert _households(db, county, SWEEP) == 0 and _households(db, county, MONTH) == 90
    assert _page_total(centre, county[SWEEP]) == 0 and _page_total(centre, county[MONTH]) == 90
    # The API twins: A3 corrected to 35, A5 withdrawn.
    api = api_as("act_sqmj")
    r = api.put(f"/api/v1/prevention/activities/{ids['A3']}", json=_api_body(county["ACW1"], date(2026, 3, 10), 35))
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "计入专项行动：“活动县反诈宣传月”"
    assert _households(db, county, MONTH) == 95
    r = api.post(f"/api/v1/prevention/activities/{ids['A5']}/withdraw", json={"reason": "填错日期"})
    assert r.status_code == 200 and r.json()["withdrawn"] and r.json()["campaigns"] == []
    assert _households(db, county, MONTH) == 95
    # A supervisor (the head of 西派出所, who holds 东二村) still sees A2, as 已撤回; it cannot be changed again.
    head = client_as("act_head")
    listed = head.get("/prevention/activities").text
    assert re.search(r"共 \d+ 次，其中已撤回 1 次（不计入任何统计）", listed)  # A2; A5 lies outside 西派出所
    row = re.search(rf'<tr class="muted"><td><a href="/prevention/activities/{ids["A2"]}">.*?</tr>', listed, re.S)
    assert row and "已撤回" in row.group(0)
    # The ledger's Excel file says the same: where each counts, and which is withdrawn.
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(head.get("/prevention/activities.xlsx").content)).active
    rows = [dict(zip(next(sheet.iter_rows(values_only=True)), r, strict=False)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    east2 = [r for r in rows if str(r["村/社区"]).endswith("活动东二村")]
    assert [(r["入户"], r["状态"], r["计入专项行动"]) for r in east2] == [(25, "已撤回", None)]  # an empty cell
    assert grid.post(f"/prevention/activities/{ids['A2']}/withdraw",
                     data={"csrf_token": csrf_of(grid), "reason": "再撤一次"}).status_code == 409
    r = api.post(f"/api/v1/prevention/activities/{ids['A5']}/photos", files={"photo": ("a.png", PNG, "image/png")})
    assert r.status_code == 409  # nor does it take more photos
    # Audited with the old and new values.
    db.expire_all()
    entries = {(e.entity_id, e.action): e.detail for e in db.scalars(select(AuditEntry).where(
        AuditEntry.entity == "activity", AuditEntry.entity_id.in_([str(ids[k]) for k in ("A1", "A2", "A3", "A5")]),
        AuditEntry.action.in_(["update", "withdraw"])))}
    assert entries[(str(ids["A1"]), "update")] == {
        "old": {"held_on": "2026-03-10", "campaigns": [county[MONTH], county[SWEEP]]},
        "new": {"held_on": "2026-03-15", "campaigns": [county[MONTH]]}}
    assert entries[(str(ids["A2"]), "withdraw")]["old"] == {"withdrawn": False,
                                                            "campaigns": [county[MONTH], county[SWEEP]]}
    assert entries[(str(ids["A2"]), "withdraw")]["new"]["reason"] == "重复登记"
    assert entries[(str(ids["A3"]), "update")] == {"old": {"households": 30}, "new": {"households": 35}}
    assert (str(ids["A5"]), "withdraw") in entries


def test_others_and_late_changes_are_refused(county, recorded, db, client_as, api_as):
    ids, _ = recorded
    # Not the recorder: act_sqmj sees A4 (东派出所 holds 东一村) but neither page nor API lets them change it.
    sqmj = client_as("act_sqmj")
    detail = sqmj.get(f"/prevention/activities/{ids['A4']}")
    assert detail.status_code == 200 and "/withdraw" not in detail.text and "/edit" not in detail.text
    assert sqmj.get(f"/prevention/activities/{ids['A4']}/edit").status_code == 403
    r = sqmj.post(f"/prevention/activities/{ids['A4']}/withdraw", data={"csrf_token": csrf_of(sqmj), "reason": "x"})
    assert r.status_code == 403 and "记录人本人" in r.text
    api = api_as("act_sqmj")
    r = api.put(f"/api/v1/prevention/activities/{ids['A4']}", json=_api_body(county["ACE1"], date(2026, 3, 15), 1))
    assert r.status_code == 403
    # After the window, not even the recorder.
    before = _households(db, county, MONTH)
    with session_scope() as s:
        a = s.get(Activity, ids["A4"])
        grid = Scope.for_user(s.scalar(select(User).where(User.username == "act_grid")))
        late = a.created_at + timedelta(days=7, minutes=1)
        draft = service.ActivityDraft(kind="sweep", community_id=county["ACE1"], held_on=date(2026, 3, 15),
                                      counts={"households": 1})
        with pytest.raises(service.Forbidden, match="超过 7 天"):
            service.correct_activity(s, grid, ids["A4"], draft, now=late)
        with pytest.raises(service.Forbidden, match="超过 7 天"):
            service.withdraw_activity(s, grid, ids["A4"], reason="晚了", now=late)
        a.created_at = utcnow() - timedelta(days=8)
    page = client_as("act_grid")
    assert "/withdraw" not in page.get(f"/prevention/activities/{ids['A4']}").text
    r = page.post(f"/prevention/activities/{ids['A4']}/edit", data={
        "csrf_token": csrf_of(page), "kind": "sweep", "community_id": str(county["ACE1"]), "held_on": "2026-03-15",
        "households": "1"})
    assert r.status_code == 403
    db.expire_all()
    assert db.get(Activity, ids["A4"]).households == 20 and _households(db, county, MONTH) == before


def test_the_grid_workers_home_leads_to_the_form(county, client_as):
    html = client_as("act_grid").get("/").text
    shortcuts = parse(re.search(r'<div class="shortcuts">.*?</div>', html, re.S).group(0)).links
    assert shortcuts[0] == ("/prevention/activities/new", "记录宣传活动")


def test_existing_links_move_into_the_table(empty_db):
    """0023 on a database of 0022: the single link each activity had is copied, the column stays; down again."""
    import sqlalchemy as sa
    from sqlalchemy import create_engine, inspect

    from fanzha.db import UTCDateTime
    from fanzha.migrate import downgrade, upgrade

    upgrade("0022", url=empty_db)
    engine = create_engine(empty_db.replace("postgresql://", "postgresql+psycopg://"))
    now = utcnow()
    common = {"kind_label": "", "population": 0, "households": 0, "shops": 0, "created_at": now, "label": ""}
    areas = sa.table("areas", *[sa.column(c) for c in ("id", "chain", "level", "kind_label", "name", "code", "path",
                                                        "population", "households", "shops", "label")],
                     sa.column("created_at", UTCDateTime()))
    campaigns = sa.table("campaigns", *[sa.column(c) for c in ("id", "code", "name", "kind", "starts_on", "ends_on",
                                                                "area_id", "owners", "note")],
                         sa.column("created_at", UTCDateTime()))
    cols = ("id", "kind", "community_id", "address", "held_on", "organiser", "campaign_id", "title", "note",
            "households", "shops", "sessions", "participants", "leaflets", "app_installs", "jzz_registrations",
            "pledges", "vulnerable_found", "issues", "forwards", "source")
    activities = sa.table("activities", *[sa.column(c) for c in cols], sa.column("created_at", UTCDateTime()))
    zero = dict.fromkeys(("households", "shops", "sessions", "participants", "leaflets", "app_installs",
                          "jzz_registrations", "pledges", "vulnerable_found", "issues", "forwards"), 0)
    with engine.begin() as conn:
        conn.execute(areas.insert().values(id=1, chain="admin", level="community", name="东一村", code="M1",
                                           path="/1/", **common))
        conn.execute(campaigns.insert(), [
            {"id": n, "code": f"M{n}", "name": name, "kind": "month", "starts_on": date(2026, 3, 1),
             "ends_on": date(2026, 3, 31), "area_id": 1, "owners": "", "note": "", "created_at": now}
            for n, name in ((1, "宣传月"), (2, "扫楼日"))])
        conn.execute(activities.insert(), [
            {**zero, "id": n, "kind": "sweep", "community_id": 1, "address": "", "held_on": date(2026, 3, 10),
             "organiser": "", "campaign_id": campaign, "title": "", "note": "", "households": 10, "source": "form",
             "created_at": now} for n, campaign in ((1, 1), (2, None), (3, 2))])
        conn.execute(sa.table("activity_photos", sa.column("id"), sa.column("activity_id"), sa.column("path"),
                              sa.column("created_at", UTCDateTime())).insert().values(
            id=1, activity_id=1, path="activities/1/a.png", created_at=now))
    upgrade("0023", url=empty_db)
    with engine.connect() as conn:
        links = conn.execute(sa.text("SELECT activity_id, campaign_id FROM activity_campaigns ORDER BY 1")).all()
        kept = conn.execute(sa.text("SELECT id, campaign_id, withdraw_reason FROM activities ORDER BY id")).all()
    assert [tuple(r) for r in links] == [(1, 1), (3, 2)]
    assert [tuple(r) for r in kept] == [(1, 1, ""), (2, None, ""), (3, 2, "")]
    assert conn_count(engine, "activity_photos") == 1  # the table was altered in place: its photos stay
    downgrade("0022", url=empty_db)
    assert "activity_campaigns" not in inspect(engine).get_table_names()
    assert "withdrawn_at" not in {c["name"] for c in inspect(engine).get_columns("activities")}
    engine.dispose()


def conn_count(engine, table: str) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
