"""Case pages: the register with filters, one case (with its actions, its links and the panels of `PANELS`), the entry
and edit forms, the type confirmation and the file imports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.audit import exports
from fanzha.cases import actions, service
from fanzha.cases.enums import ACTION_KINDS, ACTION_STATUSES, ACTION_TARGET_TYPES, CHANNELS, TYPE_STATUSES
from fanzha.cases.intake import COLUMNS
from fanzha.cases.models import Case
from fanzha.common import tabular
from fanzha.common.errors import DomainError
from fanzha.common.identity import mask_id_number, mask_name, mask_phone
from fanzha.imports.api import save_upload, start_import
from fanzha.links import service as links
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import form_fields
from fanzha.web.params import IdPath, IdQuery
from fanzha.web.render import env, render
from fanzha.web.replica import ReadDb

router = APIRouter()
PAGE = 50
FORM_FIELDS = tuple(COLUMNS.aliases)
ACTION_FORM = ("类别", "账号", "对象类型", "户主姓名", "户主身份证号", "机构", "金额", "状态", "申请时间", "完成时间", "备注")
env.globals.update(CASE_CHANNELS=CHANNELS, ACTION_KINDS=ACTION_KINDS, ACTION_STATUSES=ACTION_STATUSES,
                   ACTION_TARGET_TYPES=ACTION_TARGET_TYPES, TYPE_STATUSES=TYPE_STATUSES,
                   mask_target=actions.mask_target)
env.filters["mask_target"] = actions.mask_target
env.filters["mask_name"] = mask_name
# What packages above cases add to a case page: template name → reader of the case (already read through the scoped
# service). prevention.gaps_views adds the victim's 宣防漏洞 as `gap`; each is set when its page module is imported,
# which fanzha.web.views does for every page router.
PANELS: dict[str, Callable[[Session, Scope, Case], object]] = {}


def filter_areas(db: Session, scope: Scope) -> list[Area]:
    """Townships and stations the user may pick in the area filters."""
    return list(db.scalars(select(Area).where(Area.level.in_((Level.TOWNSHIP, Level.STATION)), scope.area_clause())
                           .order_by(Area.chain, Area.path)))


def _list(request: Request, db: Session, scope: Scope, f: service.Filters, page: int = 1, status_code: int = 200,
          error: str = "", form: dict | None = None):
    rows, total = service.search(db, scope, limit=PAGE, offset=(page - 1) * PAGE, filters=f)
    return render(request, "cases/list.html", status_code=status_code, rows=rows, total=total, f=f, page=page,
                  pages=max(1, -(-total // PAGE)), error=error, form=form or {}, areas=filter_areas(db, scope))


def list_filters(q: str = Query("", max_length=64), fraud_type: str = Query("", max_length=32),
                 pending_type: str = Query("", max_length=1), solved: str = Query("", pattern="^(yes|no)?$"),
                 start: date | None = None, end: date | None = None, area_id: IdQuery = None) -> service.Filters:
    """The register's filters from the query string (the list and its export)."""
    return service.Filters(q=q.strip(), fraud_type=fraud_type, pending_type=bool(pending_type), solved=solved,
                           start=start, end=end, area_id=area_id)


@router.get("/cases")
def cases(request: Request, db: Db, f: service.Filters = Depends(list_filters), page: int = Query(1, ge=1, le=100_000),
          scope: Scope = Depends(require(Perm.READ_CASES))):
    return _list(request, db, scope, f, page)


@router.get("/cases.xlsx")
def cases_export(db: ReadDb, f: service.Filters = Depends(list_filters), scope: Scope = Depends(require(Perm.READ_CASES))):
    """导出 Excel: the register with the list's filters (the link carries them)."""
    name, ascii_name = exports.file_names("案件", "cases")
    return tabular.download(service.export(db, scope, f), name, ascii_name=ascii_name)


@router.get("/cases/actions")
def action_list(request: Request, db: Db, kind: str = Query("", pattern="^(query|stop_payment|freeze|card_lead|account_block)?$"),
                page: int = Query(1, ge=1, le=100_000), scope: Scope = Depends(require(Perm.READ_CASES))):
    rows = actions.search(db, scope, kind=kind, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return render(request, "cases/actions.html", rows=rows[:PAGE], kind=kind, page=page,
                  pages=page + 1 if len(rows) > PAGE else page)


@router.get("/cases/new")
def new_case(request: Request, scope: Scope = Depends(require(Perm.WRITE_CASES))):
    return render(request, "cases/form.html", c=None, form={}, error="")


@router.post("/cases", dependencies=[Depends(csrf_protect)])
async def create(request: Request, db: Db, scope: Scope = Depends(require(Perm.WRITE_CASES))):
    raw = form_fields(await request.form(), FORM_FIELDS, 5000)
    try:
        case = service.create(db, scope, {k: v.strip() for k, v in raw.items()})
    except DomainError as exc:
        db.rollback()
        return render(request, "cases/form.html", status_code=exc.status_code, c=None, form=raw, error=exc.message)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@router.post("/cases/import", dependencies=[Depends(csrf_protect)])
async def import_cases(request: Request, db: Db, file: UploadFile = File(...), kind: str = Query("case", pattern="^(case|case_action|app_registration)$"),
                       scope: Scope = Depends(require(Perm.WRITE_CASES))):
    try:
        temp = await save_upload(file)
        batch = start_import(db, scope, kind, file.filename or "upload", temp)
    except DomainError as exc:
        return _list(request, db, scope, service.Filters(), status_code=422, error=exc.message)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/cases/{case_id}")
def case_detail(case_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.READ_CASES))):
    return _detail(request, db, scope, case_id)


def _suggestion(case) -> dict | None:
    """For a type that is only suggested: the narrative model's two most likely types, each with the cues behind it."""
    if case.type_status != "suggested" or not (case.narrative or "").strip():
        return None
    try:
        from fanzha.cases.suggest import explain
    except ImportError:
        return None
    return explain(case.narrative)


def _detail(request: Request, db: Session, scope: Scope, case_id: int, status_code: int = 200, error: str = "",
            action_form: dict | None = None):
    case = service.get(db, scope, case_id)
    return render(request, "cases/detail.html", status_code=status_code, c=case, who=service.shown_identity(case),
                  actions=actions.list_for_case(db, scope, case.id), error=error,
                  action_form=action_form or {}, suggestion=_suggestion(case),
                  links=links.panel(db, scope, "case", case.id),
                  **{name: read(db, scope, case) for name, read in PANELS.items()})


@router.get("/cases/{case_id}/edit")
def edit_case(case_id: IdPath, request: Request, db: Db,
              scope: Scope = Depends(require(Perm.WRITE_CASES))):
    case = service.get(db, scope, case_id)
    form = service.as_row(case)
    form.update({"身份证号": mask_id_number(case.id_number), "手机号": mask_phone(case.phone)})  # kept unless retyped
    return render(request, "cases/form.html", c=case, form=form, error="")


@router.post("/cases/{case_id}/edit", dependencies=[Depends(csrf_protect)])
async def save_case(case_id: IdPath, request: Request, db: Db,
                    scope: Scope = Depends(require(Perm.WRITE_CASES))):
    raw = form_fields(await request.form(), FORM_FIELDS, 5000)
    try:
        service.update(db, scope, case_id, {k: v.strip() for k, v in raw.items()})
    except DomainError as exc:
        db.rollback()
        case = service.get(db, scope, case_id)
        return render(request, "cases/form.html", status_code=exc.status_code, c=case, form=raw, error=exc.message)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/type", dependencies=[Depends(csrf_protect)])
async def confirm_type(case_id: IdPath, request: Request, db: Db,
                       scope: Scope = Depends(require(Perm.WRITE_CASES))):
    fraud_type = str((await request.form()).get("fraud_type", ""))[:32]
    try:
        service.confirm_type(db, scope, case_id, fraud_type)
    except DomainError as exc:
        db.rollback()
        return _detail(request, db, scope, case_id, exc.status_code, exc.message)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/actions", dependencies=[Depends(csrf_protect)])
async def add_action(case_id: IdPath, request: Request, db: Db,
                     scope: Scope = Depends(require(Perm.WRITE_CASES))):
    raw = form_fields(await request.form(), ACTION_FORM, 2000)
    try:
        actions.add(db, scope, case_id, {k: v.strip() for k, v in raw.items() if v.strip()})
    except DomainError as exc:
        db.rollback()
        return _detail(request, db, scope, case_id, exc.status_code, exc.message, raw)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
