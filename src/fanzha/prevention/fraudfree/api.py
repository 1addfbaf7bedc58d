"""JSON twin of the 无诈社区 page's 重新评定 (prevention/fraudfree/service.py): the statuses are read at
GET /api/v1/prevention/fraud-free."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention.fraudfree import service as fraudfree
from fanzha.web.deps import Db, csrf_protect, require

router = APIRouter(prefix="/prevention", tags=["宣防"], dependencies=[Depends(csrf_protect)])


class RecomputeOut(BaseModel):
    communities: int = Field(description="评定的村/社区数")
    fraud_free: int = Field(description="其中达标的")
    gained: int = Field(description="本次新达标的")
    lost: int = Field(description="本次不再达标的")


@router.post("/fraud-free/recompute", response_model=RecomputeOut,
             summary="按现行规则重新评定无诈社区（全市，同页面；审计留痕）")
def recompute(db: Db,
              scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    return RecomputeOut(**fraudfree.recompute_as(db, scope, now=utcnow()))
