"""Login, logout and changing one's own password."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from fanzha.auth import service, users
from fanzha.auth.models import AuthSession
from fanzha.common.errors import Invalid, TooManyRequests, Unauthorized
from fanzha.common.tokens import same_token
from fanzha.config import get_settings
from fanzha.org.roles import home_of
from fanzha.org.scope import Scope
from fanzha.web.deps import (
    DEVICE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Db,
    client_ip,
    csrf_protect,
    current_auth,
    current_scope,
)
from fanzha.web.render import render

router = APIRouter()


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "auth/login.html", login_csrf=token, next=_safe_next(next), error="")
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=get_settings().cookie_secure)
    return response


@router.post("/login")
def login(request: Request, db: Db, username: str = Form("", max_length=64), password: str = Form("", max_length=128),
          csrf_token: str = Form("", max_length=100), next: str = Form("/", max_length=300)) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_token(expected, csrf_token):
        return render(request, "auth/login.html", status_code=403, login_csrf=expected, next=_safe_next(next),
                      error="页面已过期，请刷新后重新登录")
    try:
        result = service.login(db, username, password, kind="web", ip=client_ip(request),
                               user_agent=request.headers.get("user-agent", ""),
                               device_cookie=request.cookies.get(DEVICE_COOKIE, ""))
    except (Unauthorized, TooManyRequests) as exc:
        db.commit()  # the failed or refused attempt's audit entry stays
        response: Response = render(request, "auth/login.html", status_code=exc.status_code, login_csrf=expected,
                          next=_safe_next(next), error=exc.message, username=username)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    target = _safe_next(next)
    response = RedirectResponse(home_of(result.user.role) if target == "/" else target, status_code=303)
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="lax", secure=settings.cookie_secure,
                        max_age=settings.session_hours * 3600)
    # Sent back only to the login form: this browser's own failures, not a stranger's, hold its logins.
    response.set_cookie(DEVICE_COOKIE, result.device_cookie, httponly=True, samesite="strict", path="/login",
                        secure=settings.cookie_secure, max_age=settings.login_device_days * 86400)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, db: Db) -> Response:
    service.logout(db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_page(request: Request, scope: Scope = Depends(current_scope)) -> Response:
    return render(request, "auth/password.html", error="", done=False)


@router.post("/account/password", dependencies=[Depends(csrf_protect)])
def change_password(request: Request, db: Db, old_password: str = Form("", max_length=128),
                    new_password: str = Form("", max_length=128), scope: Scope = Depends(current_scope),
                    found: AuthSession = Depends(current_auth)) -> Response:
    """修改密码, throttled like the login; every other browser and API token of the user is logged out."""
    try:
        ended = users.change_own_password(db, scope, old_password, new_password, keep_session=found.id)
    except (Invalid, TooManyRequests) as exc:
        response = render(request, "auth/password.html", status_code=exc.status_code, error=exc.message, done=False)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "auth/password.html", error="", done=True, ended=ended)
