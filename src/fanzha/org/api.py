"""JSON API for areas and units (users: fanzha.auth.users_api)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from fanzha.org import service
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit
from fanzha.org.schemas import AreaIn, AreaOut, AreaPatch, UnitIn, UnitOut, UnitPatch
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery, Offset

router = APIRouter(tags=["组织"], dependencies=[Depends(csrf_protect)])


@router.get("/areas", response_model=list[AreaOut], summary="辖区列表（本级及下级）")
def list_areas(db: Db, chain: Chain | None = None, level: Level | None = None, parent_id: IdQuery = None,
               q: str = Query("", max_length=50), limit: int = Query(500, ge=1, le=5000),
               offset: Offset = 0, scope: Scope = Depends(current_scope)) -> list[Area]:
    return service.list_areas(db, scope, chain=chain, level=level, parent_id=parent_id, q=q, limit=limit, offset=offset)


@router.post("/areas", response_model=AreaOut, status_code=201, summary="新建辖区")
def create_area(body: AreaIn, db: Db, scope: Scope = Depends(current_scope)) -> Area:
    return service.create_area(db, scope, body)


@router.get("/areas/{area_id}", response_model=AreaOut, summary="辖区详情")
def get_area(area_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> Area:
    return service.get_area(db, scope, area_id)


@router.patch("/areas/{area_id}", response_model=AreaOut, summary="修改辖区")
def update_area(area_id: IdPath, body: AreaPatch, db: Db, scope: Scope = Depends(current_scope)) -> Area:
    return service.update_area(db, scope, area_id, body)


@router.get("/units", response_model=list[UnitOut], summary="成员单位列表")
def list_units(db: Db, q: str = Query("", max_length=50), limit: int = Query(500, ge=1, le=5000), offset: Offset = 0,
               scope: Scope = Depends(current_scope)) -> list[Unit]:
    return service.list_units(db, scope, q=q, limit=limit, offset=offset)


@router.post("/units", response_model=UnitOut, status_code=201, summary="新建成员单位")
def create_unit(body: UnitIn, db: Db, scope: Scope = Depends(current_scope)) -> Unit:
    return service.create_unit(db, scope, body)


@router.get("/units/{unit_id}", response_model=UnitOut, summary="成员单位详情")
def get_unit(unit_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> Unit:
    return service.get_unit(db, scope, unit_id)


@router.patch("/units/{unit_id}", response_model=UnitOut, summary="修改成员单位")
def update_unit(unit_id: IdPath, body: UnitPatch, db: Db, scope: Scope = Depends(current_scope)) -> Unit:
    return service.update_unit(db, scope, unit_id, body)
