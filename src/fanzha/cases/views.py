"""Case pages: the register, one case, the entry form and the file import."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.cases import service
from fanzha.common.errors import DomainError
from fanzha.imports.api import save_upload, start_import
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import csrf_protect, get_db, require
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()
PAGE = 50
FORM_FIELDS = ("案件编号", "立案时间", "被骗时间", "姓名", "身份证号", "手机号", "发案地址", "诈骗类型", "损失金额", "简要案情")


@router.get("/cases")
def cases(request: Request, q: str = Query("", max_length=64), page: int = Query(1, ge=1, le=100_000),
          db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(require(Perm.READ_CASES))):
    rows, total = service.search(db, scope, q=q.strip(), limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "cases/list.html", rows=rows, total=total, q=q, page=page, pages=max(1, -(-total // PAGE)),
                  error="", form={})


@router.post("/cases", dependencies=[Depends(csrf_protect)])
async def create(request: Request, db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(require(Perm.WRITE_CASES))):
    form = await request.form()
    raw = {k: str(form.get(k, "")).strip() for k in FORM_FIELDS}
    try:
        case = service.create(db, scope, raw)
    except DomainError as exc:
        db.rollback()
        rows, total = service.search(db, scope, limit=PAGE)
        return render(request, "cases/list.html", status_code=exc.status_code, rows=rows, total=total, q="", page=1,
                      pages=1, error=exc.message, form=raw)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@router.post("/cases/import", dependencies=[Depends(csrf_protect)])
async def import_cases(request: Request, file: UploadFile = File(...), db: Session = Depends(get_db, scope="function"),
                       scope: Scope = Depends(require(Perm.WRITE_CASES))):
    try:
        temp = await save_upload(file)
        batch = start_import(db, scope, "case", file.filename or "upload", temp)
    except DomainError as exc:
        rows, total = service.search(db, scope, limit=PAGE)
        return render(request, "cases/list.html", status_code=422, rows=rows, total=total, q="", page=1, pages=1,
                      error=exc.message, form={})
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/cases/{case_id}")
def case_detail(case_id: IdPath, request: Request, db: Session = Depends(get_db, scope="function"),
                scope: Scope = Depends(require(Perm.READ_CASES))):
    return render(request, "cases/detail.html", c=service.get(db, scope, case_id))
