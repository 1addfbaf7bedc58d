"""The FastAPI application: middleware, error pages and JSON errors, static files, routers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

import fanzha.importers  # noqa: F401  (every domain registers its importers before the first upload)
from fanzha import __version__
from fanzha.api import api_router
from fanzha.common import assets
from fanzha.common.bodylimit import BodyLimit
from fanzha.common.errors import DomainError, TooManyRequests
from fanzha.common.lifespan import settled_heap
from fanzha.common.logs import use_json_logs
from fanzha.common.tabular import MEDIA_TYPES as TABLE_TYPES
from fanzha.config import get_settings
from fanzha.imports import service as imports
from fanzha.reports.service import FORMATS as REPORT_TYPES
from fanzha.web import health, metrics, pwa
from fanzha.web.deps import LoginRequired
from fanzha.web.forms import EmptyQueryValues, field_label
from fanzha.web.observe import Observe
from fanzha.web.render import render
from fanzha.web.views import pages_router

log = logging.getLogger(__name__)

# Office files and PDFs are zip or deflate inside already: gzipping them again costs time and saves nothing.
ALREADY_COMPRESSED = (TABLE_TYPES["xlsx"], *REPORT_TYPES.values())
STATUS_MESSAGES = {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "页面或记录不存在", 405: "不支持的请求方式",
                   409: "数据冲突", 413: "提交的内容过大", 422: "填写的内容有误", 500: "系统内部错误"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error(request: Request, status: int, code: str, message: str, details: list | None = None):
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message, "details": details or []}}, status_code=status)
    try:
        return render(request, "error.html", status_code=status, status=status, message=message, details=details or [])
    except Exception:  # an error page must never fail in turn
        log.exception("error page failed")
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>出错了</title><h1>{status}</h1>",
                            status_code=status)


def _validation_details(exc: RequestValidationError) -> list[dict]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        msg = err.get("msg", "")
        ctx = err.get("ctx") or {}
        if "error" in ctx and isinstance(ctx["error"], ValueError):
            msg = str(ctx["error"])
        elif err.get("type") == "missing":
            msg = "必填"
        elif err.get("type") == "json_invalid":
            msg = "JSON 格式错误"
        elif err.get("type") == "extra_forbidden":
            msg = "不认识的字段"
        elif err.get("type", "").endswith(("_type", "_parsing")):
            msg = "类型不对"
        elif err.get("type") == "string_pattern_mismatch":
            msg = "格式不对"
        elif err.get("type") in ("string_too_long", "too_long"):
            msg = "太长"
        elif err.get("type") in ("string_too_short", "too_short"):
            msg = "太短"
        elif err.get("type") in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            msg = "超出允许范围"
        elif err.get("type") == "enum":
            msg = "不是允许的取值"
        details.append({"loc": loc, "msg": msg})
    return details


CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
_SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                     (b"referrer-policy", b"same-origin"), (b"content-security-policy", CSP.encode()))


class SecurityHeaders:
    """Adds the security headers to every response unless the route set them itself, and no-store to API and
    people pages. A plain ASGI middleware: it only edits the response's first message (no extra task per request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(("/api/", "/people"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = _SECURITY_HEADERS + (((b"cache-control", b"no-store"),) if no_store else ())
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def all_routes() -> list[tuple[str, set[str], object]]:
    """(path, methods, endpoint) of every page and API route, from the one list each is mounted from."""
    from fanzha.api import API_PREFIX, API_ROUTERS
    from fanzha.web.views import PAGE_ROUTERS

    found = []
    for prefix, routers in ((API_PREFIX, API_ROUTERS), ("", PAGE_ROUTERS)):
        for router in routers:
            for route in router.routes:
                found.append((prefix + route.path, set(route.methods), route.endpoint))
    return found


def _run_import(batch_id: int) -> None:
    """An upload runs on the task worker (at once, in-process, when the queue is immediate: tests, scripts)."""
    from fanzha.worker.tasks import run_import  # the queue is opened at the first upload, not at start-up

    run_import(batch_id)


def create_app() -> FastAPI:
    imports.use_queue(_run_import)
    app = FastAPI(title="Fanzha 反诈平台 API", version=__version__, openapi_url="/api/v1/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=settled_heap)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api/"):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        details = exc.details
        if details and not _wants_json(request):  # a page names each field in Chinese, as for validation errors
            details = [{**d, "loc": [field_label(d.get("loc") or ())]} for d in details]
        response = _error(request, exc.status_code, exc.code, exc.message, details)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        details = _validation_details(exc)
        if not _wants_json(request):  # a page names the field in Chinese; an address that does not parse is none
            if any((err.get("loc") or ("",))[0] == "path" for err in exc.errors()):
                return _error(request, 404, "http_404", STATUS_MESSAGES[404])
            details = [{"loc": [field_label(err.get("loc", ()))], "msg": d["msg"]}
                       for err, d in zip(exc.errors(), details, strict=True)]
        first = details[0] if details else {"loc": [], "msg": ""}
        where = ".".join(first["loc"])
        return _error(request, 422, "invalid", f"填写的内容有误：{where} {first['msg']}".strip(), details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = STATUS_MESSAGES.get(exc.status_code, "请求有误")
        response = _error(request, exc.status_code, "http_" + str(exc.status_code), message)
        for name, value in (exc.headers or {}).items():  # 405 carries Allow, 401 WWW-Authenticate
            response.headers[name] = value
        return response

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError):
        # A value the database cannot hold (a NUL byte in text, a number past its column) came in through a body
        # that no route bound more tightly: the request's fault, answered as one, never a 500.
        log.warning("value refused by the database on %s %s: %s", request.method, request.url.path,
                    str(exc.orig).splitlines()[0][:200])
        return _error(request, 422, "invalid", "提交的内容有数据库不能保存的值（数值超出范围，或文本含有 NUL 等控制字符），请检查后重试")

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError):
        if "database is locked" in str(exc.orig):  # SQLite: another writer got there first
            return _error(request, 409, "busy", "数据正被他人同时修改，请刷新后重试")
        log.exception("database error on %s %s", request.method, request.url.path)
        return _error(request, 500, "internal", "系统内部错误，已记录，请稍后重试或联系管理员")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(request, 500, "internal", "系统内部错误，已记录，请稍后重试或联系管理员")

    if get_settings().log_format == "json":
        use_json_logs()
    app.add_middleware(Observe)  # innermost: sees the matched route (request id, latency, the JSON request line)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit)
    app.add_middleware(EmptyQueryValues)
    # Pages and JSON over 1 KB go out gzipped when the browser accepts it; static files come gzipped already
    # (common/assets.py), and a response that has a Content-Encoding is passed through untouched.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6,
                       exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES + ALREADY_COMPRESSED)

    assets.current()  # read, hash and gzip every static file now rather than on the first page
    app.include_router(assets.router)
    app.include_router(pwa.router)  # manifest, service worker at the root scope, icons

    app.include_router(health.router)  # /healthz, /readyz
    app.include_router(metrics.router)  # /metrics (404 unless FANZHA_METRICS_TOKEN is set)
    app.include_router(api_router)
    app.include_router(pages_router)
    return app
