"""Pages for the two hierarchies, member units and the roles (user administration: fanzha.auth.users_views)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common.errors import DomainError
from fanzha.org import service
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, User
from fanzha.org.roles import PERMISSIONS, ROLE_LEVELS, Perm, Role
from fanzha.org.schemas import AreaIn, AreaPatch, UnitIn
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import parse_form
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()


@router.get("/org/areas")
def areas(request: Request, db: Db, chain: Chain = Chain.POLICE, q: str = Query("", max_length=50),
          scope: Scope = Depends(require(Perm.READ_ORG))) -> Response:
    if q:
        rows = [(a, 0) for a in service.list_areas(db, scope, chain=chain.value, q=q, limit=200)]
    else:
        rows = service.area_tree(db, scope, chain)
    parents = _parents(db, scope) if scope.can(Perm.MANAGE_AREAS) else []
    return render(request, "org/areas.html", rows=rows, chain=chain, q=q, errors={}, form={}, parents=parents)


@router.get("/org/areas/{area_id}")
def area_detail(area_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.READ_ORG))) -> Response:
    area = service.get_area(db, scope, area_id)
    children = service.list_areas(db, scope, parent_id=area.id, limit=1000)
    covered = []
    if area.chain == Chain.POLICE:
        covered = list(db.scalars(select(Area).where(Area.police_path.startswith(area.path, autoescape=True),
                                                      scope.area_clause()).order_by(Area.path).limit(500)))
    people = service.people_of(db, scope, area)
    ancestors: list[Area] = []
    node = area.parent
    while node is not None and scope.covers(node):
        ancestors.insert(0, node)
        node = node.parent
    police_nodes = []
    if area.level == Level.COMMUNITY and scope.can(Perm.MANAGE_AREAS):
        police_nodes = [a for a in service.list_areas(db, scope, chain=Chain.POLICE.value, limit=100_000)
                        if a.level in (Level.STATION, Level.BEAT)]
    return render(request, "org/area.html", area=area, children=children, covered=covered, people=people,
                  ancestors=ancestors, police_nodes=police_nodes, saved=request.query_params.get("saved") == "1",
                  error=request.query_params.get("error", "")[:200])


@router.post("/org/areas", dependencies=[Depends(csrf_protect)])
async def create_area(request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_AREAS))) -> Response:
    form = await request.form()
    data = {k: form.get(k, "") for k in ("name", "code", "level", "kind_label", "parent_id", "police_area_id",
                                          "population", "households", "shops")}
    model, errors = parse_form(AreaIn, data)
    if model is not None:
        try:
            area = service.create_area(db, scope, model)
            return RedirectResponse(f"/org/areas/{area.id}", status_code=303)
        except DomainError as exc:
            db.rollback()
            errors = {"_": exc.message}
    chain = Chain.POLICE if data.get("level") in ("bureau", "branch", "station", "beat") else Chain.ADMIN
    return render(request, "org/areas.html", status_code=422, rows=service.area_tree(db, scope, chain), chain=chain,
                  q="", errors=errors, form=data, parents=_parents(db, scope))


def _parents(db: Session, scope: Scope) -> list[Area]:
    return [a for a in service.list_areas(db, scope, limit=100_000) if a.level != Level.COMMUNITY]


@router.post("/org/areas/{area_id}", dependencies=[Depends(csrf_protect)])
async def update_area(area_id: IdPath, request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_AREAS))) -> Response:
    service.get_area(db, scope, area_id)
    form = await request.form()
    data = {k: form[k] for k in ("name", "kind_label", "population", "households", "shops", "police_area_id")
            if k in form}
    model, errors = parse_form(AreaPatch, data)
    if model is not None:
        try:
            service.update_area(db, scope, area_id, model)
            return RedirectResponse(f"/org/areas/{area_id}?saved=1", status_code=303)
        except DomainError as exc:
            db.rollback()
            errors = {"_": exc.message}
    return RedirectResponse(f"/org/areas/{area_id}?error=" + quote(next(iter(errors.values()), "")), status_code=303)


@router.get("/admin/roles")
def roles(request: Request, scope: Scope = Depends(require(Perm.MANAGE_USERS))) -> Response:
    return render(request, "admin/roles.html", roles=[(r, PERMISSIONS[r], ROLE_LEVELS[r]) for r in Role])


@router.get("/org/units")
def units(request: Request, db: Db, q: str = Query("", max_length=50),
          scope: Scope = Depends(require(Perm.READ_ORG))) -> Response:
    rows = service.list_units(db, scope, q=q)
    admin_areas = []
    if scope.can(Perm.MANAGE_UNITS):
        admin_areas = [a for a in service.list_areas(db, scope, chain=Chain.ADMIN.value, limit=5000)
                       if a.level in (Level.CITY, Level.COUNTY, Level.TOWNSHIP)]
    return render(request, "org/units.html", rows=rows, q=q, admin_areas=admin_areas, errors={}, form={})


@router.post("/org/units", dependencies=[Depends(csrf_protect)])
async def create_unit(request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_UNITS))) -> Response:
    form = await request.form()
    data: dict[str, object] = {k: form.get(k, "") for k in ("name", "code", "kind", "area_id", "contact_name",
                                                            "contact_phone")}
    data["duty_groups"] = form.getlist("duty_groups")
    model, errors = parse_form(UnitIn, data)
    if model is not None:
        try:
            unit = service.create_unit(db, scope, model)
            return RedirectResponse(f"/org/units/{unit.id}", status_code=303)
        except DomainError as exc:
            errors = {"_": exc.message}
    rows = service.list_units(db, scope)
    admin_areas = [a for a in service.list_areas(db, scope, chain=Chain.ADMIN.value, limit=5000)
                   if a.level in (Level.CITY, Level.COUNTY, Level.TOWNSHIP)]
    return render(request, "org/units.html", status_code=422, rows=rows, q="", admin_areas=admin_areas,
                  errors=errors, form=data)


@router.get("/org/units/{unit_id}")
def unit_detail(unit_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.READ_ORG))) -> Response:
    unit = service.get_unit(db, scope, unit_id)
    liaisons = list(db.scalars(select(User).where(User.unit_id == unit.id)))
    return render(request, "org/unit.html", unit=unit, liaisons=liaisons)
