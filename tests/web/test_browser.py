"""Browser: log in, see the home page, log out — at desktop size and on a 375 px phone, in the system Chromium.

Any request to an address other than this machine aborts and fails the test: the platform runs on closed networks.
"""

from __future__ import annotations

import pytest

from support.browser import ARTIFACTS, browser_login, guarded_page, serving


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 800), (375, 740)], ids=["desktop", "phone"])
@pytest.mark.parametrize("username, title, home", [("ps01_quanzu", "专职劝阻员工作台", "/tasks"),
                                                  ("admin", "反诈中心工作台", "/warnings")])
def test_login_home_logout(browser, live_server, size, username, title, home):
    width, height = size
    context, page, outside = guarded_page(browser, width, height)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "/")
        assert "/login" in page.url
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "Fanzha@2026")
        page.click("button[type=submit]")
        # Each role lands on its day's work (org/roles.py HOMES); 首页 is one tap away.
        page.wait_for_url(live_server + home)
        page.goto(live_server + "/")
        assert page.locator("h1").first.inner_text() == title
        assert page.evaluate("typeof htmx") == "object", "htmx did not load from the platform itself"
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"horizontal scroll at {width}px: {scroll_width}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"home-{username}-{width}.png"), full_page=True)
        if width < 640:
            page.click("label.nav-button")
        page.click("#logout")
        page.wait_for_url("**/login")
        assert page.locator("h1").first.inner_text() == "反诈平台 登录"
        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
def test_wrong_password_message_in_browser(browser, live_server):
    context, page, outside = guarded_page(browser, 375, 740)
    try:
        page.goto(live_server + "/login")
        page.fill("input[name=username]", "ps02_quanzu")
        page.fill("input[name=password]", "wrong-password-1")
        page.click("button[type=submit]")
        assert "用户名或密码错误" in page.locator(".alert").inner_text()
        assert not outside
    finally:
        context.close()


@pytest.mark.browser
def test_dissuader_on_a_phone_signs_visits_with_a_photo_and_closes(browser, live_server, tmp_path):
    """375 px: sign, call, record a face-to-face contact with a photo, set the outcome, see the timeline."""
    from fanzha.db import session_scope
    from support.dissuasion import PNG, fresh_warning

    with session_scope() as s:
        w = fresh_warning(s, station_user="ps03_quanzu", tag="BRW", at="2026-11-22 09:00")
        wid = w.id
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    context, page, outside = guarded_page(browser, 375, 740)
    try:
        page.goto(live_server + "/login")
        page.fill("input[name=username]", "ps03_quanzu")
        page.fill("input[name=password]", "Fanzha@2026")
        page.click("button[type=submit]")
        page.wait_for_url(live_server + "/tasks")  # a dissuader lands on 我的任务
        page.goto(live_server + f"/warnings/{wid}")  # long overdue, it sits folded in 积压
        page.click("#sign")
        page.wait_for_selector("text=已保存")
        page.evaluate("() => document.addEventListener('click', e => { if (e.target.closest('a[href^=\"tel:\"]')) "
                      "e.preventDefault(); }, true)")  # stands in for the dialler: headless Chromium stalls on tel:
        page.click("#call")  # the number is fetched on tap (an audited reveal) into a tel: link
        page.wait_for_selector("a#dial[href^='tel:139']")
        page.select_option("#contact-form select[name=channel]", "face_to_face")
        page.select_option("#contact-form select[name=result]", "reached")
        page.fill("#contact-form input[name=note]", "已上门讲解冒充公检法手法，对象停止转账")
        page.set_input_files("#contact-form input[name=photo]", str(photo))
        page.check("#contact-form input[value=look_transfers]")
        page.click("#save-contact")
        page.wait_for_selector("ol.timeline >> text=（计入见面劝阻）")  # the saved contact, not the form's legend
        page.select_option("#outcome-form select[name=outcome]", "dissuaded")
        page.click("#save-outcome")
        page.click("#confirm-outcome")  # closing asks first
        page.wait_for_selector("text=已反馈：劝阻成功")
        timeline = page.locator("ol.timeline").inner_text()
        for step in ("上级下发预警", "签收", "见面：已联系上（计入见面劝阻）", "反馈：劝阻成功"):
            assert step in timeline
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(ARTIFACTS / "dissuasion-375.png"), full_page=True)
        assert page.locator("a:text('照片')").count() == 1
        assert not outside
    finally:
        context.close()


@pytest.mark.browser
def test_grid_worker_records_an_activity_with_a_photo_on_a_phone(browser, live_server, tmp_path, db):
    """375 px: a grid worker opens 宣防, records a 扫楼 with counts and a photo, and sees it saved with the photo."""
    from sqlalchemy import select

    from fanzha.org.models import Area, User
    from fanzha.prevention.models import Activity
    from support.dissuasion import PNG

    photo = tmp_path / "扫楼.png"
    photo.write_bytes(PNG)
    worker = db.scalar(select(User).where(User.username == "wangge01"))
    village = db.get(Area, worker.area_id)
    context, page, outside = guarded_page(browser, 375, 740)
    try:
        browser_login(page, live_server, "wangge01")
        page.goto(live_server + "/prevention")
        page.click("text=记录宣传活动")
        page.wait_for_selector("#activity-form")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.select_option("#activity-form select[name=kind]", "sweep")
        page.fill("#activity-form input[name=address]", "幸福小区3栋")
        page.fill("#activity-form input[name=households]", "37")
        page.fill("#activity-form input[name=leaflets]", "80")
        page.fill("#activity-form input[name=jzz_registrations]", "12")
        page.set_input_files("#activity-form input[name=photos]", str(photo))
        page.click("#save-activity")
        page.wait_for_selector("#saved")
        assert page.locator("#counted").inner_text().startswith(("计入专项行动：", "未计入任何专项行动"))
        assert village.name in page.locator("h1").inner_text()
        assert page.locator("img[alt='现场照片']").count() == 1
        # Wait for the image to finish loading (a missing file also finishes, with width 0) before measuring it.
        # Polled from here: wait_for_function evaluates its string inside the page, which the CSP (no eval) refuses.
        for _ in range(100):
            if page.evaluate("document.querySelector(\"img[alt='现场照片']\").complete"):
                break
            page.wait_for_timeout(100)
        assert page.evaluate("document.querySelector(\"img[alt='现场照片']\").naturalWidth") > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(ARTIFACTS / "activity-375.png"), full_page=True)
        assert not outside
    finally:
        context.close()
    db.expire_all()
    a = db.scalar(select(Activity).where(Activity.created_by == worker.id).order_by(Activity.id.desc()))
    assert (a.kind, a.community_id, a.households, a.leaflets, a.jzz_registrations) == (
        "sweep", village.id, 37, 80, 12)
    assert len(a.photos) == 1 and a.photos[0].path.endswith(".png")


def test_public_checker_on_a_phone_checks_and_reports(browser, tmp_path):
    """375 px, the public app on its own: paste a scam, see the marked red flags and advice, report it."""
    from fanzha.config import Settings
    from fanzha.public.app import create_public_app
    from fanzha.public.store import PublicStore

    store = PublicStore(tmp_path / "public.db")
    with serving(create_public_app(Settings(data_dir=tmp_path), store=store)) as base:
        _check_and_report_on_a_phone(browser, base, store)


def _check_and_report_on_a_phone(browser, base: str, store) -> None:
    context, page, outside = guarded_page(browser, 375, 740)
    try:
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "这条消息是诈骗吗？"
        page.fill("textarea[name=text]", "您好，我是公安局民警，您涉嫌洗钱，请把资金转到安全账户配合调查 <b>13912345678</b>")
        page.click("#check")
        page.wait_for_selector("#verdict")
        assert "诈骗" in page.locator("#verdict").inner_text()
        marks = page.locator("#message mark.flag").all_inner_texts()
        assert "安全账户" in "".join(marks) and len(marks) >= 2
        assert page.locator("#message b").count() == 0  # pasted markup is text, never markup
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "public-check-375.png"), full_page=True)
        page.select_option("#report-form select[name=channel]", "call")
        page.click("#report")
        page.wait_for_selector("#thanks")
        assert "已收到您的举报" in page.locator("#thanks").inner_text()
        assert store.report_counts() == {"total": 1, "pending": 1}
        assert not outside, f"requests left the machine: {outside}"
    finally:
        context.close()


@pytest.mark.browser
def test_grid_worker_opens_the_registry_and_prints_a_door_to_door_list_on_a_phone(browser, live_server, db):
    """375 px: a grid worker sees the registry, opens the students' list and its printable door-to-door page; the
    print page uses only local fonts and nothing leaves the machine."""
    from sqlalchemy import select

    from fanzha.registry.models import TargetList

    tl = db.scalar(select(TargetList).order_by(TargetList.id).limit(1))
    context, page, outside = guarded_page(browser, 375, 740)
    try:
        browser_login(page, live_server, "wangge01")
        page.goto(live_server + "/registry")
        assert "易受骗群体库" in page.locator("h1").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.goto(live_server + f"/registry/lists/{tl.id}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(ARTIFACTS / "registry-list-375.png"), full_page=True)
        page.goto(live_server + f"/registry/lists/{tl.id}/print")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('.noprint')).display") == "none"
        page.screenshot(path=str(ARTIFACTS / "registry-print-375.png"), full_page=True)
        page.goto(live_server + "/registry/duties")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert not outside
    finally:
        context.close()
    context, page, outside = guarded_page(browser, 1280, 800)
    try:
        browser_login(page, live_server, "admin")
        page.goto(live_server + "/registry")
        page.screenshot(path=str(ARTIFACTS / "registry-hub.png"), full_page=True)
        # Other tests may have added staff since the demo allocated the 三包 items: allocate again first, so that
        # everyone holds some and the balance is a number.
        from fanzha.db import session_scope
        from fanzha.org.scope import Scope
        from fanzha.registry import duties
        from fanzha.registry import service as registry

        with session_scope() as s:
            duties.run(s, Scope.system(s), registry.population(s))
        page.goto(live_server + "/registry/duties")
        assert page.locator("#balance-ratio").inner_text() != "—"
        page.screenshot(path=str(ARTIFACTS / "registry-duties.png"), full_page=False)
        assert not outside
    finally:
        context.close()
