"""成员单位工作 over the API: the same figures, lists and masking as the pages, for the same users."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.common.identity import mask_name
from fanzha.memberunits import service
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, require
from fanzha.web.params import IdPath

router = APIRouter(tags=["成员单位"])


class TypeCount(BaseModel):
    fraud_type: str = Field(description="诈骗类型键；空为综合宣传")
    name: str
    count: int


class GroupWorkOut(BaseModel):
    group: str
    name: str
    people: int = Field(description="本单位所在辖区内该人群人数（名单申报或由记录推算）")
    listed: int = Field(description="其中在本单位报送名单上的人数")
    app: int
    jzz: int
    app_rate: float | None = Field(description="APP注册率（0–1）；人数为0时为空")
    jzz_rate: float | None
    source: str = Field(description="people 按注册名单去重计人；activities 按活动上报数量（可能重复计数）")
    source_label: str
    activities: int = Field(description="本年度本单位针对该人群的宣传活动次数（不含已撤回）")
    participants: int
    by_type: list[TypeCount]
    cases: int = Field(description="本年度辖区内受害人属该人群的立案数（按立案时间）")
    loss: Decimal
    top_types: list[TypeCount]


class BatchOut(BaseModel):
    batch_id: int | None
    filename: str
    rows: int
    people: int


class TargetListOut(BaseModel):
    id: int
    name: str
    group: str
    as_of: date
    fraud_types: list[str]
    advice: list[str]
    members: int = Field(description="名单上属于本单位报送人员的人数")


class UnitWorkOut(BaseModel):
    unit_id: int
    unit: str
    year: int
    as_of: date
    groups: list[GroupWorkOut]
    batches: list[BatchOut]
    listed_people: int
    target_lists: list[TargetListOut]
    activities_other: int = Field(description="本年度本单位未针对负责人群的活动次数")


def _types(pairs) -> list[TypeCount]:
    return [TypeCount(fraud_type=t, name=service.type_name(t), count=n) for t, n in pairs]


def _list_out(t: service.UnitTargetList) -> TargetListOut:
    return TargetListOut(id=t.tl.id, name=t.tl.name, group=t.tl.group, as_of=t.tl.as_of,
                         fraud_types=list(t.tl.fraud_types or []), advice=t.advice, members=t.members)


@router.get("/units/{unit_id}/work", response_model=UnitWorkOut, summary="成员单位工作：负责人群的覆盖、活动、案件与名单")
def unit_work(unit_id: IdPath, db: Db, year: int | None = Query(None, ge=2000, le=2100),
              scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    w = service.work(db, scope, unit_id, year=year)
    return UnitWorkOut(
        unit_id=w.unit.id, unit=w.unit.name, year=w.period.year, as_of=w.today, listed_people=w.listed_people,
        activities_other=w.activities_other,
        groups=[GroupWorkOut(group=g.group, name=g.name, people=g.people, listed=g.listed, app=g.app, jzz=g.jzz,
                             app_rate=float(g.rate(g.app)) if g.rate(g.app) is not None else None,
                             jzz_rate=float(g.rate(g.jzz)) if g.rate(g.jzz) is not None else None,
                             source=g.source, source_label=g.source_label, activities=g.activities,
                             participants=g.participants, by_type=_types(g.by_type), cases=g.cases, loss=g.loss,
                             top_types=_types(g.top_types)) for g in w.groups],
        batches=[BatchOut(batch_id=b.batch_id, filename=b.filename, rows=b.rows, people=b.people) for b in w.batches],
        target_lists=[_list_out(t) for t in w.target_lists])


class ListedPersonOut(BaseModel):
    id: int
    name: str = Field(description="姓名（脱敏）")
    community: str
    groups: list[str]
    app: bool
    jzz: bool


@router.get("/units/{unit_id}/people", response_model=list[ListedPersonOut], summary="本单位报送的人员（姓名脱敏）")
def unit_people(unit_id: IdPath, db: Db, page: int = Query(1, ge=1, le=100_000), scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows, _ = service.listed_people(db, scope, unit_id, page=page)
    return [ListedPersonOut(**vars(r)) for r in rows]


class MemberOut(BaseModel):
    person_id: int
    name: str = Field(description="姓名（脱敏）")
    community: str
    score: float


class UnitTargetListOut(TargetListOut):
    people: list[MemberOut]


@router.get("/units/{unit_id}/target-lists/{list_id}", response_model=UnitTargetListOut,
            summary="本单位负责人群的精准滴灌名单（仅本单位报送人员，姓名脱敏）")
def unit_target_list(unit_id: IdPath, list_id: IdPath, db: Db,
                     scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    _, t, members = service.target_list(db, scope, unit_id, list_id)
    return UnitTargetListOut(**_list_out(t).model_dump(), people=[
        MemberOut(person_id=m.person_id, name=mask_name(m.person.name), community=m.community.label, score=m.score)
        for m in members])
