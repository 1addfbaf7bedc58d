"""The public checker app (公众识诈): its page escapes what people paste, it rate-limits each client, its forms need
the CSRF token, it keeps texts only when someone reports, and it runs with no platform database at all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fanzha.config import Settings
from fanzha.public.app import create_public_app
from fanzha.public.ratelimit import TokenBucket
from fanzha.public.store import PublicStore

SCAM = "您好，我是京东客服，您的校园贷需要注销，否则影响征信，请下载腾讯会议开启屏幕共享，把钱转到安全账户 13912345678"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _client(tmp_path: Path, *, per_minute: int = 600, burst: int = 600, clock=None):
    from fastapi.testclient import TestClient

    settings = Settings(data_dir=tmp_path, public_rate_per_minute=per_minute, public_burst=burst)
    store = PublicStore(tmp_path / "public.db")
    limiter = TokenBucket(per_minute, burst, clock=clock) if clock else None
    return TestClient(create_public_app(settings, store=store, limiter=limiter)), store


def _csrf(client) -> str:
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_n_plus_first_request_in_the_window_gets_429(tmp_path):
    clock = Clock()
    client, _ = _client(tmp_path, per_minute=6, burst=5, clock=clock)
    codes = [client.get("/").status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = client.get("/")
    assert refused.status_code == 429
    assert "请求太频繁" in refused.text and refused.headers["Retry-After"] == "10"  # 6 a minute: one per 10 s
    api = client.post("/api/check", json={"text": "你好"})
    assert api.status_code == 429 and "请求太频繁" in api.json()["error"]["message"]
    assert client.get("/static/app/app.css").status_code == 200  # static files are not counted
    clock.now += 10  # one token back after 10 s, not more
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429
    clock.now += 60  # a full minute refills 6, capped at the burst of 5
    assert [client.get("/lookup").status_code for _ in range(6)] == [200] * 5 + [429]


def test_token_bucket_counts_each_client_apart():
    clock = Clock()
    bucket = TokenBucket(60, 2, clock=clock)
    assert [bucket.take("1.1.1.1") for _ in range(3)] == [0, 0, 1.0]
    assert bucket.take("2.2.2.2") == 0  # another address has its own bucket
    clock.now += 0.5
    assert bucket.take("1.1.1.1") == pytest.approx(0.5)


def test_page_shows_verdict_with_marked_flags_and_escapes_html(tmp_path):
    client, _ = _client(tmp_path)
    token = _csrf(client)
    # The entity form survives normalisation as a real "<script>" in the normalised text that is shown back.
    text = "&lt;script&gt;alert(1)&lt;/script&gt;<img src=x onerror=alert(2)>" + SCAM
    r = client.post("/check", data={"text": text, "csrf_token": token})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    main = r.text.split("<main", 1)[1]
    assert "诈骗" in main and "凡是" in main  # risk and the one-sentence advice
    flags = re.findall(r'<mark class="flag" title="([^"]+)">([^<]+)</mark>', main)
    assert ("屏幕共享/远程控制", "下载腾讯会议") in flags and ("安全账户/资金清查", "安全账户") in flags
    assert "冒充电商物流客服类" in main or "虚假征信类" in main


def test_forms_need_the_csrf_token(tmp_path):
    client, store = _client(tmp_path)
    client.get("/")
    assert client.post("/check", data={"text": SCAM}).status_code == 403
    assert client.post("/report", data={"text": SCAM, "channel": "sms", "csrf_token": "forged"}).status_code == 403
    assert store.report_counts()["total"] == 0


def test_a_non_ascii_csrf_token_is_refused_not_an_error(tmp_path):
    client, store = _client(tmp_path)
    client.get("/")
    for path in ("/check", "/report"):
        r = client.post(path, data={"text": SCAM, "channel": "sms", "csrf_token": "é"})
        assert r.status_code == 403 and "页面" in r.text, path
    assert store.report_counts()["total"] == 0


def test_texts_are_kept_only_when_reported(tmp_path):
    client, store = _client(tmp_path)
    token = _csrf(client)
    assert client.post("/check", data={"text": SCAM, "csrf_token": token}).status_code == 200
    assert client.post("/api/check", json={"text": SCAM}).json()["risk"] == "fraud"
    assert store.report_counts()["total"] == 0
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("public.db*"))
    assert "安全账户".encode() not in stored
    r = client.post("/report", data={"text": SCAM, "value": "139 1234 5678", "channel": "call", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/report/thanks"
    assert store.report_counts() == {"total": 1, "pending": 1}
    empty = client.post("/report", data={"text": " ", "value": "", "channel": "sms", "csrf_token": token})
    assert empty.status_code == 422 and "请填写" in empty.text
    assert store.report_counts()["total"] == 1


def test_over_long_text_is_refused_in_chinese(tmp_path):
    client, _ = _client(tmp_path)
    r = client.post("/api/check", json={"text": "转账" * 3000})
    assert r.status_code == 422 and "最多 5,000 字" in r.json()["error"]["message"]
    r = client.post("/api/check", content=b"x" * 300_000, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_public_app_runs_with_no_platform_database(tmp_path):
    """In a fresh interpreter whose platform database URL points at nothing: check, report, look up — and neither
    SQLAlchemy nor fanzha.db is ever imported."""
    script = f"""
import json, re, sys
from fastapi.testclient import TestClient
from fanzha.public.app import create_public_app
c = TestClient(create_public_app())
token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
page = c.post("/check", data={{"text": {SCAM!r}, "csrf_token": token}})
report = c.post("/report", data={{"text": "刷单返利", "channel": "qq", "csrf_token": token}}, follow_redirects=False)
look = c.get("/api/lookup", params={{"value": "13912345678"}})
print(json.dumps([page.status_code, "诈骗" in page.text, report.status_code, look.status_code,
                  "sqlalchemy" in sys.modules, "fanzha.db" in sys.modules]))
"""
    env = dict(os.environ, FANZHA_DATA_DIR=str(tmp_path), FANZHA_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [200, True, 303, 200, False, False]
    assert (tmp_path / "public.db").exists()


def test_every_public_page_is_in_chinese(tmp_path):
    from support.english import english_words

    client, _ = _client(tmp_path)
    token = _csrf(client)
    pages = [client.get("/"), client.get("/lookup", params={"value": "13912345678"}), client.get("/report"),
             client.get("/report/thanks"), client.get("/nowhere"),
             client.post("/check", data={"text": SCAM + " 访问 www.jd-kf.top", "csrf_token": token})]
    for page in pages:
        words, _ = english_words(page.text)
        assert not words, (page.url, words)
    assert pages[4].status_code == 404 and "页面不存在" in pages[4].text


def test_ipv6_clients_share_a_bucket_per_64():
    clock = Clock()
    bucket = TokenBucket(60, 2, clock=clock)
    assert bucket.take("2001:db8:1:2::1") == 0
    assert bucket.take("2001:db8:1:2:ffff:ffff:ffff:fffe") == 0
    assert bucket.take("2001:db8:1:2:abcd::9") == pytest.approx(1.0)  # third address, same /64: no token left
    assert bucket.take("2001:db8:1:3::1") == 0  # the next /64 is another client
    assert bucket.take("::ffff:198.51.100.7") == 0 and bucket.take("198.51.100.7") == 0
    assert bucket.take("198.51.100.7") == pytest.approx(1.0)  # IPv4-mapped counts as the IPv4 address
    assert bucket.clients == 3


def test_rate_limit_memory_is_bounded_least_recently_seen_first():
    clock = Clock()
    bucket = TokenBucket(60, 1, clock=clock, max_clients=3)
    assert bucket.take("10.0.0.1") == 0
    for n in range(2, 4):
        bucket.take(f"10.0.0.{n}")
    assert bucket.take("10.0.0.1") == pytest.approx(1.0)  # still limited, and now the most recently seen
    bucket.take("10.0.0.4")  # a fourth client: 10.0.0.2 (least recently seen) is forgotten
    assert bucket.clients == 3
    assert bucket.take("10.0.0.1") == pytest.approx(1.0)  # kept, still limited
    assert bucket.take("10.0.0.3") == pytest.approx(1.0)  # kept
    assert bucket.take("10.0.0.2") == 0  # forgotten: a fresh bucket
    assert bucket.clients == 3
    for n in range(1000):
        bucket.take(f"2001:db8:{n:x}::1")
    assert bucket.clients == 3


def test_serve_passes_the_trusted_proxies_to_uvicorn(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from fanzha.cli.main import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    r = CliRunner().invoke(cli, ["serve", "--public", "--forwarded-allow-ips", "10.0.0.5,10.0.0.6"])
    assert r.exit_code == 0, r.output
    assert calls[0]["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6" and calls[0]["proxy_headers"] is True
