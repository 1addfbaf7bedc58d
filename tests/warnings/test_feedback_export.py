"""The provincial feedback file: columns in the configured order, the provincial fields against a hand-written file,
marking what was sent (首次/再次), the round trip, the API, and the fields on the contact and outcome forms."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.common.timefmt import fmt_minute
from fanzha.db import session_scope
from fanzha.dissuasion.feedback import service as feedback
from fanzha.imports import service as imports
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning

HEADER = ["预警编号", "反馈单位", "反馈时间", "联系方式", "是否接通", "未接原因", "劝阻对象", "是否被骗", "受骗金额", "劝阻金额",
          "劝阻结果", "诈骗类型", "上门情况", "处置内容", "提交类型", "备注"]
EXPECTED = Path(__file__).parents[1] / "fixtures" / "feedback_provincial_expected.csv"
BJ = ZoneInfo("Asia/Shanghai")


def _station_closed(s, username="ps01_suozhang"):
    user = s.scalar(select(User).where(User.username == username))
    scope = Scope.for_user(user)
    return scope, feedback.closed_warnings(s, scope, Warning.id > 0)


def test_export_has_the_provincial_columns_and_marks_what_was_sent():
    with session_scope() as s:
        scope, rows = _station_closed(s)
        assert rows
        sent_before = {w.id: w.feedback_submissions for w in rows}
        data = feedback.export(s, scope, rows, fmt="xlsx")
        sheet = load_workbook(io.BytesIO(data)).active
        lines = list(sheet.iter_rows(values_only=True))
        assert list(lines[0]) == HEADER
        assert len(lines) == len(rows) + 1
        first = rows[0]
        assert lines[1][0] == first.external_id and lines[1][2] == fmt_minute(first.feedback_at)
        assert all(w.feedback_exported_at is not None and w.feedback_submissions == sent_before[w.id] + 1 for w in rows)
        again = load_workbook(io.BytesIO(feedback.export(s, scope, rows[:3], fmt="xlsx", mark=False))).active
        assert {r[HEADER.index("提交类型")] for r in list(again.iter_rows(values_only=True))[1:]} == {"再次"}  # sent before: a resubmission
        s.rollback()


def test_round_trip_reproduces_the_feedback(tmp_path):
    """Export, wipe what the file carries (outcome, 自主防范/及时劝阻, 劝阻对象, feedback time, 劝阻金额, note), import the file:
    every warning's file reads the same again (its outcome from 劝阻结果 and 是否被骗) and its 避免损失 is the metrics'
    figure as before (劝阻金额: recorded, or the 拟转账金额 as an estimate — which the file cannot tell from a recorded
    amount equal to it, so such a one comes back as the estimate, the figure unchanged)."""
    from fanzha.warnings.metrics import loss_avoided_of

    with session_scope() as s:
        scope, rows = _station_closed(s)
        rows = [w for w in rows if w.outcome != "outside"][:40]
        assert {loss_avoided_of(w)[1] for w in rows if w.outcome == "dissuaded"} == {True, False}  # both kinds
        assert {w.outcome for w in rows} >= {"dissuaded", "defrauded", "unreachable"}
        avoided = {w.external_id: loss_avoided_of(w)[0] for w in rows}
        outcomes = {w.external_id: w.outcome for w in rows}
        path = tmp_path / "反馈表.csv"
        path.write_bytes(feedback.export(s, scope, rows, fmt="csv", mark=False))
        before = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert before[0] == HEADER
        for w in rows:
            w.feedback_at = w.outcome = w.amount_protected = None
            w.outcome_note = ""
            if w.feedback_detail is not None:
                w.feedback_detail.target = w.feedback_detail.success_kind = None
        s.flush()
        tally = imports.run_file(s, Scope.system(s), "feedback", path)
        assert (tally.read, tally.updated, tally.rejected) == (len(rows), len(rows), 0)
        s.expire_all()
        back = list(s.scalars(select(Warning).where(Warning.external_id.in_(list(avoided)))
                              .order_by(Warning.feedback_at)))
        assert {w.external_id: w.outcome for w in back} == outcomes
        assert {w.external_id: loss_avoided_of(w)[0] for w in back} == avoided
        after = list(csv.reader(io.StringIO(feedback.export(s, scope, rows, fmt="csv", mark=False)
                                            .decode("utf-8-sig"))))
        assert after == before
        again = imports.run_file(s, Scope.system(s), "feedback", path)
        assert (again.updated, again.duplicates) == (0, len(rows))  # importing it twice changes nothing
        s.rollback()


def test_unknown_warning_in_a_feedback_file_is_rejected_with_its_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(HEADER) + "\nNO-SUCH-ID,,2026-03-01 10:00,电话,是,,本人,否,,,及时劝阻,,,,首次,\n",
                    encoding="utf-8")
    with session_scope() as s:
        tally = imports.run_file(s, Scope.system(s), "feedback", path)
        assert tally.rejected == 1 and tally.errors[0][0] == 2 and "NO-SUCH-ID" in tally.errors[0][2]
        s.rollback()


def test_a_defrauded_feedback_carries_the_reported_loss_until_a_case_is_filed(client_as):
    """The form sends both amounts; 已被骗 keeps only 受骗金额, which the feedback file shows until the person's case
    is filed, and the case's loss after."""
    from fanzha.cases import service as cases
    from support.dissuasion import fresh_warning
    from support.web import csrf_of

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
        return dict(zip(HEADER, list(sheet.iter_rows(values_only=True))[1], strict=False))["受骗金额"]

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

    from support.dissuasion import fresh_warning
    from support.web import csrf_of

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
        column = [dict(zip(HEADER, row, strict=False))["劝阻金额"] for row in list(sheet.iter_rows(values_only=True))[1:]]
        assert column == ["95500.00", "0.00", "95500.00"]
        s.rollback()


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BJ)


def _hand_made(s) -> list[Warning]:
    """Four warnings of 5 March 2026 at 中山东派出所 (ps01), worked through the service as a dissuader would:
    1 张某 — a call unanswered (关机), a call answered, a 见面 with evidence; 劝阻成功 as 自主防范 with 95,500 recorded
      and a note (备注).
    2 — two calls unanswered (无人接听, then 关机); 无法联系.
    3 — an SMS read, a call refused; 已被骗 with 30,000 lost, 劝阻对象 chosen 亲友; sent up once before.
    4 — only his daughter reached (联系家属), a 上门走访 that found nobody; 劝阻成功 with nothing chosen or recorded."""
    from fanzha.dissuasion import service as dissuasion
    from fanzha.warnings.service import ingest_rows

    user = s.scalar(select(User).where(User.username == "ps01_quanzu"))
    scope = Scope.for_user(user)
    address = s.scalar(select(StandardAddress.text).where(scope.community_clause(StandardAddress.community_id))
                       .order_by(StandardAddress.id))
    made = []
    for n, kind, amount, fraud in ((1, "资金预警", "95500", "虚假网络投资理财"), (2, "涉诈电话", "", ""),
                                   (3, "资金预警", "50000", "冒充公检法及政府机关"), (4, "资金预警", "20000", "刷单返利")):
        row = {"预警编号": f"FBHAND-{n}", "预警类型": kind, "预警时间": "2026-03-05 09:00", "姓名": "张某",
               "手机号": f"1397775000{n}", "现住址": address, "拟转账金额": amount, "涉诈类型": fraud}
        tally = ingest_rows(s, Scope.system(s), [(1, row)])
        assert tally.created == 1, tally.errors
        w = s.scalar(select(Warning).where(Warning.external_id == f"FBHAND-{n}"))
        w.assignee_id, w.status, w.dispatched_at = user.id, "assigned", _at("2026-03-05 09:01")
        made.append(w)
    s.flush()
    one, two, three, four = (w.id for w in made)

    def contact(wid, at, channel, result, **kw):
        dissuasion.add_contact(s, scope, wid, channel=channel, result=result, now=_at(f"2026-03-05 {at}"), **kw)

    contact(one, "09:10", "phone", "not_reached", no_answer_reason="powered_off")
    contact(one, "09:20", "phone", "reached")
    contact(one, "09:50", "face_to_face", "reached",
            evidence=dissuasion.Evidence(location="幸福小区3栋门口", notice_signed=True))
    dissuasion.set_outcome(s, scope, one, outcome="dissuaded", success_kind="self_guarded",
                           amount_protected=Decimal("95500"), note="对象已卸载涉诈APP", now=_at("2026-03-05 10:30"))
    contact(two, "09:05", "phone", "not_reached", no_answer_reason="no_answer")
    contact(two, "09:15", "phone", "not_reached", no_answer_reason="powered_off")
    dissuasion.set_outcome(s, scope, two, outcome="unreachable", now=_at("2026-03-05 11:00"))
    contact(three, "09:30", "sms", "reached")
    contact(three, "09:40", "phone", "refused")
    dissuasion.set_outcome(s, scope, three, outcome="defrauded", amount_lost=Decimal("30000"), target="family",
                           now=_at("2026-03-05 12:00"))
    daughter = dissuasion.add_family(s, scope, made[3].person_id, name="李某", relation="女儿", phone="13977750099")
    contact(four, "09:10", "family", "reached", family_contact_id=daughter.id)
    contact(four, "09:30", "visit", "not_reached", evidence=dissuasion.Evidence(location="城南村5组"))
    dissuasion.set_outcome(s, scope, four, outcome="dissuaded", now=_at("2026-03-05 10:00"))
    s.flush()
    return made


def test_the_provincial_columns_match_a_hand_written_file():
    """The default template's columns for four hand-made warnings, cell by cell against
    tests/fixtures/feedback_provincial_expected.csv, written by hand from the story in _hand_made: 联系方式 in the
    provincial four (联系家属 is a call, 上门走访 is 上门), 是否接通 from the calls (a refusal was answered), 未接原因 of
    the last unanswered call, 劝阻对象 as chosen or from who was reached, 劝阻结果 自主防范/及时劝阻 (none chosen:
    及时劝阻)/劝阻无效, 劝阻金额 recorded or the 拟转账金额, and warning 3, sent up once before, as 再次."""
    with session_scope() as s:
        made = _hand_made(s)
        head = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
        feedback.export(s, head, [made[2]], fmt="csv")  # warning 3 sent up
        got = list(csv.reader(io.StringIO(feedback.export(s, head, made, fmt="csv", mark=False).decode("utf-8-sig"))))
        expected = list(csv.reader(io.StringIO(EXPECTED.read_text(encoding="utf-8"))))
        assert got[0] == expected[0] == HEADER
        for got_row, expected_row in zip(got[1:], expected[1:], strict=True):
            assert dict(zip(HEADER, got_row, strict=False)) == dict(zip(HEADER, expected_row, strict=False))
        s.rollback()


def test_a_template_the_centre_edits_sets_the_columns(tmp_path):
    """A copy of the template with fewer columns, renamed and reordered, gives exactly those; an unknown field or a
    template without 预警编号 is refused with the reason."""
    import pytest

    mine = tmp_path / "省厅反馈.toml"
    mine.write_text('columns = [["编号", "external_id"], ["提交", "submission"], ["接通", "reached"], '
                    '["结果", "result"]]\n', encoding="utf-8")
    cols = feedback.columns(mine)
    assert cols == [("编号", "external_id"), ("提交", "submission"), ("接通", "reached"), ("结果", "result")]
    with session_scope() as s:
        made = _hand_made(s)
        head = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
        got = list(csv.reader(io.StringIO(feedback.export(s, head, made[:2], fmt="csv", mark=False, cols=cols)
                                          .decode("utf-8-sig"))))
        assert got == [["编号", "提交", "接通", "结果"], ["FBHAND-1", "首次", "是", "自主防范"], ["FBHAND-2", "首次", "否", ""]]
        s.rollback()
    bad = tmp_path / "bad.toml"
    bad.write_text('columns = [["编号", "external_id"], ["接通", "answered"]]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="不认识的字段"):
        feedback.columns(bad)
    bad.write_text('columns = [["接通", "reached"]]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="预警编号"):
        feedback.columns(bad)


def test_the_api_gives_the_feedback_scoped_audited_and_marks_only_when_sent(api_as):
    """GET /api/v1/feedback: the template's columns and the rows of the warnings fed back in the period that the user
    sees, marking nothing; POST marks them sent (so the next is 再次) and needs 导入预警 (the centre); another
    station sees none of ps01's; a dissuader (no export_personal) is refused; each answer is in the audit log."""
    from fanzha.trail.models import AuditEntry

    with session_scope() as s:
        _hand_made(s)  # committed: the API reads it
    try:
        head = api_as("ps01_suozhang")
        r = head.get("/api/v1/feedback", params={"since": "2026-03-05", "until": "2026-03-05"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [c["header"] for c in body["columns"]] == HEADER and body["marked"] is False
        mine = {i["external_id"]: i for i in body["items"] if i["external_id"].startswith("FBHAND-")}
        assert set(mine) == {f"FBHAND-{n}" for n in range(1, 5)}
        assert (mine["FBHAND-2"]["reached"], mine["FBHAND-2"]["no_answer_reason"]) == ("否", "关机")
        assert {i["submission"] for i in mine.values()} == {"首次"}
        other = api_as("ps02_suozhang").get("/api/v1/feedback", params={"since": "2026-03-05", "until": "2026-03-05"})
        assert other.status_code == 200 and not [i for i in other.json()["items"]
                                                 if i["external_id"].startswith("FBHAND-")]
        assert api_as("ps01_quanzu").get("/api/v1/feedback").status_code == 403
        assert "日期格式应为" in head.get("/api/v1/feedback", params={"since": "2026-02-30"}).text
        assert head.get("/api/v1/feedback", params={"area_id": 10**15}).status_code == 422
        assert api_as("yanpan").post("/api/v1/feedback", json={"area_id": 10**15}).status_code == 422
        assert head.post("/api/v1/feedback", json={"since": "2026-03-05", "until": "2026-03-05"}).status_code == 403
        sent = api_as("yanpan").post("/api/v1/feedback", json={"since": "2026-03-05", "until": "2026-03-05"})
        assert sent.status_code == 200, sent.text
        assert {i["submission"] for i in sent.json()["items"] if i["external_id"].startswith("FBHAND-")} == {"首次"}
        again = head.get("/api/v1/feedback", params={"since": "2026-03-05", "until": "2026-03-05", "only_new": True})
        assert not [i for i in again.json()["items"] if i["external_id"].startswith("FBHAND-")]
        later = head.get("/api/v1/feedback", params={"since": "2026-03-05", "until": "2026-03-05"}).json()["items"]
        assert {i["submission"] for i in later if i["external_id"].startswith("FBHAND-")} == {"再次"}
        with session_scope() as s:
            logged = s.scalars(select(AuditEntry).where(AuditEntry.entity == "feedback")
                               .order_by(AuditEntry.id.desc()).limit(5)).all()
            assert [e.detail.get("marked") for e in logged][:2] == [False, False] and True in [
                e.detail.get("marked") for e in logged]
    finally:
        with session_scope() as s:
            for w in s.scalars(select(Warning).where(Warning.external_id.like("FBHAND-%"))):
                s.delete(w)


def test_the_forms_record_the_provincial_fields_and_refuse_unknown_values(client_as):
    """The warning page's own forms, submitted as a browser does: 未接原因 with an unanswered call, 劝阻成功方式 and
    劝阻对象 with the outcome (through the confirmation step), each on the timeline and the page; a value not in
    the list is answered in Chinese on the warning page (422 with the page, not JSON)."""
    from fanzha.dissuasion.models import Contact
    from support.dissuasion import fresh_warning
    from support.forms import Forms
    from support.web import csrf_of

    with session_scope() as s:
        wid = fresh_warning(s, tag="PROV", at="2026-03-05 09:00").id
    client = client_as("ps01_quanzu")
    page = client.get(f"/warnings/{wid}").text
    forms = Forms()
    forms.feed(page)
    contact_form = next(f for f in forms.forms if f["action"].endswith("/contacts"))
    assert {"no_answer_reason"} <= {s["name"] for s in contact_form["selects"]}
    assert "未接原因（电话未接通时选）" in page and ">停机/空号<" in page
    token = csrf_of(client)
    r = client.post(f"/warnings/{wid}/contacts", data={"csrf_token": token, "channel": "phone",
                                                       "result": "not_reached", "no_answer_reason": "sleeping"},
                    follow_redirects=False)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert "未接原因应为 关机、停机/空号、无人接听、拒接、其他 之一" in r.text
    for result, reason in (("not_reached", "out_of_service"), ("reached", "no_answer")):
        r = client.post(f"/warnings/{wid}/contacts", data={"csrf_token": token, "channel": "phone", "result": result,
                                                           "no_answer_reason": reason}, follow_redirects=False)
        assert r.status_code == 303, r.text
    with session_scope() as s:
        stored = [c.no_answer_reason for c in s.scalars(select(Contact).where(Contact.warning_id == wid)
                                                          .order_by(Contact.id))]
        assert stored == ["out_of_service", None]  # a reached call keeps no 未接原因
    assert "电话：未接通/未见到（停机/空号）" in client.get(f"/warnings/{wid}").text
    r = client.post(f"/warnings/{wid}/outcome/confirm", data={"csrf_token": token, "outcome": "dissuaded",
                                                              "success_kind": "lucky", "target": "", "note": "",
                                                              "amount_protected": "", "amount_lost": ""})
    assert r.status_code == 422 and "劝阻成功的方式应为 自主防范、及时劝阻 之一" in r.text
    r = client.post(f"/warnings/{wid}/outcome/confirm", data={"csrf_token": token, "outcome": "dissuaded",
                                                              "success_kind": "self_guarded", "target": "family",
                                                              "note": "", "amount_protected": "", "amount_lost": ""})
    assert r.status_code == 200 and "劝阻成功方式：自主防范" in r.text and "劝阻对象：亲友" in r.text
    confirm = Forms()
    confirm.feed(r.text)
    final = next(f for f in confirm.forms if f["action"].endswith("/outcome"))
    sent = dict(final["fields"])
    assert (sent["success_kind"], sent["target"]) == ("self_guarded", "family")
    r = client.post(final["action"], data=sent, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/warnings/{wid}").text
    assert "已反馈：劝阻成功·自主防范" in page and "劝阻对象 亲友" in page
    with session_scope() as s:
        w = s.get(Warning, wid)
        assert (w.outcome, w.success_kind, w.feedback_target) == ("dissuaded", "self_guarded", "family")


def test_feedback_changed_after_it_was_sent_goes_up_again_as_a_resubmission(tmp_path):
    """Warning 3 was sent up; a corrected file (its 备注 and 劝阻对象 changed) imported: it is among the unsent again
    (只含未上报) and its row says 再次; warning 2, sent and unchanged, stays sent."""
    with session_scope() as s:
        made = _hand_made(s)
        head = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_suozhang")))
        feedback.export(s, head, made[1:3], fmt="csv")
        rows = list(csv.reader(io.StringIO(feedback.export(s, head, made[1:3], fmt="csv", mark=False)
                                           .decode("utf-8-sig"))))
        rows[2][HEADER.index("劝阻对象")], rows[2][HEADER.index("备注")] = "本人", "已报警"
        path = tmp_path / "更正.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        tally = imports.run_file(s, Scope.system(s), "feedback", path)
        assert (tally.updated, tally.duplicates) == (1, 1)
        s.expire_all()
        three = s.get(Warning, made[2].id)
        assert (three.feedback_target, three.outcome_note, three.feedback_exported_at) == ("self", "已报警", None)
        unsent = feedback.fed_back_in(s, head, None, _at("2026-03-05 00:00"), _at("2026-03-06 00:00"), only_new=True)
        assert made[2].id in [w.id for w in unsent] and made[1].id not in [w.id for w in unsent]
        again = list(csv.reader(io.StringIO(feedback.export(s, head, [three], fmt="csv", mark=False)
                                            .decode("utf-8-sig"))))
        assert again[1][HEADER.index("提交类型")] == "再次"
        s.rollback()
