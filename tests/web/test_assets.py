"""Static and vendor files: pages name them by content hash, they go out gzipped when the browser accepts it (the same
bytes once unpacked), a hashed address is kept a year, an old one a few minutes, and a browser that holds the file
gets 304. Pages and JSON over 1 KB are gzipped on the way out; spreadsheets are not gzipped again."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from fanzha.common.assets import IMMUTABLE, SHORT, Assets, accepts_gzip, etag_matches
from support.browser import guarded_page

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "fanzha" / "web" / "static"
ECHARTS = ROOT / "node_modules" / "echarts" / "dist" / "echarts.min.js"
ECHARTS_COMMON = ECHARTS.with_name("echarts.common.min.js")
_ADDRESS = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _sha16(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _raw(client, url: str, encoding: str, **headers):
    """The response and its body as sent, before the test client would unpack it."""
    with client.stream("GET", url, headers={"Accept-Encoding": encoding, **headers}) as response:
        return response, b"".join(response.iter_raw())


@pytest.fixture
def client(app):
    from support.web import make_client

    return make_client(app)


@pytest.fixture
def analyst(client_as):
    return client_as("yanpan")


def test_the_chart_page_names_every_file_by_its_content(analyst):
    if not ECHARTS_COMMON.is_file():
        pytest.skip("ECharts is not installed (npm ci)")
    page = analyst.get("/cases/stats")
    addresses = _ADDRESS.findall(page.text)
    assert f"/static/v/{_sha16(ECHARTS_COMMON)}/echarts.common.min.js" in addresses
    assert f"/static/v/{_sha16(STATIC / 'case_stats.js')}/case_stats.js" in addresses
    assert f"/static/v/{_sha16(STATIC / 'app.css')}/app.css" in addresses
    assert all(a.startswith("/static/v/") for a in addresses), addresses


def test_the_login_page_names_its_files_by_content_too(client):
    addresses = _ADDRESS.findall(client.get("/login").text)
    assert f"/static/v/{_sha16(STATIC / 'app.css')}/app.css" in addresses
    assert f"/static/v/{_sha16(STATIC / 'app.js')}/app.js" in addresses


def test_a_hashed_file_comes_gzipped_and_unpacks_to_the_file(client):
    url = f"/static/v/{_sha16(STATIC / 'app.css')}/app.css"
    response, body = _raw(client, url, "gzip, deflate")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(body) < (STATIC / "app.css").stat().st_size
    assert gzip.decompress(body) == (STATIC / "app.css").read_bytes()
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable" == IMMUTABLE
    assert response.headers["etag"] == f'"{_sha16(STATIC / "app.css")}-gz"'


def test_echarts_goes_out_at_a_third_of_its_size(client):
    if not ECHARTS.is_file():
        pytest.skip("ECharts is not installed (npm ci)")
    response, body = _raw(client, f"/static/v/{_sha16(ECHARTS)}/echarts.min.js", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == ECHARTS.read_bytes()
    assert len(body) < ECHARTS.stat().st_size / 2.5
    assert response.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("encoding", ["identity", "", "gzip;q=0", "br"])
def test_without_gzip_in_accept_encoding_the_file_goes_out_as_it_is(client, encoding):
    url = f"/static/v/{_sha16(STATIC / 'app.js')}/app.js"
    response, body = _raw(client, url, encoding)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == (STATIC / "app.js").read_bytes()
    assert int(response.headers["content-length"]) == len(body)
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["etag"] == f'"{_sha16(STATIC / "app.js")}"'


def test_old_and_outdated_addresses_still_answer_but_are_kept_only_minutes(client):
    for url in ("/static/app/app.css", "/static/v/0123456789abcdef/app.css"):
        response, body = _raw(client, url, "identity")
        assert response.status_code == 200
        assert body == (STATIC / "app.css").read_bytes()
        assert response.headers["cache-control"] == SHORT == "public, max-age=300"
    if ECHARTS.is_file():
        response, body = _raw(client, "/static/vendor/echarts.min.js", "gzip")
        assert response.headers["cache-control"] == SHORT
        assert gzip.decompress(body) == ECHARTS.read_bytes()


def test_unknown_files_are_404(client):
    for url in ("/static/app/nothing.js", "/static/v/0123456789abcdef/nothing.js", "/static/vendor/tslib.js",
                "/static/app/echarts.min.js", "/static/app/../app.py"):
        assert client.get(url).status_code == 404, url


def test_a_browser_that_holds_the_file_gets_304(client):
    digest = _sha16(STATIC / "app.css")
    url = f"/static/v/{digest}/app.css"
    for held, encoding in ((f'"{digest}-gz"', "gzip"), (f'"{digest}"', "identity"), (f'W/"{digest}-gz"', "gzip"),
                           (f'"other", "{digest}"', "gzip")):
        response, body = _raw(client, url, encoding, **{"If-None-Match": held})
        assert response.status_code == 304, held
        assert body == b""
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["etag"] in (f'"{digest}"', f'"{digest}-gz"')
    response, _ = _raw(client, url, "gzip", **{"If-None-Match": '"0123456789abcdef-gz"'})
    assert response.status_code == 200


def test_a_changed_file_changes_its_address(tmp_path):
    static, vendor = tmp_path / "static", tmp_path / "vendor"
    static.mkdir()
    (vendor / "lib").mkdir(parents=True)
    (static / "app.js").write_text("console.log(1);\n")
    (vendor / "lib" / "lib.js").write_text("var lib = 1;\n")
    files = {"lib.js": "lib/lib.js"}
    before = Assets.load(static, vendor, files)
    again = Assets.load(static, vendor, files)
    (static / "app.js").write_text("console.log(2);\n")
    after = Assets.load(static, vendor, files)
    assert before.url("app.js") == again.url("app.js") == "/static/v/" + hashlib.sha256(
        b"console.log(1);\n").hexdigest()[:16] + "/app.js"
    assert after.url("app.js") != before.url("app.js")
    assert after.url("lib.js") == before.url("lib.js")


def test_a_vendor_file_not_installed_keeps_its_old_address(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    loaded = Assets.load(static, tmp_path / "no_node_modules", {"echarts.min.js": "echarts/dist/echarts.min.js"})
    assert loaded.url("echarts.min.js") == "/static/vendor/echarts.min.js"


def test_a_vendor_file_may_not_take_the_name_of_an_app_file(tmp_path):
    (tmp_path / "app.js").write_text("1")
    (tmp_path / "lib.js").write_text("2")
    with pytest.raises(ValueError, match="app.js"):
        Assets.load(tmp_path, tmp_path, {"app.js": "lib.js"})


def test_tiny_or_binary_files_are_not_gzipped(tmp_path):
    (tmp_path / "a.js").write_text("1")  # gzip of one byte is larger than the byte
    (tmp_path / "logo.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 8)
    loaded = Assets.load(tmp_path, tmp_path, {})
    assert loaded.files["a.js"].gzipped is None
    assert loaded.files["logo.png"].gzipped is None
    assert loaded.files["logo.png"].media_type == "image/png"


@pytest.mark.parametrize(("header", "gzip_ok"), [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("*", True), ("GZIP", True),
    ("", False), ("identity", False), ("gzip;q=0", False), ("br", False), ("*;q=0", False),
    ("gzip;q=0, *", False), ("*;q=0.5, gzip;q=0", False), ("gzip;q=x", False), ("x-gzip", True),
])
def test_accept_encoding(header, gzip_ok):
    assert accepts_gzip(header) is gzip_ok


def test_etag_comparison(tmp_path):
    (tmp_path / "a.css").write_text("body { color: red; }\n" * 20)
    asset = Assets.load(tmp_path, tmp_path, {}).files["a.css"]
    assert etag_matches("*", asset)
    assert etag_matches(asset.etag(True), asset) and etag_matches(asset.etag(False), asset)
    assert not etag_matches("", asset)
    assert not etag_matches('"abc"', asset)


def test_pages_are_gzipped_and_keep_their_headers(analyst):
    response, body = _raw(analyst, "/cases/stats", "gzip")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) == len(body)
    assert "案件研判" in gzip.decompress(body).decode()
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    plain, body = _raw(analyst, "/cases/stats", "identity")
    assert "content-encoding" not in plain.headers and "案件研判" in body.decode()


def test_small_answers_are_not_gzipped(client):
    response, body = _raw(client, "/healthz", "gzip")
    assert "content-encoding" not in response.headers
    assert b'"status":"ok"' in body


def test_spreadsheets_are_not_gzipped_again(client_as):
    head = client_as("ps01_suozhang")
    response, body = _raw(head, "/warnings/feedback-export?since=2026-11-01&until=2026-11-30&fmt=xlsx", "gzip")
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body.startswith(b"PK\x03\x04")


def test_the_public_app_names_its_stylesheet_by_content(tmp_path):
    from fastapi.testclient import TestClient

    from fanzha.config import Settings
    from fanzha.public.app import create_public_app
    from fanzha.public.store import PublicStore

    public = TestClient(create_public_app(Settings(data_dir=tmp_path), store=PublicStore(tmp_path / "public.db")))
    url = f"/static/v/{_sha16(STATIC / 'app.css')}/app.css"
    assert url in public.get("/").text
    response, body = _raw(public, url, "gzip")
    assert response.headers["cache-control"] == IMMUTABLE
    assert gzip.decompress(body) == (STATIC / "app.css").read_bytes()


def _sign_in(page, live_server: str, username: str) -> None:
    """Log in through the form; each role lands on its own work, so only leaving /login is checked."""
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Fanzha@2026")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url


def _chart_types(page, element_id: str) -> list[str]:
    return page.evaluate("""(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption().series
                            .map(function (s) { return s.type; })""", element_id)


@pytest.mark.browser
def test_the_chart_pages_draw_with_the_builds_they_load(browser, live_server):
    """案件研判 and 指标 load ECharts' common build (bar, line, pie) and still draw; the map keeps the full build."""
    context, page, outside = guarded_page(browser, 1280, 900)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    encodings: dict[str, str] = {}
    page.on("response",
            lambda r: encodings.__setitem__(r.url.rsplit("/", 1)[-1], r.headers.get("content-encoding", "")))
    try:
        _sign_in(page, live_server, "yanpan")
        page.goto(live_server + "/cases/stats", wait_until="load")
        assert _chart_types(page, "type-chart") == ["bar"]
        assert encodings.get("echarts.common.min.js") == "gzip" and "echarts.min.js" not in encodings
        page.goto(live_server + "/metrics", wait_until="load")
        types = _chart_types(page, "trend")
        assert types[0] == "bar" and set(types[1:]) == {"line"}, types
        page.goto(live_server + "/map", wait_until="load")
        page.wait_for_selector("[_echarts_instance_]", state="attached")
        assert encodings.get("echarts.min.js") == "gzip"
        assert not errors, errors
        assert not outside, outside
    finally:
        context.close()
