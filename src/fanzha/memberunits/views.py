"""成员单位工作 pages: the unit's groups (coverage, activities, cases), its target lists and the lists it sent."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from fanzha.memberunits import service
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, require
from fanzha.web.params import IdPath
from fanzha.web.render import env, render

router = APIRouter()
env.globals["unit_type_name"] = service.type_name


@router.get("/unit-work")
def my_unit(scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    """本单位工作: a liaison's own unit; anyone else picks a unit from the list."""
    if scope.unit_id is None:
        return RedirectResponse("/org/units", status_code=303)
    return RedirectResponse(f"/org/units/{scope.unit_id}/work", status_code=303)


@router.get("/org/units/{unit_id}/work")
def unit_work(unit_id: IdPath, request: Request, db: Db, year: int | None = Query(None, ge=2000, le=2100),
              scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    w = service.work(db, scope, unit_id, year=year)
    return render(request, "memberunits/work.html", w=w)


@router.get("/org/units/{unit_id}/work/people")
def unit_people(unit_id: IdPath, request: Request, db: Db, page: int = Query(1, ge=1, le=100_000),
                scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    unit = service.unit_for(db, scope, unit_id)
    rows, total = service.listed_people(db, scope, unit_id, page=page)
    return render(request, "memberunits/people.html", unit=unit, rows=rows, total=total, page=page,
                  pages=max(1, -(-total // service.PAGE)))


@router.get("/org/units/{unit_id}/work/lists/{list_id}")
def unit_target_list(unit_id: IdPath, list_id: IdPath, request: Request, db: Db,
                     scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    unit, found, members = service.target_list(db, scope, unit_id, list_id)
    return render(request, "memberunits/target_list.html", unit=unit, t=found, members=members)
