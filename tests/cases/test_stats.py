"""Case statistics (案件研判) against a small county built by hand; every expected figure is worked out below.

The county 测试县 (under its own city and bureau, removed again at the end):

    admin:  测试市 TSC → 测试县 TSX → 甲镇 TSA → 甲一社区 A1 (5,000 people), 甲二村 A2 (3,000)
                                    → 乙镇 TSB → 乙一村 B1 (2,000)                      county: 10,000 people
    police: 测试局 TSGA → 甲派出所 TSP1 → 甲第一警务区 TSP1B1 ⊃ A1
                        → 乙派出所 TSP2 ⊃ A2, B1 (directly, no beat)

Cases (times are Beijing time; stored in UTC, 8 hours earlier):

    K1 A1 2026-10-03 10:00 刷单 95,500 (追回 5,000, 冻结 10,000) 66岁 女 退休 [老年人] 社交软件; 破案 10-20, 抓获 2 人 10-21
    K2 A1 2026-10-31 23:30 投资理财 120,000  35岁 男 会计 [财会人员] APP        (the last half hour of October)
    K3 A2 2026-11-01 00:10 刷单 3,000                                          (November: 16:10 UTC on 31 October)
    K4 B1 2026-10-15 12:00 贷款 10,000  18岁 女 学生 [师生] 电话
    K5 A2 2026-09-10 12:00 刷单 50,000  17岁; 破案 2026-10-02, 抓获 1 人 2026-09-30
    K6 A1 2025-10-20 12:00 刷单 2,000                                          (same month last year)
    K7 B1 2026-09-25 12:00 刷单 9,999.99
    K8 B1 2026-09-26 12:00 婚恋交友 1,000

October 2026 for the county: 立案 K1 K2 K4 = 3; 损失 95,500 + 120,000 + 10,000 = 225,500; 追回 5,000; 冻结 10,000;
破案 (solved date in October) K1, K5 = 2; 抓获 (caught date in October) K1's 2 = 2.
环比 September 2026: 立案 K5 K7 K8 = 3; 损失 60,999.99; 破案 0; 抓获 1 (K5, 30 September).
同比 October 2025: 立案 K6 = 1; 损失 2,000; 破案 0; 抓获 0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text

BJ = timezone(timedelta(hours=8))


def bj(y, mo, d, h=12, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=BJ)


@pytest.fixture(scope="module")
def county(database):
    from fanzha.auth.passwords import hash_password
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.org.models import Area, User
    from support.web import DEMO_PASSWORD

    def node(s, chain, level, name, code, parent=None, **kw):
        a = Area(chain=chain, level=level, name=name, code=code, parent_id=parent.id if parent else None, **kw)
        s.add(a)
        s.flush()
        a.path = (parent.path if parent else "/") + f"{a.id}/"
        if a.police_area_id:
            a.police_path = s.get(Area, a.police_area_id).path
        return a

    with session_scope() as s:
        city = node(s, "admin", "city", "测试市", "TSC")
        cty = node(s, "admin", "county", "测试县", "TSX", city)
        ta = node(s, "admin", "township", "甲镇", "TSA", cty)
        tb = node(s, "admin", "township", "乙镇", "TSB", cty)
        bureau = node(s, "police", "bureau", "测试局", "TSGA")
        p1 = node(s, "police", "station", "甲派出所", "TSP1", bureau)
        p2 = node(s, "police", "station", "乙派出所", "TSP2", bureau)
        beat = node(s, "police", "beat", "甲第一警务区", "TSP1B1", p1)
        a1 = node(s, "admin", "community", "甲一社区", "TSA1", ta, police_area_id=beat.id, population=5000)
        a2 = node(s, "admin", "community", "甲二村", "TSA2", ta, police_area_id=p2.id, population=3000)
        b1 = node(s, "admin", "community", "乙一村", "TSB1", tb, police_area_id=p2.id, population=2000)
        ids = {a.code: a.id for a in (city, cty, ta, tb, bureau, p1, p2, beat, a1, a2, b1)}
        s.add(User(username="ts_yanpan", display_name="研判员", password_hash=hash_password(DEMO_PASSWORD),
                   role="centre_analyst", area_id=bureau.id))

        def case(no, leaf, at, ftype, loss, **kw):
            s.add(Case(case_number=f"TS-{no}", name="张三丰", community_id=leaf.id, filed_at=at, loss_at=at - timedelta(days=1),
                       fraud_type=ftype, loss_amount=Decimal(loss), **kw))

        case("K1", a1, bj(2026, 10, 3, 10), "brushing", "95500", recovered_amount=Decimal(5000),
             frozen_amount=Decimal(10000), victim_age=66, victim_sex="女", victim_occupation="退休",
             victim_groups=["elderly"], channel="social", solved_at=bj(2026, 10, 20), suspects_caught=2,
             caught_at=bj(2026, 10, 21), preventable=True)
        case("K2", a1, bj(2026, 10, 31, 23, 30), "investment", "120000", victim_age=35, victim_sex="男",
             victim_occupation="会计", victim_groups=["accountant"], channel="app")
        case("K3", a2, bj(2026, 11, 1, 0, 10), "brushing", "3000")
        case("K4", b1, bj(2026, 10, 15), "loan", "10000", victim_age=18, victim_sex="女", victim_occupation="学生",
             victim_groups=["student_teacher"], channel="phone")
        case("K5", a2, bj(2026, 9, 10), "brushing", "50000", victim_age=17, solved_at=bj(2026, 10, 2),
             suspects_caught=1, caught_at=bj(2026, 9, 30))
        case("K6", a1, bj(2025, 10, 20), "brushing", "2000")
        case("K7", b1, bj(2026, 9, 25), "brushing", "9999.99")
        case("K8", b1, bj(2026, 9, 26), "romance", "1000")
        # Leap year: two cases in February 2024 (one on the 29th), one in February 2025.
        case("L1", a1, bj(2024, 2, 29), "brushing", "100")
        case("L2", a1, bj(2024, 2, 10), "brushing", "100")
        case("L3", a1, bj(2025, 2, 28, 23, 59), "brushing", "100")
        # Crossing years: 2025-12-15..2026-01-14; 环比 2025-11-14..2025-12-14; 同比 2024-12-15..2025-01-14.
        case("X1", a2, bj(2025, 12, 20), "shopping", "100")
        case("X2", a2, bj(2026, 1, 14, 23, 59), "shopping", "100")
        case("X3", a2, bj(2026, 1, 15, 0, 0), "shopping", "100")  # the day after: out
        case("X4", a2, bj(2025, 11, 14, 0, 0), "shopping", "100")
        case("X5", a2, bj(2025, 12, 14, 23, 0), "shopping", "100")
        case("X6", a2, bj(2025, 1, 1, 0, 30), "shopping", "100")
    yield ids
    with session_scope() as s:
        s.execute(delete(Case).where(Case.case_number.like("TS-%")))
        s.execute(text("DELETE FROM auth_sessions WHERE user_id IN (SELECT id FROM users WHERE username = 'ts_yanpan')"))
        s.execute(delete(User).where(User.username == "ts_yanpan"))
        for code in ("TSA1", "TSA2", "TSB1", "TSP1B1", "TSP1", "TSP2", "TSA", "TSB", "TSX", "TSGA", "TSC"):
            s.execute(delete(Area).where(Area.code == code))


def _stats(spec="2026-10", code="TSX", scope=None, **kw):
    from fanzha.cases.stats.service import case_stats
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope

    with session_scope() as s:
        scope = scope or Scope.system(s)
        area = s.scalar(select(Area).where(Area.code == code))
        return case_stats(s, scope, area=area, period=periods.parse(spec), **kw)


def _head(st):
    return {h.key: h for h in st.headline}


def test_month_headline_with_year_on_year_and_month_on_month(county):
    st = _stats()
    t = st.totals
    assert (t.cases, t.loss, t.recovered, t.frozen, t.solved, t.suspects) == (
        3, Decimal("225500.00"), Decimal("5000.00"), Decimal("10000.00"), 2, 2)
    assert (st.previous.start, st.previous.end) == (date(2026, 9, 1), date(2026, 9, 30))
    assert (st.year_ago.start, st.year_ago.end) == (date(2025, 10, 1), date(2025, 10, 31))
    p = st.previous_totals
    assert (p.cases, p.loss, p.solved, p.suspects) == (3, Decimal("60999.99"), 0, 1)
    a = st.year_ago_totals
    assert (a.cases, a.loss, a.solved, a.suspects) == (1, Decimal("2000.00"), 0, 0)
    h = _head(st)
    assert h["cases"].yoy.text == "上升200.0%" and h["cases"].yoy.pct == 200.0  # 3 against 1
    assert h["cases"].mom.text == "持平" and h["cases"].mom.diff == 0  # 3 against 3
    assert h["solved"].yoy.text == "新增" and h["solved"].yoy.pct is None  # 2 against a zero base
    assert h["suspects"].mom.text == "上升100.0%"  # 2 against 1
    assert h["loss"].yoy.text == "上升11175.0%"  # (225,500 − 2,000) / 2,000
    # 万人发案率 = 3 / (10,000 / 10,000) = 3.0; September 3.0; October 2025 1.0
    assert st.population == 10000 and st.communities == 3
    assert st.rate == 3.0 and h["rate"].yoy.text == "上升200.0%"


def test_breakdowns_by_type_age_sex_group_channel_and_loss_band(county):
    st = _stats()
    by = {d: {r.key: r for r in b.rows} for d, b in st.breakdowns.items()}
    assert {k: r.totals.cases for k, r in by["type"].items()} == {
        "brushing": 1, "investment": 1, "loan": 1, "romance": 0}  # romance: only in September (K8)
    assert by["type"]["brushing"].mom.text == "下降50.0%"  # 1 against K5 + K7
    assert by["type"]["brushing"].yoy.text == "持平"  # 1 against K6
    assert by["type"]["romance"].yoy.text == "—"  # 0 against 0
    assert by["type"]["investment"].totals.loss == Decimal("120000.00")
    assert {k: r.totals.cases for k, r in by["age"].items() if r.totals.cases} == {"ge60": 1, "26_35": 1, "18_25": 1}
    assert [r.key for r in st.breakdowns["age"].rows][:3] == ["lt18", "18_25", "26_35"]  # band order, not by count
    assert by["age"]["lt18"].totals.cases == 0 and by["age"]["lt18"].mom.base == 1  # K5, 17, in September
    assert {k: r.totals.cases for k, r in by["sex"].items() if r.totals.cases} == {"女": 2, "男": 1}
    assert {k: r.totals.cases for k, r in by["group"].items()} == {"elderly": 1, "accountant": 1,
                                                                   "student_teacher": 1}
    assert by["group"]["elderly"].share_pct == 33.3
    assert by["occupation"]["会计"].label == "会计"
    assert {k: r.totals.cases for k, r in by["channel"].items() if r.totals.cases} == {"social": 1, "app": 1, "phone": 1}
    # Bands as bulletins publish them: 10,000 exactly is 1万（含）—5万; 9,999.99 is under 1万 (K7, September).
    assert {k: r.totals.cases for k, r in by["loss"].items()} == {"ge100k": 1, "50k_100k": 1, "10k_50k": 1, "lt10k": 0}
    assert by["preventable"]["yes"].totals.cases == 1


def test_ranking_of_townships_with_arrows_and_by_rate(county):
    st = _stats()
    rows = {r.code: r for r in st.children}
    # October: 甲镇 K1 K2 = 2, 乙镇 K4 = 1. September: 甲镇 K5 = 1, 乙镇 K7 K8 = 2.
    assert [(r.code, r.totals.cases, r.rank, r.previous_rank, r.arrow) for r in st.children] == [
        ("TSA", 2, 1, 2, "↑"), ("TSB", 1, 2, 1, "↓")]
    assert rows["TSA"].population == 8000 and rows["TSA"].rate == 2.5  # 2 / 0.8
    assert rows["TSB"].rate == 5.0  # 1 / 0.2
    by_rate = _stats(rank_by="rate")
    # October rates: 乙镇 5.0, 甲镇 2.5; September: 乙镇 10.0, 甲镇 1.25 → same order, no arrows.
    assert [(r.code, r.rank, r.arrow) for r in by_rate.children] == [("TSB", 1, "—"), ("TSA", 2, "—")]


def test_both_chains(county):
    # The county ranked by the stations that hold its communities: 甲派出所 (A1) 2, 乙派出所 (A2, B1) 1.
    st = _stats(child_chain="police")
    assert [(r.code, r.totals.cases) for r in st.children] == [("TSP1", 2), ("TSP2", 1)]
    # A police node counts its communities through police_path: 乙派出所 holds A2 and B1 → K4 only; 5,000 people.
    p2 = _stats(code="TSP2")
    assert (p2.totals.cases, p2.population, p2.rate) == (1, 5000, 2.0)
    assert p2.previous_totals.cases == 3  # K5 (A2), K7, K8 (B1)
    # 甲派出所's next level is its beat; the beat's next level its community.
    p1 = _stats(code="TSP1")
    assert [(r.code, r.totals.cases) for r in p1.children] == [("TSP1B1", 2)]
    assert [(r.code, r.totals.cases) for r in _stats(code="TSP1B1").children] == [("TSA1", 2)]
    bureau = _stats(code="TSGA")
    assert bureau.totals.cases == 3 and bureau.totals.solved == 2


def test_leap_year_february(county):
    # February 2025 (L3, 23:59 on the 28th) against all 29 days of February 2024 (L1 on the 29th, L2).
    st = _stats("2025-02", code="TSA1")
    assert (st.year_ago.start, st.year_ago.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert (st.totals.cases, st.year_ago_totals.cases) == (1, 2)
    assert _head(st)["cases"].yoy.text == "下降50.0%"
    # The custom range of February 2025 compares with the whole of February 2024 as the month does.
    custom = _stats("2025-02-01..2025-02-28", code="TSA1")
    assert (custom.year_ago.end, custom.year_ago_totals.cases) == (date(2024, 2, 29), 2)
    # 29 February 2024 as a day: 同比 28 February 2023 (nothing there) → 新增; 环比 28 February 2024 → 新增.
    day = _stats("2024-02-29", code="TSA1")
    assert day.year_ago.start == date(2023, 2, 28) and day.previous.start == date(2024, 2, 28)
    assert day.totals.cases == 1 and _head(day)["cases"].yoy.text == "新增"


def test_period_crossing_years_and_custom_month_on_month(county):
    st = _stats("2025-12-15..2026-01-14", code="TSA2")
    assert st.period.days == 31
    assert (st.previous.start, st.previous.end) == (date(2025, 11, 14), date(2025, 12, 14))  # 31 days before
    assert (st.year_ago.start, st.year_ago.end) == (date(2024, 12, 15), date(2025, 1, 14))
    # X1 and X2 (23:59 on the last day) in; X3 (00:00 the day after) out. 环比 X4 (00:00 on its first day) and X5.
    # 同比 X6 (00:30 on 1 January 2025, i.e. 16:30 UTC on 31 December 2024).
    assert (st.totals.cases, st.previous_totals.cases, st.year_ago_totals.cases) == (2, 2, 1)
    h = _head(st)
    assert (h["cases"].mom.text, h["cases"].yoy.text) == ("持平", "上升100.0%")
    by_since = _stats("", code="TSA2") if False else None  # noqa: F841 — parse() of since/until is tested below
    from fanzha.common import periods
    assert periods.parse(since="2025-12-15", until="2026-01-14") == st.period


def test_period_parsing_and_cover():
    from fanzha.cases.stats.rollup import cover
    from fanzha.common.errors import Invalid
    from fanzha.common.periods import Period, parse

    assert parse("2026-Q4") == Period("quarter", date(2026, 10, 1), date(2026, 12, 31))
    assert parse("2026-Q1").previous() == Period("quarter", date(2025, 10, 1), date(2025, 12, 31))
    assert parse("2026-W01") == Period("week", date(2025, 12, 29), date(2026, 1, 4))  # ISO week 1 starts in 2025
    assert parse("2026-W01").year_ago() == Period("week", date(2024, 12, 30), date(2025, 1, 5))
    assert parse("2026-03").previous() == Period("month", date(2026, 2, 1), date(2026, 2, 28))
    assert parse("2026") == Period("year", date(2026, 1, 1), date(2026, 12, 31))
    assert parse("", today=date(2026, 1, 10)) == Period("month", date(2025, 12, 1), date(2025, 12, 31))
    # Whole years, whole months and the days around them.
    assert cover(date(2024, 12, 30), date(2026, 2, 2)) == [
        ("d", date(2024, 12, 30), date(2024, 12, 31)), ("y", date(2025, 1, 1), date(2025, 1, 1)),
        ("m", date(2026, 1, 1), date(2026, 1, 1)), ("d", date(2026, 2, 1), date(2026, 2, 2))]
    for bad in ("2026-13", "2026-02-30", "soon", "2026-10-05..2026-10-01"):
        with pytest.raises(Invalid):
            parse(bad)


def test_key_communities_and_groups_from_thresholds(county):
    from fanzha.cases.stats.rules import KeyRules

    rules = KeyRules(min_rate=4.0, min_cases=2, min_rise_pct=50, rise_min_cases=2, community_scale=False,
                     group_dims=("group",), group_min_cases=1, group_min_share_pct=30, group_min_rise_pct=50,
                     group_scale=False)
    st = _stats(rules=rules)
    # A1: 2 cases, 5,000 people → 4.0 per 10,000 (≥ 4), 2 cases (≥ 2), none in September → three reasons.
    # B1: 1 case, 2,000 people → 5.0 (≥ 4); 1 case < 2; September had 2 → one reason. A2: no case in October.
    assert [(k.key, len(k.reasons)) for k in st.key_communities] == [("TSA1", 3), ("TSB1", 1)]
    assert st.key_communities[0].reasons[0] == "万人发案率4.00，达到4"
    # Each group is 1 of 3 cases = 33.3 % ≥ 30 %.
    assert sorted(k.key for k in st.key_groups) == ["accountant", "elderly", "student_teacher"]
    strict = KeyRules(min_rate=6.0, min_cases=3, rise_min_cases=3, community_scale=False, group_dims=("group",),
                      group_min_cases=2, group_scale=False)
    st = _stats(rules=strict)
    assert st.key_communities == [] and st.key_groups == []


def test_rules_file_defaults_are_documented_and_read():
    from fanzha.cases.stats.rules import DEFAULT_RULES, load_rules

    rules = load_rules(DEFAULT_RULES)
    assert rules.min_cases == 3 and rules.group_dims == ("group", "age", "occupation")
    doc = (DEFAULT_RULES.parents[4] / "docs" / "case-stats.md").read_text(encoding="utf-8")
    for key in ("min_rate", "min_cases", "min_rise_pct", "rise_min_cases", "scale_to_period", "limit", "dims",
                "min_share_pct"):
        assert f"`{key}`" in doc, key


def test_scoping_station_sees_its_communities_only(county):
    from fanzha.common.errors import Forbidden
    from fanzha.org.scope import Scope

    ids = county
    p2 = Scope(user_id=None, username="t", role="station_head", area_id=ids["TSP2"], chain="police",
               path=_path(ids["TSP2"]), level="station")
    # 乙派出所 looking at the county it sits in: only A2 and B1 count (K4 in October; K5, K7, K8 in September).
    st = _stats(scope=p2)
    assert (st.totals.cases, st.population, st.previous_totals.cases) == (1, 5000, 3)
    assert [(r.code, r.totals.cases, r.population) for r in st.children] == [("TSB", 1, 2000), ("TSA", 0, 3000)]
    grid = Scope(user_id=None, username="g", role="unit_liaison", area_id=ids["TSX"], chain="admin",
                 path=_path(ids["TSX"]), level="county")
    with pytest.raises(Forbidden):
        _stats(scope=grid)  # no READ_CASES


def _path(area_id):
    from fanzha.db import session_scope
    from fanzha.org.models import Area

    with session_scope() as s:
        return s.get(Area, area_id).path


def test_cases_behind_a_figure_are_the_ones_counted_and_audited(county):
    from fanzha.cases.stats.service import cases_behind
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.trail.models import AuditEntry

    oct_ = periods.parse("2026-10")
    with session_scope() as s:
        sys_ = Scope.system(s)
        cty = s.scalar(select(Area).where(Area.code == "TSX"))
        tsa = s.scalar(select(Area).where(Area.code == "TSA"))

        def numbers(**kw):
            rows, total = cases_behind(s, sys_, area=cty, period=kw.pop("period", oct_), **kw)
            assert total == len(rows)
            return sorted(c.case_number for c in rows)

        assert numbers() == ["TS-K1", "TS-K2", "TS-K4"]
        assert numbers(measure="solved") == ["TS-K1", "TS-K5"]
        assert numbers(measure="suspects") == ["TS-K1"]
        assert numbers(dim="group", value="elderly") == ["TS-K1"]
        assert numbers(dim="age", value="18_25") == ["TS-K4"]
        assert numbers(dim="loss", value="10k_50k") == ["TS-K4"]
        assert numbers(dim="type", value="brushing", period=periods.parse("2026-09")) == ["TS-K5", "TS-K7"]
        assert numbers(sub=tsa) == ["TS-K1", "TS-K2"]
        audited = s.scalars(select(AuditEntry).where(AuditEntry.entity == "case")
                            .order_by(AuditEntry.id.desc())).first()
        assert audited.detail["stats"]["sub"] == "TSA" and audited.action == "view"


def _cells(s):
    from fanzha.cases.stats import rollup

    rollup.fold_pending(s.connection())
    return sorted(tuple(r) for r in s.execute(text(
        "SELECT grain, day, community_id, dim, value, cases, loss_cents, recovered_cents, frozen_cents, solved, "
        "suspects FROM case_stat_cells WHERE cases <> 0 OR loss_cents <> 0 OR recovered_cents <> 0 "
        "OR frozen_cents <> 0 OR solved <> 0 OR suspects <> 0")))


def test_a_case_moved_retyped_solved_and_deleted_moves_its_counts(county):
    from fanzha.cases.models import Case
    from fanzha.cases.stats import rollup
    from fanzha.db import session_scope

    ids = county
    with session_scope() as s:  # K4 moves from 乙一村 to 甲一社区, becomes 刷单, is solved on 2026-10-30
        k4 = s.scalar(select(Case).where(Case.case_number == "TS-K4"))
        k4.community_id, k4.fraud_type, k4.solved_at = ids["TSA1"], "brushing", bj(2026, 10, 30)
    st = _stats()
    assert [(r.code, r.totals.cases) for r in st.children] == [("TSA", 3), ("TSB", 0)]
    assert st.totals.cases == 3 and st.totals.solved == 3  # the county's total stays; one more 破案
    assert {r.key: r.totals.cases for r in st.breakdowns["type"].rows}["brushing"] == 2
    with session_scope() as s:  # a bulk UPDATE written by hand is folded in as well
        s.execute(text("UPDATE cases SET loss_amount = loss_amount + 1 WHERE case_number IN ('TS-K1', 'TS-K2')"))
    assert _stats().totals.loss == Decimal("225502.00")
    with session_scope() as s:
        s.execute(delete(Case).where(Case.case_number == "TS-K2"))
    st = _stats()
    assert (st.totals.cases, st.totals.loss) == (2, Decimal("105501.00"))
    # The roll-up kept by the triggers is exactly what a rebuild from the cases gives.
    with session_scope() as s:
        kept = _cells(s)
        rollup.rebuild(s.connection())
        assert _cells(s) == kept
    with session_scope() as s:  # put the fixture back for the other tests
        k4 = s.scalar(select(Case).where(Case.case_number == "TS-K4"))
        k4.community_id, k4.fraud_type, k4.solved_at = ids["TSB1"], "loan", None
        s.execute(text("UPDATE cases SET loss_amount = loss_amount - 1 WHERE case_number = 'TS-K1'"))
        s.add(Case(case_number="TS-K2", name="张三丰", community_id=ids["TSA1"], filed_at=bj(2026, 10, 31, 23, 30),
                   loss_at=bj(2026, 10, 30), fraud_type="investment", loss_amount=Decimal(120000), victim_age=35,
                   victim_sex="男", victim_occupation="会计", victim_groups=["accountant"], channel="app"))
    assert _stats().totals.loss == Decimal("225500.00")


def test_result_as_json_is_plain(county):
    import json

    out = _stats().as_dict()
    json.dumps(out)
    assert out["totals"]["loss"] == "225500.00" and out["period"]["spec"] == "2026-10"
    assert out["headline"][0]["yoy"]["text"] == "上升200.0%"


def test_page_api_and_cli(county, client_as, api_as):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    page = client_as("ts_yanpan").get("/cases/stats?area=TSX&period=2026-10")
    assert page.status_code == 200
    assert "上升200.0%" in page.text and "甲镇" in page.text and "↑" in page.text
    assert "/cases/stats/cases?area=TSX&amp;period=2026-10&measure=solved" in page.text
    drill = client_as("ts_yanpan").get("/cases/stats/cases?area=TSX&period=2026-10&dim=group&value=elderly")
    assert drill.status_code == 200 and "TS-K1" in drill.text and "张三丰" not in drill.text and "张某某" in drill.text
    custom = client_as("ts_yanpan").get("/cases/stats?area=TSA2&from=2025-12-15&to=2026-01-14")
    assert custom.status_code == 200 and "2025年11月14日至2025年12月14日" in custom.text
    bad = client_as("ts_yanpan").get("/cases/stats?period=2026-13")
    assert bad.status_code == 422 and "时间段格式" in bad.text
    api = api_as("ts_yanpan").get("/api/v1/cases/stats", params={"area": "TSX", "period": "2026-10", "chain": "police"})
    assert api.status_code == 200
    body = api.json()
    assert body["totals"]["cases"] == 3 and [c["area_code"] if False else c["code"] for c in body["children"]] == [
        "TSP1", "TSP2"]
    listed = api_as("ts_yanpan").get("/api/v1/cases/stats/cases", params={"area": "TSX", "period": "2026-10",
                                                                       "measure": "solved"})
    assert sorted(c["case_number"] for c in listed.json()["cases"]) == ["TS-K1", "TS-K5"]
    # A station chief of the demo county cannot read the test county at all.
    assert api_as("ps01_suozhang").get("/api/v1/cases/stats", params={"area": "TSX"}).status_code == 404
    out = CliRunner().invoke(app, ["cases", "stats", "--area", "TSX", "--period", "2026-10", "--json"])
    assert out.exit_code == 0, out.output
    import json

    assert json.loads(out.output)["totals"]["solved"] == 2
    text_out = CliRunner().invoke(app, ["cases", "stats", "--area", "TSX", "--from", "2026-10-01", "--to", "2026-10-31"])
    assert "立案数" in text_out.output and "甲镇" in text_out.output


def test_city_wide_cells_equal_the_sum_of_the_communities(county):
    """A view over every community reads the dimensions from the city-wide cells (community −1): the same figures
    as summing each community's cells, for a month, a custom range and a year."""
    from fanzha.cases.stats.service import _read
    from fanzha.common import periods
    from fanzha.db import session_scope
    from fanzha.org.models import Area

    with session_scope() as s:
        ids = list(s.scalars(select(Area.id).where(Area.level == "community")))
        spans = [periods.parse(x) for x in ("2026-10", "2025-12-15..2026-01-14", "2026", "2024-02-29")]
        assert _read(s, ids, *spans, whole=True) == _read(s, ids, *spans, whole=False)
        (by_dim, _), = _read(s, ids, spans[0], whole=True)
        assert by_dim[("group", "elderly")].cases >= 1  # K1 at least (the demo county has cases too)


def test_an_update_of_uncounted_columns_folds_nothing(county):
    """Editing the narrative changes no cell (PostgreSQL compares old and new rows; SQLite's trigger watches only
    the counted columns); editing the loss changes exactly the cells of that case."""
    from fanzha.db import session_scope

    with session_scope() as s:
        before = _cells(s)
        s.execute(text("UPDATE cases SET narrative = '报警称被骗' WHERE case_number LIKE 'TS-%'"))
        assert _cells(s) == before
        s.execute(text("UPDATE cases SET loss_amount = loss_amount + 0.01 WHERE case_number = 'TS-K6'"))
        changed = set(_cells(s)) ^ set(before)
        s.execute(text("UPDATE cases SET loss_amount = loss_amount - 0.01 WHERE case_number = 'TS-K6'"))
    # K6 (A1, 2025-10-20, 刷单, no victim details): 8 dimension values (all, type, channel, sex, age, occupation,
    # loss band, 可防性 — no group) × day, month, year × (A1, city-wide) = 48 cells, each before and after.
    assert len(changed) == 2 * 48


def test_an_import_and_updates_in_one_transaction_read_as_a_rebuild(county, tmp_path):
    """Cases imported (GBK CSV, as police export them) and then moved, solved and one deleted, all in one
    transaction: the next read of the statistics counts them exactly (PostgreSQL folds the journal the triggers
    wrote; SQLite's triggers folded at once), the journal is empty after it, and the cells equal a rebuild."""
    import csv
    import io

    from fanzha.cases.models import Case
    from fanzha.cases.stats import rollup
    from fanzha.db import session_scope
    from fanzha.imports.service import run_file
    from fanzha.org.scope import Scope

    ids = county
    buf = io.StringIO()
    csv.writer(buf).writerows([
        ["案件编号", "立案时间", "被骗时间", "姓名", "发案地址", "诈骗类型", "损失金额", "简要案情"],
        ["TS-J1", "2026-10-05 09:30", "2026-10-04 20:00", "李某某", "测试县甲镇", "刷单返利类", "1,200", "兼职刷单"],
        ["TS-J2", "2026/10/06 14:00", "2026/10/06 10:00", "王某", "测试县乙镇", "虚假投资理财类", "3.5万", "投资被骗"],
        ["TS-J3", "2026-10-07 08:00", "2026-10-06 22:00", "赵某", "", "刷单返利类", "800元", "刷单"],
        ["TS-J4", "2026-09-30 23:00", "2026-09-30 12:00", "钱某某", "", "网络贷款类", "5000", "贷款被骗"],
    ])
    path = tmp_path / "cases-oct.csv"
    path.write_bytes(buf.getvalue().encode("gbk"))
    before = _stats()
    with session_scope() as s:
        assert run_file(s, Scope.system(s), "case", path).summary()["created"] == 4
        s.execute(text("UPDATE cases SET community_id = :a WHERE case_number IN ('TS-J1', 'TS-J3', 'TS-J4')"),
                  {"a": ids["TSA1"]})
        s.execute(text("UPDATE cases SET community_id = :b, solved_at = filed_at + interval '2 days' "
                       "WHERE case_number = 'TS-J2'" if s.get_bind().dialect.name == "postgresql" else
                       "UPDATE cases SET community_id = :b, solved_at = datetime(filed_at, '+2 days') "
                       "WHERE case_number = 'TS-J2'"), {"b": ids["TSB1"]})
        s.execute(text("DELETE FROM cases WHERE case_number = 'TS-J3'"))
    try:
        with session_scope() as s:
            pending = s.execute(text("SELECT count(*) FROM case_stat_journal")).scalar()
            # PostgreSQL: J1–J4 inserted (+4), three moved (−3 +3), J2 moved and solved (−1 +1), J3 deleted (−1)
            assert pending == (13 if s.get_bind().dialect.name == "postgresql" else 0)
        st = _stats()
        # October 2026 in 测试县: J1 (1,200) and J2 (35,000) are new; J3 was deleted; J4 is September's (local day).
        assert st.totals.cases == before.totals.cases + 2
        assert st.totals.loss == before.totals.loss + Decimal("36200.00")
        assert st.totals.solved == before.totals.solved + 1  # J2, solved on 2026-10-08
        assert [(r.code, r.totals.cases) for r in st.children] == [
            (r.code, r.totals.cases + {"TSA": 1, "TSB": 1}[r.code]) for r in before.children]
        with session_scope() as s:
            assert s.execute(text("SELECT count(*) FROM case_stat_journal")).scalar() == 0
            kept = _cells(s)
            rollup.rebuild(s.connection())
            assert _cells(s) == kept
    finally:
        with session_scope() as s:
            s.execute(delete(Case).where(Case.case_number.in_(["TS-J1", "TS-J2", "TS-J3", "TS-J4"])))
    assert _stats().totals.cases == before.totals.cases


def test_two_readers_folding_at_once_fold_each_change_once(county):
    """PostgreSQL: a second reader folding while the first one's fold is not yet committed waits for it and then
    skips the journal rows the first deleted, so a change is never counted twice."""
    import threading
    import time

    from fanzha.cases.models import Case
    from fanzha.cases.stats import rollup
    from fanzha.db import get_engine, session_scope

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        # SQLite folds in its row triggers: the journal stays empty, and two readers folding find nothing to count.
        with session_scope() as s:
            s.add(Case(case_number="TS-C1", name="张三丰", community_id=county["TSA2"], filed_at=bj(2026, 10, 12),
                       loss_at=bj(2026, 10, 11), fraud_type="loan", loss_amount=Decimal("4321.00")))
        try:
            with session_scope() as s:
                assert s.execute(text("SELECT count(*) FROM case_stat_journal")).scalar() == 0
                rollup.fold_pending(s.connection())
                rollup.fold_pending(s.connection())
                kept = _cells(s)
                rollup.rebuild(s.connection())
                assert _cells(s) == kept
        finally:
            with session_scope() as s:
                s.execute(delete(Case).where(Case.case_number == "TS-C1"))
        return
    with session_scope() as s:
        s.add(Case(case_number="TS-C1", name="张三丰", community_id=county["TSA2"], filed_at=bj(2026, 10, 12),
                   loss_at=bj(2026, 10, 11), fraud_type="loan", loss_amount=Decimal("4321.00")))
    first, second = engine.connect(), engine.connect()
    try:
        rollup.fold_pending(first)  # deletes the journal's rows and adds them, not yet committed
        pid = second.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        done = threading.Event()

        def fold_second():
            rollup.fold_pending(second)
            second.commit()
            done.set()

        worker = threading.Thread(target=fold_second)
        worker.start()
        waiting = False
        for _ in range(100):  # the second reader's DELETE waits for the rows the first one holds
            waiting = first.exec_driver_sql(
                f"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = {pid}").scalar()
            if waiting:
                break
            time.sleep(0.05)
        assert waiting and not done.is_set()
        first.commit()
        worker.join(10)
        assert done.is_set()
    finally:
        first.close()
        second.close()
    try:
        with session_scope() as s:
            assert s.execute(text("SELECT count(*) FROM case_stat_journal")).scalar() == 0
            kept = _cells(s)
            rollup.rebuild(s.connection())
            assert _cells(s) == kept  # folded once: equal to a rebuild
    finally:
        with session_scope() as s:
            s.execute(delete(Case).where(Case.case_number == "TS-C1"))
