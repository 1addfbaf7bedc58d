"""The dissuader's phone, first part: told at dispatch, the most urgent warning first, 积压 apart, the right home.

Alerts go through the real intake (API and import); the order is checked on warnings made by hand with a frozen
clock; escalation and the 积压 line are checked together, so that nothing is left unescalated because of its age.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fanzha.dissuasion import escalation, urgency
from fanzha.dissuasion.models import Escalation
from fanzha.notify.models import Delivery, Notification
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning
from fanzha.warnings.service import ingest_rows
from support.web import csrf_of, login, make_client

BJ = ZoneInfo("Asia/Shanghai")


def _now_text(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(BJ) + delta).strftime("%Y-%m-%d %H:%M")


def _user(db, username: str) -> User:
    return db.scalar(select(User).where(User.username == username))


def _alerts(db, warning_id: int) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.link == f"/warnings/{warning_id}")
                           .order_by(Notification.id)))


def test_a_high_warning_from_the_api_alerts_its_dissuader_at_once_and_outward_without_personal_data(api_as, db):
    api = api_as("yanpan")
    body = {"external_id": "ALERT-API-1", "kind": "资金预警", "grade": "高", "warned_at": _now_text(),
            "name": "欧阳某某", "phone": "13912345678", "amount": "98000", "current_address": "江州市中山建设路54号"}
    r = api.post("/api/v1/warnings", json=body)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["risk_grade"] == "high"
    alerts = _alerts(db, w["id"])
    station_dissuaders = {u.id for u in db.scalars(select(User).where(User.role == "dissuader",
                                                                        User.area_id == w["station_id"]))}
    told = {n.user_id for n in alerts}
    assert told and (told <= station_dissuaders | {u.id for u in db.scalars(select(User).where(
        User.role == "station_head", User.area_id == w["station_id"]))})
    if w.get("assignee_id"):
        assert told == {w["assignee_id"]}
    n = alerts[0]
    assert n.title == "新预警：高风险资金预警"  # not 资金预警预警
    assert "ALERT-API-1" in n.body and "签收" in n.body
    for secret in ("欧阳", "13912345678", "98000", "98,000", "9.8"):
        assert secret not in n.title + n.body
    # High grade: also through the outward channels (the test settings configure the log channel).
    assert db.scalars(select(Delivery).where(Delivery.notification_id == n.id)).all()


def test_an_imported_low_warning_alerts_in_the_app_only_and_history_alerts_nobody(db):
    from fanzha.addresses.models import StandardAddress

    dissuader = _user(db, "ps01_quanzu")
    scope = Scope.for_user(dissuader)
    address = db.scalar(select(StandardAddress.text).where(scope.community_clause(StandardAddress.community_id))
                        .order_by(StandardAddress.id))
    rows = [(1, {"预警编号": "ALERT-IMP-1", "预警类型": "涉诈短信", "预警级别": "低", "预警时间": _now_text(),
                 "姓名": "李某", "手机号": "13700001111", "现住址": address}),
            (2, {"预警编号": "ALERT-IMP-OLD", "预警类型": "资金预警", "预警级别": "高", "预警时间": "2025-01-05 09:00",
                 "姓名": "王某", "手机号": "13700001112", "现住址": address})]
    tally = ingest_rows(db, Scope.system(db), rows, source="import")
    assert tally.created == 2, tally.errors
    new, old = (db.scalar(select(Warning).where(Warning.external_id == e)) for e in ("ALERT-IMP-1", "ALERT-IMP-OLD"))
    db.flush()
    alerts = list(db.scalars(select(Notification).where(Notification.link == f"/warnings/{new.id}")))
    assert alerts and alerts[0].title == "新预警：低风险涉诈短信预警"
    assert not db.scalars(select(Delivery).where(Delivery.notification_id.in_([a.id for a in alerts]))).all()
    assert not db.scalars(select(Notification).where(Notification.link == f"/warnings/{old.id}")).all()
    db.rollback()


def test_an_unplaced_funds_warning_alerts_the_centre_at_once(db):
    rows = [(1, {"预警编号": "ALERT-UNP-1", "预警类型": "资金预警", "预警时间": _now_text(), "姓名": "赵某",
                 "手机号": "13700001113", "现住址": "外省某市某路不存在的门牌999号"}),
            (2, {"预警编号": "ALERT-UNP-2", "预警类型": "涉诈电话", "预警时间": _now_text(), "姓名": "钱某",
                 "手机号": "13700001114", "现住址": "外省某市某路不存在的门牌998号"})]
    tally = ingest_rows(db, Scope.system(db), rows, source="import")
    assert tally.created == 2, tally.errors
    funds, call = (db.scalar(select(Warning).where(Warning.external_id == e)) for e in ("ALERT-UNP-1", "ALERT-UNP-2"))
    assert funds.status == call.status == "unplaced"
    db.flush()
    told = {n.user_id: n for n in db.scalars(select(Notification).where(Notification.link == f"/warnings/{funds.id}"))}
    centre = {u.id for u in db.scalars(select(User).where(User.role.in_(["centre_analyst", "centre_admin"])))}
    assert told and set(told) <= centre and _user(db, "yanpan").id in told
    assert next(iter(told.values())).title.startswith("待分配：")
    assert not db.scalars(select(Notification).where(Notification.link == f"/warnings/{call.id}")).all()
    db.rollback()


# -- order ---------------------------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _w(n, grade, *, warned, sign, signed=None, contact=None, amount=None, face=False, feedback=None):
    return Warning(id=n, external_id=f"O{n}", kind="funds", risk_grade=grade, warned_at=NOW + warned,
                   sign_deadline=NOW + sign, contact_deadline=NOW + (contact or sign + timedelta(minutes=25)),
                   feedback_deadline=NOW + (feedback or sign + timedelta(hours=24)), face_required=face,
                   face_deadline=NOW + sign + timedelta(hours=2) if face else None,
                   signed_at=NOW + signed if signed is not None else None,
                   amount=Decimal(amount) if amount else None)


def test_a_new_high_warning_is_first_and_long_overdue_work_is_backlog():
    hours, days = timedelta(hours=1), timedelta(days=1)
    warnings = [
        _w(1, "medium", warned=-318 * days, sign=-318 * days),  # overdue 318 days: 积压
        _w(2, "high", warned=-3 * days, sign=-3 * days, signed=-3 * days),  # contact overdue ~3 days: 积压
        _w(3, "medium", warned=-4 * hours, sign=-2 * hours),  # sign overdue 2 hours: open, not backlog
        _w(4, "high", warned=-timedelta(minutes=1), sign=timedelta(minutes=4), amount="98000"),  # just arrived
        _w(5, "high", warned=-hours, sign=-hours + timedelta(minutes=5), signed=-timedelta(minutes=50)),  # in hand
        _w(6, "high", warned=-timedelta(minutes=2), sign=timedelta(minutes=3), amount="5000"),  # arrived, less money
        _w(7, "low", warned=-hours, sign=-hours + timedelta(minutes=30)),
        _w(10, "high", warned=-3 * hours, sign=-hours * 2),  # unsigned, its sign missed 2 hours ago
        _w(11, "high", warned=-2 * hours, sign=-hours),  # unsigned, missed an hour ago
    ]
    active, backlog = urgency.order(warnings, NOW, timedelta(hours=48))
    # 3 (medium) has waited four hours, its grade's starvation bound (dispatch/policy_default.toml): it goes first.
    # Then high before medium before low; among the highs, those nobody signed yet first: still in time, the nearer
    # deadline first (6 is due in 3 minutes, 4 in 4), then the missed ones, the most recently missed first (11, 10);
    # then the one in hand; 7 (low) has waited an hour of its eight.
    assert [t.warning.id for t in active] == [3, 6, 4, 11, 10, 5, 7]
    assert [t.warning.id for t in backlog] == [1, 2]  # the longest waiting first
    assert (active[0].step, backlog[1].step) == ("sign", "contact")
    # With the same deadline the larger amount comes first.
    twins = [_w(8, "high", warned=-timedelta(minutes=1), sign=timedelta(minutes=4), amount="1000"),
             _w(9, "high", warned=-timedelta(minutes=1), sign=timedelta(minutes=4), amount="90000")]
    assert [t.warning.id for t in urgency.order(twins, NOW, timedelta(hours=48))[0]] == [9, 8]


def test_every_missed_step_escalates_fully_before_it_becomes_backlog(tmp_path):
    rules = escalation.load_rules()
    assert rules.backlog_after == timedelta(hours=48)
    longest = max(m for levels in rules.after_minutes.values() for m in levels.values())
    assert timedelta(minutes=longest) < rules.backlog_after  # the file is refused otherwise:
    bad = tmp_path / "esc.toml"
    bad.write_text("backlog_after_hours = 2\n[after_minutes.low]\nassignee = 0\ncentre = 240\n", encoding="utf-8")
    import pytest

    with pytest.raises(ValueError, match="backlog_after_hours"):
        escalation.load_rules(bad)


def test_escalation_leaves_backlog_to_the_digest_and_skips_nothing_younger(db):
    from support.db import DB_KIND  # noqa: F401  (the same on both databases)
    from support.dissuasion import fresh_warning

    now = datetime.now(UTC).replace(microsecond=0)
    young = fresh_warning(db, at=(now - timedelta(hours=30)).astimezone(BJ).strftime("%Y-%m-%d %H:%M"), tag="Y")
    old = fresh_warning(db, at=(now - timedelta(days=9)).astimezone(BJ).strftime("%Y-%m-%d %H:%M"), tag="O")
    for w in (young, old):
        w.feedback_deadline = now + timedelta(hours=12)  # still open, whatever its age
    db.flush()
    escalation.run(db, now)
    raised = {(e.warning_id, e.step) for e in db.scalars(select(Escalation).where(
        Escalation.warning_id.in_([young.id, old.id])))}
    # 30 hours late: every level of sign and contact is raised, whatever the warning's age (no 7-day cut-off).
    assert {("sign"), ("contact")} <= {s for wid, s in raised if wid == young.id}
    # Nine days late: 积压, told in the digest, not escalated all at once.
    assert not {s for wid, s in raised if wid == old.id}
    assert urgency.task_of(old, now).backlog and not urgency.task_of(young, now).backlog
    station = old.station_id
    morning = datetime(2026, 12, 7, 8, 5, tzinfo=BJ).astimezone(UTC)
    heads = {u.id for u in db.scalars(select(User).where(User.role == "station_head", User.area_id == station))}
    assert urgency.send_digest(db, morning.replace(hour=(morning.hour + 2) % 24)) == 0  # not the morning hour
    assert urgency.send_digest(db, morning) >= 1
    digest = [n for n in db.scalars(select(Notification).where(Notification.link == f"/warnings?station_id={station}"))
              if n.user_id in heads]
    assert digest and digest[0].title.startswith("积压预警日报：")
    db.rollback()


# -- pages -------------------------------------------------------------------------------------------------------

def test_each_role_lands_on_its_work_after_login(app):
    for username, home in (("ps01_quanzu", "/tasks"), ("ps01_suozhang", "/warnings"), ("yanpan", "/warnings"),
                           ("wangge01", "/")):
        client = make_client(app)
        r = login(client, username)
        assert r.status_code == 303 and r.headers["location"] == home, (username, r.headers.get("location"))
        client.close()


def test_my_tasks_lists_a_new_high_warning_first_refreshes_itself_and_folds_the_backlog(client_as, db):
    from support.dissuasion import fresh_warning

    now = datetime.now(UTC)
    stale = fresh_warning(db, at=(now - timedelta(days=5)).astimezone(BJ).strftime("%Y-%m-%d %H:%M"), tag="S",
                          kind="涉诈电话", amount="")
    stale.feedback_deadline = now + timedelta(hours=5)
    new = fresh_warning(db, at=(now - timedelta(minutes=1)).astimezone(BJ).strftime("%Y-%m-%d %H:%M"), tag="N",
                        grade="高", amount="98000")
    new.sign_deadline = now + timedelta(minutes=4)
    new.feedback_deadline = now + timedelta(hours=24)
    db.commit()
    phone = client_as("ps01_quanzu")
    page = phone.get("/tasks").text
    first = re.search(r'<a class="task[^"]*" href="/warnings/(\d+)"', page).group(1)
    assert int(first) == new.id
    assert 'hx-trigger="every 30s"' in page and "tasks.js" in page
    backlog = page[page.index('<details class="backlog"'):]
    assert f'/warnings/{stale.id}"' in backlog and f'/warnings/{new.id}"' not in backlog
    assert str(new.id) in re.search(r'data-high="([^"]*)"', page).group(1).split(",")
    part = phone.get("/tasks", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith("<div id=\"tasks\"") and "<html" not in part.text
    # The unread count is in the phone header, outside the folded menu.
    assert re.search(r'class="bell-phone"[^>]*>通知<span class="badge"', page)
    assert csrf_of(phone)
