"""JSON API for 考核: runs, standings with every item's points and basis, manual scores, lock, corrections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fanzha.assess import service
from fanzha.assess.models import AssessmentRun
from fanzha.common.text import NoteText
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["考核"], dependencies=[Depends(csrf_protect)])


class RunIn(Strict):
    scheme_key: str = Field(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    period: str = Field(max_length=16)
    area_id: int = Field(ge=1, le=2**31 - 1)


class RunOut(BaseModel):
    id: int
    scheme_key: str
    scheme_name: str
    period: str
    area_id: int
    status: str


class ManualIn(Strict):
    pool: Literal["unit", "township"]
    assessee_id: int = Field(ge=1, le=2**31 - 1)
    item_key: str = Field(max_length=40)
    points: Decimal = Field(ge=0, le=1000, max_digits=6, decimal_places=2)
    note: NoteText = ""


class CorrectionIn(ManualIn):
    reason: NoteText = Field(min_length=1)


def _out(run: AssessmentRun) -> RunOut:
    return RunOut(id=run.id, scheme_key=run.scheme_key, scheme_name=run.title, period=run.period,
                  area_id=run.area_id, status=run.status)


@router.get("/assess/runs", response_model=list[RunOut], summary="考核列表")
def runs(db: Db, scope: Scope = Depends(current_scope)) -> list[RunOut]:
    return [_out(r) for r in service.list_runs(db, scope)]


@router.post("/assess/runs", response_model=RunOut, status_code=201, summary="发起考核并计算")
def create(body: RunIn, db: Db, scope: Scope = Depends(current_scope)) -> RunOut:
    return _out(service.create_run(db, scope, scheme_key=body.scheme_key, period=body.period, area_id=body.area_id))


@router.get("/assess/runs/{run_id}", response_model=None,
            summary="考核得分：[{unit, pool, total, place, items: [{name, points, max, basis}]}]")
def standings(run_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> dict[str, Any]:
    return {"run": _out(service.get_run(db, scope, run_id)), "standings": service.as_json(db, scope, run_id)}


@router.post("/assess/runs/{run_id}/score", response_model=RunOut, summary="重新计算数据项（草稿）")
def rescore(run_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> RunOut:
    return _out(service.score(db, scope, run_id))


@router.post("/assess/runs/{run_id}/manual", response_model=None, summary="人工评分（note 为佐证说明；上传文件请用页面）")
def manual(run_id: IdPath, body: ManualIn, db: Db,
           scope: Scope = Depends(current_scope)) -> dict[str, Any]:
    row = service.set_manual(db, scope, run_id, pool=body.pool, assessee_id=body.assessee_id, item_key=body.item_key,
                             points=body.points, note=body.note)
    return {"item_key": row.item_key, "points": float(body.points), "basis": row.basis}


@router.post("/assess/runs/{run_id}/lock", response_model=RunOut, summary="锁定（定稿）")
def lock(run_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> RunOut:
    return _out(service.lock(db, scope, run_id))


@router.post("/assess/runs/{run_id}/corrections", response_model=None, summary="更正已锁定考核的一项得分")
def correct(run_id: IdPath, body: CorrectionIn, db: Db,
            scope: Scope = Depends(current_scope)) -> dict[str, Any]:
    c = service.correct(db, scope, run_id, pool=body.pool, assessee_id=body.assessee_id, item_key=body.item_key,
                        points=body.points, reason=body.reason)
    return {"id": c.id, "old_points": None if c.old_points is None else float(c.old_points),
            "new_points": float(body.points), "reason": c.reason}
