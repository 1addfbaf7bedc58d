"""JSON API for searching the audit log (auditors and centre admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from fanzha.audit import service
from fanzha.org.scope import Scope
from fanzha.trail.models import AuditEntry
from fanzha.web.deps import Db, current_scope
from fanzha.web.params import Offset, aware

router = APIRouter(tags=["审计"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: str
    fields: list[Any]
    detail: dict[str, Any]
    ip: str


@router.get("/audit", response_model=list[AuditOut], summary="审计日志查询")
def search(db: Db, username: str = Query("", max_length=32), action: str = Query("", max_length=24),
           entity: str = Query("", max_length=32), entity_id: str = Query("", max_length=64),
           since: datetime | None = None, until: datetime | None = None,
           limit: int = Query(100, ge=1, le=1000), offset: Offset = 0,
           scope: Scope = Depends(current_scope)) -> list[AuditEntry]:
    rows, _ = service.search(db, scope, username=username, action=action, entity=entity, entity_id=entity_id,
                             since=aware(since), until=aware(until), limit=limit, offset=offset)
    return rows
