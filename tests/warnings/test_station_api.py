"""The station's tools as pages and as their API twins: the 值班表 (one rule, warnings/roster.py: a dissuader of the
station, start before end, at most 7 days), 改派 through the API, and 申请冻结 of a lapsing 止付 through the API.
Shifts go into ps02's roster far ahead (ps02 keeps one already), so no other test's dispatch changes."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from fanzha.cases.models import CaseAction
from fanzha.cases.requests import service as requests
from fanzha.db import session_scope
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings.models import DutyShift
from support.dissuasion import fresh_warning
from support.forms import default_values, form_to, post_pairs


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _set(pairs, **values):
    return [(k, values.get(k, v)) for k, v in pairs]


def test_the_roster_form_refuses_what_is_missing_and_keeps_what_was_typed(client_as):
    head = client_as("ps02_suozhang")
    page = head.get("/warnings/roster")
    assert page.status_code == 200
    form = form_to(page.text, "/warnings/roster")
    empty = post_pairs(head, form["action"], default_values(form))
    assert empty.status_code == 422 and "请选择本所的劝阻员" in html.unescape(empty.text)

    with session_scope() as s:
        dissuader = _user(s, "ps02_quanzu").id
    late = post_pairs(head, form["action"], _set(default_values(form), user_id=str(dissuader),
                                                starts_at="2030-01-02 08:00", ends_at="2030-01-01 20:00"))
    text = html.unescape(late.text)
    assert late.status_code == 422 and "结束时间应晚于开始时间" in text and 'value="2030-01-02 08:00"' in text
    long = post_pairs(head, form["action"], _set(default_values(form), user_id=str(dissuader),
                                                starts_at="2030-01-01 08:00", ends_at="2030-01-09 08:00"))
    assert long.status_code == 422 and "最长7天" in html.unescape(long.text)
    garbled = post_pairs(head, form["action"], _set(default_values(form), user_id=str(dissuader),
                                                   starts_at="明天早上", ends_at="2030-01-01 20:00"))
    assert garbled.status_code == 422 and "请填写正确的起止时间" in html.unescape(garbled.text)

    done = post_pairs(head, form["action"], _set(default_values(form), user_id=str(dissuader),
                                                starts_at="2030-01-01 08:00", ends_at="2030-01-01 20:00"),
                      follow_redirects=False)
    assert done.status_code == 303
    with session_scope() as s:
        shift = s.scalar(select(DutyShift).where(DutyShift.user_id == dissuader).order_by(DutyShift.id.desc()))
        assert shift.ends_at - shift.starts_at == timedelta(hours=12)
    assert "待上岗" in head.get("/warnings/roster").text


def test_the_roster_api_lists_adds_and_keeps_to_the_station(api_as):
    with session_scope() as s:
        mine, theirs = _user(s, "ps02_quanzu").id, _user(s, "ps01_quanzu").id
    api = api_as("ps02_suozhang")
    made = api.post("/api/v1/roster", json={"user_id": mine, "starts_at": "2030-02-01T08:00:00+08:00",
                                             "ends_at": "2030-02-01T20:00:00+08:00"})
    assert made.status_code == 201, made.text
    assert made.json()["user_id"] == mine and not made.json()["on_duty"]
    assert made.json()["id"] in [s["id"] for s in api.get("/api/v1/roster").json()]
    other = api.post("/api/v1/roster", json={"user_id": theirs, "starts_at": "2030-02-01T08:00:00+08:00",
                                              "ends_at": "2030-02-01T20:00:00+08:00"})
    assert other.status_code == 422 and other.json()["error"]["details"][0]["loc"][-1] == "user_id"
    assert api_as("ps02_quanzu").get("/api/v1/roster").status_code == 403  # a dissuader keeps no roster


def test_reassign_through_the_api(api_as):
    with session_scope() as s:
        wid = fresh_warning(s, tag="RAPI").id
        officer = _user(s, "ps01_minjing").id
        elsewhere = _user(s, "ps02_quanzu").id
    head = api_as("ps01_suozhang")
    assert head.post(f"/api/v1/warnings/{wid}/reassign", json={"user_id": officer, "reason": ""}).status_code == 422
    assert head.post(f"/api/v1/warnings/{wid}/reassign",
                     json={"user_id": elsewhere, "reason": "跨所"}).status_code in (403, 404, 422)
    done = head.post(f"/api/v1/warnings/{wid}/reassign", json={"user_id": officer, "reason": "劝阻员休假"})
    assert done.status_code == 200, done.text
    assert done.json()["assignee_id"] == officer and not done.json()["moved"]
    steps = [s["text"] for s in head.get(f"/api/v1/warnings/{wid}/timeline").json()]
    assert any("改派" in t for t in steps)
    assert api_as("ps02_suozhang").post(f"/api/v1/warnings/{wid}/reassign",
                                        json={"user_id": officer, "reason": "x"}).status_code == 404


def test_a_lapsing_stop_payment_is_frozen_through_the_api(api_as):
    now = datetime.now(UTC)
    with session_scope() as s:
        w = fresh_warning(s, tag="FRZ")
        ask, centre = Scope.for_user(_user(s, "ps01_quanzu")), Scope.for_user(_user(s, "yanpan"))
        stop = requests.raise_for_warning(s, ask, w.id, kind="stop_payment", account="6228480000000000555",
                                          amount=Decimal(7000), now=now - timedelta(hours=40))
        requests.answer(s, centre, stop.id, outcome="done", amount=Decimal(6500), now=now - timedelta(hours=39))
        stop_id, wid = stop.id, w.id
    assert api_as("ps01_quanzu").post(f"/api/v1/requests/{stop_id}/freeze").status_code == 403  # the centre asks
    made = api_as("yanpan").post(f"/api/v1/requests/{stop_id}/freeze")
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["kind"], body["status"], body["account"], body["warning_id"]) == ("freeze", "requested",
                                                                                    "6228****0555", wid)
    assert Decimal(body["amount"]) == Decimal(6500)
    assert api_as("yanpan").post(f"/api/v1/requests/{stop_id}/freeze").status_code == 409  # asked once
    with session_scope() as s:
        assert s.scalar(select(CaseAction.id).where(CaseAction.kind == "freeze",
                                                    CaseAction.target == "6228480000000000555"))


def test_a_shift_without_a_time_zone_is_refused(api_as):
    with session_scope() as s:
        mine = _user(s, "ps02_quanzu").id
    r = api_as("ps02_suozhang").post("/api/v1/roster", json={"user_id": mine, "starts_at": "2030-03-01T08:00:00",
                                                            "ends_at": "2030-03-01T20:00:00+08:00"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"][-1] == "starts_at"
