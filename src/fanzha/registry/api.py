"""JSON API for the registry: people with groups and risk (reasons included), top fraud types per group, 待落地
placing, target lists with their door-to-door print and campaign, and the 三包 allocation (run and reassign)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from fanzha.common.identity import mask_name, mask_phone
from fanzha.common.text import FREE_TEXT, Id, check_plain
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.registry import duties, service
from fanzha.web.deps import Db, csrf_protect, current_scope, require
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


class DutyRunOut(BaseModel):
    ratio: float = Field(description="最重与最轻包保人负担之比")
    max: float
    min: float
    items: int = Field(description="包保项数（村/社区与成员单位）")
    staff: int = Field(description="包保人数")
    local_share: float = Field(description="由本辖区工作人员包保的村/社区占比")


class UnplacedOut(BaseModel):
    id: int
    name: str
    phone: str = Field(description="手机号（脱敏，同页面）")
    address: str
    groups: list[str]
    reason: str
    batch_id: int | None
    row_number: int


class UnplacedPlaceIn(Strict):
    community_id: Id = Field(description="落地到的村/社区（本人辖区内）")


class PlacedOut(BaseModel):
    unplaced_id: int
    person_id: int
    community_id: int
    groups: list[str]


class PrintedLine(BaseModel):
    person_id: int
    name: str
    address: str
    phone: str = Field(description="完整手机号（查看即留痕）")
    score: float
    fraud_types: list[str]


class PrintedCommunity(BaseModel):
    community_id: int
    community_name: str
    members: list[PrintedLine]


class PrintOut(BaseModel):
    list_id: int
    name: str
    as_of: date
    community_id: int | None
    communities: list[PrintedCommunity] = Field(description="按村/社区分组，风险最高的村/社区在前")


class ListCampaignIn(Strict):
    starts_on: date = Field(description="开始日期，如 2026-04-08")
    ends_on: date = Field(description="结束日期，不早于开始日期，不超过一年")


class ListCampaignOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    starts_on: date
    ends_on: date
    list_id: int
    quotas: dict[int, int] = Field(description="各村/社区入户任务数（村/社区 id → 户数）")


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
def registry(db: Db, group: str = Query("", max_length=32), community_id: IdQuery = None,
             limit: int = Query(50, ge=1, le=500), offset: Offset = 0,
             scope: Scope = Depends(current_scope)):
    rows, _ = service.registry(db, scope, service.population(db), group=group, community_id=community_id,
                               limit=limit, offset=offset)
    return [_risk_out(r, scope) for r in rows]


@router.get("/registry/people/{person_id}", response_model=RiskOut, summary="风险分及依据")
def person_risk(person_id: IdPath, db: Db,
                scope: Scope = Depends(current_scope)):
    return _risk_out(service.person_risk(db, scope, service.population(db), person_id), scope)


@router.get("/registry/groups", response_model=list[TopTypeOut], summary="各群体高发诈骗类型")
def groups(db: Db, window_days: int | None = Query(None, ge=7, le=3650), top_n: int = Query(3, ge=1, le=5),
           scope: Scope = Depends(current_scope)):
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
def create_list(body: TargetListIn, db: Db,
                scope: Scope = Depends(current_scope)):
    tl = service.create_list(db, scope, service.population(db, window_days=body.window_days), group=body.group,
                             top_n=body.top_n, name=body.name)
    return _list_out(db, scope, tl)


@router.get("/registry/target-lists/{list_id}", response_model=TargetListOut, summary="精准滴灌名单")
def get_list(list_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return _list_out(db, scope, service.get_list(db, scope, list_id))


def _duty_out(d) -> DutyOut:
    return DutyOut(id=d.id, item=d.item_key, name=d.community.label if d.community else d.unit.name,
                   user_id=d.user_id, weight=d.weight, factors=d.factors or {}, source=d.source)


@router.get("/registry/duties", response_model=list[DutyOut], summary="三包责任分配")
def list_duties(db: Db, scope: Scope = Depends(current_scope)):
    return [_duty_out(d) for d in duties.list_duties(db, scope)]


@router.post("/registry/duties/{duty_id}", response_model=DutyOut, summary="调整一项三包责任")
def reassign(duty_id: IdPath, body: DutyIn, db: Db,
             scope: Scope = Depends(current_scope)):
    return _duty_out(duties.reassign(db, scope, duty_id, body.user_id))


@router.post("/registry/duties:run", response_model=DutyRunOut, summary="重新计算三包分配（人工调整的保留）")
def run_duties(db: Db,
               scope: Scope = Depends(require(Perm.ALLOCATE_DUTIES))):
    return DutyRunOut(**duties.run(db, scope, service.population(db)))


# -- 待落地 ---------------------------------------------------------------------------------------------------------

@router.get("/registry/unplaced", response_model=list[UnplacedOut], summary="待落地人员（住址未匹配到标准地址）")
def unplaced(db: Db, scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    full = scope.can(Perm.PII_FULL)
    return [UnplacedOut(id=h.id, name=h.name if full else mask_name(h.name), phone=mask_phone(h.phone),
                        address=h.address, groups=list(h.groups or []), reason=h.reason, batch_id=h.batch_id,
                        row_number=h.row_number)
            for h in service.list_unplaced(db, scope)]


@router.post("/registry/unplaced/{unplaced_id}/place", response_model=PlacedOut, summary="待落地人员落地到村/社区")
def place(unplaced_id: IdPath, body: UnplacedPlaceIn, db: Db,
          scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    person = service.place(db, scope, unplaced_id, body.community_id)
    return PlacedOut(unplaced_id=unplaced_id, person_id=person.id, community_id=person.community_id,
                     groups=list(person.groups or []))


# -- target lists: door-to-door print and campaign -----------------------------------------------------------------

@router.post("/registry/target-lists/{list_id}/print", response_model=PrintOut,
             summary="入户宣防名单（完整手机号，逐号留痕）")
def print_list(list_id: IdPath, db: Db, community_id: IdQuery = None, scope: Scope = Depends(require(Perm.PII_FULL))):
    tl, rows = service.print_list(db, scope, list_id, community_id=community_id, reveal=True)
    return PrintOut(list_id=tl.id, name=tl.name, as_of=service.today(), community_id=community_id,
                    communities=[PrintedCommunity(community_id=area.id, community_name=area.label,
                                                  members=[PrintedLine(person_id=m.person_id, name=m.name,
                                                                       address=m.address, phone=m.phone,
                                                                       score=m.score, fraud_types=m.fraud_types)
                                                           for m in lines])
                                 for area, lines in service.by_community(rows)])


@router.post("/registry/target-lists/{list_id}/campaign", response_model=ListCampaignOut, status_code=201,
             summary="名单生成专项行动（各村/社区入户任务数 = 名单人数）")
def to_campaign(list_id: IdPath, body: ListCampaignIn, db: Db,
                scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    c = service.to_campaign(db, scope, list_id, starts_on=body.starts_on, ends_on=body.ends_on)
    return ListCampaignOut(id=c.id, code=c.code, name=c.name, kind=c.kind, starts_on=c.starts_on, ends_on=c.ends_on,
                           list_id=list_id, quotas=service.campaign_quotas(db, c.id))
