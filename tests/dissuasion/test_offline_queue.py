"""The phone's offline queue on the server: one record per idempotency key (API and form), 冲突 for a warning closed
or reassigned meanwhile (and the demo's), and which clock is trusted."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fanzha.db import session_scope, utcnow
from fanzha.dissuasion.models import Contact, Submission
from fanzha.dissuasion.offline import Sent, trusted_time
from fanzha.org.models import User
from fanzha.warnings.models import Warning
from support.dissuasion import fresh_warning

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, the day of fresh_warning


def _warning(tag: str, station_user: str = "ps01_quanzu") -> int:
    with session_scope() as s:
        return fresh_warning(s, station_user=station_user, tag=tag).id


def _contacts(db, wid: int) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Contact).where(Contact.warning_id == wid))


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


# -- which clock ------------------------------------------------------------------------------------------------

def test_device_time_is_trusted_only_between_signing_and_receipt():
    signed, received = T0, T0 + timedelta(hours=2)
    inside = Sent(key="k", device_at=T0 + timedelta(minutes=40), sent_at=received + timedelta(seconds=20))
    clock = trusted_time(inside, signed, received)
    assert clock.at == T0 + timedelta(minutes=40) and clock.skew == 20 and not clock.flagged
    before_signing = Sent(key="k", device_at=T0 - timedelta(minutes=1), sent_at=received)
    assert trusted_time(before_signing, signed, received).at == received
    assert trusted_time(inside, None, received).at == received  # not signed yet: acting on it signs it now


def test_a_phone_clock_off_by_more_than_five_minutes_is_flagged_and_not_used():
    signed, received = T0, T0 + timedelta(hours=2)
    ahead = Sent(key="k", device_at=T0 + timedelta(minutes=30), sent_at=received + timedelta(minutes=5, seconds=1))
    clock = trusted_time(ahead, signed, received)
    assert clock.flagged and clock.skew == 301 and clock.at == received
    behind = Sent(key="k", device_at=T0 + timedelta(minutes=30), sent_at=received - timedelta(minutes=5))
    assert not trusted_time(behind, signed, received).flagged  # exactly five minutes is within
    # No sending time: a recording time after the receipt can only be a clock ahead.
    future = Sent(key="k", device_at=received + timedelta(minutes=9))
    clock = trusted_time(future, signed, received)
    assert clock.flagged and clock.skew == 540 and clock.at == received


# -- the JSON API -----------------------------------------------------------------------------------------------

def test_the_same_contact_sent_twice_through_the_api_is_recorded_once(api_as, db):
    wid = _warning("IDC")
    api = api_as("ps01_quanzu")
    assert api.post(f"/api/v1/warnings/{wid}/sign").status_code == 200
    key = str(uuid.uuid4())
    recorded = utcnow()  # after 签收, before the server receives it
    body = {"channel": "phone", "result": "reached", "note": "张某已停止转账", "idempotency_key": key,
            "device_at": _iso(recorded), "sent_at": _iso(utcnow())}
    first = api.post(f"/api/v1/warnings/{wid}/contacts", json=body)
    again = api.post(f"/api/v1/warnings/{wid}/contacts", json=body)
    assert first.status_code == again.status_code == 201, first.text
    a, b = first.json(), again.json()
    assert a["status"] == "recorded" and not a["repeated"] and b["repeated"]
    assert {k: v for k, v in a.items() if k != "repeated"} == {k: v for k, v in b.items() if k != "repeated"}
    assert _contacts(db, wid) == 1
    contact = db.get(Contact, a["id"])
    assert abs((contact.at - recorded).total_seconds()) < 0.001  # between 签收 and receipt: the phone's time
    assert contact.created_at >= contact.at
    # Recorded before 签收 (a phone clock behind, within five minutes): the receipt time instead.
    early = dict(body, idempotency_key=str(uuid.uuid4()), device_at=_iso(recorded - timedelta(minutes=4)))
    late = api.post(f"/api/v1/warnings/{wid}/contacts", json=early).json()
    assert late["recorded_at"] == late["received_at"] and late["clock_skew_flagged"] is False
    assert _contacts(db, wid) == 2


def test_the_same_outcome_sent_twice_through_the_api_closes_once(api_as, db):
    wid = _warning("IDO")
    api = api_as("ps01_quanzu")
    api.post(f"/api/v1/warnings/{wid}/contacts", json={"channel": "phone", "result": "reached"})
    body = {"outcome": "dissuaded", "amount_protected": "95500", "idempotency_key": str(uuid.uuid4())}
    first = api.post(f"/api/v1/warnings/{wid}/outcome", json=body)
    again = api.post(f"/api/v1/warnings/{wid}/outcome", json=body)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["feedback_at"] == again.json()["feedback_at"]
    assert first.json()["outcome"] == again.json()["outcome"] == "dissuaded"
    assert again.json()["repeated"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Submission).where(Submission.warning_id == wid)) == 1
    # Without a key the closed warning refuses as before.
    assert api.post(f"/api/v1/warnings/{wid}/outcome", json={"outcome": "dissuaded"}).status_code == 409


def test_a_key_is_bound_to_its_warning_and_kind(api_as):
    wid = _warning("IDK")
    api = api_as("ps01_quanzu")
    key = str(uuid.uuid4())
    assert api.post(f"/api/v1/warnings/{wid}/contacts",
                    json={"channel": "phone", "result": "not_reached", "idempotency_key": key}).status_code == 201
    reused = api.post(f"/api/v1/warnings/{wid}/outcome", json={"outcome": "unreachable", "idempotency_key": key})
    assert reused.status_code == 409
    bad = api.post(f"/api/v1/warnings/{wid}/contacts",
                   json={"channel": "phone", "result": "not_reached", "idempotency_key": "not-a-uuid"})
    assert bad.status_code == 422


def test_a_queued_outcome_for_a_warning_closed_meanwhile_becomes_a_conflict(api_as, client_as, db):
    """The dissuader records 劝阻成功 offline at 10:00; the 所长 closes it as 无需劝阻 before the phone finds signal.
    The queued outcome is kept as a 冲突, seen by both, and the warning keeps the 所长's outcome."""
    wid = _warning("CFC")
    head, dissuader = api_as("ps01_suozhang"), api_as("ps01_quanzu")
    dissuader.post(f"/api/v1/warnings/{wid}/contacts", json={"channel": "phone", "result": "reached"})
    recorded = utcnow() - timedelta(minutes=20)
    assert head.post(f"/api/v1/warnings/{wid}/outcome", json={"outcome": "not_needed"}).status_code == 200
    body = {"outcome": "dissuaded", "amount_protected": "95500", "note": "对象已答应不再转账",
            "idempotency_key": str(uuid.uuid4()), "device_at": _iso(recorded), "sent_at": _iso(utcnow())}
    queued = dissuader.post(f"/api/v1/warnings/{wid}/outcome", json=body)
    assert queued.status_code == 202, queued.text
    answer = queued.json()
    assert answer["status"] == "conflict" and answer["conflict"]["reason"] == "closed"
    assert dissuader.post(f"/api/v1/warnings/{wid}/outcome", json=body).json()["conflict"] == answer["conflict"]
    db.expire_all()
    assert db.get(Warning, wid).outcome == "not_needed"
    for api in (dissuader, head):
        items = [c for c in api.get("/api/v1/conflicts").json()["items"] if c["warning_id"] == wid]
        assert len(items) == 1
        assert items[0]["submitted"] == {"outcome": "dissuaded", "amount_protected": "95500", "amount_lost": None,
                                         "note": "对象已答应不再转账", "target": "", "success_kind": ""}
    other_station = api_as("ps02_suozhang")
    assert not [c for c in other_station.get("/api/v1/conflicts").json()["items"] if c["warning_id"] == wid]
    page = client_as("ps01_suozhang").get("/tasks/conflicts")
    assert f"预警 #{wid}" in page.text and "预警已反馈结案" in page.text and "对象已答应不再转账" in page.text
    timeline = dissuader.get(f"/api/v1/warnings/{wid}/timeline").json()
    assert [s["kind"] for s in timeline].count("conflict") == 1


def test_a_queued_contact_for_a_warning_reassigned_meanwhile_becomes_a_conflict(api_as, db):
    """Recorded on the phone ten minutes ago; the 所长 handed the warning to 李某 since: a 冲突, not a contact."""
    from fanzha.dissuasion import service
    from fanzha.org.roles import Role
    from fanzha.org.scope import Scope

    wid = _warning("CFR")
    recorded = utcnow() - timedelta(minutes=10)
    with session_scope() as s:
        me = s.scalar(select(User).where(User.username == "ps01_quanzu"))
        other = User(username=f"ps01_li{uuid.uuid4().hex[:6]}", display_name="李某", password_hash="!",
                     role=Role.DISSUADER.value, area_id=me.area_id)
        s.add(other)
        s.flush()
        other_id = other.id
        head = s.scalar(select(User).where(User.username == "ps01_suozhang"))
        service.reassign(s, Scope.for_user(head), wid, user_id=other.id, reason="原劝阻员外出")
    dissuader = api_as("ps01_quanzu")
    body = {"channel": "face_to_face", "result": "reached", "location": "幸福小区3栋门口",
            "idempotency_key": str(uuid.uuid4()), "device_at": _iso(recorded), "sent_at": _iso(utcnow())}
    queued = dissuader.post(f"/api/v1/warnings/{wid}/contacts", json=body)
    assert queued.status_code == 202 and queued.json()["conflict"]["reason"] == "reassigned", queued.text
    assert _contacts(db, wid) == 0
    # Recorded after it was reassigned: the dissuader helping out is recorded as before.
    now_body = dict(body, idempotency_key=str(uuid.uuid4()), device_at=_iso(utcnow()))
    assert dissuader.post(f"/api/v1/warnings/{wid}/contacts", json=now_body).status_code == 201
    assert _contacts(db, wid) == 1
    with session_scope() as s:  # the station's roster as the other tests know it: the extra dissuader leaves
        s.get(User, other_id).is_active = False


def test_a_skewed_phone_clock_is_flagged_and_cannot_make_feedback_early(api_as, db):
    """The phone's clock is 30 minutes behind: its recording time would put the feedback before the deadline. The
    skew is flagged and the warning's feedback_at (what 超期反馈率 reads) is the receipt time."""
    wid = _warning("SKW")
    api = api_as("ps01_quanzu")
    api.post(f"/api/v1/warnings/{wid}/sign")
    api.post(f"/api/v1/warnings/{wid}/contacts", json={"channel": "phone", "result": "reached"})
    before = utcnow()
    body = {"outcome": "refused", "idempotency_key": str(uuid.uuid4()),
            "device_at": _iso(before - timedelta(minutes=31)), "sent_at": _iso(before - timedelta(minutes=30))}
    answer = api.post(f"/api/v1/warnings/{wid}/outcome", json=body).json()
    assert answer["clock_skew_flagged"] is True and answer["clock_skew_seconds"] <= -1799
    db.expire_all()
    w = db.get(Warning, wid)
    assert w.feedback_at >= before
    sub = db.scalar(select(Submission).where(Submission.warning_id == wid))
    assert sub.skew_flagged and sub.trusted_at == sub.received_at == w.feedback_at
    assert abs((sub.device_at - (before - timedelta(minutes=31))).total_seconds()) < 1


# -- the form ---------------------------------------------------------------------------------------------------

def _token(client, wid: int) -> str:
    page = client.get(f"/warnings/{wid}")
    return re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)


def test_the_contact_form_sent_twice_with_one_key_records_once(client_as, db):
    wid = _warning("FRM")
    client = client_as("ps01_quanzu")
    token = _token(client, wid)
    form = {"csrf_token": token, "channel": "phone", "result": "reached", "note": "电话讲解冒充客服退款手法",
            "idempotency_key": str(uuid.uuid4()), "device_at": _iso(utcnow()), "sent_at": _iso(utcnow())}
    first = client.post(f"/warnings/{wid}/contacts", data=form, follow_redirects=False)
    again = client.post(f"/warnings/{wid}/contacts", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith(f"/warnings/{wid}?done=contact")
    assert again.headers["location"] == f"/warnings/{wid}?done=contact"
    assert _contacts(db, wid) == 1


def test_the_outcome_form_on_a_closed_warning_keeps_the_queued_outcome_as_a_conflict(client_as, api_as, db):
    wid = _warning("FRC")
    client = client_as("ps01_quanzu")
    token = _token(client, wid)
    api_as("ps01_quanzu").post(f"/api/v1/warnings/{wid}/contacts", json={"channel": "phone", "result": "reached"})
    api_as("ps01_suozhang").post(f"/api/v1/warnings/{wid}/outcome", json={"outcome": "not_needed"})
    form = {"csrf_token": token, "outcome": "dissuaded", "amount_protected": "", "amount_lost": "", "note": "",
            "idempotency_key": str(uuid.uuid4()), "device_at": _iso(utcnow() - timedelta(minutes=3))}
    r = client.post(f"/warnings/{wid}/outcome", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/tasks?conflict=")
    db.expire_all()
    sub = db.scalar(select(Submission).where(Submission.warning_id == wid))
    assert sub.status == "conflict" and sub.reason == "closed" and sub.payload["outcome"] == "dissuaded"
    assert "冲突：预警已反馈结案" in client.get(f"/warnings/{wid}/submissions").text


def test_the_demo_county_shows_a_conflict_to_the_dissuader_and_the_station_head(client_as):
    for username in ("ps01_quanzu", "ps01_suozhang"):
        page = client_as(username).get("/tasks/conflicts")
        assert "断网时在对象家中登记：已答应不再转账" in page.text and "预警已反馈结案" in page.text
    assert "断网时在对象家中登记" not in client_as("ps02_quanzu").get("/tasks/conflicts").text
