"""JSON API for the standard address list, its import and address matching."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from fanzha.addresses import service
from fanzha.common.text import Id, PlainText
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery, Offset

router = APIRouter(tags=["标准地址"], dependencies=[Depends(csrf_protect)])


class AddressIn(Strict):
    text: PlainText
    community_id: Id
    kind: str | None = None


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    text: str
    kind: str
    community_id: Id


class MatchIn(Strict):
    text: PlainText


@router.get("/addresses", response_model=list[AddressOut], summary="标准地址列表")
def list_addresses(db: Db, q: str = Query("", max_length=50), community_id: IdQuery = None,
                   limit: int = Query(100, ge=1, le=1000), offset: Offset = 0,
                   scope: Scope = Depends(current_scope)):
    rows, _ = service.list_addresses(db, scope, q=q, community_id=community_id, limit=limit, offset=offset)
    return rows


@router.post("/addresses", response_model=AddressOut, status_code=201, summary="新增标准地址")
def create_address(body: AddressIn, db: Db, scope: Scope = Depends(current_scope)):
    return service.create_address(db, scope, text=body.text, community_id=body.community_id, kind=body.kind)


@router.get("/addresses/{address_id}", response_model=AddressOut, summary="标准地址详情")
def get_address(address_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return service.get_address(db, scope, address_id)


@router.post("/addresses:match", summary="把自由文本地址匹配到村/社区")
def match_address(body: MatchIn, db: Db, scope: Scope = Depends(current_scope)) -> dict:
    community_id = service.AddressMatcher(db, scope).match(body.text)
    return {"community_id": community_id}
