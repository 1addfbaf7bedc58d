"""移交审核 (issue 28, item 3): a 移交 waits for the receiving station, which returns it with a reason or accepts it;
both steps are on the timeline with their times, the deadlines keep running, another station sees nothing, and a
person outside the platform's area closes the warning as 已移交外地 — counted as such, not as dissuaded. Through the
real pages and the forms as the browser reads them, and through /api/v1."""

from __future__ import annotations

import re

from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.dissuasion.transfers.models import WarningTransfer
from fanzha.org.models import User
from fanzha.warnings import metrics
from fanzha.warnings.models import Warning
from support.dissuasion import fresh_warning
from support.forms import default_values, parse
from support.web import csrf_of


def _held(tag: str) -> int:
    with session_scope() as s:
        return fresh_warning(s, station_user="ps01_quanzu", tag=tag).id


def _user(db, name: str) -> User:
    return db.scalar(select(User).where(User.username == name))


def _form(page_html: str, form_id_or_action: str) -> dict:
    forms = parse(page_html).forms
    return next(f for f in forms if f["action"].endswith(form_id_or_action))


def _send(client, form: dict, **values):
    data: dict[str, list[str]] = {}
    for k, v in default_values(form):
        data.setdefault(k, []).append(values.get(k, v))
    return client.post(form["action"], data=data)


def _deadlines(w: Warning) -> tuple:
    return w.sign_deadline, w.contact_deadline, w.face_deadline, w.feedback_deadline


def _pending_id(db, wid: int) -> int:
    db.expire_all()
    return db.scalar(select(WarningTransfer.id).where(WarningTransfer.warning_id == wid,
                                                      WarningTransfer.status == "pending"))


def _ask_transfer(client, wid: int, station_id: int, reason: str):
    page = client.get(f"/warnings/{wid}")
    form = next(f for f in parse(page.text).forms if f["action"] == f"/warnings/{wid}/transfer/confirm"
                and any(s["name"] == "station_id" for s in f["selects"]))
    asked = _send(client, form, station_id=str(station_id), reason=reason)
    assert asked.status_code == 200 and "确认移交？" in asked.text, asked.text[:500]
    done = _confirm(client, asked.text, "confirm-transfer-form")
    assert done.status_code == 200 and "已申请移交至" in done.text
    return done


def _confirm(client, page_html: str, form_id: str):
    """Presses the confirmation's button (its form found by id) as the browser sends it, and follows the answer."""
    block = re.search(rf'<form method="post" action="([^"]+)"[^>]*id="{form_id}"', page_html)
    form = next(f for f in parse(page_html).forms if f["action"] == block.group(1))
    data: dict[str, list[str]] = {}
    for k, v in default_values(form):
        data.setdefault(k, []).append(v)
    return client.post(form["action"], data=data, follow_redirects=True)


def test_returned_then_accepted_on_the_timeline_with_the_clock_running(client_as, db):
    wid = _held("TR")
    ps02 = _user(db, "ps02_suozhang").area
    w = db.get(Warning, wid)
    ext, before = w.external_id, _deadlines(w)
    sender = client_as("ps01_suozhang")
    page = _ask_transfer(sender, wid, ps02.id, "对象实际居住在乙辖区")
    assert "移交待审" in page.text
    tid = _pending_id(db, wid)
    # A second 移交 while one waits is refused (the form is gone; the route says why).
    again = sender.post(f"/warnings/{wid}/transfer/confirm",
                        data={"csrf_token": csrf_of(sender), "station_id": ps02.id, "reason": "再次"})
    assert again.status_code == 409 and "已有待接收的移交" in again.text
    # The sender cannot answer its own; a third station sees nothing of it.
    assert sender.post(f"/transfers/{tid}/accept", data={"csrf_token": csrf_of(sender)}).status_code == 404
    other = client_as("ps03_suozhang")
    assert ext not in other.get("/transfers").text
    for path in (f"/transfers/{tid}/accept/confirm", f"/transfers/{tid}/accept", f"/transfers/{tid}/return"):
        assert other.post(path, data={"csrf_token": csrf_of(other), "answer": "x"}).status_code == 404
    assert other.get(f"/warnings/{wid}").status_code == 404

    receiver = client_as("ps02_suozhang")
    board = receiver.get("/warnings")
    link = next(href for href, text in parse(board.text).links if text.startswith("待接收移交"))
    listing = receiver.get(link)
    assert ext in listing.text and w.phone not in listing.text and w.phone[:3] in listing.text  # masked
    # 退回 needs its reason: the empty form is refused, with nothing changed.
    form = _form(listing.text, f"/transfers/{tid}/return/confirm")
    empty = _send(receiver, form)
    assert empty.status_code == 422 and "请填写退回原因" in empty.text
    asked = _send(receiver, form, answer="经核实对象仍居住在原辖区")
    assert asked.status_code == 200 and "确认退回？" in asked.text
    done = _confirm(receiver, asked.text, "confirm-return-form")
    assert f"已退回预警 {ext}：经核实对象仍居住在原辖区" in done.text
    db.expire_all()
    w = db.get(Warning, wid)
    assert w.station_id == _user(db, "ps01_suozhang").area_id and _deadlines(w) == before
    timeline = sender.get(f"/warnings/{wid}").text
    assert f"申请移交至{ps02.label}：对象实际居住在乙辖区" in timeline
    assert f"{ps02.label}退回移交：经核实对象仍居住在原辖区" in timeline
    assert re.search(r"\d{2}:\d{2}</span> [^<]*退回移交", timeline)  # with its time
    bell = client_as("ps01_suozhang").get("/notifications").text
    assert "移交被退回" in bell

    # Asked again, accepted: the warning is now ps02's, assigned there, its deadlines unchanged.
    _ask_transfer(sender, wid, ps02.id, "对象租住在乙辖区，已核实")
    tid = _pending_id(db, wid)
    listing = receiver.get("/transfers")
    asked = receiver.post(_form(listing.text, f"/transfers/{tid}/accept/confirm")["action"],
                          data={"csrf_token": csrf_of(receiver)})
    assert asked.status_code == 200 and "确认接收？" in asked.text
    done = _confirm(receiver, asked.text, "confirm-accept-form")
    assert f"已接收预警 {ext}" in done.text
    db.expire_all()
    w = db.get(Warning, wid)
    assert w.station_id == ps02.id and _deadlines(w) == before
    assert w.assignee_id is not None and db.get(User, w.assignee_id).area.path.startswith(ps02.path)
    page = receiver.get(f"/warnings/{wid}").text
    assert f"{ps02.label}接收移交" in page and "退回移交" in page
    assert sender.get(f"/warnings/{wid}").status_code == 404  # gone from the sender
    assert receiver.post(f"/transfers/{tid}/accept", data={"csrf_token": csrf_of(receiver)}).status_code == 409


def test_outside_the_area_closes_as_handed_over_and_counts_as_such(client_as, db):
    wid = _held("TO")
    sender = client_as("ps01_suozhang")
    form = _form(sender.get(f"/warnings/{wid}").text, "/transfer/confirm")
    outside = next(f for f in parse(sender.get(f"/warnings/{wid}").text).forms
                   if f["action"].endswith("/transfer/confirm") and "unit" in f["inputs"])
    assert form is not None
    asked = _send(sender, outside, unit="某省某市公安局某分局反诈中心", reason="对象常住外省")
    assert asked.status_code == 200 and "确认移交外地？" in asked.text
    done = _confirm(sender, asked.text, "confirm-transfer-form")
    assert "已移交外地，预警已结案" in done.text and "已反馈：已移交外地" in done.text
    assert "某省某市公安局某分局反诈中心" in done.text
    db.expire_all()
    w = db.get(Warning, wid)
    assert w.outcome == "outside" and w.feedback_at is not None
    num, den = metrics.conditions("success_rate", w.feedback_at)
    assert db.scalar(select(Warning.id).where(Warning.id == wid, den)) is None  # not in 劝阻成功率 at all
    # The outcome form never offers it: it is reached only by 移交外地.
    other = _held("TP")
    page = client_as("ps01_quanzu").get(f"/warnings/{other}").text
    assert 'value="outside"' not in page


def test_the_api_twins(api_as, db):
    wid = _held("TA")
    ps02 = _user(db, "ps02_suozhang").area
    sender, receiver, other = api_as("ps01_suozhang"), api_as("ps02_suozhang"), api_as("ps03_suozhang")
    r = sender.post(f"/api/v1/warnings/{wid}/transfers", json={"station_id": ps02.id, "reason": "对象居住在乙辖区"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    tid = r.json()["id"]
    assert sender.post(f"/api/v1/warnings/{wid}/transfers",
                       json={"station_id": ps02.id, "reason": "再次"}).status_code == 409
    assert tid in [t["id"] for t in sender.get("/api/v1/transfers").json()["outgoing"]]
    mine = receiver.get("/api/v1/transfers").json()["incoming"]
    assert tid in [t["id"] for t in mine] and db.get(Warning, wid).phone not in str(mine)
    assert tid not in [t["id"] for t in other.get("/api/v1/transfers").json()["incoming"]]
    assert other.post(f"/api/v1/transfers/{tid}/accept").status_code == 404
    assert sender.post(f"/api/v1/transfers/{tid}/accept").status_code == 404
    assert receiver.post(f"/api/v1/transfers/{tid}/return", json={"answer": ""}).status_code == 422
    r = receiver.post(f"/api/v1/transfers/{tid}/return", json={"answer": "对象仍在原辖区"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    tid = sender.post(f"/api/v1/warnings/{wid}/transfers", json={"station_id": ps02.id, "reason": "已核实"}).json()["id"]
    r = receiver.post(f"/api/v1/transfers/{tid}/accept")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    steps = [s["text"] for s in receiver.get(f"/api/v1/warnings/{wid}/timeline").json()]
    assert any("退回移交：对象仍在原辖区" in s for s in steps) and any("接收移交" in s for s in steps)


def test_the_holder_sees_a_transfer_waiting(client_as, api_as, db):
    wid = _held("TW")
    ps02 = _user(db, "ps02_suozhang").area
    api_as("ps01_suozhang").post(f"/api/v1/warnings/{wid}/transfers", json={"station_id": ps02.id, "reason": "外辖区"})
    page = client_as("ps01_quanzu").get(f"/warnings/{wid}")
    assert page.status_code == 200 and f"移交待审：已申请移交至{ps02.label}" in page.text
