"""The dispatch replay simulator (dispatch/simulate.py), its files and `fanzha dispatch simulate`, with expectations
worked by hand from the packaged triage deadlines (高: 签收 5, 联系 10, 见面 60 minutes; 中: 30/60; 低: 120/1440) and
the policy file's starvation bounds (中 240, 低 480 minutes)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from fanzha.dispatch.policy import Handling, load_rules
from fanzha.dispatch.simulate import Case, Shift, SimWarning, choose, nearest_rank, read_staff, read_warnings, simulate

BEIJING = timezone(timedelta(hours=8))
RULES = replace(load_rules(), handling=Handling(reach_rate=1))  # every attempt reaches the person


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def test_hand_worked_three_warnings_one_dissuader():
    """One dissuader 王某 on duty 08:00–18:00; with deterministic=True every draw is its mean (attempt 2, reached call
    6, 见面 45 minutes) and reach_rate=1, so a first contact takes 8 minutes and the 资金预警 then needs 45.

    09:00 A 低 arrives; 王某 is free and takes it: first contact 09:02 (2 min), busy until 09:08.
    09:01 B 中 and 09:02 C 高 (资金, 见面) wait.
    fifo, from 09:08: B (arrived first) → contact 09:10 (9 min), busy to 09:16; C → contact 09:18 (16 min, past its
          10-minute deadline), then its 见面 09:24–10:09.
    ours, from 09:08: C (高) → contact 09:10 (8 min), busy to 09:16; then C's 见面 (高, in hand) before B (中):
          09:16–10:01; B → contact 10:03 (62 min, past its 60-minute deadline).
    Busy 8+8+8+45 = 69 minutes either way; on shift from the first arrival (09:00) to 24 h after the last (09:02 the
    next day): 09:00–18:00 (540) + 08:00–09:02 (62) = 602 minutes.
    """
    warnings = [SimWarning("A", local(1, 9, 0), "low", "sms", "PCS01"),
                SimWarning("B", local(1, 9, 1), "medium", "call", "PCS01"),
                SimWarning("C", local(1, 9, 2), "high", "funds", "PCS01", amount=80_000, face=True)]
    shifts = [Shift("PCS01", "王某", time(8), time(18))]
    expected = {"fifo": {"low": 2, "medium": 9, "high": 16}, "ours": {"low": 2, "medium": 62, "high": 8}}
    in_time = {"fifo": {"low": 1.0, "medium": 1.0, "high": 0.0}, "ours": {"low": 1.0, "medium": 0.0, "high": 1.0}}
    for policy in ("fifo", "ours"):
        result = simulate(warnings, shifts, policy=policy, rules=RULES, deterministic=True)
        for grade, minutes in expected[policy].items():
            f = result.by_grade[grade]
            assert (f.n, f.p50, f.p90, f.p95, f.unreached) == (1, minutes, minutes, minutes, 0), (policy, grade)
            assert f.in_time == in_time[policy][grade], (policy, grade)
        assert result.utilisation == {("PCS01", "王某"): pytest.approx(69 / 602)}
        assert (result.start, result.end) == (local(1, 9, 0), local(2, 9, 2))
        assert result.helped == 0 and result.sms == 0 and result.warnings == 3


def test_the_live_order_and_the_simulator_choose_the_same_next_warning():
    """The same five warnings as the platform holds them (Warning rows, ordered by dissuasion.urgency.order) and as
    the simulator holds them (Cases, chosen one by one with the simulator's choose): the same order throughout."""
    from fanzha.dissuasion.urgency import order
    from fanzha.warnings import triage
    from fanzha.warnings.models import Warning

    now = local(1, 15, 0)
    # (id, grade, kind, minutes ago, amount, face, state): new = nobody has it; tried = signed, contact pending
    # (the simulator's retry); seen = contacted, 见面 pending
    rows = [(11, "high", "funds", 20, "30000", True, "new"), (12, "high", "funds", 20, "95500", True, "new"),
            (13, "medium", "call", 5, None, False, "new"), (14, "low", "url", 490, None, False, "new"),
            (15, "high", "funds", 40, "20000", True, "seen"), (16, "high", "call", 12, None, False, "tried"),
            (17, "medium", "app", 245, None, False, "tried"), (18, "low", "sms", 30, None, False, "new")]
    live, cases = [], []
    for id_, grade, kind, ago, amount, face, state in rows:
        at = now - timedelta(minutes=ago)
        d = triage.deadlines(grade, at, face, None)
        w = Warning(id=id_, external_id=f"YJ{id_}", kind=kind, risk_grade=grade, warned_at=at, sign_deadline=d.sign,
                    contact_deadline=d.contact, face_deadline=d.face, feedback_deadline=d.feedback,
                    face_required=face, amount=Decimal(amount) if amount else None, station_id=1)
        if state != "new":
            w.signed_at = at + timedelta(minutes=1)
        if state == "seen":
            w.first_contact_at = at + timedelta(minutes=3)
        live.append(w)
        c = Case.of(SimWarning(f"YJ{id_}", at, grade, kind, "PCS01", float(amount) if amount else None, face), id_)
        c.attempts = 0 if state == "new" else 1
        c.step = "face" if state == "seen" else "contact"
        c.refresh()
        cases.append(c)
    active, backlog = order(live, now, backlog=timedelta(hours=48))
    assert backlog == []
    live_order = [t.warning.id for t in active]
    sim_order = []
    waiting = {c.number: c for c in cases}
    while waiting:
        chosen = choose(waiting, now, load_rules())
        sim_order.append(chosen.number)
        del waiting[chosen.number]
    assert sim_order == live_order
    # by hand: 14 (低, 490 min ≥ 480: starving) and 17 (中, 245 ≥ 240) first, the longer-waiting first; then 高 new
    # before 高 in hand, nearest due (12 and 11 share it: the larger amount), 16 (contact due 10 min after
    # arrival, missed) after 15 (见面 due in 20); then 13 中, 18 低
    assert live_order == [14, 17, 12, 11, 15, 16, 13, 18]


def test_starvation_guard_takes_a_low_grade_warning_within_its_bound():
    """One dissuader on duty all day; a 高 call every 6 minutes for 10 hours, each taking 8 (attempt 2 + call 6), so
    the queue never empties. A 低 warning arrives at 08:01. The dissuader is busy in 8-minute blocks from 08:00; the
    低 warning has waited 239 minutes at 12:00 (not yet its 240) and 247 at 12:08, when it is taken: first contact
    12:10, 249 minutes, within bound + one handling time (240 + 8 + its own attempt 2 = 250). Without the guard it
    waits for all 100 高 calls (800 minutes of work from 08:00): first contact at 21:22, 801 minutes. The bound is set
    in the test (低 240), not read from the packaged file."""
    highs = [SimWarning(f"H{i:03d}", local(1, 8) + timedelta(minutes=6 * i), "high", "call", "PCS01")
             for i in range(100)]
    low = SimWarning("L1", local(1, 8, 1), "low", "url", "PCS01")
    shifts = [Shift("PCS01", "李某", time(8), time(8))]
    # The bounds for this test, whatever the packaged file says: 低 240 minutes.
    guarded = replace(RULES, fair_after={"high": timedelta(0), "medium": timedelta(minutes=120),
                                         "low": timedelta(minutes=240)})
    result = simulate([*highs, low], shifts, policy="ours", rules=guarded, deterministic=True)
    assert result.by_grade["low"].p50 == 249.0 <= 240 + 8 + 2
    no_guard = replace(RULES, fair_after=dict.fromkeys(RULES.fair_after, timedelta(0)))
    starved = simulate([*highs, low], shifts, policy="ours", rules=no_guard, deterministic=True)
    assert starved.by_grade["low"].p50 == 801.0


def test_a_shift_crossing_midnight_works_at_two_and_not_at_seven():
    """赵某 works 22:00–06:00. A 高 warning at 02:00 is contacted at 02:02; a 低 one at 07:00 waits for the next
    shift: contacted at 22:02, 902 minutes later. On shift: from 02:00 (the first arrival) to 06:00 (240) and 22:00
    to 06:00 (480) before the end (07:00 the next day): 720 minutes; busy 8 + 8."""
    warnings = [SimWarning("N1", local(2, 2), "high", "call", "PCS01"),
                SimWarning("N2", local(2, 7), "low", "url", "PCS01")]
    shifts = [Shift("PCS01", "赵某", time(22), time(6))]
    result = simulate(warnings, shifts, policy="fifo", rules=RULES, deterministic=True)
    assert result.by_grade["high"].p50 == 2.0
    assert result.by_grade["low"].p50 == 902.0
    assert result.utilisation[("PCS01", "赵某")] == pytest.approx(16 / 720)


def test_an_unreached_warning_is_infinitely_late_and_null_in_json():
    """A station nobody staffs: its warning is never contacted, so every percentile that lands on it is inf."""
    warnings = [SimWarning("U1", local(1, 9), "high", "call", "PCS02"),
                SimWarning("U2", local(1, 9, 5), "high", "call", "PCS01")]
    result = simulate(warnings, [Shift("PCS01", "王某", time(8), time(18))], rules=RULES, deterministic=True)
    f = result.by_grade["high"]
    assert (f.n, f.unreached, f.p50, f.p95, f.in_time) == (2, 1, 2.0, math.inf, 0.5)
    assert result.as_dict()["by_grade"]["high"]["p95"] is None
    assert result.by_grade["low"].n == 0 and result.by_grade["low"].in_time is None
    assert nearest_rank([1, 2, 3, 4], 50) == 2 and nearest_rank([1, 2, 3, 4], 90) == 4


def test_help_from_a_sibling_station_and_the_face_back_home():
    """PCS01's only dissuader 王某 is busy (09:00 资金 F1: contact 09:02, call to 09:08, 见面 09:08–09:53) when a
    second 资金 F2 arrives at 09:10. 刘某 at PCS02 (same 分局, nothing to do) takes its first contact once it has
    waited help_after (3 minutes): contact 09:15 (5 minutes), call to 09:21; its 见面 goes back to PCS01, where 王某
    does it after F1's (09:53–10:38). Busy: 刘某 8, 王某 8 + 45 + 45 = 98 of 610 on-shift minutes each (09:00–18:00 and
    08:00–09:10 the next day). Under fifo, or with no siblings, F2 waits for 王某: contact 09:55, 45 minutes."""
    warnings = [SimWarning("F1", local(1, 9), "high", "funds", "PCS01", amount=60_000, face=True),
                SimWarning("F2", local(1, 9, 10), "high", "funds", "PCS01", amount=20_000, face=True)]
    shifts = [Shift("PCS01", "王某", time(8), time(18)), Shift("PCS02", "刘某", time(8), time(18))]
    siblings = {"PCS01": "分局1", "PCS02": "分局1"}
    ours = simulate(warnings, shifts, rules=RULES, siblings=siblings, deterministic=True)
    assert (ours.by_grade["high"].p50, ours.by_grade["high"].p95, ours.helped) == (2.0, 5.0, 1)
    assert ours.utilisation == {("PCS01", "王某"): pytest.approx(98 / 610), ("PCS02", "刘某"): pytest.approx(8 / 610)}
    for other in (simulate(warnings, shifts, policy="fifo", rules=RULES, siblings=siblings, deterministic=True),
                  simulate(warnings, shifts, rules=RULES, siblings=None, deterministic=True)):
        assert (other.by_grade["high"].p95, other.helped) == (45.0, 0)
        assert other.utilisation[("PCS02", "刘某")] == 0


def test_low_grade_first_contact_by_sms_needs_no_dissuader():
    rules = replace(RULES, handling=Handling(reach_rate=1, low_sms_first_contact=True))
    warnings = [SimWarning("S1", local(1, 3), "low", "sms", "PCS01")]
    result = simulate(warnings, [Shift("PCS01", "王某", time(8), time(18))], rules=rules, deterministic=True)
    assert (result.by_grade["low"].p50, result.sms) == (1.0, 1)
    fifo = simulate(warnings, [Shift("PCS01", "王某", time(8), time(18))], policy="fifo", rules=rules,
                    deterministic=True)
    assert (fifo.by_grade["low"].p50, fifo.sms) == (302.0, 0)  # 王某 at 08:00 + 2


def _write_csv(path, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_a_bad_row_names_its_row_and_column(tmp_path):
    w = _write_csv(tmp_path / "w.csv", [["预警编号", "预警时间", "预警级别", "预警类型", "派出所"],
                                       ["YJ1", "2026-12-01 09:00", "高", "资金预警", "PCS01"],
                                       ["YJ2", "昨天下午", "", "涉诈电话", "PCS01"]])
    with pytest.raises(ValueError, match=r"^行 3：预警时间 无法识别的时间：昨天下午"):
        read_warnings(w)
    w = _write_csv(tmp_path / "w2.csv", [["预警编号", "预警时间", "预警类型", "派出所"],
                                        ["YJ1", "2026-12-01 09:00", "资金预警", ""]])
    with pytest.raises(ValueError, match=r"^行 2：派出所 为空"):
        read_warnings(w)
    w = _write_csv(tmp_path / "w3.csv", [["预警编号", "预警时间", "预警类型", "现住址"],
                                        ["YJ1", "2026-12-01 09:00", "资金预警", "中山路1号"]])
    with pytest.raises(ValueError, match="缺少“派出所”列.*--match-addresses"):
        read_warnings(w)
    s = _write_csv(tmp_path / "s.csv", [["派出所", "劝阻员", "上班", "下班"], ["PCS01", "王某", "08:00", "18:00"],
                                       ["PCS01", "李某", "8点", "18:00"]])
    with pytest.raises(ValueError, match=r"^行 3：上班 无法识别的时间“8点”"):
        read_staff(s)


def test_gbk_csv_and_xlsx_are_read(tmp_path):
    from openpyxl import Workbook

    w = _write_csv(tmp_path / "w.csv", [["预警编码", "下发时间", "风险等级", "预警类别", "转账金额", "派出所代码"],
                                       ["YJ1", "2026-12-01 09:00", "", "资金", "8000", "PCS01"],
                                       ["YJ2", "2026-12-01 09:30", "低", "短信", "12000", "PCS02"]], encoding="gbk")
    a, b = read_warnings(w)
    # 资金 → 高 by kind (见面, contact within 10 minutes); 低 raised to 中 by the amount ≥ 1万
    assert (a.id, a.grade, a.face, a.station, a.warned_at) == ("YJ1", "high", True, "PCS01", local(1, 9))
    assert a.contact_due == local(1, 9, 10) and a.amount == 8000.0
    assert (b.grade, b.face, b.contact_due) == ("medium", False, local(1, 10, 30))
    wb = Workbook()
    ws = wb.active
    ws.append(["派出所", "劝阻员", "上班", "下班", "分局"])
    ws.append(["PCS01", "王某", time(22, 0), time(6, 0), "分局1"])
    ws.append(["PCS02", "李某", "08:00", "24:00", "分局1"])
    wb.save(tmp_path / "s.xlsx")
    assert read_staff(tmp_path / "s.xlsx") == [Shift("PCS01", "王某", time(22), time(6)),
                                               Shift("PCS02", "李某", time(8), time(0))]


def test_the_command_with_json(tmp_path):
    from fanzha.cli.main import app

    w = _write_csv(tmp_path / "w.csv", [["预警编号", "预警时间", "预警级别", "预警类型", "拟转账金额", "派出所"],
                                       ["YJ1", "2026-12-01 09:00", "低", "涉诈短信", "", "PCS01"],
                                       ["YJ2", "2026-12-01 09:01", "", "涉诈电话", "", "PCS01"],
                                       ["YJ3", "2026-12-01 09:02", "", "资金预警", "80000", "PCS01"],
                                       ["YJ4", "2026-12-01 09:03", "", "涉诈电话", "", "PCS03"]])
    s = _write_csv(tmp_path / "s.csv", [["派出所", "劝阻员", "上班", "下班"], ["PCS01", "王某", "08:00", "18:00"]])
    runner = CliRunner()
    out = {}
    for policy in ("fifo", "ours"):
        r = runner.invoke(app, ["dispatch", "simulate", "--warnings", str(w), "--staff", str(s), "--policy", policy,
                                "--seed", "3", "--json"])
        assert r.exit_code == 0, r.output
        out[policy] = json.loads(r.output)
    for policy, data in out.items():
        assert data["policy"] == policy and data["warnings"] == 4
        assert {g: v["n"] for g, v in data["by_grade"].items()} == {"high": 1, "medium": 2, "low": 1}
        assert data["by_grade"]["medium"]["unreached"] == 1  # YJ4: PCS03 has nobody
        assert data["by_grade"]["medium"]["p95"] is None
        assert [u["dissuader"] for u in data["utilisation"]] == ["王某"]
    # YJ1 is taken at 09:00 under both policies and draws the same attempt time under the same seed
    assert out["fifo"]["by_grade"]["low"]["p50"] == out["ours"]["by_grade"]["low"]["p50"] > 0
    r = runner.invoke(app, ["dispatch", "simulate", "--warnings", str(w), "--staff", str(s)])
    assert r.exit_code == 0 and "平台调度策略" in r.output and "P90" in r.output
    r = runner.invoke(app, ["dispatch", "simulate", "--warnings", str(w), "--staff", str(s), "--policy", "lifo"])
    assert r.exit_code == 2 and "未知的调度策略" in r.output


def test_from_database_reads_the_demo_county(db):
    """Warnings placed at a station with their codes, a roster for each station's dissuaders, each station's 分局."""
    from sqlalchemy import func, select

    from fanzha.dispatch.simulate import from_database
    from fanzha.org.enums import Level
    from fanzha.org.models import Area
    from fanzha.warnings.models import Warning

    first, last = db.execute(select(func.min(Warning.warned_at), func.max(Warning.warned_at))).one()
    placed = db.scalar(select(func.count()).select_from(Warning).where(Warning.station_id.is_not(None)))
    warnings, shifts, siblings = from_database(db, since=first, until=last + timedelta(seconds=1),
                                               roster_day=last.date())
    assert len(warnings) == placed > 0
    stations = dict(db.execute(select(Area.code, Area.parent_id).where(Area.level == Level.STATION)).all())
    assert {w.station for w in warnings} <= set(stations)
    assert set(siblings) == set(stations)
    assert shifts and {s.station for s in shifts} <= set(stations)
    result = simulate(warnings[:300], shifts, siblings=siblings)
    assert sum(f.n for f in result.by_grade.values()) == min(300, len(warnings))


def test_a_file_without_station_codes_is_placed_by_the_address_matcher(db, tmp_path):
    """With the platform's database, 现住址 is matched to a community and so to its station, as warning import does;
    an address the standard list does not hold names its row and column."""
    from sqlalchemy import select

    from fanzha.addresses.models import StandardAddress
    from fanzha.org.models import Area
    from fanzha.warnings.dispatch import station_of_communities

    stations = station_of_communities(db)
    text, community = next((t, c) for t, c in db.execute(select(StandardAddress.text, StandardAddress.community_id)
                                                           .order_by(StandardAddress.id)) if c in stations)
    code = db.scalar(select(Area.code).where(Area.id == stations[community]))
    w = _write_csv(tmp_path / "w.csv", [["预警编号", "预警时间", "预警类型", "现住址"],
                                       ["YJ1", "2026-12-01 09:00", "资金预警", text]])
    assert [x.station for x in read_warnings(w, session=db)] == [code]
    w = _write_csv(tmp_path / "w2.csv", [["预警编号", "预警时间", "预警类型", "现住址"],
                                        ["YJ1", "2026-12-01 09:00", "资金预警", text],
                                        ["YJ2", "2026-12-01 09:05", "涉诈电话", "火星基地1号"]])
    with pytest.raises(ValueError, match=r"^行 3：现住址 无法匹配到派出所"):
        read_warnings(w, session=db)


def test_from_database_turns_the_days_roster_into_daily_shifts(db):
    """A night shift 22:00–06:00 (Beijing) on 2026-12-01 for one dissuader of a station becomes Shift(22:00, 06:00);
    once a station keeps a roster, its other dissuaders are no longer on duty all day. Rolled back afterwards."""
    from sqlalchemy import select

    from fanzha.dispatch.simulate import from_database
    from fanzha.org.enums import Level
    from fanzha.org.models import Area, User
    from fanzha.org.roles import Role
    from fanzha.warnings.models import DutyShift

    rostered = set(db.scalars(select(DutyShift.station_id).distinct()))
    station, user = next((a, u) for a, u in db.execute(
        select(Area, User).join(User, User.area_id == Area.id).where(
            Area.level == Level.STATION, User.role == Role.DISSUADER, User.is_active.is_(True)).order_by(User.id))
        if a.id not in rostered)
    day = datetime(2026, 12, 1).date()
    _, before, _ = from_database(db, since=local(1, 0), until=local(2, 0), roster_day=day)
    all_day = [s for s in before if s.station == station.code]
    assert all_day and all(s.start == s.end == time(8) for s in all_day)
    try:
        db.add(DutyShift(user_id=user.id, station_id=station.id, starts_at=local(1, 22), ends_at=local(2, 6)))
        db.flush()
        _, after, _ = from_database(db, since=local(1, 0), until=local(2, 0), roster_day=day)
    finally:
        db.rollback()
    assert [s for s in after if s.station == station.code] == [
        Shift(station.code, f"{user.display_name}（{user.username}）", time(22), time(6))]
