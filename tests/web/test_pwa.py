"""The installable web app: manifest, service worker at the root scope and icons, all from the platform itself."""

from __future__ import annotations

import re
import struct
import zlib

from fanzha.web.pwa import icon_png


def test_manifest_service_worker_and_icons_are_served_by_the_platform(client_as):
    client = client_as("ps01_quanzu")
    page = client.get("/tasks")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    assert re.search(r'<meta name="fanzha-user" content="\d+">', page.text)
    manifest = client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert data["start_url"] == "/tasks" and data["display"] == "standalone"
    for icon in data["icons"]:
        assert icon["src"].startswith("/icons/")  # nothing from another address
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png.content[16:24])
        assert f"{width}x{height}" == icon["sizes"]
    assert client.get("/icons/icon-64.png").status_code == 404
    sw = client.get("/sw.js")
    assert sw.headers["service-worker-allowed"] == "/" and sw.headers["content-type"].startswith("text/javascript")
    assert "MAX_AGE_MS = 12 * 3600 * 1000" in sw.text and "http" not in sw.text.replace("https?", "")
    assert "script-src 'self'" in sw.headers["content-security-policy"]


def test_the_icon_is_a_white_shield_on_red():
    png = icon_png(192)
    assert png == icon_png(192)  # drawn once
    raw = zlib.decompress(png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8])
    row = 192 * 3 + 1

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        start = y * row + 1 + x * 3
        return tuple(raw[start:start + 3])

    assert pixel(5, 5) == (183, 28, 28)  # the corner: red
    assert pixel(60, 60) == (255, 255, 255)  # the shield's upper left: white
    assert pixel(96, 85) == (183, 28, 28)  # the exclamation mark's bar: red again
