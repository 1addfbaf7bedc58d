"""Every dissuasion metric against a small county written by hand, with the figures worked out by hand.

March 2026, evaluated at 2026-04-01 00:00 Beijing time. Station A covers community a, station B community b.
All times Beijing. Each warning is dispatched one minute after it arrives.

| w | station | kind  | warned     | signed (deadline)      | first contact | face | outcome    | feedback (deadline)        | person / case                  |
|---|---------|-------|------------|------------------------|---------------|------|------------|----------------------------|--------------------------------|
| 1 | A       | funds | 03-01 09:00| 09:03 (09:05) on time   | 09:10         | 09:40| dissuaded  | 03-01 12:00 (03-02 09:00)  | P1, amount 95,500              |
| 2 | A       | call  | 03-01 09:00| 09:40 (09:30) late      | 10:00         | —    | not_needed | 03-02 09:01 (03-02 09:00) 1 min late | P2                    |
| 3 | A       | funds | 03-02 09:00| 09:02 (09:05)           | 09:05         | none | defrauded  | 03-02 15:00 (03-03 09:00)  | P3, loss 03-01 09:00 (a day BEFORE) |
| 4 | A       | sms   | 03-03 09:00| —                       | —             | —    | —          | — (03-04 09:00) passed     | P4, loss 04-03 10:00 (31 days after) |
| 5 | A       | call  | 03-31 20:00| 20:03 (20:30)           | 20:21         | —    | dissuaded, 劝阻金额 5,000 | 03-31 21:00 (04-01 20:00) not yet due | P5, loss 03-31 22:00 (after) |
| 6 | B (transferred from A) | funds | 03-10 09:00 | 09:04 (09:05) | 09:31 | 09:50 | refused | 03-10 18:00 (03-11 09:00) | P6 |
| 7 | — unplaced | call | 03-12 09:00 | … | | | | | no person                |
| 8 | A       | call  | 02-20 09:00 (outside the period) | | | | dissuaded, 劝阻金额 0 | | P1, amount 30,000 |

City: placed warnings in March = 1–6.
  签收率 5/6 (all but 4); 及时签收率 4/6 (2 late, 4 not signed); 见面劝阻率 2/3 (1, 3, 6 need it; 1 and 6 have it);
  劝阻成功率 2/4 (1 and 5 of 1, 3, 5, 6 — 2 is 无需劝阻, out of both); 超期反馈率 2/5 (deadline passed for 1–4 and 6;
  2 is a minute late, 4 has none; 5's deadline is still ahead); 预后被骗率 1/5 (P5 lost money after; P3 lost it the
  day before — counted apart, out of the denominator; P4's loss is 31 days after, outside 30); 平均响应时长
  (9 + 59 + 4 + 20 + 30) / 5 = 24.4 minutes from dispatch, and from 预警时间 (a minute earlier each)
  (10 + 60 + 5 + 21 + 31) / 5 = 25.4; 避免损失 100,500: warning 1 recorded nothing, so its 拟转账金额
  95,500 stands in (estimated); warning 5 has no amount at risk but the dissuader recorded 5,000 — of the
  100,500, 95,500 estimated.
February: warning 8 recorded 0 against 30,000 at risk: 避免损失 0, nothing estimated (0 is a value, not empty).
Station B alone: warning 6 only, counted where it ended up: 1/1, 1/1, 1/1, 0/1, 0/1, 预后 0/1.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.warnings import metrics
from fanzha.warnings.models import Warning
from support.areas import add_area

BJ = ZoneInfo("Asia/Shanghai")


def t(text: str) -> datetime:
    return datetime.strptime("2026-" + text, "%Y-%m-%d %H:%M").replace(tzinfo=BJ)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from fanzha.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'm.db'}"
    upgrade("head", url=url)
    engine = create_engine(url)
    s = Session(engine)

    def area(**kw):
        return add_area(s, **kw)

    city = area(chain="admin", level="city", name="测试市", code="C")
    town = area(chain="admin", level="township", name="测试镇", code="T", parent_id=city.id)
    bureau = area(chain="police", level="bureau", name="测试市局", code="B")
    sa = area(chain="police", level="station", name="甲派出所", code="SA", parent_id=bureau.id)
    sb = area(chain="police", level="station", name="乙派出所", code="SB", parent_id=bureau.id)
    ca = area(chain="admin", level="community", name="甲社区", code="CA", parent_id=town.id, police_area_id=sa.id,
              police_path=sa.path, population=1000)
    cb = area(chain="admin", level="community", name="乙社区", code="CB", parent_id=town.id, police_area_id=sb.id,
              police_path=sb.path, population=1000)
    people = {}
    for i in range(1, 7):
        p = Person(name=f"测试{i}", phone=f"1380000000{i}", community_id=ca.id if i != 6 else cb.id)
        s.add(p)
        s.flush()
        people[i] = p.id

    def warning(n, station, community, kind, warned, *, sign_dl, fb_dl, signed=None, contact=None, face=None,
                outcome=None, feedback=None, person=None, amount=None, face_required=False, protected=None):
        w = Warning(external_id=f"M{n}", kind=kind, risk_grade="high", grade_reasons=[], warned_at=t(warned),
                    sign_deadline=t(sign_dl), contact_deadline=t(sign_dl), feedback_deadline=t(fb_dl),
                    face_required=face_required, face_deadline=t(fb_dl) if face_required else None,
                    status="assigned" if station else "unplaced", station_id=station, community_id=community,
                    dispatched_at=t(warned) + timedelta(minutes=1) if station else None,
                    signed_at=t(signed) if signed else None, first_contact_at=t(contact) if contact else None,
                    face_at=t(face) if face else None, outcome=outcome, feedback_at=t(feedback) if feedback else None,
                    person_id=people.get(person), amount=Decimal(amount) if amount else None, phone="13800000000",
                    amount_protected=Decimal(protected) if protected is not None else None)
        s.add(w)

    warning(1, sa.id, ca.id, "funds", "03-01 09:00", sign_dl="03-01 09:05", fb_dl="03-02 09:00", signed="03-01 09:03",
            contact="03-01 09:10", face="03-01 09:40", outcome="dissuaded", feedback="03-01 12:00", person=1,
            amount="95500", face_required=True)
    warning(2, sa.id, ca.id, "call", "03-01 09:00", sign_dl="03-01 09:30", fb_dl="03-02 09:00", signed="03-01 09:40",
            contact="03-01 10:00", outcome="not_needed", feedback="03-02 09:01", person=2)
    warning(3, sa.id, ca.id, "funds", "03-02 09:00", sign_dl="03-02 09:05", fb_dl="03-03 09:00", signed="03-02 09:02",
            contact="03-02 09:05", outcome="defrauded", feedback="03-02 15:00", person=3, amount="20000",
            face_required=True)
    warning(4, sa.id, ca.id, "sms", "03-03 09:00", sign_dl="03-03 11:00", fb_dl="03-04 09:00", person=4)
    warning(5, sa.id, ca.id, "call", "03-31 20:00", sign_dl="03-31 20:30", fb_dl="04-01 20:00", signed="03-31 20:03",
            contact="03-31 20:21", outcome="dissuaded", feedback="03-31 21:00", person=5, protected="5000")
    warning(6, sb.id, cb.id, "funds", "03-10 09:00", sign_dl="03-10 09:05", fb_dl="03-11 09:00", signed="03-10 09:04",
            contact="03-10 09:31", face="03-10 09:50", outcome="refused", feedback="03-10 18:00", person=6,
            face_required=True)
    warning(7, None, None, "call", "03-12 09:00", sign_dl="03-12 09:30", fb_dl="03-13 09:00")
    warning(8, sa.id, ca.id, "call", "02-20 09:00", sign_dl="02-20 09:30", fb_dl="02-21 09:00", signed="02-20 09:10",
            contact="02-20 09:20", outcome="dissuaded", feedback="02-20 10:00", person=1, amount="30000",
            protected="0")
    for n, pid, loss in ((1, 3, "03-01 09:00"), (2, 4, "04-03 10:00"), (3, 5, "03-31 22:00")):
        s.add(Case(case_number=f"K{n}", person_id=people[pid], filed_at=t(loss) + timedelta(days=1), loss_at=t(loss),
                   loss_amount=Decimal("1000")))
    s.commit()
    yield s, {"station_b": sb, "station_a": sa}
    s.close()
    engine.dispose()


NOW = t("04-01 00:00")
SINCE, UNTIL = t("03-01 00:00"), t("04-01 00:00")


def _pairs(report):
    return {f.key: (f.num, f.den) for f in [*report.rates, report.prognosis]}


def test_city_figures_match_the_hand_count(county):
    s, _ = county
    r = metrics.report(s, Scope.system(s), since=SINCE, until=UNTIL, now=NOW)
    assert r.warnings == 6
    assert _pairs(r) == {"sign_rate": (5, 6), "timely_sign_rate": (4, 6), "face_rate": (2, 3),
                         "success_rate": (2, 4), "overdue_rate": (2, 5), "prognosis_rate": (1, 5)}
    assert r.warned_people == 6 and r.defrauded_before == 1 and r.defrauded_after == 1
    assert r.mean_response_minutes == pytest.approx(24.4)
    assert r.mean_response_warned_minutes == pytest.approx(25.4)
    assert r.as_dict()["mean_response_warned_minutes"] == 25.4
    assert (r.loss_avoided, r.loss_avoided_estimated) == (Decimal("100500"), Decimal("95500"))


def test_the_prognosis_window_is_the_setting(county, monkeypatch):
    """预后被骗率's window comes from FANZHA_PROGNOSIS_DAYS. Person 4, warned 03-03 09:00, lost money 04-03 10:00: 31
    days and an hour later — outside 30 and 31 days, inside 32 (then 2 of 5 instead of 1 of 5)."""
    from fanzha.config import get_settings

    s, _ = county
    monkeypatch.setenv("FANZHA_PROGNOSIS_DAYS", "32")
    get_settings.cache_clear()
    try:
        wide = metrics.report(s, Scope.system(s), since=SINCE, until=UNTIL, now=NOW)
        given = metrics.report(s, Scope.system(s), since=SINCE, until=UNTIL, now=NOW, prognosis_days=31)
    finally:
        monkeypatch.delenv("FANZHA_PROGNOSIS_DAYS")
        get_settings.cache_clear()
    assert (_pairs(wide)["prognosis_rate"], wide.prognosis_days) == ((2, 5), 32)
    assert (_pairs(given)["prognosis_rate"], given.prognosis_days) == ((1, 5), 31)


def test_loss_avoided_reads_the_recorded_amount_and_a_recorded_zero_is_zero(county):
    s, _ = county
    feb = metrics.report(s, Scope.system(s), since=t("02-01 00:00"), until=SINCE, now=NOW)
    assert (feb.loss_avoided, feb.loss_avoided_estimated) == (Decimal(0), Decimal(0))
    w1, w5, w8 = (s.scalar(select(Warning).where(Warning.external_id == f"M{n}")) for n in (1, 5, 8))
    assert metrics.loss_avoided_of(w1) == (Decimal("95500"), True)
    assert metrics.loss_avoided_of(w5) == (Decimal("5000"), False)
    assert metrics.loss_avoided_of(w8) == (Decimal("0"), False)
    # Counted straight from the warnings (a period not made of whole days) it is the same.
    direct = metrics.report(s, Scope.system(s), since=SINCE, until=UNTIL - timedelta(seconds=1), now=NOW)
    assert (direct.loss_avoided, direct.loss_avoided_estimated) == (Decimal("100500"), Decimal("95500"))


def test_a_transferred_warning_counts_at_the_station_it_ended_at(county):
    s, areas = county
    r = metrics.report(s, Scope.system(s), since=SINCE, until=UNTIL, now=NOW, area=areas["station_b"])
    assert _pairs(r) == {"sign_rate": (1, 1), "timely_sign_rate": (1, 1), "face_rate": (1, 1),
                         "success_rate": (0, 1), "overdue_rate": (0, 1), "prognosis_rate": (0, 1)}


def test_drill_lists_exactly_the_warnings_behind_each_side(county):
    s, _ = county
    scope = Scope.system(s)

    def ids(key, part):
        cond = metrics.drill(s, scope, key, part, since=SINCE, until=UNTIL, now=NOW)
        return sorted(int(e[1:]) for e in s.scalars(select(Warning.external_id).where(cond)))

    assert ids("overdue_rate", "num") == [2, 4]
    assert ids("overdue_rate", "den") == [1, 2, 3, 4, 6]
    assert ids("success_rate", "den") == [1, 3, 5, 6]
    assert ids("timely_sign_rate", "num") == [1, 3, 5, 6]


def test_ranking_and_trend(county):
    s, _ = county
    ranks = {r["station"]: r for r in metrics.ranking(s, Scope.system(s), since=SINCE, until=UNTIL, now=NOW)}
    assert ranks["甲派出所"]["warnings"] == 5 and ranks["乙派出所"]["warnings"] == 1
    assert (ranks["甲派出所"]["figures"]["sign_rate"].num, ranks["甲派出所"]["figures"]["sign_rate"].den) == (4, 5)
    points = metrics.trend(s, Scope.system(s), since=t("02-01 00:00"), until=UNTIL, now=NOW, by="month")
    assert [(p["period"], p["warnings"]) for p in points] == [("2026-02", 1), ("2026-03", 6)]


def test_the_page_and_the_cli_give_the_same_figures_for_the_demo(client_as):
    """Done-when of the metrics: for the demo county the metrics page and `fanzha warnings metrics` agree."""
    import json
    import re

    from typer.testing import CliRunner

    from fanzha.cli.main import app

    result = CliRunner().invoke(app, ["warnings", "metrics", "--from", "2025-01-01", "--to", "2026-12-31", "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    page = client_as("yanpan").get("/metrics?since=2025-01-01&until=2026-12-31").text
    for key in ("sign_rate", "timely_sign_rate", "face_rate", "success_rate", "overdue_rate"):
        num = re.search(rf'metric={key}&part=num[^"]*">([\d,]+)<', page).group(1).replace(",", "")
        den = re.search(rf'metric={key}&part=den[^"]*">([\d,]+)<', page).group(1).replace(",", "")
        assert (int(num), int(den)) == (cli[key]["numerator"], cli[key]["denominator"]), key
    assert cli["sign_rate"]["denominator"] > 0


def test_the_bulletin_says_how_much_of_loss_avoided_is_estimated(county):
    """The bulletin reads 避免损失 and its estimated part from this module, and says which part is estimated."""
    from datetime import date

    from fanzha.common import periods
    from fanzha.reports.bulletin import TEMPLATE
    from fanzha.reports.document import template_env
    from fanzha.reports.figures import BulletinFigures, Compared
    from fanzha.reports.provider import _warnings

    s, _ = county
    march = periods.month(date(2026, 3, 1))
    w = _warnings(s, Scope.system(s), march, None)
    assert (w.loss_avoided, w.loss_avoided_estimated) == (Decimal("100500"), Decimal("95500"))
    figures = BulletinFigures(period=march, area_code=None, area_name="全市", cases=Compared(0, 0, 0),
                              loss=Compared(Decimal(0), Decimal(0), Decimal(0)), warnings=w)
    text = template_env().get_template(TEMPLATE).render(f=figures, period=march, kind="monthly")
    assert "避免损失10.05万元（其中9.55万元按拟转账金额估算）" in text
    feb = _warnings(s, Scope.system(s), periods.month(date(2026, 2, 1)), None)
    figures.warnings = feb
    text = template_env().get_template(TEMPLATE).render(f=figures, period=march, kind="monthly")
    assert "避免损失0元。" in text  # a recorded 0: nothing estimated, no "其中"
