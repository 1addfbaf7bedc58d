"""快速查询/止付/冻结 as one tracked request (issue 28, item 1): a dissuader's 止付 on a warning waits in the centre's
queue with its minute deadline, escalates when it passes, is answered through a confirmation and comes back to the
warning page and the dissuader's notifications; a 止付 nearing its lapse prompts a 冻结; a station sees only its own
requests; the bulletin counts the month's 止付. Pages are driven through the forms as the browser reads them."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from fanzha.cases.models import CaseAction
from fanzha.cases.requests import service as requests
from fanzha.common.errors import Conflict
from fanzha.db import session_scope
from fanzha.dissuasion.models import TimelineEvent
from fanzha.notify.models import Delivery, Notification
from fanzha.org.models import User
from fanzha.org.scope import Scope
from support.dissuasion import fresh_warning
from support.forms import default_values
from support.forms import form_to as _form
from support.forms import post_pairs as _post


def _set(pairs, **values):
    return [(k, values.get(k, v)) for k, v in pairs]


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _raise_on_page(client, wid: int, **values) -> CaseAction:
    page = client.get(f"/warnings/{wid}")
    form = _form(page.text, f"/warnings/{wid}/requests")
    done = _post(client, form["action"], _set(default_values(form), **values), follow_redirects=False)
    assert done.status_code == 303, done.text[:500]
    with session_scope() as s:
        a = s.scalar(select(CaseAction).where(CaseAction.warning_id == wid).order_by(CaseAction.id.desc()))
        s.expunge(a)
    return a


def test_a_stop_payment_goes_from_the_dissuader_to_the_centre_and_back(client_as, db):
    with session_scope() as s:
        wid = fresh_warning(s, tag="RQ").id
    phone = client_as("ps01_quanzu")
    a = _raise_on_page(phone, wid, account="6222 0202 0099 8877 665", bank="中国工商银行江州支行", amount="20000")
    assert (a.kind, a.status, a.target, a.institution, a.amount) == (
        "stop_payment", "requested", "6222020200998877665", "中国工商银行江州支行", Decimal("20000.00"))
    assert a.deadline_at - a.requested_at == timedelta(minutes=15)
    # The warning page says it waits.
    assert "待处理" in phone.get(f"/warnings/{wid}").text

    centre = client_as("yanpan")
    queue = centre.get("/requests")
    assert queue.status_code == 200 and f'id="request-{a.id}"' in queue.text and "6222****7665" in queue.text
    assert 'href="/requests"' in centre.get("/").text  # in the centre's navigation

    # Its deadline passes: the worker's escalation tells the centre and the station head once.
    with session_scope() as s:
        requests.escalate(s, a.deadline_at - timedelta(minutes=1))
        assert s.get(CaseAction, a.id).escalated_at is None
        requests.escalate(s, a.deadline_at + timedelta(minutes=1))
        requests.escalate(s, a.deadline_at + timedelta(minutes=2))  # once only
        head = _user(s, "ps01_suozhang")
        told = s.scalars(select(Notification).where(Notification.title == "止付申请超时")).all()
        assert {head.id, _user(s, "yanpan").id} <= {n.user_id for n in told}
        assert len([n for n in told if n.user_id == head.id and n.created_at >= a.requested_at]) >= 1
        assert s.scalar(select(TimelineEvent.text).where(TimelineEvent.warning_id == wid,
                                                         TimelineEvent.text.like("%已超时%未回复%")))
        s.get(CaseAction, a.id).deadline_at = datetime.now(UTC) - timedelta(minutes=5)  # overdue on the page too
    queue = centre.get("/requests")
    assert "已超时" in queue.text

    # The answer: the form, the confirmation with what will be recorded, then the message.
    form = _form(queue.text, f"/requests/{a.id}/answer/confirm")
    asked = _post(centre, form["action"], _set(default_values(form), outcome="done", amount="18,500.00",
                                               reference="ZF-0001", result="已止付"))
    assert asked.status_code == 200 and "确认记录以下回复" in asked.text
    assert "已止付" in asked.text and "18,500.00" in asked.text and "ZF-0001" in asked.text
    with session_scope() as s:
        assert s.get(CaseAction, a.id).status == "requested"  # nothing recorded before 确认
    confirm = _form(asked.text, f"/requests/{a.id}/answer")
    done = _post(centre, confirm["action"], default_values(confirm))
    assert done.status_code == 200 and 'id="recorded"' in done.text and "已记录" in done.text
    with session_scope() as s:
        got = s.get(CaseAction, a.id)
        assert (got.status, got.result_amount, got.reference, got.answered_by) == (
            "done", Decimal("18500.00"), "ZF-0001", _user(s, "yanpan").id)
    # A second answer is refused.
    again = _post(centre, confirm["action"], default_values(confirm))
    assert again.status_code == 409

    # The dissuader sees the answer on the warning page and in the notifications.
    page = html.unescape(phone.get(f"/warnings/{wid}").text)
    assert "已止付" in page and "18,500.00" in page and "ZF-0001" in page
    inbox = phone.get("/notifications").text
    assert "止付申请已回复：已止付" in inbox


def test_an_empty_answer_is_refused_and_nothing_is_recorded(client_as):
    with session_scope() as s:
        wid = fresh_warning(s, tag="RQE").id
    a = _raise_on_page(client_as("ps01_quanzu"), wid, kind="query", account="13900002222", amount="")
    assert a.kind == "query" and a.deadline_at - a.requested_at == timedelta(minutes=10)
    centre = client_as("yanpan")
    form = _form(centre.get("/requests").text, f"/requests/{a.id}/answer/confirm")
    refused = _post(centre, form["action"], default_values(form))  # nothing chosen
    assert refused.status_code == 422 and "请选择办理结果" in refused.text
    no_result = _post(centre, form["action"], _set(default_values(form), outcome="done"))
    assert no_result.status_code == 422 and "请填写查询结果" in no_result.text
    with session_scope() as s:
        assert s.get(CaseAction, a.id).status == "requested"


def test_a_lapsing_stop_payment_prompts_a_freeze(client_as):
    now = datetime.now(UTC)
    with session_scope() as s:
        w = fresh_warning(s, tag="RQL")
        ask, centre = Scope.for_user(_user(s, "ps01_quanzu")), Scope.for_user(_user(s, "yanpan"))
        stop = requests.raise_for_warning(s, ask, w.id, kind="stop_payment", account="6228480000000000777",
                                          amount=Decimal(9000), now=now - timedelta(hours=40))
        requests.answer(s, centre, stop.id, outcome="done", amount=Decimal(9000), now=now - timedelta(hours=39))
        fresh = requests.raise_for_warning(s, ask, w.id, kind="stop_payment", account="6228480000000000888",
                                           amount=Decimal(100), now=now - timedelta(hours=2))
        requests.answer(s, centre, fresh.id, outcome="done", now=now - timedelta(hours=1))
        stop_id, fresh_id = stop.id, fresh.id
    page = client_as("yanpan")
    queue = page.get("/requests").text
    assert 'id="lapsing"' in queue and f"/requests/{stop_id}/freeze" in queue
    assert f"/requests/{fresh_id}/freeze" not in queue  # 47 hours still to go
    form = _form(queue, f"/requests/{stop_id}/freeze")
    done = _post(page, form["action"], default_values(form))
    assert done.status_code == 200 and "已申请冻结" in done.text
    with session_scope() as s:
        freeze = s.scalar(select(CaseAction).where(CaseAction.kind == "freeze",
                                                   CaseAction.target == "6228480000000000777"))
        assert freeze.status == "requested" and freeze.amount == Decimal(9000) and freeze.warning_id == w.id
    assert f"/requests/{stop_id}/freeze" not in page.get("/requests").text  # asked once


def test_a_station_sees_only_its_own_requests(client_as, api_as):
    with session_scope() as s:
        w1 = fresh_warning(s, tag="RQS1")
        w2 = fresh_warning(s, station_user="ps02_quanzu", tag="RQS2")
        mine = requests.raise_for_warning(s, Scope.for_user(_user(s, "ps01_quanzu")), w1.id, kind="query",
                                          account="13900001111")
        theirs = requests.raise_for_warning(s, Scope.for_user(_user(s, "ps02_quanzu")), w2.id, kind="freeze",
                                            account="6222000011112222333", amount=Decimal(5))
        mine_id, theirs_id, w2_id = mine.id, theirs.id, w2.id
    head = client_as("ps01_suozhang")
    page = head.get("/requests")
    assert page.status_code == 200 and f'id="request-{mine_id}"' in page.text
    assert f'id="request-{theirs_id}"' not in page.text
    assert "/answer/confirm" not in page.text  # a station reads; the centre answers
    api = api_as("ps01_quanzu")
    ids = {r["id"] for r in api.get("/api/v1/requests").json()}
    assert mine_id in ids and theirs_id not in ids
    assert api.post(f"/api/v1/requests/{theirs_id}/answer", json={"outcome": "done"}).status_code in (403, 404)
    assert api.post(f"/api/v1/warnings/{w2_id}/requests",
                    json={"kind": "query", "account": "13900001111"}).status_code == 404


def test_the_api_raises_lists_and_answers(api_as):
    with session_scope() as s:
        wid = fresh_warning(s, tag="RQA").id
    phone = api_as("ps01_quanzu")
    made = phone.post(f"/api/v1/warnings/{wid}/requests",
                      json={"kind": "freeze", "account": "6222020200112233999", "bank": "江州农商银行",
                            "amount": "30000"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status_label"] == "待处理" and body["account"] == "6222****3999" and not body["overdue"]
    centre = api_as("yanpan")
    pending = centre.get("/api/v1/requests", params={"state": "pending"}).json()
    assert body["id"] in [r["id"] for r in pending]
    answered = centre.post(f"/api/v1/requests/{body['id']}/answer",
                           json={"outcome": "failed", "result": "账户余额不足", "reference": "DJ-9"})
    assert answered.status_code == 200 and answered.json()["status_label"] == "未成功"
    assert centre.post(f"/api/v1/requests/{body['id']}/answer", json={"outcome": "done"}).status_code == 409
    assert phone.post(f"/api/v1/warnings/{wid}/requests", json={"kind": "stop_payment", "account": "x y!"}) \
        .status_code == 422


def test_the_bulletin_counts_the_months_stop_payments():
    """May 2031 by hand: 止付 answered 已止付 on 5 May (12,000.00 confirmed of 15,000 asked) and 20 May (no amount
    confirmed: the 8,500.50 asked counts), one 未成功 and one answered on 1 June → 止付 2, 20,500.50 元; a 快速查询
    answered → 查询账户 1; a 冻结 of 3,000.00 → 冻结 1, 3,000.00 元."""
    from fanzha.reports.bulletin import parse_period
    from fanzha.reports.provider import StatsProvider

    def at(day: str) -> datetime:
        return datetime.fromisoformat(f"2031-{day}T02:00:00+00:00")

    with session_scope() as s:
        w = fresh_warning(s, tag="RQB", at="2031-05-01 09:00")
        ask, centre = Scope.for_user(_user(s, "ps01_quanzu")), Scope.for_user(_user(s, "yanpan"))
        plays = [("stop_payment", "15000", "05-05", "done", Decimal("12000")),
                 ("stop_payment", "8500.50", "05-20", "done", None),
                 ("stop_payment", "7000", "05-21", "failed", None),
                 ("stop_payment", "4000", "05-31T15:59:00", "done", None),  # answered 1 June
                 ("query", "0", "05-10", "done", None),
                 ("freeze", "3000", "05-11", "done", None)]
        for n, (kind, amount, day, outcome, confirmed) in enumerate(plays):
            when = datetime.fromisoformat(f"2031-{day}+00:00") if "T" in day else at(day)
            a = requests.raise_for_warning(s, ask, w.id, kind=kind, account=f"62220202007788{n:05d}",
                                           amount=Decimal(amount), now=when)
            requests.answer(s, centre, a.id, outcome=outcome, amount=confirmed, result="已查询" if kind == "query"
                            else "", now=when + timedelta(minutes=8))
        fig = StatsProvider().figures(s, centre, parse_period("2031-05"), None).warnings
    assert (fig.stop_payments, fig.stop_amount) == (2, Decimal("20500.50"))
    assert fig.queries == 1 and (fig.freezes, fig.frozen_amount) == (1, Decimal("3000.00"))


def test_the_metrics_page_and_the_wall_screen_count_the_requests(client_as):
    """July 2022 by hand (the clock long past, so the 冻结 is overdue) (county time, UTC+8). Raised in July: a 快速查询 answered in 8 min (deadline 10: in time);
    止付 raised 30 June 16:30 UTC (= 1 July 00:30 local) answered in 10 min with 1,000 asked; 止付 on 2 July answered
    in 20 min (late: deadline 15) confirming 4,000.00 of 5,000; 止付 on 3 July answered 未成功 in 5 min; a 冻结 on 4 July
    still unanswered (2 h deadline passed); a 止付 raised 31 July 16:30 UTC (= 1 August local) is August's.
    → 查询 1 raised, 1 answered, 1/1 in time, 8.0 min; 止付 3 raised, 3 answered, 2/3 in time (66.7 %), (10+20+5)/3 =
    11.7 min; 冻结 1 raised, 1 pending, 1 overdue; 本期办结: 查询 1, 止付 2 笔 5,000.00 元 (4,000 confirmed + 1,000 asked),
    冻结 0."""
    from fanzha.reports import screen

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text + "+00:00")

    with session_scope() as s:
        w = fresh_warning(s, tag="RQM", at="2022-07-01 09:00")
        ask, centre = Scope.for_user(_user(s, "ps01_quanzu")), Scope.for_user(_user(s, "yanpan"))
        plays = [("query", "0", "2022-07-01T02:00", 8, "done", None),
                 ("stop_payment", "1000", "2022-06-30T16:30", 10, "done", None),
                 ("stop_payment", "5000", "2022-07-02T02:00", 20, "done", Decimal("4000")),
                 ("stop_payment", "7000", "2022-07-03T02:00", 5, "failed", None),
                 ("freeze", "3000", "2022-07-04T02:00", None, None, None),
                 ("stop_payment", "9000", "2022-07-31T16:30", 3, "done", None)]
        for n, (kind, amount, when, minutes, outcome, confirmed) in enumerate(plays):
            a = requests.raise_for_warning(s, ask, w.id, kind=kind, account=f"62220202009911{n:05d}",
                                           amount=Decimal(amount), now=at(when))
            if outcome:
                requests.answer(s, centre, a.id, outcome=outcome, amount=confirmed,
                                result="已查询" if kind == "query" else "", now=at(when) + timedelta(minutes=minutes))
        # The plays told the centre in 2022: those messages would wait in the outward queue for a delivery test's
        # clock (2026) to pick up. They are not this test's concern.
        s.execute(delete(Delivery).where(Delivery.notification_id.in_(
            select(Notification.id).where(Notification.created_at < at("2023-01-01T00:00")))))
        wall = screen.figures(s, centre, now=at("2022-07-31T15:00"))["handled"]
    assert wall == {"queries": 1, "stops": 2, "stop_wan": 0.5, "freezes": 0, "frozen_wan": 0.0}

    page = client_as("yanpan").get("/metrics?since=2022-07-01&until=2022-07-31")
    assert page.status_code == 200

    def row(key: str) -> list[str]:
        import re

        part = page.text.split(f'id="req-{key}"', 1)[1].split("</tr>", 1)[0]
        return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", "<td" + c)).split()) for c in part.split("<td")[1:]]

    assert row("query")[1:] == ["1", "1", "100.0% 1/1", "8.0 分钟", "0", "0"]
    assert row("stop_payment")[1:] == ["3", "3", "66.7% 2/3", "11.7 分钟", "0", "0"]
    assert row("freeze")[1:] == ["1", "0", "— 0/0", "—", "1", "1"]
    assert row("handled")[1] == "查询账户 1 个；止付 2 笔 5,000.00 元；冻结 0 笔 0.00 元"


def test_the_same_request_twice_is_refused_while_the_first_stands(client_as):
    """A second 止付 of the same account on the same warning: refused while the first waits (the page says so and
    keeps the form), refused while the account is held (止付 not lapsed: it points to 冻结), allowed for another
    account; a 查询 answered may be asked again."""
    now = datetime.now(UTC)
    with session_scope() as s:
        wid = fresh_warning(s, tag="RQD").id
        ask, centre = Scope.for_user(_user(s, "ps01_quanzu")), Scope.for_user(_user(s, "yanpan"))
        first = requests.raise_for_warning(s, ask, wid, kind="stop_payment", account="6222020200111122223", now=now)
        first_id = first.id
    phone = client_as("ps01_quanzu")
    page = phone.get(f"/warnings/{wid}")
    form = _form(page.text, f"/warnings/{wid}/requests")
    again = _post(phone, form["action"], _set(default_values(form), kind="stop_payment",
                                              account="6222 0202 0011 1122 223"))
    assert again.status_code == 409 and "正在等待反诈中心回复" in html.unescape(again.text)
    with session_scope() as s:
        requests.answer(s, centre, first_id, outcome="done", now=now + timedelta(minutes=5))
        with pytest.raises(Conflict, match="已止付.*冻结"):
            requests.raise_for_warning(s, ask, wid, kind="stop_payment", account="6222020200111122223",
                                       now=now + timedelta(minutes=10))
        other = requests.raise_for_warning(s, ask, wid, kind="stop_payment", account="6222020200111122224",
                                           now=now + timedelta(minutes=10))
        q = requests.raise_for_warning(s, ask, wid, kind="query", account="6222020200111122223", now=now)
        requests.answer(s, centre, q.id, outcome="done", result="余额 0 元", now=now + timedelta(minutes=3))
        again_q = requests.raise_for_warning(s, ask, wid, kind="query", account="6222020200111122223",
                                             now=now + timedelta(minutes=20))
        assert other.id and again_q.id
        lapsed = requests.raise_for_warning(s, ask, wid, kind="stop_payment", account="6222020200111122223",
                                            now=now + timedelta(hours=49))  # the hold lapsed: a new 止付 may go
        assert lapsed.status == "requested"
