"""回访 complete: a case victim's 回访 scheduled a week after filing, recorded on the phone form in the field's states
with the 宣防漏洞 found, counted on the 宣防漏洞 page; an overdue one escalated on a frozen clock; scoped and audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from fanzha.common.errors import Conflict, Invalid
from fanzha.common.localtime import local_day
from fanzha.db import session_scope, utcnow
from fanzha.dissuasion import escalation
from fanzha.dissuasion.followups import rules, service
from fanzha.dissuasion.models import FollowUp
from fanzha.notify.models import Notification
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.prevention.gaps import service as gaps
from support.follow_ups import a_week_later, file_case, follow_up_of
from support.forms import parse


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _scope(s, name: str) -> Scope:
    return Scope.for_user(_user(s, name))


def post(client, url: str, data: list[tuple[str, str]]):
    """A form as a browser sends it (repeated names kept)."""
    return client.post(url, content=urlencode(data), follow_redirects=False,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_a_case_victims_follow_up_scheduled_and_its_gap_counted(client_as, api_as, db):
    """张桂兰 is visited a week after filing by ps01's dissuader on the phone form (已被骗, 未下载APP and 其他 with its
    text), and the 漏洞 appears on the 宣防漏洞 page by group and area."""
    with session_scope() as s:
        case = file_case(s)
        f = follow_up_of(s, case)
        assert f is not None and f.reason == "case" and f.warning_id is None
        assert f.station_id == _user(s, "ps01_quanzu").area_id and f.community_id == case.community_id
        assert f.due_at == case.filed_at + timedelta(days=7) and f.escalates
        a_week_later(f)
        fid, case_id, day = f.id, case.id, local_day(case.loss_at)
        before = gaps.summary(s, _scope(s, "yanpan"), day, day).total.found("no_app")
    phone = client_as("ps01_quanzu")
    queue = phone.get("/follow-ups?state=overdue")
    assert queue.status_code == 200 and f'href="/follow-ups/{fid}"' in queue.text and "张" in queue.text
    assert "张桂兰" not in queue.text  # masked in the list
    assert f'/follow-ups/{fid}' in phone.get("/tasks").text  # a due case 回访 is in the station's 我的任务
    page = phone.get(f"/follow-ups/{fid}")
    form = next(x for x in parse(page.text).forms if x["action"] == f"/follow-ups/{fid}")
    data = [(k, v) for k, v in form["fields"] if k != "missed_outreach"] + [
        ("outcome", "defrauded"), ("gaps", "no_app"), ("gaps", "other"), ("missed_outreach", "独居，子女在外地")]
    r = post(phone, f"/follow-ups/{fid}", data)
    assert r.status_code == 303 and r.headers["location"] == "/follow-ups?done=1"
    db.expire_all()
    f = db.get(FollowUp, fid)
    assert (f.outcome, f.gaps, f.missed_outreach) == ("defrauded", ["no_app", "other"], "独居，子女在外地")
    assert f.done_at is not None and f.by_user_id == _user(db, "ps01_quanzu").id
    with session_scope() as s:
        summary = gaps.summary(s, _scope(s, "yanpan"), day, day)
        assert summary.total.found("no_app") == before + 1
        mine = next(v for v in summary.total.victims if v.case.id == case_id)
        assert mine.followed_up and mine.found == {"no_app", "other"}
        assert sum(b.found("no_app") for b in summary.by_area) == summary.total.found("no_app")
        assert any(b.found("other") for b in summary.by_group)
    panel = client_as("ps01_minjing").get(f"/cases/{case_id}").text  # the case page's own panel
    assert "回访反查" in panel and "已回访" in panel and "未下载APP、其他" in panel
    shown = client_as("yanpan").get(f"/cases/gaps?start={day}&end={day}")
    assert shown.status_code == 200 and "回访发现的宣防漏洞" in shown.text and "未下载APP" in shown.text
    total = api_as("yanpan").get(f"/api/v1/case-gaps?start={day}&end={day}").json()["total"]
    assert total["found"]["no_app"] == before + 1 and total["followed_up"] >= 1


def test_an_overdue_follow_up_escalates_on_a_frozen_clock():
    """Due at D: nothing before D + 24 h; then the 所长 is told once; at D + 72 h the centre; a 暂时找不到 makes it due
    again three days later and starts over; a backfilled one never escalates."""
    with session_scope() as s:
        f = follow_up_of(s, file_case(s))
        quiet = follow_up_of(s, file_case(s))
        quiet.escalates = False
        due, fid = f.due_at, f.id
        head = _user(s, "ps01_suozhang")
        analyst = _user(s, "yanpan")

        def told(user):
            return s.scalars(select(Notification.body).where(Notification.user_id == user.id,
                                                             Notification.link == f"/follow-ups/{fid}")).all()

        escalation.run(s, due + timedelta(minutes=1439))
        assert f.escalated == "" and told(head) == []
        escalation.run(s, due + timedelta(minutes=1440))
        assert f.escalated == "head" and len(told(head)) == 1 and "升级至所长" in told(head)[0]
        escalation.run(s, due + timedelta(minutes=1500))  # idempotent
        assert len(told(head)) == 1 and told(analyst) == []
        escalation.run(s, due + timedelta(minutes=4320))
        assert f.escalated == "centre" and len(told(analyst)) == 1 and "反诈中心" in told(analyst)[0]
        assert quiet.escalated == "" and quiet.escalated_at is None
        later = due + timedelta(days=4)
        service.record(s, _scope(s, "ps01_quanzu"), fid, outcome="not_found_yet", now=later)
        assert (f.done_at, f.tries, f.escalated, f.due_at) == (None, 1, "", later + timedelta(days=3))
        escalation.run(s, later + timedelta(days=4))
        assert f.escalated == "head" and len(told(head)) == 2
        s.rollback()


@pytest.mark.parametrize("state", list(rules.STATES))
def test_each_state(state):
    """Every state of the field: 暂时找不到 keeps the 回访 open; the others close it; 漏洞 only when the person was
    reached, at least one with 已被骗."""
    with session_scope() as s:
        f = follow_up_of(s, file_case(s))
        scope = _scope(s, "ps01_minjing")
        picked = ["not_met"] if state in rules.REACHED_STATES else []
        service.record(s, scope, f.id, outcome=state, gaps=picked)
        assert f.outcome == state and (f.done_at is None) == (state == "not_found_yet")
        assert f.gaps == ([] if state == "not_found_yet" else picked)
        if state != "not_found_yet":
            with pytest.raises(Conflict):
                service.record(s, scope, f.id, outcome="not_defrauded")
        s.rollback()


def test_refused_values():
    with session_scope() as s:
        f = follow_up_of(s, file_case(s))
        scope = _scope(s, "ps01_quanzu")
        for outcome, picked, other, word in (("", [], "", "请选择回访状态"), ("safe", [], "", "回访状态应为"),
                                             ("not_found", ["no_app"], "", "没有见到本人"),
                                             ("defrauded", [], "", "至少选择一项"),
                                             ("not_defrauded", ["other"], " ", "写明具体情况"),
                                             ("dissuaded", ["nope"], "", "未知的宣防漏洞")):
            with pytest.raises(Invalid, match=word):
                service.record(s, scope, f.id, outcome=outcome, gaps=picked, missed_outreach=other)
        assert f.done_at is None and f.outcome is None
        s.rollback()


def test_the_form_with_empty_values_answers_in_chinese(client_as, db):
    with session_scope() as s:
        fid = follow_up_of(s, file_case(s)).id
    phone = client_as("ps01_quanzu")
    page = phone.get(f"/follow-ups/{fid}")
    form = next(x for x in parse(page.text).forms if x["action"] == f"/follow-ups/{fid}")
    r = post(phone, f"/follow-ups/{fid}", form["fields"])  # nothing chosen, as a browser sends it
    assert r.status_code == 422 and "text/html" in r.headers["content-type"] and "请选择回访状态" in r.text
    r = post(phone, f"/follow-ups/{fid}", [(k, v) for k, v in form["fields"] if k != "note"]
             + [("outcome", "defrauded"), ("note", "已上门")])
    assert r.status_code == 422 and "至少选择一项宣防漏洞" in r.text and "已上门" in r.text  # what was typed is kept
    assert re.search(r'value="defrauded" checked', r.text)
    db.expire_all()
    assert db.get(FollowUp, fid).done_at is None


def test_scoped_and_audited_in_the_api(api_as, client_as, db):
    from fanzha.trail.models import AuditEntry

    with session_scope() as s:
        f = follow_up_of(s, file_case(s))
        a_week_later(f)
        fid = f.id
    mine = api_as("ps01_quanzu")
    listed = mine.get("/api/v1/follow-ups?state=open").json()
    row = next(x for x in listed if x["id"] == fid)
    assert row["reason"] == "case" and row["overdue"] and "*" in row["phone"] and row["name"] != "张桂兰"
    assert mine.get(f"/api/v1/follow-ups/{fid}").status_code == 200
    other = api_as("ps02_quanzu")
    assert fid not in [x["id"] for x in other.get("/api/v1/follow-ups?state=").json()]
    assert other.get(f"/api/v1/follow-ups/{fid}").status_code == 404
    assert other.post(f"/api/v1/follow-ups/{fid}", json={"state": "not_defrauded"}).status_code == 404
    assert client_as("ps02_quanzu").get(f"/follow-ups/{fid}").status_code == 404
    assert mine.post(f"/api/v1/follow-ups/{fid}", json={"state": ""}).status_code == 422
    done = mine.post(f"/api/v1/follow-ups/{fid}", json={"state": "not_defrauded", "gaps": ["family_unaware"]})
    assert done.status_code == 200 and done.json()["state"] == "not_defrauded" and done.json()["done_at"]
    assert mine.post(f"/api/v1/follow-ups/{fid}", json={"state": "not_defrauded"}).status_code == 409
    db.expire_all()
    entries = db.scalars(select(AuditEntry).where(AuditEntry.username == "ps01_quanzu",
                                                  AuditEntry.entity == "follow_up")).all()
    assert {"view", "update"} <= {e.action for e in entries}
    assert any(e.entity_id == str(fid) and e.detail.get("gaps") == ["family_unaware"] for e in entries)


def test_old_register_rows_and_unplaced_cases_get_none():
    """A case filed more than 30 days before it is registered is history: no 回访."""
    with session_scope() as s:
        assert follow_up_of(s, file_case(s, days_ago=45)) is None
        case = file_case(s, days_ago=2)
        assert follow_up_of(s, case).due_at == case.filed_at + timedelta(days=7)
        assert rules.due("case", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)) == \
            datetime(2026, 1, 21, tzinfo=UTC)  # registered late: a day to do it, not overdue on arrival
        s.rollback()


def test_a_warnings_follow_ups_are_the_stations_too():
    """已被骗 fed back on 张某某's warning: the 回访 a week later is ps01's (station and community of the warning), in
    its queue, and recorded with the warning's timeline line."""
    from fanzha.dissuasion import service as dissuasion
    from fanzha.dissuasion.models import TimelineEvent
    from support.dissuasion import fresh_warning

    with session_scope() as s:
        w = fresh_warning(s, tag="FU")
        scope = _scope(s, "ps01_quanzu")
        fed = w.warned_at + timedelta(hours=1)
        dissuasion.add_contact(s, scope, w.id, channel="phone", result="reached", now=fed)
        dissuasion.set_outcome(s, scope, w.id, outcome="defrauded", now=fed)
        f = s.scalar(select(FollowUp).where(FollowUp.warning_id == w.id, FollowUp.reason == "defrauded"))
        assert (f.station_id, f.community_id, f.due_at) == (w.station_id, w.community_id, fed + timedelta(days=7))
        assert f.id in [r.f.id for r in service.search(s, scope, service.Filters(state=""), now=fed)]
        assert f.id not in [r.f.id for r in service.search(s, _scope(s, "ps02_quanzu"), service.Filters(state=""),
                                                            now=fed)]
        service.record(s, scope, f.id, outcome="defrauded", gaps=["no_alert", "family_unaware"],
                       now=fed + timedelta(days=7))
        line = s.scalars(select(TimelineEvent.text).where(TimelineEvent.warning_id == w.id,
                                                          TimelineEvent.kind == "follow_up")).all()
        assert line == ["回访：已被骗；宣防漏洞：未开启预警、家属不知情"]
        s.rollback()


def test_the_demo_county_shows_every_state(db):
    """The demo's 回访: every state recorded, case victims' among them, the upgrade's backfill, 漏洞 of each kind, and
    overdue ones escalated to the 所长 and to the centre."""
    from sqlalchemy import func

    rows = db.execute(select(FollowUp.outcome, FollowUp.reason, FollowUp.escalated, FollowUp.escalates,
                             FollowUp.gaps)).all()
    assert set(rules.STATES) <= {r.outcome for r in rows if r.reason == "case"}
    assert {"head", "centre"} <= {r.escalated for r in rows}
    assert any(r.reason == "case" and not r.escalates for r in rows)
    assert set(rules.GAPS) <= {g for r in rows for g in (r.gaps or [])}
    assert db.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.community_id.is_(None))) == 0


def test_my_tasks_due_follow_ups_are_those_on_warnings_i_hold(db):
    """我的任务's 到期回访: a due 回访 of a warning ps01_quanzu holds is there; one of a warning another dissuader holds
    is not (asked per follow-up, not as the list of every warning the user ever held)."""
    from fanzha.warnings.models import Warning

    me, other = _user(db, "ps01_quanzu"), _user(db, "ps02_quanzu")
    held = db.scalars(select(Warning).where(Warning.station_id == me.area_id, Warning.community_id.is_not(None))
                      .order_by(Warning.id.desc()).limit(2)).all()
    held[0].assignee_id, held[1].assignee_id = me.id, other.id
    now = utcnow()
    for w in held:
        db.execute(FollowUp.__table__.delete().where(FollowUp.warning_id == w.id, FollowUp.reason == "repeat"))
        db.add(FollowUp(warning_id=w.id, reason="repeat", due_at=now - timedelta(hours=1), station_id=me.area_id,
                        community_id=w.community_id))
    db.flush()
    due = {r.f.warning_id for r in service.due_for(db, _scope(db, "ps01_quanzu"), now, limit=500)}
    db.rollback()
    assert held[0].id in due and held[1].id not in due
