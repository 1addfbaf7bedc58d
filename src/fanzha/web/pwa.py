"""The installable web app (安装到手机): the manifest, the service worker at the root scope and the icons, all served
by the platform itself. The icons are drawn here (a white shield on the platform's red), nothing is fetched."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from fanzha.common import assets

ICON_SIZES = (192, 512)
RED = (183, 28, 28)
WHITE = (255, 255, 255)
# The app's own start: 我的任务 (a station head or the centre lands on their home from there).
MANIFEST = {
    "name": "反诈平台",
    "short_name": "反诈",
    "lang": "zh-CN",
    "start_url": "/tasks",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#b71c1c",
    "icons": [{"src": f"/icons/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any maskable"}
              for n in ICON_SIZES],
}

router = APIRouter(include_in_schema=False)


def _inside_shield(x: float, y: float) -> bool:
    """The shield on a unit square: straight sides from 0.22 down to 0.55, then a curve to its point at 0.80."""
    half = 0.22
    if 0.22 <= y <= 0.55:
        return abs(x - 0.5) <= half
    if 0.55 < y <= 0.80:
        t = (y - 0.55) / 0.25
        return abs(x - 0.5) <= half * (1 - t * t) ** 0.5
    return False


def _mark(x: float, y: float) -> bool:
    """The exclamation mark inside the shield: a bar and a dot."""
    return (abs(x - 0.5) <= 0.035 and 0.32 <= y <= 0.56) or (x - 0.5) ** 2 + (y - 0.65) ** 2 <= 0.04 ** 2


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size: int) -> bytes:
    """The app icon as a PNG of size × size (drawn once per size and kept)."""
    rows = []
    for j in range(size):
        y = (j + 0.5) / size
        row = bytearray(b"\x00")  # filter: none
        for i in range(size):
            x = (i + 0.5) / size
            row += bytes(WHITE if _inside_shield(x, y) and not _mark(x, y) else RED)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


@router.get("/manifest.webmanifest")
def manifest():
    return JSONResponse(MANIFEST, media_type="application/manifest+json",
                        headers={"Cache-Control": assets.SHORT})


@router.get("/sw.js")
def service_worker():
    """At the root so that it may keep /tasks and /warnings/…; never cached long, so a new version takes over."""
    body = assets.current().files["sw.js"].body
    return Response(body, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@router.get("/icons/icon-{size}.png")
def icon(size: int):
    if size not in ICON_SIZES:
        raise HTTPException(404)
    return Response(icon_png(size), media_type="image/png", headers={"Cache-Control": assets.SHORT})
