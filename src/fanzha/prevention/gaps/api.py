"""JSON twins of the 宣防漏洞 pages (prevention/gaps/service.py): one victim's panel (the case page's) and the summary by group
and by township or station. Under the case tag, at the URLs they always had."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fanzha.cases import service
from fanzha.dissuasion.followups.rules import GAPS
from fanzha.org.scope import Scope
from fanzha.prevention.gaps import service as gaps
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath, IdQuery

router = APIRouter(tags=["案件"], dependencies=[Depends(csrf_protect)])


class GapsOut(BaseModel):
    case_id: int
    reached: dict[str, bool]
    warning_ids: list[int]
    visited_at: datetime | None
    app_registered_on: date | None
    jzz_registered_on: date | None
    campaign_ids: list[int]


class GapRow(BaseModel):
    key: str
    label: str
    victims: int
    reached: dict[str, int]
    missed_all: int
    followed_up: int = Field(0, description="回访见到本人的受害人数")
    found: dict[str, int] = Field(default_factory=dict,
                                  description="回访发现的宣防漏洞：各类别的受害人数（no_app no_alert no_outreach not_met "
                                              "family_unaware other）")


class GapSummaryOut(BaseModel):
    start: date
    end: date
    chain: str
    total: GapRow
    by_group: list[GapRow]
    by_area: list[GapRow]


@router.get("/cases/{case_id}/gaps", response_model=GapsOut, summary="该受害人的宣防漏洞")
def case_gaps(case_id: IdPath, db: Db, scope: Scope = Depends(current_scope)):
    case = service.get(db, scope, case_id)
    v = gaps.for_case(db, scope, case)
    if v is None:
        return GapsOut(case_id=case.id, reached={k: False for k in gaps.CHECKS}, warning_ids=[], visited_at=None,
                       app_registered_on=None, jzz_registered_on=None, campaign_ids=[])
    return GapsOut(case_id=case.id, reached=v.reached, warning_ids=[w for w, _ in v.warnings], visited_at=v.visited_at,
                   app_registered_on=v.app_on, jzz_registered_on=v.jzz_on, campaign_ids=[c for c, _ in v.campaigns])


def _row(b: gaps.Bucket) -> GapRow:
    return GapRow(key=str(b.key), label=b.label, victims=len(b.victims),
                  reached={k: b.reached(k) for k in gaps.CHECKS}, missed_all=b.missed_all,
                  followed_up=b.followed_up, found={k: b.found(k) for k in GAPS})


@router.get("/case-gaps", response_model=GapSummaryOut, summary="宣防漏洞汇总（按群体、按乡镇或派出所）")
def gap_summary(start: date, end: date, db: Db, area_id: IdQuery = None, chain: str = Query("admin", pattern="^(admin|police)$"),
                scope: Scope = Depends(current_scope)):
    s = gaps.summary(db, scope, start, end, area_id=area_id, chain=chain)
    return GapSummaryOut(start=s.start, end=s.end, chain=s.chain, total=_row(s.total),
                         by_group=[_row(b) for b in s.by_group], by_area=[_row(b) for b in s.by_area])
