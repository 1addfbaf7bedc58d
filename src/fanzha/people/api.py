"""JSON API for people: masked by default, `reveal=true` for roles allowed full numbers (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from fanzha.org.scope import Scope
from fanzha.people import service
from fanzha.people.schemas import PersonIn, PersonOut, PersonPatch
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery, Offset

router = APIRouter(tags=["人员"], dependencies=[Depends(csrf_protect)])


@router.get("/people", response_model=list[PersonOut], summary="人员查询（号码脱敏）")
def search_people(db: Db, q: str = Query("", max_length=32), community_id: IdQuery = None,
                  limit: int = Query(50, ge=1, le=500), offset: Offset = 0,
                  scope: Scope = Depends(current_scope)) -> list[PersonOut]:
    rows, _ = service.search(db, scope, q=q, community_id=community_id, limit=limit, offset=offset)
    return [service.to_out(p) for p in rows]


@router.post("/people", response_model=PersonOut, status_code=201, summary="新增人员")
def create_person(body: PersonIn, db: Db, scope: Scope = Depends(current_scope)) -> PersonOut:
    return service.to_out(service.create(db, scope, body))


@router.get("/people/{person_id}", response_model=PersonOut, summary="人员详情")
def get_person(person_id: IdPath, db: Db, reveal: bool = False,
               scope: Scope = Depends(current_scope)) -> PersonOut:
    return service.to_out(service.get(db, scope, person_id, reveal=reveal), reveal=reveal)


@router.patch("/people/{person_id}", response_model=PersonOut, summary="修改人员")
def update_person(person_id: IdPath, body: PersonPatch, db: Db,
                  scope: Scope = Depends(current_scope)) -> PersonOut:
    return service.to_out(service.update(db, scope, person_id, body))
