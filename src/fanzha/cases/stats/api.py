"""JSON API of the case statistics: every figure of a node and period, and the cases behind one figure."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from fanzha.cases.stats.service import case_stats, cases_behind, resolve_area, value_label
from fanzha.common import periods
from fanzha.common.identity import mask_name
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.web.deps import csrf_protect, current_scope
from fanzha.web.params import Offset
from fanzha.web.replica import ReadDb

router = APIRouter(tags=["案件研判"], dependencies=[Depends(csrf_protect)])



@dataclass
class Where:
    """The node and period of a request (area code, period spec or from/to), shared by the page and the API."""

    area: str
    period: str
    date_from: str
    date_to: str

    def resolve(self, db: Session, scope: Scope) -> tuple[Area, periods.Period]:
        return resolve_area(db, scope, self.area), periods.parse(self.period, self.date_from, self.date_to)


def where(area: str = Query("", max_length=32, description="辖区编码（任一条链的任一级）；不填为本人所在辖区"),
          period: str = Query("", max_length=32, description="时间段：2026-10、2026-Q3、2026、2026-W43、2026-10-05 或 "
                                                             "2025-12-15..2026-01-14；不填为上个月"),
          date_from: str = Query("", alias="from", max_length=10, description="自定义开始日期（含）"),
          date_to: str = Query("", alias="to", max_length=10, description="自定义结束日期（含）")) -> Where:
    return Where(area, period, date_from, date_to)


@dataclass
class Drill:
    """Which figure's cases: measure, dimension value, child area or community."""

    measure: str
    dim: str
    value: str
    sub: str


def drill(measure: str = Query("cases", pattern="^(cases|loss|recovered|frozen|solved|suspects)$"),
          dim: str = Query("", pattern="^(|all|type|age|sex|occupation|group|channel|loss|preventable)$"),
          value: str = Query("", max_length=32), sub: str = Query("", max_length=32)) -> Drill:
    return Drill(measure, dim, value, sub)


@router.get("/cases/stats", summary="案件统计（研判）")
def stats(db: ReadDb, w: Where = Depends(where), chain: str = Query("", pattern="^(|admin|police)$", description="排名按哪条链的下一级"),
          rank_by: str = Query("cases", pattern="^(cases|loss|rate)$"),
          scope: Scope = Depends(current_scope)) -> dict:
    area, p = w.resolve(db, scope)
    return case_stats(db, scope, area=area, period=p, child_chain=chain, rank_by=rank_by).as_dict()


@router.get("/cases/stats/cases", summary="统计数字背后的案件（脱敏）")
def behind(db: ReadDb, w: Where = Depends(where), d: Drill = Depends(drill), limit: int = Query(50, ge=1, le=500),
           offset: Offset = 0,
           scope: Scope = Depends(current_scope)) -> dict:
    area, p = w.resolve(db, scope)
    rows, total = cases_behind(db, scope, area=area, period=p, measure=d.measure, dim=d.dim, value=d.value,
                               sub=resolve_area(db, scope, d.sub) if d.sub else None, limit=limit, offset=offset)
    return {"total": total, "cases": [
        {"id": c.id, "case_number": c.case_number, "name": mask_name(c.name), "community": c.community.label
         if c.community else "", "filed_at": c.filed_at.isoformat(), "fraud_type": c.fraud_type,
         "fraud_type_label": value_label("type", c.fraud_type), "loss_amount": str(c.loss_amount),
         "solved_at": c.solved_at.isoformat() if c.solved_at else None, "suspects_caught": c.suspects_caught}
        for c in rows]}
