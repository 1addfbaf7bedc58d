"""JSON API for file imports: upload (runs on the worker), status, error file, template."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Response, UploadFile
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from fanzha.common import tabular
from fanzha.common.errors import Forbidden, Invalid, NotFound
from fanzha.config import get_settings
from fanzha.imports import service
from fanzha.imports.models import ImportBatch
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["导入"], dependencies=[Depends(csrf_protect)])



class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    filename: str
    status: str
    read: int
    created: int
    updated: int
    duplicates: int
    rejected: int
    message: str


async def save_upload(upload: UploadFile) -> Path:
    limit = get_settings().max_upload_bytes
    size = 0
    with tempfile.NamedTemporaryFile(delete=False, suffix=Path(upload.filename or "").suffix) as fh:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                Path(fh.name).unlink(missing_ok=True)
                raise Invalid(f"文件超过 {limit // (1024 * 1024)} MB 上限")
            fh.write(chunk)
    if size == 0:
        Path(fh.name).unlink(missing_ok=True)
        raise Invalid("上传的文件是空的")
    return Path(fh.name)


def start_import(db: Session, scope: Scope, kind: str, filename: str, temp: Path) -> ImportBatch:
    if kind not in service.IMPORTERS:
        raise NotFound("未知的导入类型")
    if not scope.can(Perm(service.IMPORTERS[kind].permission)):
        raise Forbidden("您的角色没有此项权限")
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".txt"):
        temp.unlink(missing_ok=True)
        raise Invalid(f"不支持的文件类型 {suffix or '(无扩展名)'}，请上传 .xlsx 或 .csv")
    batch = service.create_batch(db, scope, kind, filename, service.store_upload(filename, temp))
    db.commit()
    service.enqueue(batch.id)
    db.refresh(batch)
    return batch


@router.post("/imports/{kind}", response_model=BatchOut, status_code=202, summary="上传文件导入（后台执行）")
async def upload(kind: str, db: Db, file: UploadFile = File(...),
                 scope: Scope = Depends(current_scope)) -> ImportBatch:
    if kind not in service.IMPORTERS:
        raise NotFound("未知的导入类型")
    temp = await save_upload(file)
    return start_import(db, scope, kind, file.filename or "upload", temp)


@router.get("/imports/{batch_id}", response_model=BatchOut, summary="导入批次状态")
def get_batch(batch_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> ImportBatch:
    return service.get_batch(db, scope, batch_id)


@router.get("/imports/{batch_id}/errors.csv", summary="下载错误行文件")
def errors(batch_id: IdPath, db: Db, scope: Scope = Depends(current_scope)) -> Response:
    return tabular.download(service.error_file(db, scope, batch_id), f"导入错误行-{batch_id}.csv",
                            ascii_name=f"import-{batch_id}-errors.csv")


@router.get("/import-templates/{kind}.csv", summary="下载导入模板")
def template(kind: str, scope: Scope = Depends(current_scope)) -> Response:
    if kind not in service.IMPORTERS:
        raise NotFound("未知的导入类型")
    return tabular.download(service.template_csv(kind), f"{service.IMPORTERS[kind].label}导入模板.csv",
                            ascii_name=f"{kind}-template.csv")
