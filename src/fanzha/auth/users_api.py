"""JSON API for user accounts (用户): list, create, read and change users; URLs under /users beside the areas and
units of fanzha.org.api."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from fanzha.auth import users
from fanzha.org.models import User
from fanzha.org.schemas import UserIn, UserOut, UserPatch
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, Offset

router = APIRouter(tags=["组织"], dependencies=[Depends(csrf_protect)])


@router.get("/users", response_model=list[UserOut], summary="用户列表")
def list_users(db: Db, q: str = Query("", max_length=50), role: str = Query("", max_length=32),
               limit: int = Query(500, ge=1, le=5000), offset: Offset = 0,
               scope: Scope = Depends(current_scope)) -> list[User]:
    return users.list_users(db, scope, q=q, role=role, limit=limit, offset=offset)


@router.post("/users", response_model=UserOut, status_code=201, summary="新建用户")
def create_user(body: UserIn, db: Db, scope: Scope = Depends(current_scope)) -> User:
    return users.create_user(db, scope, body)


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情")
def get_user(user_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> User:
    return users.get_user(db, scope, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, summary="修改用户（含重置密码、解锁、停用）")
def update_user(user_id: IdPath, body: UserPatch, db: Db, scope: Scope = Depends(current_scope)) -> User:
    return users.update_user(db, scope, user_id, body)
