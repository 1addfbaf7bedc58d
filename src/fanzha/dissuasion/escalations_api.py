"""JSON list of the escalations the worker raised (超时升级) on the warnings a user may see, newest first: what a
field app or a centre's own dashboard shows beside the timeline. The pages show them on each warning's timeline and
the station's board; the rules are dissuasion/escalation.py."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.dissuasion.enums import LEVELS, STEPS
from fanzha.dissuasion.models import Escalation
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning
from fanzha.warnings.service import visible
from fanzha.web.deps import Db, current_scope
from fanzha.web.params import Offset

router = APIRouter(tags=["劝阻"])


class EscalationOut(BaseModel):
    id: int
    warning_id: int
    external_id: str = Field(description="预警编号")
    step: str = Field(description="sign 签收 · contact 首次联系 · face 见面劝阻 · feedback 反馈")
    step_label: str
    level: str = Field(description="assignee 劝阻员 · head 所长 · centre 反诈中心")
    level_label: str
    at: datetime
    notified: int = Field(description="被通知的人数")


def recent(session: Session, scope: Scope, *, since: datetime | None = None, offset: int = 0,
           limit: int = 100) -> list[tuple[Escalation, str]]:
    """Escalations on the warnings in the user's areas, newest first, with the warning's number."""
    scope.require(Perm.READ_WARNINGS)
    query = select(Escalation, Warning.external_id).join(Warning, Warning.id == Escalation.warning_id) \
        .where(visible(scope))
    if since is not None:
        query = query.where(Escalation.at >= since)
    return [(e, ext) for e, ext in session.execute(
        query.order_by(Escalation.at.desc(), Escalation.id.desc()).offset(offset).limit(limit))]


@router.get("/escalations", response_model=list[EscalationOut], summary="超时升级记录（本辖区，最新在前）")
def escalations(db: Db, since: AwareDatetime | None = Query(None, description="只列此时刻以后的（带时区）"), offset: Offset = 0,
                limit: int = Query(100, ge=1, le=500), scope: Scope = Depends(current_scope)):
    return [EscalationOut(id=e.id, warning_id=e.warning_id, external_id=ext, step=e.step,
                          step_label=STEPS.get(e.step, e.step), level=e.level, level_label=LEVELS.get(e.level, e.level),
                          at=e.at, notified=len(e.notified or []))
            for e, ext in recent(db, scope, since=since, offset=offset, limit=limit)]
