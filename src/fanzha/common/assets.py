"""Static and vendor files (静态资源): content-hashed addresses, gzip prepared once, long cache lifetimes.

Served by the platform's app and the public checker's alike. Every file under `web/static/` and every vendor file installed at set-up (htmx, ECharts from node_modules) is read
once when the application starts: its SHA-256 names it in the address templates use
(`asset_url("echarts.min.js")` → `/static/v/<hash>/echarts.min.js`), and a text file is gzipped once into memory.
A hashed address never changes content, so the browser keeps it a year without asking again; the old addresses
(`/static/app/…`, `/static/vendor/…`) still answer, for a few minutes of cache, for pages cached before a change.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
# Files served from the npm packages installed at set-up; nothing else under node_modules is reachable. Pages with
# only bar, line and pie charts load ECharts' "common" build (two thirds of the full one, so a third less to parse);
# the map and the wall screen need the full one (map series, geo, visual map).
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "echarts.common.min.js": "echarts/dist/echarts.common.min.js",
}
HASHED_PREFIX = "/static/v"
IMMUTABLE = "public, max-age=31536000, immutable"
# An unhashed or outdated address may change content at the next start: a short lifetime, then the browser asks again.
SHORT = "public, max-age=300"
COMPRESSIBLE = {".js", ".css", ".json", ".svg", ".html", ".txt", ".map"}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}
DIGEST_CHARS = 16
MISSING_VENDOR = "静态文件不存在（请先运行安装命令）"


@dataclass(frozen=True)
class Asset:
    """One file as served: its bytes, its gzip (None when the type does not compress or it would not shrink)."""

    name: str
    body: bytes
    gzipped: bytes | None
    digest: str
    media_type: str

    @classmethod
    def read(cls, name: str, path: Path) -> Asset:
        body = path.read_bytes()
        suffix = path.suffix.lower()
        gzipped = None
        if suffix in COMPRESSIBLE:
            squeezed = gzip.compress(body, compresslevel=9, mtime=0)  # mtime 0: the same file gives the same bytes
            gzipped = squeezed if len(squeezed) < len(body) else None
        media_type = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return cls(name=name, body=body, gzipped=gzipped, digest=hashlib.sha256(body).hexdigest()[:DIGEST_CHARS],
                   media_type=media_type)

    @property
    def url(self) -> str:
        return f"{HASHED_PREFIX}/{self.digest}/{self.name}"

    def etag(self, gzipped: bool) -> str:
        return f'"{self.digest}-gz"' if gzipped else f'"{self.digest}"'


class Assets:
    """Every servable file by name, read once. Names are unique across the app's and the vendor files."""

    def __init__(self, files: dict[str, Asset], missing: set[str] | None = None):
        self.files = files
        self.missing = missing or set()  # vendor files not installed: their old address says so

    @classmethod
    def load(cls, static_dir: Path, vendor_dir: Path, vendor_files: dict[str, str] | None = None) -> Assets:
        files: dict[str, Asset] = {}
        for path in sorted(static_dir.rglob("*")):
            if path.is_file():
                name = path.relative_to(static_dir).as_posix()
                files[name] = Asset.read(name, path)
        missing = set()
        for name, rel in (VENDOR_FILES if vendor_files is None else vendor_files).items():
            if name in files:
                raise ValueError(f"vendor file {name} has the name of a file in {static_dir}")
            path = vendor_dir / rel
            if path.is_file():
                files[name] = Asset.read(name, path)
            else:
                missing.add(name)
        return cls(files, missing)

    def url(self, name: str) -> str:
        """The hashed address of `name`; a vendor file not installed keeps its old address (which says so)."""
        if name in self.missing:
            return f"/static/vendor/{name}"
        return self.files[name].url

    def response(self, request: Request, name: str, *, immutable: bool) -> Response:
        asset = self.files[name]
        gzipped = asset.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", ""))
        etag = asset.etag(gzipped)
        headers = {"Cache-Control": IMMUTABLE if immutable else SHORT, "ETag": etag}
        if asset.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if etag_matches(request.headers.get("if-none-match", ""), asset):
            return Response(status_code=304, headers=headers)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped if gzipped else asset.body, media_type=asset.media_type, headers=headers)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip: named (or `*`) with a q-value above 0."""
    found: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found[coding.lower()] = q
    q = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return q > 0


def etag_matches(header: str, asset: Asset) -> bool:
    """If-None-Match against either representation: both mean the browser holds this content (weak comparison)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return bool(tags & {asset.etag(False), asset.etag(True)})


_loaded: dict[Path, Assets] = {}


def current() -> Assets:
    """The files of this process, read at the first call (the application calls it at start-up); every page asks,
    so a look-up by the configured vendor folder and nothing more."""
    from fanzha.config import get_settings

    vendor_dir = get_settings().static_vendor_dir
    found = _loaded.get(vendor_dir)
    if found is None:
        found = _loaded[vendor_dir] = Assets.load(STATIC, Path(vendor_dir))
    return found


def asset_url(name: str) -> str:
    """Jinja: `{{ asset_url('app.css') }}` → the file's hashed address."""
    return current().url(name)


router = APIRouter(include_in_schema=False)


@router.api_route(HASHED_PREFIX + "/{digest}/{name:path}", methods=["GET", "HEAD"])
def hashed(request: Request, digest: str, name: str) -> Response:
    assets = current()
    if name not in assets.files:
        return _not_found(name in assets.missing)
    # An address of an older (or newer) content still answers, but must not be kept as if it were this content.
    return assets.response(request, name, immutable=digest == assets.files[name].digest)


@router.api_route("/static/app/{name:path}", methods=["GET", "HEAD"])
def app_file(request: Request, name: str) -> Response:
    assets = current()
    if name not in assets.files or name in VENDOR_FILES:
        return _not_found(False)
    return assets.response(request, name, immutable=False)


@router.api_route("/static/vendor/{name}", methods=["GET", "HEAD"])
def vendor_file(request: Request, name: str) -> Response:
    assets = current()
    if name not in VENDOR_FILES or name not in assets.files:
        return _not_found(name in assets.missing)
    return assets.response(request, name, immutable=False)


def _not_found(vendor_missing: bool) -> Response:
    if not vendor_missing:
        raise HTTPException(404)
    return JSONResponse({"error": {"code": "not_found", "message": MISSING_VENDOR, "details": []}}, status_code=404)
