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
    """Export, wipe the feedback, import the file: every warning has its feedback back (to the minute)."""
    with session_scope() as s:
        scope, rows = _station_closed(s)
        rows = rows[:40]
        before = {w.external_id: (fmt_minute(w.signed_at), w.outcome, fmt_minute(w.feedback_at), w.amount_protected,
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
        after = {w.external_id: (fmt_minute(w.signed_at), w.outcome, fmt_minute(w.feedback_at), w.amount_protected,
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
