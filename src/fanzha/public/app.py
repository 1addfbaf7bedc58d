"""The public checker app (公众识诈, `fanzha serve --public`): check a message, look up a number, report a scam.

A separate FastAPI app that needs no platform database and holds no personal data: texts are checked in memory and
written only when the person presses 举报 (into the app's own SQLite store, see store.py). Every client IP is rate
limited (ratelimit.py); forms carry a double-submit CSRF token; pages and app.css come from the package itself.
"""

from __future__ import annotations

import math
import secrets
from pathlib import Path

from fastapi import FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fanzha import __version__
from fanzha.common import assets
from fanzha.common.bodylimit import BodyLimit
from fanzha.common.lifespan import settled_heap
from fanzha.common.tokens import same_token
from fanzha.config import Settings, get_settings
from fanzha.detect.extract import ENTITY_KINDS, blocklist_items
from fanzha.public.ratelimit import TokenBucket
from fanzha.public.store import CHANNELS, PublicStore

WEB = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB / "templates"))
templates.env.globals["asset_url"] = assets.asset_url
CSRF_COOKIE = "fanzha_public_csrf"
FORM_BYTES = 256 * 1024
UNLIMITED = ("/static/", "/healthz")
MESSAGES = {400: "请求有误", 403: "页面已过期，请刷新后重试", 404: "页面不存在", 405: "不支持的请求方式",
            413: "提交的内容过大", 422: "填写的内容有误", 429: "请求太频繁，请稍后再试", 500: "系统内部错误，请稍后再试"}


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000, description="要检查的短信或聊天")


def highlight(norm: str, reasons: list[dict]) -> list[tuple[str, str]]:
    """The normalised text cut into (piece, red-flag name or "") so a template can mark the flagged spans."""
    marks: list[str] = [""] * len(norm)
    for r in reasons:
        for i in range(max(0, r["start"]), min(len(norm), r["end"])):
            marks[i] = marks[i] or r["name"]
    pieces: list[tuple[str, str]] = []
    for ch, mark in zip(norm, marks, strict=False):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + ch, mark)
        else:
            pieces.append((ch, mark))
    return pieces


def create_public_app(settings: Settings | None = None, *, store: PublicStore | None = None,
                      limiter: TokenBucket | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = store or PublicStore(settings.resolved_public_store())
    limiter = limiter or TokenBucket(settings.public_rate_per_minute, settings.public_burst)
    max_chars = settings.public_max_chars
    app = FastAPI(title="Fanzha 识诈（公众版）", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=settled_heap)
    app.state.store, app.state.limiter = store, limiter

    def page(request: Request, name: str, status_code: int = 200, **context):
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        context.update(request=request, csrf_token=token, CHANNELS=CHANNELS, max_chars=max_chars)
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.cookie_secure)
        return response

    def error(request: Request, status: int, message: str, headers: dict | None = None):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"code": f"http_{status}", "message": message}}, status_code=status,
                                headers=headers)
        response = page(request, "public/error.html", status_code=status, message=message)
        response.headers.update(headers or {})
        return response

    def csrf_ok(request: Request, sent: str) -> bool:
        expected = request.cookies.get(CSRF_COOKIE, "")
        return bool(expected) and same_token(expected, sent)

    def verdict(text: str):
        from fanzha.detect.service import check

        return check(text, blocklist=store)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        too_long = any(e.get("type") in ("string_too_long", "too_long") for e in exc.errors())
        return error(request, 422, f"内容太长：最多 {max_chars:,} 字" if too_long else "填写的内容有误，请检查后重试")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error(request, exc.status_code, MESSAGES.get(exc.status_code, "请求有误"))

    @app.middleware("http")
    async def rate_limit_and_headers(request: Request, call_next):
        if not request.url.path.startswith(UNLIMITED):
            wait = limiter.take(request.client.host if request.client else "")
            if wait:
                secs = math.ceil(wait)
                return error(request, 429, f"请求太频繁，请 {secs} 秒后再试", {"Retry-After": str(secs)})
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "form-action 'self'")
        return response

    app.add_middleware(BodyLimit, limit_for=lambda _ctype: FORM_BYTES)
    assets.current()
    app.include_router(assets.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def index(request: Request):
        return page(request, "public/index.html", text="", error="")

    @app.post("/check", include_in_schema=False)
    def check_page(request: Request, text: str = Form("", max_length=max_chars),
                   csrf_token: str = Form("", max_length=100)):
        if not csrf_ok(request, csrf_token):
            return error(request, 403, MESSAGES[403])
        if not text.strip():
            return page(request, "public/index.html", status_code=422, text=text, error="请粘贴要检查的短信或聊天内容")
        from fanzha.detect.normalise import normalise

        v = verdict(text)
        if v.no_text:  # emoji, invisible characters or markup alone: there is nothing to call 正常
            return page(request, "public/index.html", status_code=422, text=text, error=v.advice)
        norm = normalise(text[:max_chars])
        items = [(kind, ENTITY_KINDS[kind], value) for kind, value, _ in blocklist_items(norm)]
        flags = [] if v.risk == "normal" else v.reasons  # a normal verdict's reasons are not red flags
        return page(request, "public/result.html", v=v, text=text, pieces=highlight(norm, flags), items=items)

    @app.get("/lookup", include_in_schema=False)
    def lookup_page(request: Request, value: str = Query("", max_length=200)):
        value = value.strip()
        matches = store.lookup(value) if value else []
        return page(request, "public/lookup.html", value=value, matches=matches, info=store.blocklist_info())

    @app.get("/report", include_in_schema=False)
    def report_form(request: Request, value: str = Query("", max_length=200)):
        return page(request, "public/report.html", text="", value=value, channel="sms", error="")

    @app.post("/report", include_in_schema=False)
    def report(request: Request, text: str = Form("", max_length=max_chars),
               value: str = Form("", max_length=200), channel: str = Form("sms", max_length=16),
               csrf_token: str = Form("", max_length=100)):
        if not csrf_ok(request, csrf_token):
            return error(request, 403, MESSAGES[403])
        text, value = text.strip(), value.strip()
        problem = ("请填写可疑的消息内容，或对方的号码/网址/账号" if not (text or value)
                   else "请选择收到的渠道" if channel not in CHANNELS else "")
        if problem:
            return page(request, "public/report.html", status_code=422, text=text, value=value, channel=channel,
                        error=problem)
        v = verdict(text + ("\n" + value if value else ""))
        store.add_report(channel=channel, text=text, value=value, risk=v.risk, fraud_type=v.fraud_type)
        return RedirectResponse("/report/thanks", status_code=303)

    @app.get("/report/thanks", include_in_schema=False)
    def thanks(request: Request):
        return page(request, "public/done.html")

    @app.post("/api/check", summary="检查一条消息")
    def api_check(body: CheckIn):
        if len(body.text) > max_chars:
            return JSONResponse({"error": {"code": "too_long", "message": f"内容太长：最多 {max_chars:,} 字"}},
                                status_code=422)
        v = verdict(body.text)
        d = v.as_dict()
        d.pop("entities", None)
        return d

    @app.get("/api/lookup", summary="查询号码、网址或账号是否在黑名单上")
    def api_lookup(value: str = Query(..., min_length=1, max_length=200)):
        matches = store.lookup(value)
        return {"value": value, "listed": bool(matches), "matches": matches,
                "blocklist_updated": store.blocklist_info()["created_at"]}

    return app


def asgi_app() -> FastAPI:
    """Factory for uvicorn (`uvicorn --factory fanzha.public.app:asgi_app`)."""
    return create_public_app()
