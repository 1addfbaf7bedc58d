"""The browser tests' fixtures: the app served on this machine (live_server) and the system Chromium (browser), a
page that refuses requests to other machines, and logging in through the page.

Any request to an address other than this machine aborts and is listed: the platform runs on closed networks.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from support.net import free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@contextmanager
def serving(app) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread on a free local port, for as long as the block runs: its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("system Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def guarded_page(browser, width: int, height: int, **options):
    """A page whose context aborts (and lists) any request to another machine; options go to new_context
    (is_mobile, has_touch …)."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **options)
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context, context.new_page(), outside


def browser_login(page, live_server: str, username: str) -> None:
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Fanzha@2026")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)  # each role lands on its own home (org/roles.py HOMES)
