"""JSON twin of 改派 (dissuasion/service.reassign), beside the 值班表 under one tag (warnings/roster_api.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field

from fanzha.common.text import Id, PlainText
from fanzha.dissuasion import service as dissuasion
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, csrf_protect, current_scope
from fanzha.web.params import IdPath

router = APIRouter(tags=["值班与改派"], dependencies=[Depends(csrf_protect)])


class ReassignIn(Strict):
    user_id: Id = Field(description="接手的人：本所的劝阻员或民警（反诈中心可改派给任何派出所的人，预警随之移交）")
    reason: PlainText = Field(max_length=200, description="改派原因（必填）")


@router.post("/warnings/{warning_id}/reassign", summary="改派（原指派保留在处置过程中）")
def reassign(warning_id: IdPath, body: ReassignIn, db: Db,
             scope: Scope = Depends(current_scope)) -> dict:
    done = dissuasion.reassign(db, scope, warning_id, user_id=body.user_id, reason=body.reason)
    w = done.warning
    return {"id": w.id, "assignee_id": w.assignee_id, "station_id": w.station_id, "moved": done.moves,
            "text": done.sentence()}
