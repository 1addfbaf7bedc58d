"""The warning page as the dissuader's phone uses it, driven through its own form HTML as a browser sends it: the
summary first, no full number in the page, 拨打 as an audited reveal, a 见面 without evidence asked about before it
is saved, typed values kept after a refusal, no preselected outcome, closing confirmed and the next task offered; and
a photo's capture time and the phone's position on the evidence."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.dissuasion.models import Contact
from fanzha.trail.models import AuditEntry
from fanzha.warnings.models import Warning
from support.dissuasion import fresh_warning
from support.forms import default_values, multipart, parse
from support.web import csrf_of


def _warning(tag: str, *, contacted: bool = False) -> tuple[int, str]:
    """A 资金预警 for 张某某 held by ps01_quanzu, 拟转账金额 95,500 元; optionally already contacted by phone."""
    with session_scope() as s:
        w = fresh_warning(s, tag=tag, at="2026-03-05 09:00")
        w.name = "张伟强"
        if contacted:
            w.signed_at = w.first_contact_at = w.dispatched_at
        return w.id, w.phone


def _form(html: str, form_id: str) -> dict:
    """The form with this id, read from the page as a browser reads it."""
    marker = f'id="{form_id}"'
    start = html.rindex("<form", 0, html.index(marker))
    [form] = parse(html[start:html.index("</form>", start) + len("</form>")]).forms
    return form


def _set(values: list[tuple[str, str]], **changes: str | list[str]) -> list[tuple[str, str]]:
    """The form's values with some fields replaced (a list value gives a field sent several times)."""
    out = [(k, v) for k, v in values if k not in changes]
    for k, v in changes.items():
        out += [(k, x) for x in (v if isinstance(v, list) else [v])]
    return out


def _send_contact(client, wid: int, values, photo: tuple[str, bytes, str] | None = None):
    body, kind = multipart(values, [("photo", photo or ("", b"", "application/octet-stream"))])
    return client.post(f"/warnings/{wid}/contacts", content=body, headers={"Content-Type": kind},
                        follow_redirects=False)


def _jpeg_taken(when: str) -> bytes:
    """A small JPEG whose EXIF says it was taken at `when` (camera local time, no offset)."""
    from PIL import Image

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_page_opens_with_the_summary_and_never_carries_the_full_number(client_as):
    wid, phone = _warning("WPS")
    html = client_as("ps01_quanzu").get(f"/warnings/{wid}").text
    with session_scope() as s:
        sign_deadline = s.get(Warning, wid).sign_deadline
    summary = html.index('id="summary"')
    assert summary < html.index('id="call-actions"') < html.index('id="contact-form"') < html.index('id="outcome-form"')
    assert summary < html.index("<h2>处置</h2>")
    head = html[summary:html.index("</section>", summary)]
    assert "张某某" in head and "张伟强" not in head  # masked name (the 预警对象 card below shows it whole)
    assert phone[:3] + "****" + phone[-4:] in head
    assert "资金" in head and "95,500.00 元" in head
    # Nothing was done: the countdown counts to 签收, and the server's own text already says it is late.
    assert f'data-deadline="{sign_deadline.isoformat()}"' in head and "签收时限" in head and "已超时" in head
    assert phone not in html
    bar = html[html.index('id="next-step"'):]
    assert 'id="sign"' in bar and ">签收</button>" in bar


def test_calling_fetches_the_number_as_an_audited_reveal(client_as, db):
    from support.forms import roles_users

    wid, phone = _warning("WPC")
    client = client_as("ps01_quanzu")
    sign = _form(client.get(f"/warnings/{wid}").text, "sign")  # the bar's first step
    assert client.post(sign["action"], data=dict(default_values(sign)), follow_redirects=False).status_code == 303
    html = client.get(f"/warnings/{wid}").text
    assert 'id="call-next"' in html[html.index('id="next-step"'):]  # then 拨打
    form = _form(html, "call")
    assert form["action"] == f"/warnings/{wid}/call" and phone not in str(form)
    r = client.post(form["action"], data=dict(default_values(form)), headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json() == {"tel": phone, "label": "预警对象"}
    assert r.headers["cache-control"] == "no-store"
    entries = db.scalars(select(AuditEntry).where(AuditEntry.entity == "warning", AuditEntry.entity_id == str(wid),
                                                  AuditEntry.action == "reveal")).all()
    assert [(e.username, e.fields, e.detail) for e in entries] == [("ps01_quanzu", ["phone"], {"purpose": "call"})]
    # Without script the same form brings the page back with the number as a tel: link.
    page = client.post(form["action"], data=dict(default_values(form))).text
    assert f'href="tel:{phone}"' in page and 'id="to-contact"' in page  # the bar moves on to 登记联系
    assert client.post(form["action"], data={}).status_code == 403  # no CSRF token, no number
    auditor = client_as(roles_users(db)["auditor"])
    assert phone not in auditor.get(f"/warnings/{wid}").text
    assert auditor.post(form["action"], data={"csrf_token": csrf_of(auditor)}).status_code == 403


def test_a_face_to_face_without_evidence_is_asked_about_before_it_is_saved(client_as, db):
    wid, _ = _warning("WPE")
    client = client_as("ps01_quanzu")
    form = _form(client.get(f"/warnings/{wid}").text, "contact-form")
    values = _set(default_values(form), channel="face_to_face", result="reached", note="上门讲解冒充客服退款手法",
                  checklist=["look_transfers", "ask_why"])
    r = _send_contact(client, wid, values)
    assert r.status_code == 200
    assert "这次见面没有现场照片，没有位置，也没有签字告知书" in r.text and "不计入见面劝阻率" in r.text
    assert db.scalars(select(Contact).where(Contact.warning_id == wid)).all() == []  # nothing saved yet
    again = _form(r.text, "contact-form")
    assert "confirm_uncounted" in again["inputs"] and "已保存" not in r.text
    kept = default_values(again)
    assert ("note", "上门讲解冒充客服退款手法") in kept and ("channel", "face_to_face") in kept
    assert ("checklist", "look_transfers") in kept and ("checklist", "ask_why") in kept
    # Pressing save again without ticking 仍然保存 asks again; ticking it saves, and the page says it will not count.
    assert "仍然保存" in _send_contact(client, wid, kept).text
    r = _send_contact(client, wid, kept + [("confirm_uncounted", "on")])
    assert r.status_code == 303, r.text
    db.expire_all()
    [contact] = db.scalars(select(Contact).where(Contact.warning_id == wid)).all()
    assert (contact.channel, contact.counts_as_face, contact.checklist) == ("face_to_face", False,
                                                                          ["look_transfers", "ask_why"])
    page = client.get(r.headers["location"]).text
    assert "不计入见面劝阻率" in page and "已保存。" not in page
    # A 见面 with a place typed in needs no question and counts.
    r = _send_contact(client, wid, _set(kept, location="幸福小区3栋门口"))
    assert r.status_code == 303
    db.expire_all()
    assert [c.counts_as_face for c in db.scalars(select(Contact).where(Contact.warning_id == wid)
                                                 .order_by(Contact.id))] == [False, True]


def test_a_rejected_photo_keeps_every_other_field(client_as, db):
    wid, _ = _warning("WPR")
    client = client_as("ps01_quanzu")
    form = _form(client.get(f"/warnings/{wid}").text, "contact-form")
    values = _set(default_values(form), channel="visit", result="reached", note="对象在家，已停止转账",
                  location="幸福小区3栋", notice_signed="on", checklist=["look_calls", "protect"])
    r = _send_contact(client, wid, values, ("现场.gif", b"GIF89a not a photo we keep", "image/gif"))
    assert r.status_code == 422
    assert "照片应为 JPG、PNG 或 WEBP 图片" in r.text and "照片需重新选择" in r.text
    kept = default_values(_form(r.text, "contact-form"))
    for field in [("channel", "visit"), ("result", "reached"), ("note", "对象在家，已停止转账"),
                  ("location", "幸福小区3栋"), ("notice_signed", "on"), ("checklist", "look_calls"),
                  ("checklist", "protect")]:
        assert field in kept, field
    assert ("checklist", "look_apps") not in kept
    assert db.scalars(select(Contact).where(Contact.warning_id == wid)).all() == []


def test_a_bad_amount_keeps_the_outcome_form_and_nothing_is_preselected(client_as, db):
    wid, _ = _warning("WPA", contacted=True)
    client = client_as("ps01_quanzu")
    form = _form(client.get(f"/warnings/{wid}").text, "outcome-form")
    [outcome] = [s for s in form["selects"] if s["name"] == "outcome"]
    assert outcome["selected"] is None and outcome["options"][0]["value"] == ""  # 请选择, nothing chosen
    assert "outcome" in form["required"] and ("amount_protected", "") in default_values(form)
    # Pressed untouched (a browser would stop at `required`): refused, nothing closed.
    r = client.post(form["action"], data=dict(default_values(form)))
    assert r.status_code == 422 and "请选择劝阻结果" in r.text
    r = client.post(form["action"], data=dict(_set(default_values(form), outcome="dissuaded",
                                                   amount_protected="九万五", note="已劝阻，对象未转账")))
    assert r.status_code == 422
    kept = _form(r.text, "outcome-form")
    assert [s["selected"]["value"] for s in kept["selects"] if s["name"] == "outcome"] == ["dissuaded"]
    assert ("amount_protected", "九万五") in default_values(kept) and ("note", "已劝阻，对象未转账") in default_values(kept)
    assert db.get(Warning, wid).feedback_at is None


def test_closing_asks_for_confirmation_then_offers_the_next_task(client_as, db):
    wid, _ = _warning("WPF", contacted=True)
    client = client_as("ps01_quanzu")
    form = _form(client.get(f"/warnings/{wid}").text, "outcome-form")
    assert form["action"] == f"/warnings/{wid}/outcome/confirm"
    r = client.post(form["action"], data=dict(_set(default_values(form), outcome="dissuaded", note="对象未转账")))
    assert r.status_code == 200 and "确认反馈并结案？" in r.text
    assert "劝阻金额：未填写，按拟转账金额估算" in r.text
    db.expire_all()
    assert db.get(Warning, wid).feedback_at is None  # asking closed nothing
    confirm = _form(r.text, "confirm-close-form")
    assert confirm["action"] == f"/warnings/{wid}/outcome"
    assert dict(default_values(confirm)) | {"csrf_token": ""} == {
        "csrf_token": "", "outcome": "dissuaded", "amount_protected": "", "amount_lost": "", "note": "对象未转账",
        "target": "", "success_kind": ""}
    r = client.post(confirm["action"], data=dict(default_values(confirm)), follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    w = db.get(Warning, wid)
    assert (w.outcome, w.amount_protected, w.outcome_note) == ("dissuaded", None, "对象未转账")
    page = client.get(r.headers["location"]).text
    assert "已反馈：劝阻成功" in page and 'href="/tasks" id="next-task"' in page and 'id="outcome-form"' not in page


def test_a_photo_keeps_its_capture_time_and_the_phone_its_place(client_as, db):
    wid, _ = _warning("WPX")
    client = client_as("ps01_quanzu")
    values = _set(default_values(_form(client.get(f"/warnings/{wid}").text, "contact-form")),
                  channel="face_to_face", result="reached", latitude="30.650123", longitude="104.065210",
                  accuracy="25")
    r = _send_contact(client, wid, values, ("现场.jpg", _jpeg_taken("2026:03:05 09:41:07"), "image/jpeg"))
    assert r.status_code == 303, r.text
    [c] = db.scalars(select(Contact).where(Contact.warning_id == wid)).all()
    # 09:41:07 on the phone in Beijing is 01:41:07 UTC.
    assert c.photo_taken_at == datetime(2026, 3, 5, 1, 41, 7, tzinfo=UTC)
    assert (c.latitude, c.longitude, c.location_accuracy, c.counts_as_face) == (30.650123, 104.06521, 25, True)
    page = client.get(f"/warnings/{wid}").text
    timeline = page[page.index('class="timeline"'):]
    assert "拍摄于 2026-03-05 09:41" in timeline and "定位 30.65012, 104.06521（精度约 25 米）" in timeline
    # A position alone counts as the place; half a position is refused and the rest is kept.
    r = _send_contact(client, wid, _set(values, latitude="30.65", longitude="", note="第二次上门"))
    assert r.status_code == 422 and "定位数据不对" in r.text
    assert ("note", "第二次上门") in default_values(_form(r.text, "contact-form"))


@pytest.mark.parametrize(("tags", "expected"), [
    ({0x9003: "2026:03:05 09:41:07"}, datetime(2026, 3, 5, 1, 41, 7, tzinfo=UTC)),
    ({0x9003: "2026:03:05 09:41:07", 0x9011: "+00:00"}, datetime(2026, 3, 5, 9, 41, 7, tzinfo=UTC)),
    ({0x9003: "2026:03:05 09:41:07", 0x9011: "-05:30"}, datetime(2026, 3, 5, 15, 11, 7, tzinfo=UTC)),
    ({0x9003: "0000:00:00 00:00:00"}, None),
    ({}, None),
])
def test_capture_time_from_exif(tags, expected):
    from PIL import Image

    from fanzha.common.exif import taken_at

    exif = Image.Exif()
    for tag, value in tags.items():
        exif.get_ifd(0x8769)[tag] = value
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "JPEG", exif=exif)
    assert taken_at(out.getvalue(), "Asia/Shanghai") == expected
    assert taken_at(b"\x89PNG\r\n\x1a\n broken", "Asia/Shanghai") is None


@pytest.mark.browser
def test_on_a_390_phone_the_summary_comes_first_and_the_next_step_sits_in_a_sticky_bar(browser, live_server):
    """390×844: the summary is on the first screen, the bar's one button is in view and at least 44 px tall, the
    checklist toggles too; 签收 in the bar, then 拨打 fetches the number into a tel: link and the bar moves on."""
    from support.browser import ARTIFACTS, guarded_page

    wid, phone = _warning("WPB")
    context, page, outside = guarded_page(browser, 390, 844, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "/login")
        page.fill("input[name=username]", "ps01_quanzu")
        page.fill("input[name=password]", "Fanzha@2026")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server}/warnings/{wid}")
        summary = page.locator("#summary").bounding_box()
        assert summary["y"] + summary["height"] <= 844 - 100  # on the first screen, above the bar
        assert summary["y"] < page.locator("#contact-form").bounding_box()["y"]
        assert page.locator("[data-deadline]").inner_text().startswith("已超时")  # the script's text, same words
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "warning-page-390.png"))
        bar = page.locator("#next-step button")
        assert bar.inner_text() == "签收" and bar.is_visible()
        box = bar.bounding_box()
        assert box["height"] >= 44 and box["y"] + box["height"] <= 844, box
        assert min(t.bounding_box()["height"] for t in page.locator(".wp-checklist .wp-toggle").all()) >= 44
        targets = page.eval_on_selector_all(
            "#act button, #act .button, #act select, #act summary, #act input:not([type=hidden]):not([type=checkbox])",
            "els => els.filter(e => e.offsetParent).map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])")
        assert targets and all(height >= 44 for _, height in targets), [t for t in targets if t[1] < 44]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        bar.click()
        page.wait_for_selector("#call-next")
        assert phone not in page.content()
        page.evaluate("() => document.addEventListener('click', e => { if (e.target.closest('a[href^=\"tel:\"]')) "
                      "e.preventDefault(); }, true)")  # stands in for the dialler: headless Chromium stalls on tel:
        page.click("#call-next")
        page.wait_for_selector("#dial")
        assert page.locator("#dial").get_attribute("href") == f"tel:{phone}"
        assert page.locator("#next-step #to-contact").is_visible()
        assert page.locator(".wp-steps li.now").inner_text() == "登记联系"
        page.screenshot(path=str(ARTIFACTS / "warning-page-390-called.png"))
        page.screenshot(path=str(ARTIFACTS / "warning-page-390-full.png"), full_page=True)
        assert not outside and not errors, (outside, errors)
    finally:
        context.close()
