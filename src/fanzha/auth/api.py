"""API login: exchange a username and password for a bearer token; who am I; revoke; change one's own password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from fanzha.auth import service, users
from fanzha.auth.models import AuthSession
from fanzha.common.errors import Invalid, TooManyRequests, Unauthorized
from fanzha.org.roles import PERMISSIONS, ROLE_LABELS, Role
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, _bearer, client_ip, csrf_protect, current_auth, current_scope

router = APIRouter(tags=["认证"])


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str


@router.post("/auth/token", response_model=TokenOut, summary="用用户名和密码换取接口令牌")
def issue_token(body: TokenIn, request: Request, db: Db) -> TokenOut:
    try:
        login = service.login(db, body.username, body.password, kind="api", ip=client_ip(request),
                              user_agent=request.headers.get("user-agent", ""))
    except (Unauthorized, TooManyRequests):
        db.commit()  # the failed or refused attempt's audit entry stays
        raise
    found = service.resolve(db, login.token, kind="api")
    assert found is not None, "the token the login just issued resolves"
    return TokenOut(access_token=login.token, expires_at=found.expires_at.isoformat())


@router.delete("/auth/token", status_code=204, summary="注销当前接口令牌")
def revoke_token(request: Request, db: Db, scope: Scope = Depends(current_scope)) -> None:
    service.logout(db, _bearer(request), kind="api")


@router.get("/me", summary="当前用户")
def me(scope: Scope = Depends(current_scope)) -> dict[str, Any]:
    role = Role(scope.role)
    return {"user_id": scope.user_id, "username": scope.username, "role": role.value, "role_label": ROLE_LABELS[role],
            "area_id": scope.area_id, "unit_id": scope.unit_id,
            "permissions": sorted(p.value for p in PERMISSIONS[role])}


class PasswordIn(Strict):
    # A password is taken as typed: spaces are characters of it, as on the page's form.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    old_password: str = Field(min_length=1, max_length=128, description="原密码")
    new_password: str = Field(min_length=1, max_length=128, description="新密码：至少8位，须同时包含字母和数字")


class PasswordOut(BaseModel):
    sessions_ended: int = Field(description="因此退出的其他浏览器登录和接口令牌数（本令牌仍有效）")


@router.post("/account/password", response_model=PasswordOut, dependencies=[Depends(csrf_protect)], summary="修改本人密码（同页面：与登录同样限制尝试次数，"
             "其他登录与令牌随之失效）")
def change_password(body: PasswordIn, db: Db,
                    scope: Scope = Depends(current_scope), found: AuthSession = Depends(current_auth)) -> PasswordOut:
    try:
        ended = users.change_own_password(db, scope, body.old_password, body.new_password, keep_session=found.id)
    except (Invalid, TooManyRequests):
        db.commit()  # the failed or refused attempt's audit entry stays, as on the page
        raise
    return PasswordOut(sessions_ended=ended)
