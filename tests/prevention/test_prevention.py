"""宣防 against a hand-made county (测试县): quota roll-ups and laggards at fixed clock times across a two-day
扫楼, coverage rates with a population-0 village, the plan and activity spreadsheets, 无诈社区, tests and self-test.

The county: 测试一镇 (甲村 pop 1000, 乙村 pop 500, 零村 pop 0) and 测试二镇 (丙村 pop 2000); police: 测一派出所 holds
甲村 and 丙村, 测二派出所 holds 乙村 and 零村. Every expected figure below was worked out by hand in the comments.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.org.scope import Scope
from fanzha.prevention import counting, progress, service
from fanzha.prevention.coverage import service as cov
from fanzha.prevention.fraudfree import service as fraudfree
from fanzha.prevention.models import Activity, Campaign, FraudFreeChange, FraudFreeStatus, Quota
from fanzha.prevention.quiz import service as quiz
from support.prevention import at


def _lag(db, campaign_id, now):
    return {(g.area.code, g.metric): (g.achieved, g.expected, g.gap)
            for g in progress.laggards(db, Scope.system(db), campaign_id, now=now)}


def test_elapsed_share_follows_the_clock(sweep, db):
    c = db.get(Campaign, sweep)
    assert progress.elapsed_share(c, at(4, 7, 23)) == 0
    assert progress.elapsed_share(c, at(4, 8, 12)) == Fraction(1, 4)     # 12 of 48 hours
    assert progress.elapsed_share(c, at(4, 8, 21)) == Fraction(7, 16)    # 21 of 48
    assert progress.elapsed_share(c, at(4, 9, 18)) == Fraction(7, 8)     # 42 of 48
    assert progress.elapsed_share(c, at(4, 10, 9)) == 1


def test_laggards_across_the_two_days(sweep, db):
    # Before the start nothing is expected.
    assert _lag(db, sweep, at(4, 7, 23)) == {}
    # 04-08 12:00, share 1/4: 一镇 90 ≥ ⌈50⌉, 二镇 50 ≥ 25, 甲村 商铺 10 ≥ ⌈10⌉ → nobody lags.
    assert _lag(db, sweep, at(4, 8, 12)) == {}
    # 04-08 21:00, share 7/16: 一镇 ⌈87.5⌉=88 ≤ 90, 二镇 ⌈43.75⌉=44 ≤ 50; 甲村 商铺 ⌈17.5⌉=18 > 10 → gap 8.
    assert _lag(db, sweep, at(4, 8, 21)) == {("PVT01T1A", "shops"): (10, 18, 8)}
    # 04-09 18:00, share 7/8, day 2 counted: 一镇 130 < 175; 二镇 60 < ⌈87.5⌉=88; 甲村 商铺 30 < 35.
    assert _lag(db, sweep, at(4, 9, 18)) == {("PVT01T1", "households"): (130, 175, 45),
                                             ("PVT01T2", "households"): (60, 88, 28),
                                             ("PVT01T1A", "shops"): (30, 35, 5)}
    # After the end, share 1: the whole quota.
    assert _lag(db, sweep, at(4, 10, 9)) == {("PVT01T1", "households"): (130, 200, 70),
                                             ("PVT01T2", "households"): (60, 100, 40),
                                             ("PVT01T1A", "shops"): (30, 40, 10)}


def test_roll_up_by_township_and_by_station(sweep, county, db):
    sys = Scope.system(db)
    p = progress.progress(db, sys, sweep, now=at(4, 9, 18), node_id=county["county"], chain="admin")
    rows = {f.area.code: f for f in p.rows}
    assert set(rows) == {"PVT01T1", "PVT01T2"}
    assert rows["PVT01T1"].quota == {"households": 200, "shops": 40}  # 甲村's 商铺 quota rolls up to 一镇
    assert rows["PVT01T1"].daily["households"] == [90, 40] and rows["PVT01T1"].achieved["shops"] == 30
    assert rows["PVT01T2"].daily["households"] == [50, 10]
    assert p.total.quota == {"households": 300, "shops": 40} and p.total.achieved["households"] == 190
    assert rows["PVT01T1"].expected("households", p.share) == 175
    # The same activities by police chain: 测一 holds 甲村+丙村, 测二 holds 乙村+零村; township quotas are not split.
    p = progress.progress(db, sys, sweep, now=at(4, 9, 18), node_id=county["county"], chain="police")
    rows = {f.area.code: f for f in p.rows}
    assert set(rows) == {"PVT01S1", "PVT01S2"}
    assert rows["PVT01S1"].achieved["households"] == 160 and rows["PVT01S2"].achieved["households"] == 30
    assert rows["PVT01S1"].quota == {"shops": 40} and rows["PVT01S2"].quota == {}
    # At 04-08 21:00 day 2 is not in yet.
    p = progress.progress(db, sys, sweep, now=at(4, 8, 21), node_id=county["county"], chain="admin")
    assert p.days == [date(2026, 4, 8)] and p.total.achieved["households"] == 140


def test_progress_api_takes_a_moment(sweep, api_as):
    r = api_as("admin").get(f"/api/v1/prevention/campaigns/{sweep}/laggards", params={"at": "2026-04-08T21:00:00"})
    assert r.status_code == 200
    assert [(g["area"], g["metric"], g["gap"]) for g in r.json()] == [("测试甲村", "shops", 8)]


def test_activity_rules(sweep, county, db):
    sys = Scope.system(db)
    draft = service.ActivityDraft(kind="sweep", community_id=county["T1A"], held_on=date(2026, 4, 10),
                                  counts={"households": 5}, campaign_id=sweep)
    with pytest.raises(service.Invalid, match="不在"):  # 04-10 is after the campaign
        service.create_activity(db, sys, draft, now=at(4, 11, 9))
    draft.held_on = date(2026, 4, 12)
    draft.campaign_id = None
    with pytest.raises(service.Invalid, match="不能晚于今天"):
        service.create_activity(db, sys, draft, now=at(4, 11, 9))
    draft.counts = {}
    draft.held_on = date(2026, 4, 9)
    with pytest.raises(service.Invalid, match="至少填写一项"):
        service.create_activity(db, sys, draft, now=at(4, 11, 9))
    with pytest.raises(service.Invalid, match="照片"):
        draft.counts = {"households": 1}
        service.create_activity(db, sys, draft, now=at(4, 11, 9), photos=[b"GIF89a not a photo"])
    db.rollback()


@pytest.fixture(scope="module")
def target(county):
    """金钟罩 / population ≥ 80 % by 06-30: 甲村 700, 乙村 450, 零村 30 (pop 0), 丙村 1000 reported on 05-01."""
    with session_scope() as s:
        sys = Scope.system(s)
        for leaf, n in (("T1A", 700), ("T1B", 450), ("T1Z", 30), ("T2C", 1000)):
            service.create_activity(s, sys, service.ActivityDraft(
                kind="report", community_id=county[leaf], held_on=date(2026, 5, 1), counts={"jzz_registrations": n}),
                now=at(5, 2, 9))
        t = cov.create_target(s, sys, area_id=county["county"], metric="jzz_registrations", denominator="population",
                              target_pct=Decimal("80"), due_on=date(2026, 6, 30), counts_from=date(2026, 1, 1))
        return t.id


def test_coverage_rates_with_a_population_zero_village(target, county, db):
    c = cov.coverage(db, Scope.system(db), target, now=at(5, 10, 12), node_id=county["county"], chain="admin")
    rows = {r.area.code: r for r in c.rows}
    t1, t2 = rows["PVT01T1"], rows["PVT01T2"]
    # 一镇: 甲 700 + 乙 450 over 1000 + 500; 零村 (pop 0) is out of both parts.
    assert (t1.achieved, t1.denominator, t1.excluded) == (1150, 1500, 1)
    assert t1.rate == Fraction(1150, 1500) and t1.needed == 1200 and t1.gap == 50 and t1.behind
    assert t1.per_10k == Fraction(1150 * 10_000, 1500)  # 7666.67 per 万人
    assert (t2.achieved, t2.denominator, t2.needed, t2.gap) == (1000, 2000, 1600, 600)
    total = c.total
    assert (total.achieved, total.denominator, total.needed, total.gap, total.excluded) == (2150, 3500, 2800, 650, 1)
    assert [(r.area.code, r.gap) for r in c.behind_leaves] == [("PVT01T2C", 600), ("PVT01T1A", 100)]
    assert [a.code for a in c.zero_leaves] == ["PVT01T1Z"]
    zero = next(r for r in (cov._row(a, [a], {a.id: 30}, c.target) for a in c.zero_leaves))
    assert zero.rate is None and zero.per_10k is None and zero.needed is None and zero.gap == 0
    # Before the reports were made nothing counts.
    early = cov.coverage(db, Scope.system(db), target, now=at(4, 30, 12), node_id=county["county"])
    assert early.total.achieved == 0 and early.total.gap == 2800


def test_coverage_page_shows_a_dash_for_population_zero(target, county, client_as):
    page = client_as("admin").get(f"/prevention/coverage/{target}", params={"area_id": county["T1"]})
    assert page.status_code == 200
    assert "测试零村" in page.text and "分母为0" in page.text


def _upload(api, kind: str, name: str, data: bytes) -> dict:
    r = api.post(f"/api/v1/imports/{kind}", files={"file": (name, io.BytesIO(data))})
    assert r.status_code == 202, r.text
    return api.get(f"/api/v1/imports/{r.json()['id']}").json()


def test_plan_import_gbk_csv_keeps_bad_rows(county, api_as, db):
    with session_scope() as s:
        if not s.scalar(select(Campaign).where(Campaign.code == "PVTPLAN")):
            service.create_campaign(s, Scope.system(s), service.CampaignDraft(
                name="测试县宣传月", kind="month", starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31),
                area_ids=[county["county"]], code="PVTPLAN"))
    rows = ["行动编号,辖区代码,单位名称,指标名称,任务数",
            "PVTPLAN,PVT01T1,测试一镇,入户,200",        # created
            "PVTPLAN,PVT01T2,,商铺数,80",               # created (metric alias)
            "PVTPLAN,PVT01T1,错误镇,入户,5",            # name does not match the code
            "PVTPLAN,NOPE99,,入户,5",                   # unknown code
            "PVTPLAN,PVT01T1,,发红包,5",                # unknown metric
            "PVTPLAN,PVT01T1,,入户,-3",                 # negative
            "NOSUCH,PVT01T1,,入户,5",                   # unknown campaign
            "测试县宣传月,PVT01T1,测试一镇,入户,200"]    # by name: same figure → duplicate
    batch = _upload(api_as("admin"), "campaign_plan", "plan.csv", ("\r\n".join(rows) + "\r\n").encode("gbk"))
    assert (batch["status"], batch["created"], batch["duplicates"], batch["rejected"]) == ("done", 2, 1, 5)
    errors = api_as("admin").get(f"/api/v1/imports/{batch['id']}/errors.csv").content.decode("utf-8-sig")
    for reason in ("不一致", "NOPE99 不存在", "未知的指标", "非负整数", "找不到专项行动"):
        assert reason in errors
    db.expire_all()
    c = db.scalar(select(Campaign).where(Campaign.code == "PVTPLAN"))
    quotas = {(q.area_id, q.metric): q.target for q in db.scalars(select(Quota).where(Quota.campaign_id == c.id))}
    assert quotas == {(county["T1"], "households"): 200, (county["T2"], "shops"): 80}


def test_activity_import_xlsx_with_excel_serial_dates(sweep, county, api_as, db):
    wb = Workbook()
    ws = wb.active
    ws.append(["活动台账（测试县）"])  # a title row above the header
    ws.append(["日期", "活动形式", "村社区编码", "村/社区", "组织单位", "行动编号", "入户数", "商铺", "宣传单"])
    serial = (date(2026, 4, 8) - date(1899, 12, 30)).days  # 46120
    ws.append([serial, "扫楼", "PVT01T1B", "", "测二派出所", "PVTSL0408", 25, 3, 60])   # created, linked
    ws.append(["2026/04/09", "进校园", "", "测试丙村", "教育局", "", 0, 0, 300])           # created, by name, linked
    #                                                         to the one campaign running there that day
    ws.append(["明天", "扫楼", "PVT01T1B", "", "", "", 5, 0, 0])                          # bad date
    ws.append([serial, "跳舞", "PVT01T1B", "", "", "", 5, 0, 0])                          # unknown kind
    ws.append([serial, "扫楼", "PVT01T1", "", "", "", 5, 0, 0])                           # a township, not a village
    ws.append([serial, "扫楼", "PVT01T1B", "", "", "", "很多", 0, 0])                     # not a number
    ws.append([serial, "扫楼", "PVT01T1B", "", "测二派出所", "PVTSL0408", 25, 3, 60])   # duplicate of row 3
    ws.append([serial + 5, "扫楼", "PVT01T1B", "", "", "PVTSL0408", 5, 0, 0])             # outside the campaign
    buf = io.BytesIO()
    wb.save(buf)
    batch = _upload(api_as("admin"), "activity", "台账.xlsx", buf.getvalue())
    assert (batch["status"], batch["created"], batch["duplicates"], batch["rejected"]) == ("done", 2, 1, 5)
    db.expire_all()
    got = list(db.scalars(select(Activity).where(Activity.source == "import",
                                                 Activity.community_id.in_([county["T1B"], county["T2C"]]))))
    linked = [a for a in got if sweep in {c.id for c in a.campaigns}]
    assert sorted((a.kind, a.held_on, a.households, a.shops, a.leaflets) for a in linked) == [
        ("school", date(2026, 4, 9), 0, 0, 300), ("sweep", date(2026, 4, 8), 25, 3, 60)]
    errors = api_as("admin").get(f"/api/v1/imports/{batch['id']}/errors.csv").content.decode("utf-8-sig")
    for reason in ("无法识别的时间", "未知的活动类型", "不是村/社区", "不是数字", "不在"):
        assert reason in errors
    # Undo the imported sweep row so the roll-up figures above stay as worked out.
    with session_scope() as s:
        for a in s.scalars(select(Activity).where(Activity.source == "import", counting.in_campaign(sweep))):
            s.delete(a)


def test_fraud_free_rules_and_history(county, target, db):
    rules = fraudfree.Rules(case_months=12, metric="jzz_registrations", denominator="population", min_pct=80.0,
                            activity_months=3, activity_min=1)
    with session_scope() as s:
        verdicts = fraudfree.evaluate(s, rules, at(5, 10, 12))
    ok_b, reasons_b = verdicts[county["T1B"]]   # 乙村 450/500 = 90 %, no case, a report on 05-01
    assert ok_b and "近12个月无立案" in reasons_b
    ok_a, reasons_a = verdicts[county["T1A"]]   # 甲村 700/1000 = 70 % < 80 %
    assert not ok_a and reasons_a[0].startswith("金钟罩注册/常住人口 70.0%")
    ok_z, reasons_z = verdicts[county["T1Z"]]
    assert not ok_z and "常住人口为0" in reasons_z[0]
    # Gained, then lost when a case is filed in 乙村.
    from fanzha.cases.models import Case

    with session_scope() as s:
        fraudfree.recompute(s, now=at(5, 10, 12), rules=rules)
    with session_scope() as s:
        s.add(Case(case_number="PVT-CASE-1", community_id=county["T1B"], filed_at=at(5, 12, 10), loss_at=at(5, 12, 9),
                   fraud_type="brushing", loss_amount=Decimal("955000.00")))
    with session_scope() as s:
        result = fraudfree.recompute(s, now=at(5, 13, 12), rules=rules)
    assert result["lost"] >= 1
    db.expire_all()
    status = db.get(FraudFreeStatus, county["T1B"])
    assert not status.fraud_free and "近12个月立案1起" in status.reasons
    changes = [(c.gained, c.at) for c in db.scalars(select(FraudFreeChange).where(
        FraudFreeChange.community_id == county["T1B"]).order_by(FraudFreeChange.id))]
    assert changes[-2:] == [(True, at(5, 10, 12)), (False, at(5, 13, 12))]


def test_knowledge_test_scores_and_public_self_test(app, client_as, db):
    bank = quiz.load_bank()
    assert len(bank) >= 20 and len({q.fraud_type for q in bank.values()}) >= 10
    assert len({q.answer for q in bank.values()}) > 1  # the right option is not always in the same place
    admin = client_as("admin")
    from support.web import csrf_of

    r = admin.post("/prevention/quizzes", data={"csrf_token": csrf_of(admin), "title": "测试卷", "roles": ["dissuader"],
                                                "fraud_types": ["brushing"], "opens_on": "2026-01-01",
                                                "closes_on": "2099-12-31"}, follow_redirects=False)
    assert r.status_code == 303
    quiz_id = int(r.headers["location"].rsplit("/", 1)[1])
    brushing = [q for q in quiz.staff_bank().values() if q.fraud_type == "brushing"]
    taker = client_as("ps01_quanzu")
    answers = {f"q_{q.code}": str(q.answer) for q in brushing}
    answers[f"q_{brushing[0].code}"] = str((brushing[0].answer + 1) % 4)  # one wrong
    r = taker.post(f"/prevention/quizzes/{quiz_id}", data={"csrf_token": csrf_of(taker), **answers},
                   follow_redirects=False)
    assert r.status_code == 303
    page = taker.get(f"/prevention/quizzes/{quiz_id}")
    assert f"您的成绩：{len(brushing) - 1} / {len(brushing)}" in page.text
    again = taker.post(f"/prevention/quizzes/{quiz_id}", data={"csrf_token": csrf_of(taker), **answers})
    assert again.status_code == 409
    assert client_as("ps01_minjing").get(f"/prevention/quizzes/{quiz_id}").status_code == 404  # not assigned
    scores = admin.get(f"/prevention/quizzes/{quiz_id}").text
    assert "按单位" in scores and f"{len(brushing) - 1} / {len(brushing)}" in scores
    # Public self-test: no login, every answer explained.
    from support.web import make_client

    anon = make_client(app)
    public = quiz.public_bank()
    codes = ",".join(list(public)[:3])
    q0 = public[list(public)[0]]
    r = anon.get("/selftest", params={"picked": codes, "check": "1", f"q_{q0.code}": str(q0.answer)})
    assert r.status_code == 200 and "答对 1 / 3 题" in r.text
    assert all(public[c].explain in r.text for c in codes.split(","))
