"""One figure, one number: for the same area and period, 案件研判 (service, page, API), the bulletin (its figures and
its Word and PDF text), the map and the wall screen give the same 立案, 损失, 破案 and 抓获, each with its basis.

A county built by hand (removed again at the end), under its own city and bureau:

    admin:  核对市 AGC → 核对县 AGX → 东镇 AGE → 东一社区 AGE1;  → 西镇 AGW → 西一村 AGW1
    police: 核对局 AGGA → 东派出所 AGP1 ⊃ AGE1;  → 西派出所 AGP2 ⊃ AGW1

Cases, Beijing time (立案 filed, 损失 loss, 破案 solved, 抓获 caught with the number of suspects):

    C1  AGE1 filed 2026-10-15 09:00   50,000  solved 2026-12-29 10:00  caught 2027-01-02 12:00 ×2
    C2  AGW1 filed 2026-10-15 23:30    8,000  solved 2026-10-15 23:50  caught 2026-10-16 01:00 ×1
    C3  AGE1 filed 2026-09-30 23:59  120,000  solved 2026-10-01 00:05  caught 2026-12-31 20:00 ×3
    C4  AGW1 filed 2026-12-28 00:00    3,000  (the first minute of 2026-W53)
    C5  AGE1 filed 2027-01-03 23:59   20,000  solved 2027-01-04 00:00 (the last minute of 2026-W53; solved in 2027-W01)
    C6  AGW1 filed 2026-12-27 23:59    1,000  solved 2026-12-28 08:00 (filed in W52, solved in W53)
    C7  AGE1 filed 2025-12-22 10:00    7,000  solved 2025-12-28 12:00  caught 2025-12-28 12:00 ×1  (2025-W52)
    C8  AGW1 filed 2025-10-15 10:00   10,000  solved 2025-10-20 10:00
    C9  AGE1 filed 2026-10-14 10:00    2,500
    C10 AGW1 filed 2026-07-10 10:00   30,000  solved 2026-10-20 10:00  caught 2026-11-06 10:00 ×2
    C11 AGE1 filed 2026-11-01 00:10    4,000
    C12 AGW1 filed 2026-01-02 10:00      600  (2026-W01: 52 weeks before 2026-W53, what 案件研判 used to compare with)

Each figure by its own time (立案, 损失 by 立案时间; 破案 by 破案时间; 抓获 by 抓获时间), as (立案, 损失, 破案, 抓获):

  day 2026-10-15:  C1 C2 filed → 2, 58,000; C2 solved that day → 1; C2's catch is on the 16th → 0
                   环比 2026-10-14: C9 → (1, 2,500, 0, 0);  同比 2025-10-15: C8 → (1, 10,000, 0, 0)
  week 2026-W53 (2026-12-28 … 2027-01-03; 2026 has 53 ISO weeks, 2025 has 52):
                   C4 C5 filed → 2, 23,000; C1 C6 solved → 2 (C5 on 4 January is not); C1 ×2 + C3 ×3 caught → 5
                   环比 2026-W52 (12-21 … 12-27): C6 → (1, 1,000, 0, 0)
                   同比 week 52 of 2025 (2025-12-22 … 12-28): C7 → (1, 7,000, 1, 1)
                   (52 weeks back would be 2026-W01: C12, 600)
  month 2026-10:   C1 C2 C9 filed → 3, 60,500; C2 C3 C10 solved → 3; C2 caught → 1
                   (counted by filing month, 破案 would be C1 C2 = 2: October's cases that are solved)
                   环比 2026-09: C3 → (1, 120,000, 0, 0);  同比 2025-10: C8 → (1, 10,000, 1, 0)
  quarter 2026-Q4: C1 C2 C9 C11 C4 C6 filed → 6, 68,500; C2 C3 C10 C1 C6 solved → 5; C2 ×1 + C10 ×2 + C3 ×3 → 6
                   环比 2026-Q3: C3 C10 → (2, 150,000, 0, 0);  同比 2025-Q4: C8 C7 → (2, 17,000, 2, 1)
  October by township: 东镇 C1 C9 → 2 cases, 52,500, solved C3 → 1, caught 0;
                       西镇 C2 → 1 case, 8,000, solved C2 C10 → 2, caught C2 → 1
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text

BJ = timezone(timedelta(hours=8))


def bj(y, mo, d, h=12, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=BJ)


CASES = [  # number, community, filed, loss, solved, caught, suspects
    ("C1", "AGE1", bj(2026, 10, 15, 9), "50000", bj(2026, 12, 29, 10), bj(2027, 1, 2, 12), 2),
    ("C2", "AGW1", bj(2026, 10, 15, 23, 30), "8000", bj(2026, 10, 15, 23, 50), bj(2026, 10, 16, 1), 1),
    ("C3", "AGE1", bj(2026, 9, 30, 23, 59), "120000", bj(2026, 10, 1, 0, 5), bj(2026, 12, 31, 20), 3),
    ("C4", "AGW1", bj(2026, 12, 28, 0, 0), "3000", None, None, 0),
    ("C5", "AGE1", bj(2027, 1, 3, 23, 59), "20000", bj(2027, 1, 4, 0, 0), None, 0),
    ("C6", "AGW1", bj(2026, 12, 27, 23, 59), "1000", bj(2026, 12, 28, 8), None, 0),
    ("C7", "AGE1", bj(2025, 12, 22, 10), "7000", bj(2025, 12, 28), bj(2025, 12, 28), 1),
    ("C8", "AGW1", bj(2025, 10, 15, 10), "10000", bj(2025, 10, 20, 10), None, 0),
    ("C9", "AGE1", bj(2026, 10, 14, 10), "2500", None, None, 0),
    ("C10", "AGW1", bj(2026, 7, 10, 10), "30000", bj(2026, 10, 20, 10), bj(2026, 11, 6, 10), 2),
    ("C11", "AGE1", bj(2026, 11, 1, 0, 10), "4000", None, None, 0),
    ("C12", "AGW1", bj(2026, 1, 2, 10), "600", None, None, 0),
]

# period → (this period, 环比, 同比), each as (立案, 损失, 破案, 抓获), worked out above.
EXPECTED = {
    "2026-10-15": ((2, 58000, 1, 0), (1, 2500, 0, 0), (1, 10000, 0, 0)),
    "2026-W53": ((2, 23000, 2, 5), (1, 1000, 0, 0), (1, 7000, 1, 1)),
    "2026-10": ((3, 60500, 3, 1), (1, 120000, 0, 0), (1, 10000, 1, 0)),
    "2026-Q4": ((6, 68500, 5, 6), (2, 150000, 0, 0), (2, 17000, 2, 1)),
}
COMPARED = {"2026-W53": ("2026-W52", "2025-W52"), "2026-10-15": ("2026-10-14", "2025-10-15"),
            "2026-10": ("2026-09", "2025-10"), "2026-Q4": ("2026-Q3", "2025-Q4")}
BASIS = "立案数、损失金额按立案时间统计；破案数按破案时间统计；抓获犯罪嫌疑人按抓获时间统计"
CODES = ("AGE1", "AGW1", "AGP1", "AGP2", "AGE", "AGW", "AGX", "AGGA", "AGC")


@pytest.fixture(scope="module")
def county(database):
    from fanzha.auth.passwords import hash_password
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.org.models import Area, User
    from support.areas import add_area
    from support.web import DEMO_PASSWORD

    def node(s, chain, level, name, code, parent=None, **kw):
        a = add_area(s, chain=chain, level=level, name=name, code=code, parent_id=parent.id if parent else None, **kw)
        a.police_path = s.get(Area, a.police_area_id).path if a.police_area_id else a.police_path
        return a

    with session_scope() as s:
        city = node(s, "admin", "city", "核对市", "AGC")
        cty = node(s, "admin", "county", "核对县", "AGX", city)
        east, west = node(s, "admin", "township", "东镇", "AGE", cty), node(s, "admin", "township", "西镇", "AGW", cty)
        bureau = node(s, "police", "bureau", "核对局", "AGGA")
        p1 = node(s, "police", "station", "东派出所", "AGP1", bureau)
        p2 = node(s, "police", "station", "西派出所", "AGP2", bureau)
        leaves = {"AGE1": node(s, "admin", "community", "东一社区", "AGE1", east, police_area_id=p1.id, population=4000),
                  "AGW1": node(s, "admin", "community", "西一村", "AGW1", west, police_area_id=p2.id, population=6000)}
        s.add(User(username="ag_yanpan", display_name="核对研判员", password_hash=hash_password(DEMO_PASSWORD),
                   role="centre_analyst", area_id=bureau.id))
        for no, leaf, filed, loss, solved, caught, suspects in CASES:
            s.add(Case(case_number=f"AG-{no}", name="王某某", community_id=leaves[leaf].id, filed_at=filed,
                       loss_at=filed - timedelta(hours=2), fraud_type="brushing", loss_amount=Decimal(loss),
                       solved_at=solved, caught_at=caught, suspects_caught=suspects))
        ids = {"county": cty.id}
    yield ids
    with session_scope() as s:
        s.execute(delete(Case).where(Case.case_number.like("AG-%")))
        s.execute(text("DELETE FROM auth_sessions WHERE user_id IN (SELECT id FROM users WHERE username = 'ag_yanpan')"))
        s.execute(delete(User).where(User.username == "ag_yanpan"))
        for code in CODES:
            s.execute(delete(Area).where(Area.code == code))


def _four(t) -> tuple:
    return t.cases, Decimal(t.loss), t.solved, t.suspects


def _flat(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.mark.parametrize("spec", list(EXPECTED))
def test_service_bulletin_and_documents_agree(county, spec):
    from docx import Document
    from pypdf import PdfReader

    from fanzha.cases.stats.service import case_stats
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.reports import bulletin, service
    from fanzha.reports.wording import wan

    now, previous, year_ago = EXPECTED[spec]
    with session_scope() as s:
        scope = Scope.system(s)
        area = s.get(Area, county["county"])
        p = bulletin.parse_period(spec)
        st = case_stats(s, scope, area=area, period=periods.parse(spec))
        assert (st.previous.spec, st.year_ago.spec) == COMPARED[spec]
        assert (_four(st.totals), _four(st.previous_totals), _four(st.year_ago_totals)) == (now, previous, year_ago)

        out = service.render(s, scope, p, area, formats=("docx", "pdf"))
        f = out.figures
        assert (f.cases.current, f.loss.current, f.solved, f.suspects) == now
        assert (f.cases.previous, f.loss.previous) == previous[:2] and (f.cases.last_year, f.loss.last_year) == \
            year_ago[:2]
        assert (f.solved_compared.last_year, f.suspects_compared.last_year) == year_ago[2:]
        assert f.basis.startswith("立案数、损失金额、追回金额按立案时间统计；破案数按破案时间统计")
        s.rollback()

    docx = _flat("".join(p.text for p in Document(io.BytesIO(out.docx)).paragraphs))
    pdf = _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(out.pdf)).pages))
    cases, loss, solved, suspects = now
    for said in (f"共立电信网络诈骗案件{cases}起", f"造成损失{wan(loss)}", f"破案{solved}起",
                 f"抓获犯罪嫌疑人{suspects}人", "统计口径：立案数、损失金额、追回金额按立案时间统计；破案数按破案时间统计；"
                                         "抓获犯罪嫌疑人按抓获时间统计"):
        assert said in docx, (spec, said)
        assert said in pdf, (spec, said)


def test_week_53_is_compared_with_week_52_of_the_previous_iso_year(county):
    """The bulletin and 案件研判 name the same 同比 week, and the labels say which days."""
    from fanzha.common import periods

    w = periods.parse("2026-W53")
    assert w.year_ago().label == "2025年第52周（12月22日至12月28日）"
    assert w.label == "2026年第53周（2026年12月28日至2027年1月3日）"


@pytest.mark.parametrize("spec", list(EXPECTED))
def test_page_api_and_map_agree(county, client_as, api_as, spec):
    now, previous, year_ago = EXPECTED[spec]
    cases, loss, solved, suspects = now
    api = api_as("ag_yanpan").get("/api/v1/cases/stats", params={"area": "AGX", "period": spec})
    assert api.status_code == 200, api.text
    body = api.json()
    for key, figures in (("totals", now), ("previous_totals", previous), ("year_ago_totals", year_ago)):
        t = body[key]
        assert (t["cases"], Decimal(t["loss"]), t["solved"], t["suspects"]) == figures, (spec, key)
    basis = {h["key"]: h["basis"] for h in body["headline"]}
    assert (basis["cases"], basis["loss"], basis["solved"], basis["suspects"]) == (
        "立案数按立案时间统计", "损失金额按立案时间统计", "破案数按破案时间统计", "抓获犯罪嫌疑人按抓获时间统计")

    page = client_as("ag_yanpan").get("/cases/stats", params={"area": "AGX", "period": spec})
    assert page.status_code == 200
    shown = {m: re.search(rf'&measure={m}">([\d,.]+)</a>', page.text).group(1).replace(",", "")
             for m in ("cases", "loss", "solved", "suspects")}
    assert (int(shown["cases"]), Decimal(shown["loss"]), int(shown["solved"]), int(shown["suspects"])) == now
    for basis in ("立案数按立案时间统计", "损失金额按立案时间统计", "破案数按破案时间统计", "抓获犯罪嫌疑人按抓获时间统计"):
        assert basis in page.text

    layer = api_as("ag_yanpan").get("/api/v1/map", params={"area_id": _county_id(), "period": spec}).json()
    assert layer["period"] == spec and layer["basis"] == BASIS
    assert (sum(a["cases"] for a in layer["areas"]), sum(Decimal(str(a["loss"])) for a in layer["areas"]),
            sum(a["solved"] for a in layer["areas"]), sum(a["suspects"] for a in layer["areas"])) == now

    preview = client_as("ag_yanpan").get("/reports/bulletin", params={"period": spec, "area_id": _county_id()})
    assert preview.status_code == 200
    assert f"共立电信网络诈骗案件{cases}起" in preview.text and f"破案{solved}起" in preview.text
    assert f"抓获犯罪嫌疑人{suspects}人" in preview.text and "统计口径" in preview.text


def _county_id() -> int:
    from fanzha.db import session_scope
    from fanzha.org.models import Area

    with session_scope() as s:
        return s.scalar(select(Area.id).where(Area.code == "AGX"))


def test_rankings_of_townships_and_stations_agree(county):
    """October by township and by station: the bulletin's tables, 案件研判's ranking (either chain) and the map."""
    from fanzha.cases.stats.service import case_stats
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.reports import geo
    from fanzha.reports.provider import get_provider

    october = periods.parse("2026-10")
    with session_scope() as s:
        scope = Scope.system(s)
        area = s.get(Area, county["county"])
        f = get_provider().figures(s, scope, october, area)
        by_town = {r.name: (r.cases, r.loss, r.solved, r.suspects) for r in f.by_area}
        # Each place by its label (org/names.py): 东镇 is 核对县·东镇 while another test's 东镇 is in the database.
        east, west = (s.scalar(select(Area.label).where(Area.code == code)) for code in ("AGE", "AGW"))
        assert east.endswith("东镇") and west.endswith("西镇")
        assert by_town == {east: (2, 52500, 1, 0), west: (1, 8000, 2, 1)}
        admin = case_stats(s, scope, area=area, period=october)
        assert {r.name: _four(r.totals) for r in admin.children} == by_town
        police = case_stats(s, scope, area=area, period=october, child_chain="police")
        assert {r.name: _four(r.totals) for r in police.children} == \
            {r.name: (r.cases, r.loss, r.solved, r.suspects) for r in f.by_station} == \
            {"东派出所": (2, 52500, 1, 0), "西派出所": (1, 8000, 2, 1)}
        layer = geo.layer(s, scope, area, october)
        assert {a["name"]: (a["cases"], Decimal(str(a["loss"])), a["solved"], a["suspects"])
                for a in layer["areas"]} == by_town


def test_the_demo_county_shows_every_figure_alike(database):
    """The demo city's bulletin, 案件研判 and the wall screen for a month and a quarter: the same figures, none empty."""
    from zoneinfo import ZoneInfo

    from fanzha.cases.stats.service import case_stats
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.org.tree import top_area
    from fanzha.reports import screen
    from fanzha.reports.provider import get_provider

    with session_scope() as s:
        scope = Scope.system(s)
        city = top_area(s)
        for spec in ("2026-10", "2026-Q3"):
            p = periods.parse(spec)
            f = get_provider().figures(s, scope, p, None)
            st = case_stats(s, scope, area=city, period=p)
            assert st.totals.cases and st.totals.loss and st.totals.solved and st.totals.suspects, spec
            assert (f.cases.current, f.loss.current, f.solved, f.suspects) == _four(st.totals)
            assert (f.cases.previous, f.cases.last_year) == (st.previous_totals.cases, st.year_ago_totals.cases)
            assert {t.key: t.cases for t in f.by_type} == \
                {r.key: r.totals.cases for r in st.breakdowns["type"].rows if r.totals.cases}
            assert sum(r.cases for r in f.by_area) == st.totals.cases
        # The screen on the last day of October shows October so far: the month's figures.
        now = datetime(2026, 10, 31, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
        month = screen.figures(s, scope, now=now)["month"]
        st = case_stats(s, scope, area=city, period=periods.parse("2026-10"))
        assert (month["cases"], Decimal(str(month["loss"])), month["solved"], month["suspects"]) == _four(st.totals)
        assert (month["cases_last_year"], month["solved_last_year"]) == (st.year_ago_totals.cases,
                                                                           st.year_ago_totals.solved)
        assert month["basis"] and "破案数按破案时间统计" in month["basis"]
        # A county's bulletin ranks its townships as 案件研判 ranks a county's children.
        county = s.scalar(select(Area).where(Area.chain == "admin", Area.level == "county").order_by(Area.code))
        q3 = periods.parse("2026-Q3")
        f = get_provider().figures(s, scope, q3, county)
        st = case_stats(s, scope, area=county, period=q3)
        assert f.by_area and {r.name: (r.cases, r.cases_last_year) for r in f.by_area} == \
            {r.name: (r.totals.cases, r.yoy.base) for r in st.children}
        s.rollback()
