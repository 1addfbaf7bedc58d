"""Browser: the phone loses its signal, records a contact, sees 待上传, regains the signal, and the contact is stored
exactly once — in the system Chromium at 390×844, with the service worker the platform serves."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from support.browser import ARTIFACTS, guarded_page


def _login(page, live_server: str, username: str) -> None:
    """Through the login page, to wherever the role lands."""
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Fanzha@2026")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.browser
def test_a_contact_recorded_offline_is_queued_and_stored_once(browser, live_server, db):
    from fanzha.db import session_scope
    from fanzha.dissuasion.models import Contact, Submission
    from support.dissuasion import fresh_warning

    with session_scope() as s:
        wid = fresh_warning(s, station_user="ps04_quanzu", tag="OFF", at="2026-11-22 09:00").id
    context, page, outside = guarded_page(browser, 390, 844, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _login(page, live_server, "ps04_quanzu")
        page.goto(live_server + f"/warnings/{wid}")
        assert page.evaluate("window.isSecureContext")  # 127.0.0.1 counts as secure: worker and IndexedDB
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        key = page.input_value("#contact-form input[name=idempotency_key]")
        assert len(key) == 36

        context.set_offline(True)
        page.select_option("#contact-form select[name=channel]", "phone")
        page.select_option("#contact-form select[name=result]", "reached")
        page.fill("#contact-form input[name=note]", "断网时电话劝阻，对象同意暂停转账")
        page.click("#save-contact")
        queue = page.locator("#offline-queue")
        queue.wait_for()
        assert "待上传" in queue.inner_text() and "联系：电话" in queue.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "offline-queued-390.png"), full_page=True)
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Contact).where(Contact.warning_id == wid)) == 0
        # Kept on the phone, not only in the page: IndexedDB holds the item with its key and device time.
        stored = page.evaluate("""() => new Promise((ok) => {
            const r = indexedDB.open('fanzha-offline', 1);
            r.onsuccess = () => { const g = r.result.transaction('queue').objectStore('queue').getAll();
                                  g.onsuccess = () => ok(g.result.map(i => [i.key, i.device_at, i.state])); };
        })""")
        assert [(k, state) for k, _, state in stored] == [(key, "pending")] and stored[0][1]

        context.set_offline(False)  # the online event sends the queue, then the page reloads
        page.wait_for_selector("ol.timeline >> text=断网时电话劝阻", timeout=20000)
        assert page.locator("#offline-queue").count() == 0
        # A second try of the same item (a lost answer) changes nothing.
        page.evaluate("""(args) => { const fd = new FormData();
            fd.append('csrf_token', document.querySelector('meta[name=csrf-token]').content);
            fd.append('channel', 'phone'); fd.append('result', 'reached'); fd.append('note', '断网时电话劝阻，对象同意暂停转账');
            fd.append('idempotency_key', args.key);
            return fetch(`/warnings/${args.wid}/contacts`, {method: 'POST', body: fd}).then(r => r.status); }""",
                      {"key": key, "wid": wid})
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Contact).where(Contact.warning_id == wid)) == 1
        sub = db.scalar(select(Submission).where(Submission.warning_id == wid))
        assert sub.key == key and sub.status == "recorded" and sub.device_at is not None
        assert sub.device_at <= sub.received_at and not sub.skew_flagged
        assert page.locator("ol.timeline").inner_text().count("断网时电话劝阻") == 1
        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
def test_the_cache_keeps_masked_pages_and_logout_clears_it(browser, live_server):
    """The kept warning page carries the phone number masked only; 退出 leaves nothing kept."""
    from fanzha.db import session_scope
    from support.dissuasion import fresh_warning

    with session_scope() as s:
        w = fresh_warning(s, station_user="ps04_quanzu", tag="OFM", at="2026-11-22 10:00")
        wid, phone = w.id, w.phone
    context, page, outside = guarded_page(browser, 390, 844, is_mobile=True, has_touch=True)
    try:
        _login(page, live_server, "ps04_quanzu")
        page.goto(live_server + "/tasks")
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker: the page is kept
        page.goto(live_server + f"/warnings/{wid}")
        kept = page.wait_for_function("""(path) => caches.open('fanzha-offline-v1')
            .then(c => Promise.all([c.match(location.origin + '/tasks'), c.match(location.origin + path)]))
            .then(([tasks, warning]) => tasks && warning ? warning.text() : null)""", arg=f"/warnings/{wid}",
            timeout=10000).json_value()
        assert phone[:3] + "****" + phone[-4:] in kept and phone not in kept
        page.click("label.nav-button")
        page.click("#logout")
        page.wait_for_url("**/login")
        page.wait_for_function("() => caches.keys().then(k => !k.some(n => n.startsWith('fanzha-offline')))",
                               timeout=10000)
        assert not outside
    finally:
        context.close()
