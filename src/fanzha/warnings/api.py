"""JSON API for warnings: intake one or a batch, list, read, place, claim (the provincial feedback file, under the same
tag: dissuasion/feedback/api.py)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from fanzha.imports.values import clean
from fanzha.org.scope import Scope
from fanzha.warnings import service
from fanzha.warnings.intake import API_FIELDS
from fanzha.warnings.models import Warning
from fanzha.warnings.schemas import PlaceIn, WarningBatchIn, WarningIn, WarningOut
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery, Offset, aware

router = APIRouter(tags=["预警指令"], dependencies=[Depends(csrf_protect)])


def to_out(w: Warning, *, reveal: bool = False) -> WarningOut:
    shown = service.shown_identity(w, full=reveal)
    return WarningOut(
        id=w.id, external_id=w.external_id, kind=w.kind, upstream_grade=w.upstream_grade, risk_grade=w.risk_grade,
        grade_reasons=list(w.grade_reasons or []), warned_at=w.warned_at, sign_deadline=w.sign_deadline,
        contact_deadline=w.contact_deadline, face_deadline=w.face_deadline, feedback_deadline=w.feedback_deadline,
        face_required=w.face_required, name=shown.name, id_number=shown.id_number, phone=shown.phone,
        fraud_type=w.fraud_type, amount=w.amount, repeat_count=w.repeat_count, community_id=w.community_id,
        station_id=w.station_id, match_source=w.match_source, status=w.status, assignee_id=w.assignee_id,
        masked=shown.masked)


def _raw(body: WarningIn) -> dict:
    data = body.model_dump()
    return {API_FIELDS[k]: (v if not isinstance(v, str) else clean(v)) for k, v in data.items() if v is not None}


@router.post("/warnings", response_model=WarningOut, status_code=201, summary="接收一条预警指令",
             responses={200: {"description": "预警编号已存在：重复或已按上级更新"}})
def create_warning(body: WarningIn, db: Db, scope: Scope = Depends(current_scope)):
    warning, outcome = service.create_one(db, scope, _raw(body))
    out = to_out(warning)
    if outcome != "created":
        return JSONResponse(out.model_dump(mode="json") | {"outcome": outcome}, status_code=200)
    return out


@router.post("/warnings:batch", summary="批量接收预警指令（最多10000条）")
def create_batch(body: WarningBatchIn, db: Db, scope: Scope = Depends(current_scope)) -> dict:
    tally = service.ingest_rows(db, scope, ((i, _raw(w)) for i, w in enumerate(body.warnings)), source="api",
                                strict=True)
    return tally.summary() | {"errors": [{"index": n, "column": c, "reason": r} for n, c, r, _ in tally.errors]}


@router.get("/warnings", response_model=list[WarningOut], summary="预警列表（号码脱敏）")
def list_warnings(db: Db, status: str = Query("", max_length=12), grade: str = Query("", max_length=8),
                  kind: str = Query("", max_length=16), station_id: IdQuery = None, q: str = Query("", max_length=64),
                  since: datetime | None = None, until: datetime | None = None, mine: bool = False,
                  limit: int = Query(50, ge=1, le=1000), offset: Offset = 0,
                  scope: Scope = Depends(current_scope)):
    f = service.Filters(status=status, grade=grade, kind=kind, station_id=station_id, q=q, since=aware(since),
                        until=aware(until), mine=mine)
    rows, _ = service.search(db, scope, f, limit=limit, offset=offset)
    return [to_out(w) for w in rows]


@router.get("/warnings/{warning_id}", response_model=WarningOut, summary="预警详情")
def get_warning(warning_id: IdPath, db: Db, reveal: bool = False, scope: Scope = Depends(current_scope)):
    return to_out(service.get(db, scope, warning_id, reveal=reveal), reveal=reveal)


@router.post("/warnings/{warning_id}/claim", response_model=WarningOut, summary="认领预警（并发时只有一人成功）")
def claim(warning_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    return to_out(service.claim(db, scope, warning_id))


@router.post("/warnings/{warning_id}/place", response_model=WarningOut, summary="待分配预警指定村/社区")
def place(warning_id: IdPath, body: PlaceIn, db: Db, scope: Scope = Depends(current_scope)):
    return to_out(service.place(db, scope, warning_id, body.community_id, add_address=body.add_address))
