"""Pages: the review queue (举报审核), one report with its entities to approve or reject, the blocklist (黑名单)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fanzha.blocklist import service
from fanzha.common import tabular
from fanzha.common.errors import DomainError
from fanzha.common.text import check_plain
from fanzha.detect.advice import FRAUD_TYPE_NAMES, RISK_NAMES
from fanzha.detect.extract import ENTITY_KINDS
from fanzha.imports.api import save_upload, start_import
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.public.bundle import MAX_BYTES
from fanzha.public.store import CHANNELS
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()
PAGE = 50
def _bundle_ready() -> bool:
    from fanzha.config import get_settings

    return bool(get_settings().bundle_key)


LABELS = {"STATUSES": service.STATUSES, "DECISIONS": service.DECISIONS, "ENTITY_KINDS": ENTITY_KINDS,
          "CHANNELS": CHANNELS, "RISK_NAMES": RISK_NAMES, "FRAUD_TYPE_NAMES": FRAUD_TYPE_NAMES}
REVIEW = Depends(require(Perm.REVIEW_REPORTS))


def _queue(request: Request, db: Session, scope: Scope, status: str, page: int, status_code: int = 200,
           message: str = "", error: str = ""):
    rows, total = service.queue(db, scope, status=status, limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "blocklist/reports.html", status_code=status_code, rows=rows, total=total, status=status,
                  page=page, pages=max(1, -(-total // PAGE)), message=message, error=error, **LABELS)


@router.get("/blocklist/reports")
def reports(request: Request, db: Db, status: str = Query("pending", pattern="^(pending|reviewed|all)$"),
            page: int = Query(1, ge=1, le=100_000), scope: Scope = REVIEW):
    return _queue(request, db, scope, status, page)


@router.post("/blocklist/reports/bundle", dependencies=[Depends(csrf_protect)])
async def import_bundle(request: Request, db: Db, file: UploadFile = File(...), scope: Scope = REVIEW):
    data = await file.read(MAX_BYTES + 1)
    try:
        if not data:
            raise DomainError("上传的文件是空的")
        s = service.import_reports(db, scope, data, file.filename or "")
    except DomainError as exc:
        db.rollback()
        return _queue(request, db, scope, "pending", 1, status_code=422, error=exc.message)
    message = (f"此举报包已导入过（共 {s.reports} 条），未新增任何内容" if s.already else
               f"已导入举报包：{s.reports} 条举报，新增 {s.created} 条（重复 {s.duplicates} 条），待审核要素 {s.entities} 个")
    return _queue(request, db, scope, "pending", 1, message=message)


@router.get("/blocklist/reports/{report_id}")
def report_detail(report_id: IdPath, request: Request, db: Db,
                  scope: Scope = REVIEW):
    return render(request, "blocklist/report.html", r=service.get_report(db, scope, report_id), error="", **LABELS)


@router.post("/blocklist/entities/{entity_id}", dependencies=[Depends(csrf_protect)])
def decide(entity_id: IdPath, request: Request, db: Db, decision: str = Form("", max_length=10),
           note: str = Form("", max_length=200), scope: Scope = REVIEW):
    try:
        entity = service.decide(db, scope, entity_id, decision, check_plain(note))
    except ValueError as exc:
        entity, error = None, str(exc)
    except DomainError as exc:
        entity, error = None, exc.message
        if exc.status_code == 404:
            raise
    if entity is None:
        db.rollback()
        report_id = service.report_of_entity(db, scope, entity_id)
        return render(request, "blocklist/report.html", status_code=422, r=service.get_report(db, scope, report_id),
                      error=error, **LABELS)
    return RedirectResponse(f"/blocklist/reports/{entity.report_id}", status_code=303)


@router.get("/blocklist")
def entries(request: Request, db: Db, q: str = Query("", max_length=200), page: int = Query(1, ge=1, le=100_000),
            scope: Scope = REVIEW):
    rows, total = service.entries(db, scope, q=q.strip(), limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "blocklist/entries.html", rows=rows, total=total, q=q, page=page,
                  pages=max(1, -(-total // PAGE)), error="", bundle_ready=_bundle_ready(), **LABELS)


@router.post("/blocklist/import", dependencies=[Depends(csrf_protect)])
async def import_file(request: Request, db: Db, file: UploadFile = File(...), scope: Scope = REVIEW):
    try:
        temp = await save_upload(file)
        batch = start_import(db, scope, "blocklist", file.filename or "upload", temp)
    except DomainError as exc:
        rows, total = service.entries(db, scope, limit=PAGE)
        return render(request, "blocklist/entries.html", status_code=422, rows=rows, total=total, q="", page=1,
                      pages=1, error=exc.message, bundle_ready=_bundle_ready(), **LABELS)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/blocklist/export.{fmt}")
def export(fmt: str, db: Db, scope: Scope = REVIEW):
    if fmt == "jsonl":
        return Response(service.export_bundle(db, scope), media_type="application/x-ndjson",
                        headers={"Content-Disposition": 'attachment; filename="blocklist-bundle.jsonl"'})
    if fmt not in ("csv", "xlsx"):
        raise DomainError("导出格式应为 csv、xlsx 或 jsonl（签名黑名单包）")
    return tabular.download(service.export_file(db, scope, fmt), f"黑名单.{fmt}", ascii_name=f"blocklist.{fmt}")


@router.post("/blocklist/{entry_id}/delete", dependencies=[Depends(csrf_protect)])
def delete(entry_id: IdPath, db: Db, scope: Scope = REVIEW):
    service.remove(db, scope, entry_id)
    return RedirectResponse("/blocklist", status_code=303)
