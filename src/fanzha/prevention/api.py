"""JSON API for 宣防: campaigns, quotas, progress and laggards, 督导/约谈, activities (with photos), coverage."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common.errors import Invalid
from fanzha.common.photos import MAX_PHOTO
from fanzha.common.text import Code, Id, NoteText, PlainText, ShortText
from fanzha.db import utcnow
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.prevention import counting, progress, service
from fanzha.prevention.coverage import service as cov
from fanzha.prevention.enums import METRICS
from fanzha.prevention.fraudfree import service as fraudfree
from fanzha.prevention.models import Activity, Campaign
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath, IdQuery, Offset, aware

router = APIRouter(prefix="/prevention", tags=["宣防"], dependencies=[Depends(csrf_protect)])
Count = Field(0, ge=0, le=service.MAX_COUNT)


class CampaignIn(Strict):
    name: ShortText
    kind: PlainText = "special"
    starts_on: date
    ends_on: date
    area_codes: list[Code] = Field(default_factory=list, max_length=200, description="覆盖辖区编码；不填为本辖区")
    owners: PlainText = ""
    note: NoteText = ""
    code: PlainText = ""


class CampaignOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    starts_on: date
    ends_on: date
    area_id: int
    owners: str


def _campaign_out(c: Campaign) -> CampaignOut:
    return CampaignOut(id=c.id, code=c.code, name=c.name, kind=c.kind, starts_on=c.starts_on, ends_on=c.ends_on,
                       area_id=c.area_id, owners=c.owners)


class QuotaIn(Strict):
    area_id: Id
    metric: PlainText
    target: int = Field(ge=0, le=service.MAX_COUNT)


class SupervisionIn(Strict):
    area_id: Id
    kind: PlainText
    held_on: date
    note: NoteText = ""
    follow_up_on: date | None = None


class SupervisionOutcomeIn(Strict):
    outcome: PlainText
    note: NoteText = ""


class Counts(Strict):
    households: int = Count
    shops: int = Count
    sessions: int = Count
    participants: int = Count
    leaflets: int = Count
    app_installs: int = Count
    jzz_registrations: int = Count
    pledges: int = Count
    vulnerable_found: int = Count
    issues: int = Count
    forwards: int = Count


class ActivityIn(Strict):
    kind: PlainText
    community_id: Id
    held_on: date
    counts: Counts
    address: PlainText = ""
    title: PlainText = ""
    note: NoteText = ""
    organiser: PlainText = ""
    campaign_id: Id | None = Field(None, description="核对用：活动必须计入该行动，否则拒绝；计入哪些行动由规则决定")
    target_group: PlainText = Field("", description="对象人群（org.enums.GROUPS 的键，如 single_divorced）；"
                                                    "成员单位必须是本单位负责的人群，只负责一个人群时可不填")
    fraud_type: PlainText = Field("", description="针对诈骗类型（如 romance 网络婚恋、交友）；不填为综合宣传")


class CampaignRef(BaseModel):
    id: int
    name: str


class ActivityOut(BaseModel):
    id: int
    kind: str
    community_id: int
    held_on: date
    campaigns: list[CampaignRef] = Field(description="计入的专项行动（当天覆盖该村/社区的每一项）")
    message: str = Field(description="计入哪些专项行动，或未计入任何行动")
    withdrawn: bool
    withdrawn_at: datetime | None
    counts: dict[str, int]
    photos: list[int]
    target_group: str = Field(description="对象人群，空为未注明")
    fraud_type: str = Field(description="针对诈骗类型，空为综合宣传")


class WithdrawIn(Strict):
    reason: PlainText


def _activity_out(a: Activity) -> ActivityOut:
    return ActivityOut(id=a.id, kind=a.kind, community_id=a.community_id, held_on=a.held_on,
                       campaigns=[CampaignRef(id=c.id, name=c.name) for c in a.campaigns],
                       message="已撤回，不计入任何专项行动" if a.withdrawn_at else counting.message(a.campaigns),
                       withdrawn=a.withdrawn_at is not None, withdrawn_at=a.withdrawn_at,
                       counts={m: getattr(a, m) for m in METRICS}, photos=[p.id for p in a.photos],
                       target_group=a.target_group, fraud_type=a.fraud_type)


class TargetIn(Strict):
    area_id: Id
    metric: PlainText
    denominator: PlainText
    target_pct: Decimal = Field(gt=0, le=100, max_digits=4, decimal_places=1)
    due_on: date
    counts_from: date | None = None
    label: PlainText = ""


def _at(at: datetime | None) -> datetime:
    return aware(at) or utcnow()


@router.get("/campaigns", response_model=list[CampaignOut], summary="专项行动列表")
def campaigns(db: Db, scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return [_campaign_out(c) for c in service.list_campaigns(db, scope)]


@router.post("/campaigns", response_model=CampaignOut, status_code=201, summary="新建专项行动")
def create_campaign(body: CampaignIn, db: Db,
                    scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    data = body.model_dump()
    codes = data.pop("area_codes")
    ids = list(db.scalars(select(Area.id).where(Area.code.in_(codes)))) if codes else []
    if len(ids) != len(set(codes)):
        raise Invalid("有辖区编码找不到，请核对", details=[{"loc": ["area_codes"], "msg": "编码"}])
    return _campaign_out(service.create_campaign(db, scope, service.CampaignDraft(**data, area_ids=ids)))


@router.post("/campaigns/{campaign_id}/quotas", summary="设置任务数（辖区 × 指标）")
def set_quota(campaign_id: IdPath, body: QuotaIn, db: Db,
              scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    return {"result": service.set_quota(db, scope, campaign_id, **body.model_dump())}


@router.get("/campaigns/{campaign_id}/progress", summary="进度（按辖区逐日汇总）")
def campaign_progress(campaign_id: IdPath, db: Db, area_id: IdQuery = None, chain: str = Query("", max_length=8),
                      at: datetime | None = Query(None, description="按此时刻计算（默认现在）"),
                      scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    p = progress.progress(db, scope, campaign_id, now=_at(at), node_id=area_id, chain=chain or None)

    def fig(f: progress.Figures) -> dict:
        return {"area_id": f.area.id, "area": f.area.label, "quota": f.quota,
                "achieved": {m: f.achieved[m] for m in p.metrics},
                "expected": {m: f.expected(m, p.share) for m in f.quota},
                "daily": {m: f.daily[m] for m in p.metrics}}

    return {"campaign_id": p.campaign.id, "at": p.now, "elapsed_share": float(p.share), "days": p.days,
            "chain": p.chain, "total": fig(p.total), "rows": [fig(r) for r in p.rows]}


@router.get("/campaigns/{campaign_id}/laggards", summary="落后辖区（低于任务数 × 已过时间比例）")
def campaign_laggards(campaign_id: IdPath, db: Db, at: datetime | None = Query(None),
                      scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return [{"area_id": g.area.id, "area": g.area.label, "metric": g.metric, "quota": g.quota, "achieved": g.achieved,
             "expected": g.expected, "gap": g.gap} for g in progress.laggards(db, scope, campaign_id, now=_at(at))]


@router.post("/campaigns/{campaign_id}/supervisions", status_code=201, summary="登记督导/约谈")
def add_supervision(campaign_id: IdPath, body: SupervisionIn, db: Db,
                    scope: Scope = Depends(require(Perm.SUPERVISE))):
    s = service.add_supervision(db, scope, campaign_id, **body.model_dump())
    return {"id": s.id}


@router.post("/supervisions/{supervision_id}/outcome", summary="登记督导回头看结果")
def supervision_outcome(supervision_id: IdPath, body: SupervisionOutcomeIn,
                        db: Db,
                        scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    s = service.record_supervision_outcome(db, scope, supervision_id, **body.model_dump())
    return {"id": s.id, "outcome": s.outcome}


@router.get("/activities", response_model=list[ActivityOut], summary="宣传活动列表")
def activities(db: Db, campaign_id: IdQuery = None, limit: int = Query(50, ge=1, le=500), offset: Offset = 0,
               scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows, _ = service.list_activities(db, scope, campaign_id=campaign_id, limit=limit, offset=offset)
    return [_activity_out(a) for a in rows]


def _draft(body: ActivityIn) -> service.ActivityDraft:
    data = body.model_dump()
    data["counts"] = {k: v for k, v in data["counts"].items() if v}
    return service.ActivityDraft(**data, source="api")


def _saved(db: Session, a: Activity) -> ActivityOut:
    """The activity as stored after the change, with the campaigns the rule found."""
    db.refresh(a)
    return _activity_out(a)


@router.post("/activities", response_model=ActivityOut, status_code=201,
             summary="登记宣传活动（答复写明计入哪些专项行动）")
def create_activity(body: ActivityIn, db: Db,
                    scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    return _saved(db, service.create_activity(db, scope, _draft(body)))


@router.put("/activities/{activity_id}", response_model=ActivityOut,
            summary="更正宣传活动（记录人本人，期限内；重新判定计入的专项行动）")
def correct_activity(activity_id: IdPath, body: ActivityIn, db: Db,
                     scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    return _saved(db, service.correct_activity(db, scope, activity_id, _draft(body)))


@router.post("/activities/{activity_id}/withdraw", response_model=ActivityOut,
             summary="撤回宣传活动（记录人本人，期限内；不再计入任何统计）")
def withdraw_activity(activity_id: IdPath, body: WithdrawIn, db: Db,
                      scope: Scope = Depends(require(Perm.RECORD_ACTIVITIES))):
    return _saved(db, service.withdraw_activity(db, scope, activity_id, reason=body.reason))


@router.get("/activities/{activity_id}", response_model=ActivityOut, summary="宣传活动详情")
def get_activity(activity_id: IdPath, db: Db,
                 scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _activity_out(service.get_activity(db, scope, activity_id))


@router.post("/activities/{activity_id}/photos", status_code=201, summary="上传活动照片（JPG/PNG/WEBP，≤10MB）")
async def add_photo(activity_id: IdPath, db: Db, photo: UploadFile | None = File(None),
                    scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    data = await photo.read(MAX_PHOTO + 1) if photo is not None else b""
    p = service.add_photo(db, scope, activity_id, data)
    return {"id": p.id}


@router.get("/targets", summary="覆盖率目标列表")
def targets(db: Db, scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return [{"id": t.id, "area_id": t.area_id, "label": t.label, "metric": t.metric, "denominator": t.denominator,
             "target_pct": t.target_pct, "due_on": t.due_on, "counts_from": t.counts_from}
            for t in cov.list_targets(db, scope)]


@router.post("/targets", status_code=201, summary="新建覆盖率目标")
def create_target(body: TargetIn, db: Db,
                  scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    return {"id": cov.create_target(db, scope, **body.model_dump()).id}


@router.get("/targets/{target_id}/coverage", summary="覆盖率（按辖区，含万人率与差距）")
def target_coverage(target_id: IdPath, db: Db, area_id: IdQuery = None, chain: str = Query("", max_length=8),
                    at: datetime | None = Query(None), scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    c = cov.coverage(db, scope, target_id, now=_at(at), node_id=area_id, chain=chain or None)

    def row(r: cov.CoverageRow) -> dict:
        return {"area_id": r.area.id, "area": r.area.label, "achieved": r.achieved, "denominator": r.denominator,
                "rate": float(r.rate) if r.rate is not None else None,
                "per_10k": float(r.per_10k) if r.per_10k is not None else None, "needed": r.needed, "gap": r.gap,
                "behind": r.behind, "excluded_leaves": r.excluded}

    return {"target_id": c.target.id, "today": c.today, "as_of": c.as_of, "source": c.source,
            "source_label": c.source_label, "total": row(c.total),
            "rows": [row(r) for r in c.rows], "behind": [row(r) for r in c.behind_leaves],
            "no_denominator": [a.id for a in c.zero_leaves],
            "total_today": row(c.total_today) if c.total_today is not None else None}


@router.get("/fraud-free", summary="无诈社区状态")
def fraud_free(db: Db, scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return [{"community_id": s.community_id, "community": s.community.label, "fraud_free": s.fraud_free,
             "reasons": s.reasons, "since": s.since, "checked_at": s.checked_at}
            for s in fraudfree.statuses(db, scope)]
