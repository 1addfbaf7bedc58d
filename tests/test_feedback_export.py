"""The provincial feedback file: columns in the configured order, marking what was sent, and the round trip."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from fanzha.common.timefmt import fmt_minute
from fanzha.db import session_scope
from fanzha.imports import service as imports
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings import feedback
from fanzha.warnings.models import Warning

HEADER = ["预警编号", "签收时间", "劝阻方式", "是否见面", "劝阻结果", "反馈时间", "反馈人", "反馈单位", "劝阻金额", "受骗金额", "备注"]


def _station_closed(s, username="ps01_suozhang"):
    user = s.scalar(select(User).where(User.username == username))
    scope = Scope.for_user(user)
    return scope, feedback.closed_warnings(s, scope, Warning.id > 0)


def test_export_has_the_provincial_columns_and_marks_what_was_sent():
    with session_scope() as s:
        scope, rows = _station_closed(s)
        assert rows
        data = feedback.export(s, scope, rows, fmt="xlsx")
        sheet = load_workbook(io.BytesIO(data)).active
        lines = list(sheet.iter_rows(values_only=True))
        assert list(lines[0]) == HEADER
        assert len(lines) == len(rows) + 1
        first = rows[0]
        assert lines[1][0] == first.external_id and lines[1][5] == fmt_minute(first.feedback_at)
        assert all(w.feedback_exported_at is not None for w in rows)
        s.rollback()


def test_round_trip_reproduces_the_feedback(tmp_path):
    """Export, wipe the feedback, import the file: every warning has its feedback back (to the minute) and its
    避免损失 as the metrics count it (劝阻金额: recorded, or the 拟转账金额 as an estimate — which the file cannot tell
    from a recorded amount equal to it, so such a one comes back as the estimate, the figure unchanged)."""
    from fanzha.warnings.metrics import loss_avoided_of

    with session_scope() as s:
        scope, rows = _station_closed(s)
        rows = rows[:40]
        assert {loss_avoided_of(w)[1] for w in rows if w.outcome == "dissuaded"} == {True, False}  # both kinds
        before = {w.external_id: (fmt_minute(w.signed_at), w.outcome, fmt_minute(w.feedback_at), loss_avoided_of(w)[0],
                                  w.outcome_note or "") for w in rows}
        path = tmp_path / "反馈表.csv"
        path.write_bytes(feedback.export(s, scope, rows, fmt="csv", mark=False))
        assert next(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))) == HEADER
        for w in rows:
            w.signed_at = w.feedback_at = w.outcome = w.amount_protected = None
            w.outcome_note = ""
        s.flush()
        tally = imports.run_file(s, Scope.system(s), "feedback", path)
        assert (tally.read, tally.updated, tally.rejected) == (len(rows), len(rows), 0)
        s.expire_all()
        after = {w.external_id: (fmt_minute(w.signed_at), w.outcome, fmt_minute(w.feedback_at), loss_avoided_of(w)[0],
                                 w.outcome_note or "") for w in s.scalars(select(Warning).where(
                                     Warning.external_id.in_(list(before))))}
        assert after == before
        again = imports.run_file(s, Scope.system(s), "feedback", path)
        assert (again.updated, again.duplicates) == (0, len(rows))  # importing it twice changes nothing
        s.rollback()


def test_unknown_warning_in_a_feedback_file_is_rejected_with_its_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(HEADER) + "\nNO-SUCH-ID,,,否,劝阻成功,2026-03-01 10:00,,,,,\n", encoding="utf-8")
    with session_scope() as s:
        tally = imports.run_file(s, Scope.system(s), "feedback", path)
        assert tally.rejected == 1 and tally.errors[0][0] == 2 and "NO-SUCH-ID" in tally.errors[0][2]
        s.rollback()


def test_a_defrauded_feedback_carries_the_reported_loss_until_a_case_is_filed(client_as):
    """The form sends both amounts; 已被骗 keeps only 受骗金额, which the feedback file shows until the person's case
    is filed, and the case's loss after."""
    from conftest import csrf_of
    from dissuasion_helpers import fresh_warning
    from fanzha.cases import service as cases

    with session_scope() as s:
        w = fresh_warning(s, tag="LOST", at="2026-03-05 09:00")
        wid, phone = w.id, w.phone
    client = client_as("ps01_quanzu")
    r = client.post(f"/warnings/{wid}/outcome", data={"csrf_token": csrf_of(client), "outcome": "defrauded",
                                                      "amount_protected": "95500.00", "amount_lost": "9.55万",
                                                      "note": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/warnings/{wid}").text
    assert "已反馈：已被骗" in page and "受骗金额 95,500.00 元" in page

    def loss_in_file(s) -> str:
        head = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
        sheet = load_workbook(io.BytesIO(feedback.export(s, head, [s.get(Warning, wid)], mark=False))).active
        return dict(zip(HEADER, list(sheet.iter_rows(values_only=True))[1]))["受骗金额"]

    with session_scope() as s:
        w = s.get(Warning, wid)
        assert (w.amount_lost, w.amount_protected) == (95500, None)
        assert loss_in_file(s) == "95500.00"
        officer = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_minjing")))
        cases.create(s, officer, {"案件编号": "LOST-CASE-1", "立案时间": "2026-03-06 10:00", "被骗时间": "2026-03-05 09:30",
                                  "手机号": phone, "损失金额": "120000"})
        assert loss_in_file(s) == "120000.00"
        s.rollback()


def test_an_empty_amount_with_dissuaded_stays_empty_and_a_zero_stays_zero(client_as, api_as):
    """The form sends "" for an empty 劝阻金额: nothing is recorded and the page says the 拟转账金额 counts as an
    estimate; 0 typed is 0; the API's null is nothing recorded too. The feedback file's 劝阻金额 reads the same."""
    from decimal import Decimal

    from conftest import csrf_of
    from dissuasion_helpers import fresh_warning

    with session_scope() as s:
        ids = []
        for tag in ("EMPTY", "ZERO", "NULL"):
            w = fresh_warning(s, tag=tag, at="2026-03-05 09:00", amount="95500")
            w.first_contact_at = w.dispatched_at
            ids.append(w.id)
    empty, zero, null = ids
    client = client_as("ps01_quanzu")
    form = client.get(f"/warnings/{empty}").text
    assert "劝阻金额（避免损失" in form and "不填则按拟转账金额 95,500.00 元估算" in form
    assert 'name="amount_protected" inputmode="decimal" placeholder' in form  # not filled in
    for wid, typed in ((empty, ""), (zero, "0")):
        r = client.post(f"/warnings/{wid}/outcome", data={"csrf_token": csrf_of(client), "outcome": "dissuaded",
                                                          "amount_protected": typed, "amount_lost": "", "note": ""},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    r = api_as("ps01_quanzu").post(f"/api/v1/warnings/{null}/outcome",
                                   json={"outcome": "dissuaded", "amount_protected": None})
    assert r.status_code == 200, r.text
    assert "避免损失 95,500.00 元（未填写劝阻金额，按拟转账金额估算）" in client.get(f"/warnings/{empty}").text
    assert "避免损失 0.00 元" in client.get(f"/warnings/{zero}").text
    with session_scope() as s:
        stored = {wid: s.get(Warning, wid).amount_protected for wid in ids}
        assert stored == {empty: None, zero: Decimal("0"), null: None}
        head = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
        sheet = load_workbook(io.BytesIO(feedback.export(s, head, [s.get(Warning, wid) for wid in ids],
                                                         mark=False))).active
        column = [dict(zip(HEADER, row))["劝阻金额"] for row in list(sheet.iter_rows(values_only=True))[1:]]
        assert column == ["95500.00", "0.00", "95500.00"]
        s.rollback()
