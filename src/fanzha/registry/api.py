"""JSON API for the registry: people with groups and risk (reasons included), top fraud types per group, target
lists and the 三包 allocation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from fanzha.common.identity import mask_name
from fanzha.common.text import FREE_TEXT, check_plain
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.registry import duties, service
from fanzha.web.deps import csrf_protect, current_scope, get_db
from fanzha.web.params import IdPath, IdQuery, Offset

router = APIRouter(tags=["易受骗群体库"], dependencies=[Depends(csrf_protect)])


class RiskOut(BaseModel):
    person_id: int
    name: str
    community_id: int
    community_name: str
    groups: list[str]
    score: float = Field(description="每千名同类人员预计被骗人数（‰，0–1000）")
    warnings_12m: int
    past_victim: bool
    main_risk: dict = Field(description="本人主要风险：fraud_type、basis（近12个月被预警／曾被骗／群体最高发）、label")
    top_types: list[dict]
    reasons: list[str]


class TopTypeOut(BaseModel):
    group: str
    members: int
    types: list[dict]


ListName = Annotated[str, StringConstraints(max_length=100), AfterValidator(check_plain), Field(json_schema_extra=FREE_TEXT)]


class TargetListIn(Strict):
    group: str = Field(max_length=32)
    top_n: int = Field(3, ge=1, le=5)
    window_days: int | None = Field(None, ge=7, le=3650)
    name: ListName = ""


class TargetListOut(BaseModel):
    id: int
    name: str
    group: str
    fraud_types: list[str]
    window_days: int
    as_of: str
    campaign_id: int | None
    members: list[dict]


class DutyIn(Strict):
    user_id: int = Field(ge=1, le=2**31 - 1)


class DutyOut(BaseModel):
    id: int
    item: str
    name: str
    user_id: int
    weight: float
    factors: dict
    source: str


def _risk_out(row: service.Row, scope: Scope) -> RiskOut:
    s = row.score
    name = row.person.name if scope.can(Perm.PII_FULL) else mask_name(row.person.name)
    return RiskOut(person_id=row.person.id, name=name, community_id=row.person.community_id,
                   community_name=row.person.community.label, groups=row.groups, score=s.value,
                   warnings_12m=s.warnings, past_victim=s.victim,
                   main_risk={"fraud_type": s.main_type, "basis": s.main_basis, "label": s.main_risk},
                   top_types=[{"fraud_type": t, "rate": round(r, 6), "group": g} for t, r, g in s.per_type[:3]],
                   reasons=s.reasons)


@router.get("/registry/people", response_model=list[RiskOut], summary="易受骗群体库（按风险排序）")
def registry(group: str = Query("", max_length=32), community_id: IdQuery = None,
             limit: int = Query(50, ge=1, le=500), offset: Offset = 0,
             db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    rows, _ = service.registry(db, scope, service.population(db), group=group, community_id=community_id,
                               limit=limit, offset=offset)
    return [_risk_out(r, scope) for r in rows]


@router.get("/registry/people/{person_id}", response_model=RiskOut, summary="风险分及依据")
def person_risk(person_id: IdPath, db: Session = Depends(get_db, scope="function"),
                scope: Scope = Depends(current_scope)):
    return _risk_out(service.person_risk(db, scope, service.population(db), person_id), scope)


@router.get("/registry/groups", response_model=list[TopTypeOut], summary="各群体高发诈骗类型")
def groups(window_days: int | None = Query(None, ge=7, le=3650), top_n: int = Query(3, ge=1, le=5),
           db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    scope.require(Perm.READ_PEOPLE)
    pop = service.population(db, window_days=window_days)
    return [TopTypeOut(group=g, members=pop.rates.members.get(g, 0),
                       types=[{"fraud_type": t, "victims": v, "rate": round(r, 6)} for t, v, _, r in types])
            for g, types in service.top_types(pop, top_n).items()]


def _list_out(db: Session, scope: Scope, tl) -> TargetListOut:
    full = scope.can(Perm.PII_FULL)
    return TargetListOut(id=tl.id, name=tl.name, group=tl.group, fraud_types=list(tl.fraud_types),
                         window_days=tl.window_days, as_of=tl.as_of.isoformat(), campaign_id=tl.campaign_id,
                         members=[{"person_id": m.person_id, "name": m.person.name if full else mask_name(m.person.name),
                                   "community_id": m.community_id, "score": m.score, "message": m.message}
                                  for m in service.members(db, scope, tl)])


@router.post("/registry/target-lists", response_model=TargetListOut, status_code=201, summary="生成精准滴灌名单")
def create_list(body: TargetListIn, db: Session = Depends(get_db, scope="function"),
                scope: Scope = Depends(current_scope)):
    tl = service.create_list(db, scope, service.population(db, window_days=body.window_days), group=body.group,
                             top_n=body.top_n, name=body.name)
    return _list_out(db, scope, tl)


@router.get("/registry/target-lists/{list_id}", response_model=TargetListOut, summary="精准滴灌名单")
def get_list(list_id: IdPath, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    return _list_out(db, scope, service.get_list(db, scope, list_id))


def _duty_out(d) -> DutyOut:
    return DutyOut(id=d.id, item=d.item_key, name=d.community.label if d.community else d.unit.name,
                   user_id=d.user_id, weight=d.weight, factors=d.factors or {}, source=d.source)


@router.get("/registry/duties", response_model=list[DutyOut], summary="三包责任分配")
def list_duties(db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    return [_duty_out(d) for d in duties.list_duties(db, scope)]


@router.post("/registry/duties/{duty_id}", response_model=DutyOut, summary="调整一项三包责任")
def reassign(duty_id: IdPath, body: DutyIn, db: Session = Depends(get_db, scope="function"),
             scope: Scope = Depends(current_scope)):
    return _duty_out(duties.reassign(db, scope, duty_id, body.user_id))
