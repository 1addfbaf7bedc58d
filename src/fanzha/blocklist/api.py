"""JSON API: look a value up on the blocklist; the review queue, decisions and bundles for the centre."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fanzha.blocklist import service
from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportEntity
from fanzha.common.errors import Invalid
from fanzha.common.text import PlainText
from fanzha.detect.extract import ENTITY_KINDS
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.public.bundle import MAX_BYTES
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath, Offset

router = APIRouter(tags=["举报与黑名单"], dependencies=[Depends(csrf_protect)])


class EntryOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    value: str
    source: str
    approved_at: datetime


class LookupOut(BaseModel):
    value: str
    listed: bool
    matches: list[EntryOut]


class EntityOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    value: str
    status: str
    note: str
    decided_at: datetime | None


class ReportOut(BaseModel):
    id: int
    uid: str
    reported_at: datetime
    channel: str
    text: str
    value: str
    risk: str
    fraud_type: str
    status: str
    entities: list[EntityOut]


class DecisionIn(Strict):
    decision: Literal["approve", "reject"] = Field(description="approve 列入黑名单 / reject 驳回")
    note: PlainText = ""


class BundleOut(BaseModel):
    reports: int
    created: int
    duplicates: int
    entities: int
    already: bool


def entry_out(e: BlocklistEntry) -> EntryOut:
    return EntryOut(id=e.id, kind=e.kind, kind_label=ENTITY_KINDS.get(e.kind, e.kind), value=e.value, source=e.source,
                    approved_at=e.approved_at)


def entity_out(e: ReportEntity) -> EntityOut:
    return EntityOut(id=e.id, kind=e.kind, kind_label=ENTITY_KINDS.get(e.kind, e.kind), value=e.value, status=e.status,
                     note=e.note, decided_at=e.decided_at)


def report_out(r: PublicReport) -> ReportOut:
    return ReportOut(id=r.id, uid=r.uid, reported_at=r.reported_at, channel=r.channel, text=r.text, value=r.value,
                     risk=r.risk, fraud_type=r.fraud_type, status=r.status,
                     entities=[entity_out(e) for e in r.entities])


@router.get("/lookup", response_model=LookupOut, summary="查询号码、网址或账号是否在黑名单上（先归一化）")
def lookup(db: Db, value: str = Query(..., min_length=1, max_length=200), scope: Scope = Depends(current_scope)):
    found = service.lookup(db, scope, value)
    return LookupOut(value=value, listed=bool(found), matches=[entry_out(e) for e in found])


@router.get("/blocklist", response_model=list[EntryOut], summary="黑名单")
def list_entries(db: Db, q: str = Query("", max_length=200), limit: int = Query(50, ge=1, le=1000),
                 offset: Offset = 0, scope: Scope = Depends(current_scope)):
    rows, _ = service.entries(db, scope, q=q.strip(), limit=limit, offset=offset)
    return [entry_out(e) for e in rows]


@router.delete("/blocklist/{entry_id}", status_code=204, summary="从黑名单删除一条（审计留痕）")
def delete_entry(entry_id: IdPath, db: Db,
                 scope: Scope = Depends(require(Perm.REVIEW_REPORTS))) -> Response:
    service.remove(db, scope, entry_id)
    return Response(status_code=204)


@router.get("/blocklist/bundle", summary="导出签名黑名单包（供公众端导入）")
def blocklist_bundle(db: Db, scope: Scope = Depends(current_scope)):
    return Response(service.export_bundle(db, scope), media_type="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="blocklist-bundle.jsonl"'})


@router.get("/blocklist/reports", response_model=list[ReportOut], summary="举报审核队列")
def list_reports(db: Db, status: Literal["pending", "reviewed", "all"] = "pending", limit: int = Query(50, ge=1, le=1000),
                 offset: Offset = 0, scope: Scope = Depends(current_scope)):
    rows, _ = service.queue(db, scope, status=status, limit=limit, offset=offset)
    return [report_out(r) for r in rows]


@router.get("/blocklist/reports/{report_id}", response_model=ReportOut, summary="举报详情")
def get_report(report_id: IdPath, db: Db,
               scope: Scope = Depends(current_scope)):
    return report_out(service.get_report(db, scope, report_id))


@router.post("/blocklist/entities/{entity_id}/decision", response_model=EntityOut, summary="审核举报要素")
def decide(entity_id: IdPath, body: DecisionIn, db: Db,
           scope: Scope = Depends(current_scope)):
    return entity_out(service.decide(db, scope, entity_id, body.decision, body.note))


@router.post("/blocklist/report-bundles", response_model=BundleOut, summary="导入公众端举报包")
async def import_bundle(db: Db, file: UploadFile = File(...), scope: Scope = Depends(require(Perm.REVIEW_REPORTS))):
    data = await file.read(MAX_BYTES + 1)
    if not data:
        raise Invalid("上传的文件是空的")
    return service.import_reports(db, scope, data, file.filename or "").as_dict()
