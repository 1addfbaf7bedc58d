"""The daily roll-ups give the figures of the direct computation, after every kind of change to warnings and cases.

Each step changes something in June 2030 (empty in the demo county), checks that the direct figures moved (so a
stale roll-up would show), then compares `metrics.overview` read from the roll-ups with the same call computed from
the warnings (rollup=False) — totals, station ranking and trend — for the whole city, each station, over
several periods and at several moments (超期反馈率 depends on the moment). Everything runs in one transaction that is
rolled back, so the shared demo database is left as it was. On PostgreSQL (FANZHA_TEST_DB=postgres) the import
step goes through the binary COPY path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fanzha.cases.models import Case
from fanzha.db import get_engine, utcnow
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.warnings import metrics
from fanzha.warnings.models import WarnedPeopleDay, Warning, WarningDay, WarningDayDirty

BJ = ZoneInfo("Asia/Shanghai")


def bj(text: str) -> datetime:
    return datetime.strptime("2030-" + text, "%Y-%m-%d %H:%M").replace(tzinfo=BJ)


def _figures(o: metrics.Overview) -> dict:
    ranking = {r["station_id"]: (r["warnings"], {k: (f.num, f.den) for k, f in r["figures"].items()})
               for r in o.ranking}
    return {"report": o.report.as_dict(), "ranking": ranking, "trend": o.trend}


@pytest.fixture
def s():
    from sqlalchemy.orm import Session

    session = Session(bind=get_engine(), expire_on_commit=False)
    yield session
    session.rollback()
    session.close()


PERIODS = [("2030-06-01", "2030-06-10"), ("2030-06-02", "2030-06-10"), ("2030-06-05", "2030-06-05"),
           ("2030-06-06", "2030-06-30")]
MOMENTS = [bj("06-05 12:00"), bj("06-06 12:00"), None]  # None: now


def _check(s, scope, areas, periods=PERIODS, moments=MOMENTS, by="day") -> dict:
    """Roll-up == direct for every (period, node, moment); returns the direct figures of the first period, city."""
    first = None
    for since_text, until_text in periods:
        since, until = metrics.period(since_text, until_text)
        for area in areas:
            for now in moments:
                kw = dict(since=since, until=until, area=area, now=now, by=by)
                direct = _figures(metrics.overview(s, scope, rollup=False, **kw))
                rolled = _figures(metrics.overview(s, scope, **kw))
                assert rolled == direct, (since_text, until_text, area and area.code, now)
                if first is None:
                    first = direct
    return first


def test_the_rollup_equals_the_direct_computation_through_every_kind_of_change(s, monkeypatch):
    from fanzha.dissuasion import service as dissuasion
    from fanzha.warnings import service

    scope = Scope.system(s)
    stations = s.scalars(select(Area).where(Area.level == "station").order_by(Area.id)).all()[:2]
    s1, s2 = stations
    c1 = s.scalar(select(Area).where(Area.level == "community", Area.police_path.startswith(s1.path))
                .order_by(Area.id))
    areas = [None, s1, s2]
    a = Person(name="卷甲", phone="13900006001", community_id=c1.id)
    b = Person(name="卷乙", phone="13900006002", community_id=c1.id)
    s.add_all([a, b])
    s.flush()

    def warning(n, person, warned, **kw):
        at = bj(warned)
        w = Warning(external_id=f"ROLL{n}", kind="funds", risk_grade="high", grade_reasons=[], warned_at=at,
                    sign_deadline=at + timedelta(minutes=5), contact_deadline=at + timedelta(hours=1),
                    feedback_deadline=at + timedelta(hours=24), face_required=True,
                    face_deadline=at + timedelta(hours=24), status="dispatched", station_id=s1.id,
                    community_id=c1.id, dispatched_at=at + timedelta(minutes=1), person_id=person.id,
                    amount=Decimal("50000"), phone=person.phone, **kw)
        s.add(w)
        s.flush()
        return w

    before = _check(s, scope, areas)
    assert before["report"]["warnings"] == 0

    # insert: A warned 06-05 10:00, B 06-05 23:30 (Beijing; 15:30 UTC, the same UTC date) and 06-06 00:30
    # (16:30 UTC on 06-05: the next Beijing day but the same UTC date)
    w1 = warning(1, a, "06-05 10:00")
    warning(2, b, "06-05 23:30")
    warning(3, b, "06-06 00:30", signed_at=bj("06-06 00:32"))
    step = _check(s, scope, areas)
    assert step["report"]["warnings"] == 3 and step["report"]["prognosis_rate"]["denominator"] == 2

    # sign, on time (deadline 10:05)
    dissuasion.sign(s, scope, w1.id, now=bj("06-05 10:03"))
    s.flush()
    assert _check(s, scope, areas)["report"]["sign_rate"]["numerator"] == 2

    # transfer to the second station, accepted there (counted where it ends: there, and dispatched afresh, unsigned)
    dissuasion.hand_over(s, scope, w1, s2, "户籍地在乙所", bj("06-05 10:10"))
    s.flush()
    step = _check(s, scope, areas)
    assert step["report"]["sign_rate"]["numerator"] == 1
    assert {sid for sid in step["ranking"]} == {s1.id, s2.id}

    # contact, face to face, outcome and feedback at 11:00 on 06-05: before its deadline (06-06 10:00), which at
    # 12:00 on 06-05 is still ahead — the 超期 part of that day then comes from the warnings
    w1.first_contact_at, w1.face_at = bj("06-05 10:20"), bj("06-05 10:50")
    w1.outcome, w1.feedback_at = "dissuaded", bj("06-05 11:00")
    s.flush()
    step = _check(s, scope, areas)
    assert step["report"]["success_rate"]["numerator"] == 1 and step["report"]["loss_avoided"] == "50000.00"
    assert step["report"]["loss_avoided_estimated"] == "50000.00"  # nothing recorded: the 拟转账金额 stands in

    # the dissuader's 劝阻金额, then a recorded 0: a change of it alone marks the day (migration 0019)
    w1.amount_protected = Decimal("30000")
    s.flush()
    step = _check(s, scope, areas)
    assert (step["report"]["loss_avoided"], step["report"]["loss_avoided_estimated"]) == ("30000.00", "0.00")
    w1.amount_protected = Decimal("0")
    s.flush()
    assert _check(s, scope, areas)["report"]["loss_avoided"] == "0.00"

    # a late feedback (one minute after the deadline) on B's first warning
    w2 = s.scalar(select(Warning).where(Warning.external_id == "ROLL2"))
    w2.outcome, w2.feedback_at = "refused", w2.feedback_deadline + timedelta(minutes=1)
    s.flush()
    _check(s, scope, areas)

    # an earlier warning of A on 06-02: A is still one person over 06-01…06-10
    w0 = warning(0, a, "06-02 09:00")
    step = _check(s, scope, areas)
    assert step["report"]["warnings"] == 4 and step["report"]["prognosis_rate"]["denominator"] == 2

    # a case arriving later: A lost money on 06-07, after the warning of 06-05 (within 30 days)
    s.add(Case(case_number="ROLLK1", person_id=a.id, filed_at=bj("06-20 09:00"), loss_at=bj("06-07 15:00"),
               loss_amount=Decimal("3000")))
    s.flush()
    step = _check(s, scope, areas)
    assert step["report"]["prognosis_rate"]["numerator"] == 1

    # delete the 06-02 warning: A's next warning (06-05) no longer has an earlier one
    s.delete(w0)
    s.flush()
    step = _check(s, scope, areas, periods=[("2030-06-01", "2030-06-10"), ("2030-06-03", "2030-06-10")])
    assert step["report"]["warnings"] == 3

    # a file imported (binary COPY on PostgreSQL): two warnings on 06-08, one for an address of the county
    rows = [(i + 2, {"预警编号": f"ROLLIMP{i}", "预警类型": "涉诈电话", "预警时间": "2030-06-08 08:05",
                     "手机号": f"1390000610{i}", "现住址": "紫荆花园3栋"}) for i in range(2)]
    service.ingest_rows(s, Scope.for_user(s.scalar(select(User).where(User.username == "yanpan"))), rows)
    s.flush()
    step = _check(s, scope, areas)
    placed = s.scalar(select(func.count()).select_from(Warning).where(
        Warning.external_id.like("ROLLIMP%"), Warning.community_id.is_not(None)))
    assert placed >= 1 and step["report"]["warnings"] == 3 + placed

    # whole months and a station's own view
    chief = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
    _check(s, chief, [None], periods=[("2030-05-01", "2030-07-31")], by="month")


def test_the_demo_county_reads_the_same_from_the_rollup(s):
    scope = Scope.system(s)
    chief = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
    township = s.scalar(select(Area).where(Area.level == "township").order_by(Area.id))
    periods = [("2025-01-01", "2026-12-31"), (str((utcnow() - timedelta(days=20)).date()), str(utcnow().date()))]
    city = _check(s, scope, [None, township], periods=periods, moments=[None], by="month")
    assert city["report"]["warnings"] > 0
    _check(s, chief, [None], periods=periods, moments=[None], by="week")


def test_changes_are_logged_by_the_triggers_and_cleared_by_the_refresh(s):
    """Only the columns the metrics read mark a day; reading clears what it recomputed."""
    metrics.refresh_days(s)
    assert s.scalar(select(func.count()).select_from(WarningDayDirty)) == 0
    assert s.scalar(select(func.count()).select_from(WarningDay)) > 0
    assert s.scalar(select(func.count()).select_from(WarnedPeopleDay)) > 0
    w = s.scalar(select(Warning).where(Warning.community_id.is_not(None)).order_by(Warning.id))
    w.note = "只改备注"
    s.flush()
    assert s.scalar(select(func.count()).select_from(WarningDayDirty)) == 0
    w.outcome = "refused" if w.outcome != "refused" else "dissuaded"
    s.flush()
    hours = s.scalars(select(WarningDayDirty.hour)).all()
    assert w.warned_at.replace(minute=0, second=0, microsecond=0) in hours
    assert metrics.refresh_days(s) >= 1
    assert s.scalar(select(func.count()).select_from(WarningDayDirty)) == 0


def test_the_worker_recomputes_logged_days_every_minute(db):
    """The periodic task leaves nothing logged: a reading then has no day to recompute."""
    from fanzha.db import session_scope
    from fanzha.worker.tasks import refresh_metric_days

    def change_amount(amount):
        with session_scope() as session:
            w = session.scalar(select(Warning).where(Warning.community_id.is_not(None)).order_by(Warning.id.desc()))
            before, w.amount = w.amount, amount(w.amount)  # a counted column: its hour is logged
            return before

    original = change_amount(lambda a: (a or Decimal(0)) + Decimal("1"))
    try:
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(WarningDayDirty)) >= 1
        refresh_metric_days.call_local()
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(WarningDayDirty)) == 0
    finally:
        change_amount(lambda a: original)


def test_a_persons_previous_warning_counts_however_long_before(s):
    """The roll-up looks for a person's previous warning within the year before the recomputed days first, then
    further back: one warned 15 months earlier, one 6 months earlier and one never before are each one person over a
    stretch that holds all their warnings, and new in the month of the last one — as computed from the warnings."""
    scope = Scope.system(s)
    station = s.scalars(select(Area).where(Area.level == "station").order_by(Area.id)).first()
    community = s.scalar(select(Area).where(Area.level == "community", Area.police_path.startswith(station.path))
                         .order_by(Area.id))
    periods = [("2029-01-01", "2030-06-30"), ("2029-06-01", "2030-06-10"), ("2030-06-01", "2030-06-10")]
    before = [_check(s, scope, [None], periods=[p], moments=[None], by="month")["report"] for p in periods]
    people = [Person(name=f"久{n}", phone=f"1390000620{n}", community_id=community.id) for n in range(3)]
    s.add_all(people)
    s.flush()
    for n, (person, warned) in enumerate([(0, "2029-03-01"), (0, "2030-06-05"), (1, "2029-12-01"),
                                          (1, "2030-06-05"), (2, "2030-06-05")]):
        at = datetime.strptime(warned + " 10:00", "%Y-%m-%d %H:%M").replace(tzinfo=BJ) + timedelta(minutes=n)
        s.add(Warning(external_id=f"ROLLPREV{n}", kind="call", risk_grade="low", grade_reasons=[], warned_at=at,
                      sign_deadline=at + timedelta(minutes=30), contact_deadline=at + timedelta(hours=2),
                      feedback_deadline=at + timedelta(hours=72), status="dispatched", station_id=station.id,
                      community_id=community.id, person_id=people[person].id, dispatched_at=at,
                      phone=people[person].phone))
    s.flush()
    after = [_check(s, scope, [None], periods=[p], moments=[None], by="month")["report"] for p in periods]
    added = [a["prognosis_rate"]["denominator"] - b["prognosis_rate"]["denominator"]
             for a, b in zip(after, before, strict=True)]
    assert added == [3, 3, 3]  # the roll-up equalled these direct counts (_check); a person counted twice would not
