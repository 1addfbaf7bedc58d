"""Counts by the time things happened (metrics.activity): the wall screen's 今日 figures equal the metrics page's
处理情况 for the same day and the same area, and both equal a count by hand.

The clock is frozen at 2030-07-15 15:00 Beijing time ("today"; the demo county has nothing in July 2030). Station A
is ps01's, station B ps02's. All times Beijing; deadlines are feedback deadlines.

| w  | station | warned      | dispatched   | signed       | fed back (outcome)         | deadline     |
|----|---------|-------------|--------------|--------------|----------------------------|--------------|
| E1 | A       | 07-14 22:00 | 07-14 22:01  | 07-14 22:05  | 07-15 09:00 (劝阻成功)       | 07-15 22:00  |
| E2 | A       | 07-15 08:00 | 07-15 08:01  | 07-15 08:03  | 07-15 10:00 (拒绝配合)       | 07-16 08:00  |
| E3 | A       | 07-15 09:00 | 07-15 09:01  | —            | —                          | 07-16 09:00  |
| E4 | A       | 07-14 08:00 | 07-14 08:01  | 07-14 08:10  | —                          | 07-15 08:00  |
| E5 | A       | 07-14 10:00 | 07-14 10:02  | 07-15 00:30  | 07-15 11:00 (劝阻成功), late | 07-15 10:00  |
| E6 | B (moved from A, dispatched afresh) | 07-13 09:00 | 07-15 07:00 | 07-15 07:30 | — | 07-14 09:00 |
| E7 | A       | 07-14 20:00 | 07-14 20:01  | —            | —                          | 07-15 20:00 (ahead of 15:00) |
| E8 | A       | 07-14 21:00 | 07-14 21:01  | 07-14 21:05  | 07-14 23:59 (劝阻成功)       | 07-15 21:00  |
| E9 | A       | 07-14 21:00 | 07-14 21:01  | 07-14 21:05  | 07-15 00:00 (无需劝阻)       | 07-15 21:00  |

Today, the whole city:
  下发 3 (E2, E3, E6 — E6 was issued two days ago but dispatched to B today);
  签收 3 (E2, E5, E6);
  处理（反馈） 4 (E1, E2, E5, E9 — E9 at 00:00 sharp is today's; E8 at 23:59 yesterday's);
  劝阻成功 2 (E1, E5);
  超期反馈 2 (E4: due 08:00, still open; E5: due 10:00, fed back 11:00 — E7's deadline is still ahead, E1's too).
Today, station A: E6 is B's, so 下发 2, 签收 2, 处理 4, 劝阻成功 2, 超期反馈 2.
Yesterday (07-14), the whole city: 下发 6 (E1, E4, E5, E7, E8, E9); 签收 4 (E1, E4, E8, E9); 处理 1 (E8);
  劝阻成功 1 (E8); 超期反馈 1 (E6: due 07-14 09:00, never fed back).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from fanzha.db import session_scope
from fanzha.org.models import Area, User
from fanzha.warnings.models import Warning

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2030, 7, 15, 15, 0, tzinfo=BJ)
KEYS = ("dispatched", "signed", "fed_back", "dissuaded", "overdue")
TODAY_CITY = {"dispatched": 3, "signed": 3, "fed_back": 4, "dissuaded": 2, "overdue": 2}
TODAY_A = {"dispatched": 2, "signed": 2, "fed_back": 4, "dissuaded": 2, "overdue": 2}
YESTERDAY_CITY = {"dispatched": 6, "signed": 4, "fed_back": 1, "dissuaded": 1, "overdue": 1}


def bj(text: str | None) -> datetime | None:
    return datetime.strptime("2030-" + text, "%Y-%m-%d %H:%M").replace(tzinfo=BJ) if text else None


ROWS = [  # name, station, warned, dispatched, signed, fed back, outcome, deadline
    ("E1", "A", "07-14 22:00", "07-14 22:01", "07-14 22:05", "07-15 09:00", "dissuaded", "07-15 22:00"),
    ("E2", "A", "07-15 08:00", "07-15 08:01", "07-15 08:03", "07-15 10:00", "refused", "07-16 08:00"),
    ("E3", "A", "07-15 09:00", "07-15 09:01", None, None, None, "07-16 09:00"),
    ("E4", "A", "07-14 08:00", "07-14 08:01", "07-14 08:10", None, None, "07-15 08:00"),
    ("E5", "A", "07-14 10:00", "07-14 10:02", "07-15 00:30", "07-15 11:00", "dissuaded", "07-15 10:00"),
    ("E6", "B", "07-13 09:00", "07-15 07:00", "07-15 07:30", None, None, "07-14 09:00"),
    ("E7", "A", "07-14 20:00", "07-14 20:01", None, None, None, "07-15 20:00"),
    ("E8", "A", "07-14 21:00", "07-14 21:01", "07-14 21:05", "07-14 23:59", "dissuaded", "07-15 21:00"),
    ("E9", "A", "07-14 21:00", "07-14 21:01", "07-14 21:05", "07-15 00:00", "not_needed", "07-15 21:00"),
]


@pytest.fixture
def july(monkeypatch):
    """The nine warnings, committed (the pages read them in their own sessions) and removed afterwards; the clock
    of the metrics and of the screen frozen at NOW."""
    monkeypatch.setattr("fanzha.warnings.metrics.utcnow", lambda: NOW)
    monkeypatch.setattr("fanzha.reports.screen.utcnow", lambda: NOW)
    with session_scope() as s:
        places = {}
        for key, username in (("A", "ps01_suozhang"), ("B", "ps02_suozhang")):
            station = s.get(Area, s.scalar(select(User.area_id).where(User.username == username)))
            community = s.scalar(select(Area.id).where(Area.level == "community",
                                                       Area.police_path.startswith(station.path)).order_by(Area.id))
            places[key] = (station.id, community)
        for name, station, warned, dispatched, signed, fed, outcome, deadline in ROWS:
            at = bj(warned)
            s.add(Warning(external_id=f"ACT-{name}", kind="call", risk_grade="medium", grade_reasons=[], warned_at=at,
                          sign_deadline=at + timedelta(minutes=30), contact_deadline=at + timedelta(hours=1),
                          feedback_deadline=bj(deadline), status="assigned", station_id=places[station][0],
                          community_id=places[station][1], dispatched_at=bj(dispatched), signed_at=bj(signed),
                          first_contact_at=bj(signed), outcome=outcome, feedback_at=bj(fed), phone="13800000000"))
    yield
    with session_scope() as s:
        s.execute(delete(Warning).where(Warning.external_id.like("ACT-E%")))


def _page(client, day: str) -> dict[str, int]:
    html = client.get(f"/metrics?since={day}&until={day}").text
    return {key: int(re.search(rf'id="ev-{key}">([\d,]+)<', html).group(1).replace(",", "")) for key in KEYS}


def _screen(api) -> dict:
    data = api.get("/api/v1/screen").json()
    assert data["today"] == "2030-07-15"
    return data


def test_the_wall_screen_equals_the_metrics_page_for_today(july, client_as, api_as):
    for username, expected in (("yanpan", TODAY_CITY), ("ps01_suozhang", TODAY_A)):
        screen = _screen(api_as(username))
        assert {key: screen["warnings_today"][key] for key in KEYS} == expected, username
        assert _page(client_as(username), "2030-07-15") == expected, username
        # the trend's 下发 per day is the same count: yesterday's, then today's
        if username == "yanpan":
            assert screen["trend"]["warnings"][-2:] == [YESTERDAY_CITY["dispatched"], TODAY_CITY["dispatched"]]
    assert _page(client_as("yanpan"), "2030-07-14") == YESTERDAY_CITY


def test_the_screen_labels_what_it_counts(july, api_as):
    today = _screen(api_as("yanpan"))["warnings_today"]
    assert today["labels"] == {"dispatched": "下发", "signed": "签收", "fed_back": "处理（反馈）", "dissuaded": "劝阻成功",
                               "overdue": "超期反馈"}
    assert today["bases"]["fed_back"] == "按反馈时间计，不论哪天下发"
    assert any("不论预警哪天下发" in d for d in today["definitions"])


def test_each_count_opens_the_warnings_behind_it(july, client_as):
    with session_scope() as s:
        names = {wid: ext[4:] for wid, ext in s.execute(select(Warning.id, Warning.external_id)
                                                         .where(Warning.external_id.like("ACT-E%")))}
    client = client_as("yanpan")
    for key, expected in (("fed_back", {"E1", "E2", "E5", "E9"}), ("overdue", {"E4", "E5"}),
                          ("dispatched", {"E2", "E3", "E6"})):
        html = client.get(f"/warnings?metric={key}&part=ev&since=2030-07-15&until=2030-07-15").text
        assert "按发生时间" in html and f"共 {len(expected)} 条" in html, key
        assert {names[int(i)] for i in re.findall(r'href="/warnings/(\d+)"', html) if int(i) in names} == expected, key
