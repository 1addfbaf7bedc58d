"""宣防 pages: the hub, a campaign's progress with laggards and 督导/约谈, the phone form for activities, imports."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common import tabular
from fanzha.common.errors import Conflict, DomainError, Forbidden, Invalid
from fanzha.common.localtime import local_day
from fanzha.common.photos import MAX_PHOTO, serve_stored
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.imports.api import save_upload, start_import
from fanzha.org.enums import GROUPS
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention import counting, progress, service
from fanzha.prevention.enums import (
    ACTIVITY_KINDS,
    CAMPAIGN_KINDS,
    DENOMINATORS,
    METRIC_UNITS,
    METRICS,
    SUPERVISION_KINDS,
    SUPERVISION_OUTCOMES,
)
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import form_fields
from fanzha.web.params import IdPath, IdQuery
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(METRICS=METRICS, METRIC_UNITS=METRIC_UNITS, ACTIVITY_KINDS=ACTIVITY_KINDS,
                   CAMPAIGN_KINDS=CAMPAIGN_KINDS, DENOMINATORS=DENOMINATORS, SUPERVISION_KINDS=SUPERVISION_KINDS,
                   SUPERVISION_OUTCOMES=SUPERVISION_OUTCOMES)
env.filters["pct"] = lambda x: "—" if x is None else f"{float(x) * 100:.1f}%"


def _date(text: object, name: str, label: str, *, required: bool = True) -> date | None:
    text = str(text or "").strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{label}格式应为 2026-04-08", details=[{"loc": [name], "msg": "日期"}]) from exc


def _int(text: object, name: str) -> int:
    text = str(text or "").strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise Invalid(f"{METRICS.get(name, name)} 应为非负整数", details=[{"loc": [name], "msg": "整数"}])
    return int(text)


def _id(text: object) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 10 else None


# -- hub and campaigns -------------------------------------------------------------------------------------------

def _hub(request: Request, db: Session, scope: Scope, *, error: str = "", form: dict | None = None,
         status_code: int = 200):
    campaigns = service.list_campaigns(db, scope)
    today = local_day(utcnow())
    mine, _ = service.list_activities(db, scope, mine=True, limit=10)
    own = [db.get(Area, scope.area_id)] if scope.area_id else []
    return render(request, "prevention/hub.html", status_code=status_code, campaigns=campaigns, today=today,
                  mine=mine, error=error, form=form or {}, own=own,
                  running=[c for c in campaigns if c.starts_on <= today <= c.ends_on])


@router.get("/prevention")
def hub(request: Request, db: Db,
        scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _hub(request, db, scope)


@router.post("/prevention/campaigns", dependencies=[Depends(csrf_protect)])
async def create_campaign(request: Request, db: Db,
                          scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    form = await request.form()
    raw = form_fields(form, ("name", "kind", "starts_on", "ends_on", "owners", "note", "code",
                            "area_codes"), 2000)
    try:
        codes = [c for c in raw["area_codes"].replace("，", ",").replace(" ", ",").split(",") if c][:200]
        ids = [a.id for a in db.scalars(select(Area).where(Area.code.in_(codes)))] if codes else []
        if len(ids) != len(set(codes)):
            raise Invalid("有辖区编码找不到，请核对", details=[{"loc": ["area_codes"], "msg": "编码"}])
        c = service.create_campaign(db, scope, service.CampaignDraft(
            name=raw["name"], kind=raw["kind"], starts_on=_date(raw["starts_on"], "starts_on", "开始日期"),
            ends_on=_date(raw["ends_on"], "ends_on", "结束日期"), area_ids=ids, owners=raw["owners"], note=raw["note"],
            code=raw["code"]))
    except DomainError as exc:
        db.rollback()
        return _hub(request, db, scope, error=exc.message, form=raw, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/campaigns/{c.id}", status_code=303)


def _campaign_page(request: Request, db: Session, scope: Scope, campaign_id: int, *, area_id: int | None = None,
                   chain: str = "", metric: str = "", error: str = "", status_code: int = 200):
    now = utcnow()
    p = progress.progress(db, scope, campaign_id, now=now, node_id=area_id, chain=chain or None)
    metric = metric if metric in METRICS else (p.metrics[0] if p.metrics else "households")
    lag = progress.laggards(db, scope, campaign_id, now=now)
    return render(request, "prevention/campaign.html", status_code=status_code, p=p, c=p.campaign, metric=metric,
                  laggards=lag, supervisions=service.list_supervisions(db, scope, campaign_id),
                  covered=service.covered_areas(db, p.campaign), error=error, today=local_day(now),
                  may_manage=scope.can(Perm.MANAGE_CAMPAIGNS) and (progress._may_see(scope, p.campaign.area)))


@router.get("/prevention/campaigns/{campaign_id}")
def campaign(campaign_id: IdPath, request: Request, db: Db, area_id: IdQuery = None, chain: str = Query("", max_length=8),
             metric: str = Query("", max_length=24), scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _campaign_page(request, db, scope, campaign_id, area_id=area_id, chain=chain, metric=metric)


@router.post("/prevention/campaigns/{campaign_id}/quotas", dependencies=[Depends(csrf_protect)])
async def set_quota(campaign_id: IdPath, request: Request, db: Db,
                    scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    form = await request.form()
    service.get_campaign(db, scope, campaign_id)
    try:
        area = db.scalar(select(Area).where(Area.code == str(form.get("area_code", "")).strip()[:32]))
        if area is None:
            raise Invalid("辖区编码不存在", details=[{"loc": ["area_code"], "msg": "编码"}])
        service.set_quota(db, scope, campaign_id, area_id=area.id, metric=str(form.get("metric", ""))[:24],
                          target=_int(form.get("target"), "target"))
    except DomainError as exc:
        db.rollback()
        return _campaign_page(request, db, scope, campaign_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/campaigns/{campaign_id}", status_code=303)


@router.post("/prevention/campaigns/{campaign_id}/import", dependencies=[Depends(csrf_protect)])
async def import_plan(campaign_id: IdPath, request: Request, db: Db, file: UploadFile | None = File(None),
                      scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    service.get_campaign(db, scope, campaign_id)
    try:
        if file is None:
            raise Invalid("请选择文件")
        temp = await save_upload(file)
        batch = start_import(db, scope, "campaign_plan", file.filename or "upload", temp)
    except DomainError as exc:
        return _campaign_page(request, db, scope, campaign_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.get("/prevention/campaigns/{campaign_id}/plan.csv")
def plan_template(campaign_id: IdPath, db: Db,
                  scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    """The campaign's plan sheet, filled with its areas one level down and its current quotas, ready to edit."""
    c = service.get_campaign(db, scope, campaign_id)
    p = progress.progress(db, scope, campaign_id, now=utcnow())
    metrics = p.metrics or ["households", "shops", "app_installs", "leaflets"]
    rows = [[c.code, row.area.code, row.area.label, METRICS[m], row.quota.get(m, "")]
            for row in p.rows or [p.total] for m in metrics]
    data = tabular.csv_bytes(["行动编号", "辖区编码", "辖区名称", "指标", "任务数"], rows)
    return tabular.download(data, f"任务分解表-{c.code}.csv", ascii_name=f"plan-{c.code}.csv")


@router.post("/prevention/campaigns/{campaign_id}/supervisions", dependencies=[Depends(csrf_protect)])
async def add_supervision(campaign_id: IdPath, request: Request, db: Db,
                          scope: Scope = Depends(require(Perm.SUPERVISE))):
    form = await request.form()
    service.get_campaign(db, scope, campaign_id)
    try:
        service.add_supervision(db, scope, campaign_id, area_id=_id(form.get("area_id")) or 0,
                                kind=str(form.get("kind", ""))[:16],
                                held_on=_date(form.get("held_on"), "held_on", "日期"),
                                note=str(form.get("note", ""))[:2000],
                                follow_up_on=_date(form.get("follow_up_on"), "follow_up_on", "回头看日期", required=False))
    except DomainError as exc:
        db.rollback()
        return _campaign_page(request, db, scope, campaign_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/campaigns/{campaign_id}#supervisions", status_code=303)


@router.post("/prevention/supervisions/{supervision_id}", dependencies=[Depends(csrf_protect)])
async def supervision_outcome(supervision_id: IdPath, request: Request, db: Db,
                              scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    form = await request.form()
    s = service.record_supervision_outcome(db, scope, supervision_id, outcome=str(form.get("outcome", ""))[:16],
                                           note=str(form.get("note", ""))[:2000])
    return RedirectResponse(f"/prevention/campaigns/{s.campaign_id}#supervisions", status_code=303)


# -- activities ---------------------------------------------------------------------------------------------------

@router.get("/prevention/activities")
def activities(request: Request, db: Db, campaign_id: IdQuery = None, page: int = Query(1, ge=1, le=100_000),
               scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows, total = service.list_activities(db, scope, campaign_id=campaign_id, limit=50, offset=(page - 1) * 50)
    withdrawn = 0 if campaign_id else service.withdrawn_count(db, scope)  # a campaign's list holds none
    return render(request, "prevention/activities.html", rows=rows, total=total, page=page,
                  pages=max(1, -(-total // 50)), campaign_id=campaign_id, error="", withdrawn=withdrawn)


ACTIVITY_FIELDS = ("kind", "community_id", "held_on", "address", "title", "note", "organiser", "target_group",
                   "fraud_type", *METRICS)


def _form_page(request: Request, db: Session, scope: Scope, *, form: dict | None = None, error: str = "",
               status_code: int = 200, a=None):
    """The activity form: empty for a new one, or holding `a` for its 更正."""
    if a is not None and form is None:
        form = {"kind": a.kind, "community_id": str(a.community_id), "held_on": a.held_on.isoformat(),
                "address": a.address, "title": a.title, "note": a.note, "organiser": a.organiser,
                "target_group": a.target_group, "fraud_type": a.fraud_type,
                **{m: str(getattr(a, m) or "") for m in METRICS}}
    return render(request, "prevention/activity_form.html", status_code=status_code, form=form or {}, error=error,
                  leaves=service.recordable_leaves(db, scope), today=local_day(utcnow()), a=a,
                  groups=service.aimable_groups(db, scope), fraud_types=FRAUD_TYPE_LABELS, GROUP_COUNT=len(GROUPS))


def _draft(raw: dict[str, str]) -> service.ActivityDraft:
    return service.ActivityDraft(
        kind=raw["kind"], community_id=_id(raw["community_id"]) or 0,
        held_on=_date(raw["held_on"], "held_on", "活动日期"),
        counts={m: _int(raw[m], m) for m in METRICS if raw[m].strip()}, address=raw["address"], title=raw["title"],
        note=raw["note"], organiser=raw["organiser"], target_group=raw["target_group"], fraud_type=raw["fraud_type"])


@router.get("/prevention/activities/new")
def new_activity(request: Request, db: Db,
                 scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    return _form_page(request, db, scope)


@router.post("/prevention/activities", dependencies=[Depends(csrf_protect)])
async def create_activity(request: Request, db: Db,
                          scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    form = await request.form()
    raw = form_fields(form, ACTIVITY_FIELDS, 2000)
    photos = []
    for upload in form.getlist("photos")[: service.MAX_PHOTOS + 1]:
        if hasattr(upload, "read"):
            data = await upload.read(MAX_PHOTO + 1)
            if data:
                photos.append(data)
    try:
        a = service.create_activity(db, scope, _draft(raw), photos=photos)
    except DomainError as exc:
        db.rollback()
        return _form_page(request, db, scope, form=raw, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/activities/{a.id}?done=1", status_code=303)


@router.post("/prevention/activities/import", dependencies=[Depends(csrf_protect)])
async def import_activities(request: Request, db: Db, file: UploadFile | None = File(None),
                            scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    try:
        if file is None:
            raise Invalid("请选择文件")
        temp = await save_upload(file)
        batch = start_import(db, scope, "activity", file.filename or "upload", temp)
    except DomainError as exc:
        return _form_page(request, db, scope, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


def _activity_page(request: Request, db: Session, scope: Scope, activity_id: int, *, done: str = "", error: str = "",
                   status_code: int = 200):
    """The record, where it counts (counting.message) and, for its recorder within the window, 更正 and 撤回."""
    a = service.get_activity(db, scope, activity_id)
    now = utcnow()
    return render(request, "prevention/activity.html", status_code=status_code, a=a, done=done, error=error,
                  counted=counting.message(a.campaigns), refusal=counting.refusal(scope, a, now),
                  change_until=a.created_at + counting.window())


@router.get("/prevention/activities/{activity_id}")
def activity(activity_id: IdPath, request: Request, db: Db, done: str = Query("", max_length=2),
             scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _activity_page(request, db, scope, activity_id, done=done)


@router.get("/prevention/activities/{activity_id}/edit")
def edit_activity(activity_id: IdPath, request: Request, db: Db,
                  scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    a = service.get_activity(db, scope, activity_id)
    reason = counting.refusal(scope, a, utcnow())
    if reason:
        return _activity_page(request, db, scope, activity_id, error=reason, status_code=409 if a.withdrawn_at else 403)
    return _form_page(request, db, scope, a=a)


@router.post("/prevention/activities/{activity_id}/edit", dependencies=[Depends(csrf_protect)])
async def correct_activity(activity_id: IdPath, request: Request, db: Db,
                           scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    raw = form_fields(await request.form(), ACTIVITY_FIELDS, 2000)
    try:
        service.correct_activity(db, scope, activity_id, _draft(raw))
    except (Forbidden, Conflict) as exc:
        db.rollback()
        return _activity_page(request, db, scope, activity_id, error=exc.message, status_code=exc.status_code)
    except DomainError as exc:
        db.rollback()
        return _form_page(request, db, scope, form=raw, error=exc.message, status_code=exc.status_code,
                          a=service.get_activity(db, scope, activity_id))
    return RedirectResponse(f"/prevention/activities/{activity_id}?done=2", status_code=303)


@router.post("/prevention/activities/{activity_id}/withdraw", dependencies=[Depends(csrf_protect)])
async def withdraw_activity(activity_id: IdPath, request: Request, db: Db,
                            scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    raw = form_fields(await request.form(), ("reason",), 200)
    try:
        service.withdraw_activity(db, scope, activity_id, reason=raw["reason"])
    except DomainError as exc:
        db.rollback()
        return _activity_page(request, db, scope, activity_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/activities/{activity_id}?done=3", status_code=303)


@router.post("/prevention/activities/{activity_id}/photos", dependencies=[Depends(csrf_protect)])
async def add_photo(activity_id: IdPath, request: Request, db: Db,
                    scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    form = await request.form()
    upload = form.get("photo")
    data = await upload.read(MAX_PHOTO + 1) if hasattr(upload, "read") else b""
    try:
        service.add_photo(db, scope, activity_id, data)
    except (Invalid, Conflict) as exc:
        db.rollback()
        return _activity_page(request, db, scope, activity_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/activities/{activity_id}", status_code=303)


@router.get("/prevention/photos/{photo_id}")
def photo(photo_id: IdPath, db: Db,
          scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    p = service.get_photo(db, scope, photo_id)
    return serve_stored(p.path)


@router.get("/prevention/activities.xlsx")
def activities_export(db: Db, campaign_id: IdQuery = None, scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    """导出 Excel: the activity ledger with the list's filter (the link carries it)."""
    from fanzha.audit import exports
    from fanzha.prevention import export

    name, ascii_name = exports.file_names("宣传活动", "activities")
    return tabular.download(export.activities(db, scope, campaign_id=campaign_id), name, ascii_name=ascii_name)
