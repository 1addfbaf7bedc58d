"""Dissuasion with a frozen, steppable clock and no web request: deadlines, escalation, evidence, outcomes, notifier."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fanzha.common.errors import Conflict, Invalid
from fanzha.db import session_scope
from fanzha.dissuasion import escalation, service
from fanzha.dissuasion.models import Escalation, FollowUp, TimelineEvent
from fanzha.notify.models import Delivery, Notification
from fanzha.notify.service import deliver_due, notify
from fanzha.org.models import User
from fanzha.org.scope import Scope
from support.dissuasion import PNG, fresh_warning

BJ = ZoneInfo("Asia/Shanghai")



def at(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, 5, h, m, tzinfo=BJ)


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def _levels(s, warning_id):
    return sorted((e.step, e.level) for e in s.scalars(select(Escalation).where(Escalation.warning_id == warning_id)))


def test_a_funds_warning_left_alone_escalates_on_its_own_clock():
    """Imported at 09:00, nobody touches it: red at 09:05, the 所长 is told at 09:10, the centre at 09:20."""
    with session_scope() as s:
        w = fresh_warning(s, tag="ESC")
        wid = w.id
        assert w.risk_grade == "high" and w.sign_deadline == at("09:05")
        escalation.run(s, at("09:04"))
        assert _levels(s, wid) == []
        escalation.run(s, at("09:05"))
        assert _levels(s, wid) == [("sign", "assignee")]
        escalation.run(s, at("09:09"))
        assert _levels(s, wid) == [("sign", "assignee")]
        escalation.run(s, at("09:10"))
        assert _levels(s, wid) == [("contact", "assignee"), ("sign", "assignee"), ("sign", "head")]
        escalation.run(s, at("09:10"))  # idempotent
        assert len(_levels(s, wid)) == 3
        head = _user(s, "ps01_suozhang")
        told = s.scalars(select(Notification).where(Notification.user_id == head.id,
                                                    Notification.link == f"/warnings/{wid}")).all()
        assert told and "签收" in told[0].title and "所长" in told[0].body
        escalation.run(s, at("09:20"))
        assert ("sign", "centre") in _levels(s, wid)
        centre_told = s.scalars(select(Notification).where(Notification.link == f"/warnings/{wid}")
                                .join(User, User.id == Notification.user_id).where(User.username == "yanpan")).all()
        assert centre_told
        events = [e.text for e in s.scalars(select(TimelineEvent).where(TimelineEvent.warning_id == wid))]
        assert any("升级至所长" in t for t in events)
        s.rollback()


def test_a_signed_and_contacted_warning_does_not_escalate_those_steps():
    with session_scope() as s:
        w = fresh_warning(s, tag="ESC2")
        quanzu = Scope.for_user(_user(s, "ps01_quanzu"))
        service.sign(s, quanzu, w.id, now=at("09:03"))
        service.add_contact(s, quanzu, w.id, channel="phone", result="reached", now=at("09:06"))
        escalation.run(s, at("09:30"))
        assert _levels(s, w.id) == []  # face deadline is 10:00 for a high funds warning
        escalation.run(s, at("10:00"))
        assert _levels(s, w.id) == [("face", "assignee")]
        s.rollback()


def test_an_evidence_photo_goes_with_a_contact_that_fails_to_save(monkeypatch):
    """The photo is written before the contact's record; if the save then fails, the rollback removes the file."""
    from fanzha.config import get_settings

    folder = get_settings().data_dir / "evidence"
    before = set(folder.rglob("*")) if folder.exists() else set()
    real = service.audit.record

    def failing(session, scope, action, entity, *args, **kwargs):
        if entity == "contact":
            raise RuntimeError("disk full")
        return real(session, scope, action, entity, *args, **kwargs)

    with pytest.raises(RuntimeError, match="disk full"), session_scope() as s:
        w = fresh_warning(s, tag="EVR")
        quanzu = Scope.for_user(_user(s, "ps01_quanzu"))
        monkeypatch.setattr(service.audit, "record", failing)
        service.add_contact(s, quanzu, w.id, channel="face_to_face", result="reached", now=at("09:40"),
                            evidence=service.Evidence(photo=PNG))
    monkeypatch.setattr(service.audit, "record", real)
    after = set(folder.rglob("*")) if folder.exists() else set()
    assert {f for f in after - before if f.is_file()} == set()


def test_face_to_face_counts_only_with_evidence():
    with session_scope() as s:
        w = fresh_warning(s, tag="EVD")
        quanzu = Scope.for_user(_user(s, "ps01_quanzu"))
        bare = service.add_contact(s, quanzu, w.id, channel="face_to_face", result="reached", now=at("09:20"))
        assert not bare.counts_as_face and w.face_at is None
        missed = service.add_contact(s, quanzu, w.id, channel="visit", result="not_reached", now=at("09:25"),
                                     evidence=service.Evidence(location="幸福小区3栋"))
        assert not missed.counts_as_face
        with pytest.raises(Invalid, match="图片"):
            service.add_contact(s, quanzu, w.id, channel="face_to_face", result="reached",
                                evidence=service.Evidence(photo=b"not an image"))
        ok = service.add_contact(s, quanzu, w.id, channel="face_to_face", result="reached", now=at("09:40"),
                                 evidence=service.Evidence(photo=PNG, checklist=("look_calls", "ask_why")))
        assert ok.counts_as_face and ok.photo_path.endswith(".png") and w.face_at == at("09:40")
        signed = service.add_contact(s, quanzu, w.id, channel="face_to_face", result="reached", now=at("09:50"),
                                     evidence=service.Evidence(notice_signed=True))
        assert signed.counts_as_face and w.face_at == at("09:40")  # the first counting one stays
        s.rollback()


def test_outcome_closes_and_schedules_follow_ups():
    with session_scope() as s:
        w = fresh_warning(s, tag="OUT")
        quanzu = Scope.for_user(_user(s, "ps01_quanzu"))
        with pytest.raises(Invalid, match="联系记录"):
            service.set_outcome(s, quanzu, w.id, outcome="dissuaded")
        service.add_contact(s, quanzu, w.id, channel="phone", result="reached", now=at("09:04"))
        service.set_outcome(s, quanzu, w.id, outcome="defrauded", now=at("11:00"))
        assert w.feedback_at == at("11:00") and w.outcome == "defrauded"
        follow = s.scalars(select(FollowUp).where(FollowUp.warning_id == w.id)).all()
        assert [(f.reason, f.due_at) for f in follow] == [("defrauded", at("11:00") + timedelta(days=7))]
        with pytest.raises(Conflict):
            service.add_contact(s, quanzu, w.id, channel="phone", result="reached")
        escalation.run(s, at("23:59"))
        assert _levels(s, w.id) == []  # closed warnings never escalate
        steps = [step.text for step in service.timeline(s, w)]
        assert steps[0] == "上级下发预警" and "签收" in steps and steps[-1].startswith("反馈：已被骗")
        s.rollback()


def test_another_stations_dissuader_cannot_act():
    from fanzha.common.errors import NotFound

    with session_scope() as s:
        w = fresh_warning(s, tag="SCP")
        other = Scope.for_user(_user(s, "ps02_quanzu"))
        for call in (lambda: service.sign(s, other, w.id),
                     lambda: service.add_contact(s, other, w.id, channel="phone", result="reached"),
                     lambda: service.set_outcome(s, other, w.id, outcome="not_needed")):
            with pytest.raises(NotFound):
                call()
        s.rollback()


class FlakyChannel:
    """Fails `failures` times, then delivers."""

    name = "flaky"

    def __init__(self, failures: int):
        self.failures, self.sent = failures, []

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("短信网关无响应")
        self.sent.append(message)


def test_a_failing_channel_is_retried_with_back_off_and_recovers():
    channel = FlakyChannel(failures=2)
    t0 = at("09:00")
    with session_scope() as s:
        user = _user(s, "ps01_suozhang")
        [n] = notify(s, [user.id], "预警超时：签收", "测试", "/warnings/1", channels={"flaky": channel}, now=t0)
        d = s.scalar(select(Delivery).where(Delivery.notification_id == n.id))
        assert deliver_due(s, {"flaky": channel}, now=t0)["failed"] == 1
        assert d.status == "pending" and d.attempts == 1 and d.next_try_at == t0 + timedelta(minutes=1)
        assert "无响应" in d.last_error
        deliver_due(s, {"flaky": channel}, now=t0 + timedelta(seconds=30))
        assert d.attempts == 1  # not due yet
        deliver_due(s, {"flaky": channel}, now=t0 + timedelta(minutes=1))
        assert d.attempts == 2 and d.next_try_at == t0 + timedelta(minutes=3)
        deliver_due(s, {"flaky": channel}, now=t0 + timedelta(minutes=3))
        assert d.status == "sent" and d.attempts == 3 and len(channel.sent) == 1
        assert channel.sent[0].title == "预警超时：签收"
        s.rollback()


def test_a_channel_that_never_recovers_is_given_up_and_recorded():
    channel = FlakyChannel(failures=100)
    t = at("09:00")
    with session_scope() as s:
        user = _user(s, "ps01_suozhang")
        [n] = notify(s, [user.id], "测试", channels={"flaky": channel}, now=t)
        d = s.scalar(select(Delivery).where(Delivery.notification_id == n.id))
        for _ in range(10):
            deliver_due(s, {"flaky": channel}, now=t)
            t += timedelta(hours=1)
        assert d.status == "failed" and d.attempts == 6
        s.rollback()


def test_escalation_rules_file_errors_say_where(tmp_path):
    bad = tmp_path / "esc.toml"
    bad.write_text('steps = ["sign", "lunch"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="lunch"):
        escalation.load_rules(bad)
