"""Registry pages: the registry with risk, a person's reasons, list import and 待落地, target lists with their push
file, door-to-door print and campaign, and the 三包 allocation."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common import tabular
from fanzha.common.errors import DomainError, Invalid, NotFound
from fanzha.common.identity import mask_name
from fanzha.detect.advice import ADVICE, FRAUD_TYPE_NAMES
from fanzha.imports.api import save_upload, start_import
from fanzha.org.enums import GROUPS, Level
from fanzha.org.models import Area
from fanzha.org.roles import ROLE_LABELS, Perm
from fanzha.org.scope import Scope
from fanzha.people.service import display_name
from fanzha.registry import duties, service, sms
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdPath, IdQuery
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(FRAUD_TYPE_NAMES=FRAUD_TYPE_NAMES, ADVICE=ADVICE, sms_units=sms.sms_units)
PAGE = 50


def _hub(request: Request, db: Session, scope: Scope, *, group: str = "", community_id: int | None = None,
         page: int = 1, window_days: int | None = None, error: str = "", status_code: int = 200):
    pop = service.population(db, window_days=window_days)
    rows, total = service.registry(db, scope, pop, group=group, community_id=community_id, limit=PAGE,
                                   offset=(page - 1) * PAGE)
    leaves = list(db.scalars(select(Area).where(Area.id.in_(scope.community_ids())).order_by(Area.code).limit(2000)))
    return render(request, "registry/hub.html", status_code=status_code, rows=rows, total=total, group=group,
                  community_id=community_id, page=page, pages=max(1, -(-total // PAGE)), pop=pop,
                  counts=service.group_counts(pop, db, scope), top=service.top_types(pop),
                  lists=service.lists(db, scope), leaves=leaves, error=error, start=service.window_start(pop),
                  name_of=lambda p: display_name(p, scope))


@router.get("/registry")
def hub(request: Request, db: Db, group: str = Query("", max_length=32), community_id: IdQuery = None,
        page: int = Query(1, ge=1, le=100_000), window_days: int | None = Query(None, ge=7, le=3650),
        scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    return _hub(request, db, scope, group=group if group in GROUPS else "", community_id=community_id, page=page,
                window_days=window_days)


@router.get("/registry/people/{person_id}")
def person(person_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    pop = service.population(db)
    row = service.person_risk(db, scope, pop, person_id)
    return render(request, "registry/person.html", row=row, entries=service.entries_of(db, person_id), pop=pop,
                  shown_name=display_name(row.person, scope))


@router.post("/registry/import", dependencies=[Depends(csrf_protect)])
async def import_list(request: Request, db: Db, file: UploadFile | None = File(None),
                      scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    try:
        if file is None or not file.filename:
            raise Invalid("请选择文件")
        temp = await save_upload(file)
        batch = start_import(db, scope, "registry", file.filename or "upload", temp)
    except DomainError as exc:
        db.rollback()
        return _hub(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/registry/imports/{batch.id}", status_code=303)


@router.get("/registry/imports/{batch_id}")
def import_result(batch_id: IdPath, request: Request, db: Db,
                  scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    from fanzha.imports.service import get_batch

    batch = get_batch(db, scope, batch_id)
    notes, held = service.batch_notes(db, scope, batch_id)
    return render(request, "registry/import.html", batch=batch, notes=notes, held=held)


@router.get("/registry/unplaced")
def unplaced(request: Request, db: Db,
             scope: Scope = Depends(require(Perm.MANAGE_REGISTRY)), error: str = Query("", max_length=200)):
    leaves = list(db.scalars(select(Area).where(Area.id.in_(scope.community_ids())).order_by(Area.code).limit(2000)))
    return render(request, "registry/unplaced.html", rows=service.list_unplaced(db, scope), leaves=leaves,
                  error=error)


@router.post("/registry/unplaced/place", dependencies=[Depends(csrf_protect)])
def place(unplaced_id: IdForm, community_id: IdForm, db: Db,
          scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    from urllib.parse import quote

    try:
        service.place(db, scope, unplaced_id, community_id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return RedirectResponse(f"/registry/unplaced?error={quote(exc.message)}", status_code=303)
    return RedirectResponse("/registry/unplaced", status_code=303)


# -- target lists -------------------------------------------------------------------------------------------------

@router.post("/registry/lists", dependencies=[Depends(csrf_protect)])
def create_list(request: Request, db: Db, group: str = Form("", max_length=32), top_n: int = Form(3, ge=1, le=5),
                window_days: int = Form(365, ge=7, le=3650), name: str = Form("", max_length=100),
                scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    try:
        tl = service.create_list(db, scope, service.population(db, window_days=window_days), group=group,
                                 top_n=top_n, name=name)
    except DomainError as exc:
        db.rollback()
        return _hub(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/registry/lists/{tl.id}", status_code=303)


def _list_page(request: Request, db: Session, scope: Scope, list_id: int, *, error: str = "",
               status_code: int = 200):
    tl = service.get_list(db, scope, list_id)
    rows = service.members(db, scope, tl)
    return render(request, "registry/list.html", status_code=status_code, tl=tl, rows=rows,
                  communities=service.by_community(rows), error=error, today=service.today(),
                  name_of=lambda p: display_name(p, scope), limit=sms.LIMIT)


@router.get("/registry/lists/{list_id}")
def target_list(list_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    return _list_page(request, db, scope, list_id)


@router.get("/registry/lists/{list_id}/push.{fmt}")
def push_file(list_id: IdPath, fmt: str, db: Db,
              scope: Scope = Depends(require(Perm.MANAGE_REGISTRY))):
    if fmt not in ("csv", "xlsx"):
        raise NotFound("不支持的格式")
    tl = service.get_list(db, scope, list_id)
    return tabular.download(service.push_file(db, scope, tl, fmt), f"精准滴灌推送名单-{tl.id}.{fmt}",
                            ascii_name=f"push-{tl.id}.{fmt}")


@router.get("/registry/lists/{list_id}/print")
def print_list(list_id: IdPath, request: Request, db: Db, community_id: IdQuery = None,
               scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    return _print_page(request, db, scope, list_id, community_id, reveal=False)


@router.post("/registry/lists/{list_id}/print", dependencies=[Depends(csrf_protect)])
def print_list_full(list_id: IdPath, request: Request, db: Db, community_id: IdQuery = None,
                    scope: Scope = Depends(require(Perm.PII_FULL))):
    """The door-to-door list with full phone numbers: a reveal, audited with every number shown."""
    return _print_page(request, db, scope, list_id, community_id, reveal=True)


def _print_page(request: Request, db: Session, scope: Scope, list_id: int, community_id: int | None, *,
                reveal: bool):
    tl, rows = service.print_list(db, scope, list_id, community_id=community_id, reveal=reveal)
    return render(request, "registry/print.html", tl=tl, communities=service.by_community(rows),
                  today=service.today(), community_id=community_id, reveal=reveal)


@router.post("/registry/lists/{list_id}/campaign", dependencies=[Depends(csrf_protect)])
def to_campaign(list_id: IdPath, request: Request, db: Db, starts_on: str = Form("", max_length=10),
                ends_on: str = Form("", max_length=10), scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    service.get_list(db, scope, list_id)
    try:
        try:
            first, last = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
        except ValueError as exc:
            raise Invalid("开始和结束日期格式应为 2026-04-08") from exc
        c = service.to_campaign(db, scope, list_id, starts_on=first, ends_on=last)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _list_page(request, db, scope, list_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/campaigns/{c.id}", status_code=303)


# -- 三包 ---------------------------------------------------------------------------------------------------------

def _duties_page(request: Request, db: Session, scope: Scope, *, error: str = "", status_code: int = 200):
    rows = duties.list_duties(db, scope)
    summary = duties.summarise(db)
    # A member unit sees its own item and who holds it (name masked), not the city's staff and their loads.
    people = [] if scope.unit_only else duties.staff(db)
    mine = {u.id for u in people}
    return render(request, "registry/duties.html", status_code=status_code, rows=rows, summary=summary,
                  staff=sorted(people, key=lambda u: -summary["loads"].get(u.id, 0)), error=error,
                  may_allocate=scope.can(Perm.ALLOCATE_DUTIES) and (scope.is_system or scope.is_centre),
                  ROLE_LABELS=ROLE_LABELS, mine=mine, LEVEL_COMMUNITY=Level.COMMUNITY, unit_only=scope.unit_only,
                  holder=lambda u: mask_name(u.display_name) if scope.unit_only else u.display_name,
                  weights=(duties.BASE, duties.PER_CASE, duties.PER_WAN, duties.LOSS_CAP_WAN, duties.PER_VULNERABLE))


@router.get("/registry/duties")
def duty_page(request: Request, db: Db,
              scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _duties_page(request, db, scope)


@router.post("/registry/duties/run", dependencies=[Depends(csrf_protect)])
def run_duties(request: Request, db: Db,
               scope: Scope = Depends(require(Perm.ALLOCATE_DUTIES))):
    try:
        duties.run(db, scope, service.population(db))
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _duties_page(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/registry/duties", status_code=303)


@router.post("/registry/duties/reassign", dependencies=[Depends(csrf_protect)])
def reassign(request: Request, duty_id: IdForm, user_id: IdForm, db: Db,
             scope: Scope = Depends(require(Perm.ALLOCATE_DUTIES))):
    try:
        duties.reassign(db, scope, duty_id, user_id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _duties_page(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/registry/duties", status_code=303)
