"""Browser: the installable app in the system Chromium at 390×844 — the service worker keeps the task pages, and 退出
clears them."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, _guarded_page, browser, live_server  # noqa: F401  (fixtures)


def _login(page, live_server: str, username: str) -> None:
    """Through the login page, to wherever the role lands."""
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Fanzha@2026")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.browser
def test_logout_clears_the_offline_cache(browser, live_server):  # noqa: F811
    context, page, outside = _guarded_page(browser, 390, 844, is_mobile=True, has_touch=True)
    try:
        _login(page, live_server, "ps04_quanzu")
        page.goto(live_server + "/tasks")
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker: the page is kept
        page.wait_for_function("""() => caches.open('fanzha-offline-v1')
            .then(c => c.match(location.origin + '/tasks')).then(r => Boolean(r))""", timeout=10000)
        page.click("label.nav-button")
        page.click("#logout")
        page.wait_for_url("**/login")
        page.wait_for_function("() => caches.keys().then(k => !k.some(n => n.startsWith('fanzha-offline')))",
                               timeout=10000)
        assert not outside
    finally:
        context.close()
