"""JSON twin of the feedback file (反馈表): its rows by the template's columns, looked at or sent up (上报); under the
tag of the warnings (预警指令), as before."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy.orm import Session

from fanzha.common.text import Id
from fanzha.dissuasion.feedback import service as feedback
from fanzha.org import service as org
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.warnings import metrics
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdQuery

router = APIRouter(tags=["预警指令"], dependencies=[Depends(csrf_protect)])


class FeedbackIn(Strict):
    area_id: Id | None = Field(None, description="辖区；不填为本人可见的全部")
    since: str = Field("", max_length=10, description="反馈日期从（含），如 2026-03-01；不填为近 30 天")
    until: str = Field("", max_length=10, description="反馈日期至（含）")
    only_new: bool = Field(False, description="只含从未上报的")


def _feedback(db: Session, scope: Scope, body: FeedbackIn, *, mark: bool) -> dict:
    start, end = metrics.period(body.since, body.until)
    area = org.get_area(db, scope, body.area_id) if body.area_id else None
    cols, rows = feedback.table(db, scope, feedback.fed_back_in(db, scope, area, start, end, only_new=body.only_new),
                                fmt="json", mark=mark)
    return {"columns": [{"header": h, "field": f} for h, f in cols], "marked": mark,
            "items": [{f: r[f] for _, f in cols} for r in rows]}


@router.get("/feedback", summary="反馈表（省级字段，按模板列；只看不标记上报）")
def feedback_preview(db: Db, area_id: IdQuery = None, since: str = Query("", max_length=10),
                     until: str = Query("", max_length=10), only_new: bool = False,
                     scope: Scope = Depends(current_scope)) -> dict:
    return _feedback(db, scope, FeedbackIn(area_id=area_id, since=since, until=until, only_new=only_new), mark=False)


@router.post("/feedback", summary="上报反馈：取出反馈表并标记已上报（再次上报的提交类型为“再次”）")
def feedback_send(body: FeedbackIn, db: Db,
                  scope: Scope = Depends(current_scope)) -> dict:
    scope.require(Perm.INTAKE_WARNINGS)
    return _feedback(db, scope, body, mark=True)
