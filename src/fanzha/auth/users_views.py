"""User administration pages (用户管理): the list, a new user, a user's page with its changes (password, unlock,
deactivation)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fanzha.auth import backoff
from fanzha.auth import users as accounts
from fanzha.common.errors import DomainError
from fanzha.db import utcnow
from fanzha.org import service as org
from fanzha.org.models import Area, Unit
from fanzha.org.roles import Perm
from fanzha.org.schemas import UserIn, UserPatch
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import parse_form
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()


@router.get("/admin/users")
def users(request: Request, db: Db, q: str = Query("", max_length=50), role: str = Query("", max_length=32),
          scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    rows = accounts.list_users(db, scope, q=q, role=role)
    held = backoff.held_accounts(db, [u.username for u in rows], now=utcnow())
    return render(request, "admin/users.html", rows=rows, q=q, role=role, held=held)


def _placement_choices(db: Session, scope: Scope) -> tuple[list[Area], list[Unit]]:
    return org.list_areas(db, scope, limit=100_000), org.list_units(db, scope, limit=5000)


@router.get("/admin/users/new")
def new_user(request: Request, db: Db, scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    areas, units = _placement_choices(db, scope)
    return render(request, "admin/user_form.html", target=None, areas=areas, units=units, errors={}, form={})


@router.post("/admin/users/new", dependencies=[Depends(csrf_protect)])
async def create_user(request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    form = await request.form()
    data = {k: form.get(k, "") for k in ("username", "display_name", "password", "role", "area_id", "unit_id",
                                          "phone")}
    model, errors = parse_form(UserIn, data)
    if model is not None:
        try:
            user = accounts.create_user(db, scope, model)
            return RedirectResponse(f"/admin/users/{user.id}", status_code=303)
        except DomainError as exc:
            errors = {"_": exc.message}
    areas, units = _placement_choices(db, scope)
    return render(request, "admin/user_form.html", status_code=422, target=None, areas=areas, units=units,
                  errors=errors, form=data)


@router.get("/admin/users/{user_id}")
def user_detail(user_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    target = accounts.get_user(db, scope, user_id)
    areas, units = _placement_choices(db, scope)
    return render(request, "admin/user_form.html", target=target, areas=areas, units=units, errors={}, form={},
                  saved=request.query_params.get("saved") == "1",
                  login=backoff.state(db, target.username, now=utcnow()))


@router.post("/admin/users/{user_id}", dependencies=[Depends(csrf_protect)])
async def update_user(user_id: IdPath, request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    target = accounts.get_user(db, scope, user_id)
    form = await request.form()
    data: dict[str, object] = {k: form[k] for k in ("display_name", "role", "area_id", "phone", "unit_id", "password")
                               if k in form}
    data["is_active"] = form.get("is_active") == "on"
    if form.get("unlock") == "on":
        data["unlock"] = True
    model, errors = parse_form(UserPatch, data)
    if model is not None:
        try:
            accounts.update_user(db, scope, target.id, model)
            return RedirectResponse(f"/admin/users/{target.id}?saved=1", status_code=303)
        except DomainError as exc:
            errors = {"_": exc.message}
    db.rollback()
    target = accounts.get_user(db, scope, user_id)
    areas, units = _placement_choices(db, scope)
    return render(request, "admin/user_form.html", status_code=422, target=target, areas=areas, units=units,
                  errors=errors, form=data, login=backoff.state(db, target.username, now=utcnow()))
