"""Standard address pages: search, add one, import a file (on the worker) and follow its progress."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from fanzha.addresses import service
from fanzha.common import tabular
from fanzha.common.errors import DomainError
from fanzha.imports import service as imports
from fanzha.imports.api import save_upload, start_import
from fanzha.imports.models import ImportRowError
from fanzha.org import service as org
from fanzha.org.enums import Level
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdPath
from fanzha.web.render import env, render

router = APIRouter()
PAGE = 50
# An import's error file echoes its rows: for a kind that carries people it is a personal-data export.
env.globals["personal_import"] = lambda kind: bool(getattr(imports.IMPORTERS.get(kind), "personal", ()))


def _page(request, db, scope, q="", page=1, error="", status_code=200):
    rows, total = service.list_addresses(db, scope, q=q, limit=PAGE, offset=(page - 1) * PAGE)
    communities = org.list_areas(db, scope, level=Level.COMMUNITY.value, limit=5000) \
        if scope.can(Perm.MANAGE_ADDRESSES) else []
    return render(request, "addresses/list.html", status_code=status_code, rows=rows, total=total, q=q, page=page,
                  pages=max(1, -(-total // PAGE)), communities=communities, error=error)


@router.get("/addresses")
def addresses(request: Request, db: Db, q: str = Query("", max_length=50), page: int = Query(1, ge=1, le=100_000),
              scope: Scope = Depends(require(Perm.READ_ORG))):
    return _page(request, db, scope, q=q, page=page)


@router.post("/addresses", dependencies=[Depends(csrf_protect)])
def add_address(request: Request, db: Db, text: str = Form("", max_length=200), community_id: IdForm = 0,
                kind: str = Form("", max_length=10), scope: Scope = Depends(require(Perm.MANAGE_ADDRESSES))):
    from fanzha.common.text import check_plain

    try:
        check_plain(text)
        row = service.create_address(db, scope, text=text.strip(), community_id=community_id, kind=kind or None)
    except (DomainError, ValueError) as exc:
        db.rollback()
        return _page(request, db, scope, error=getattr(exc, "message", str(exc)), status_code=422)
    return RedirectResponse(f"/addresses?q={row.text}", status_code=303)


@router.get("/addresses/{address_id}")
def address_detail(address_id: IdPath, request: Request, db: Db,
                   scope: Scope = Depends(require(Perm.READ_ORG))):
    return render(request, "addresses/detail.html", row=service.get_address(db, scope, address_id))


@router.post("/addresses/import", dependencies=[Depends(csrf_protect)])
async def import_addresses(request: Request, db: Db, file: UploadFile = File(...), scope: Scope = Depends(require(Perm.MANAGE_ADDRESSES))):
    try:
        temp = await save_upload(file)
        batch = start_import(db, scope, "address", file.filename or "upload", temp)
    except DomainError as exc:
        return _page(request, db, scope, error=exc.message, status_code=422)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/imports/{batch_id}")
def batch_page(batch_id: IdPath, request: Request, db: Db,
               scope: Scope = Depends(require(Perm.READ_ORG))):
    batch = imports.get_batch(db, scope, batch_id)
    template = "imports/_status.html" if request.headers.get("hx-request") else "imports/batch.html"
    errors = list(db.scalars(select(ImportRowError).where(ImportRowError.batch_id == batch.id)
                             .order_by(ImportRowError.row_number).limit(20))) if batch.rejected else []
    importer = imports.IMPORTERS[batch.kind]
    went = importer.destinations(db, scope, batch.message) \
        if importer.destinations is not None and batch.status == "done" else []
    return render(request, template, batch=batch, label=importer.label, errors=errors, destinations=went,
                  went_head=importer.went_head,
                  back=BACK.get(batch.kind, ("/addresses", "返回标准地址")))


# Where a finished import sends its reader back to, by kind.
BACK = {"warning": ("/warnings", "返回预警"), "case": ("/cases", "返回案件"), "case_action": ("/cases/actions", "返回止付冻结等记录"),
        "app_registration": ("/cases", "返回案件"), "activity": ("/prevention", "返回宣防"),
        "campaign_plan": ("/prevention", "返回宣防"), "blocklist": ("/blocklist", "返回黑名单"),
        "feedback": ("/metrics", "返回指标"), "registry": ("/registry", "返回群体库")}


@router.get("/imports/{batch_id}/errors.csv")
def batch_errors(batch_id: IdPath, db: Db, scope: Scope = Depends(require(Perm.READ_ORG))):
    return tabular.download(imports.error_file(db, scope, batch_id), f"导入错误行-{batch_id}.csv",
                            ascii_name=f"import-{batch_id}-errors.csv")


@router.get("/import-templates/{kind}.csv")
def template(kind: str, scope: Scope = Depends(require(Perm.READ_ORG))):
    if kind not in imports.IMPORTERS:
        return Response("未知的导入类型", status_code=404, media_type="text/plain; charset=utf-8")
    return tabular.download(imports.template_csv(kind), f"{imports.IMPORTERS[kind].label}导入模板.csv",
                            ascii_name=f"{kind}-template.csv")
