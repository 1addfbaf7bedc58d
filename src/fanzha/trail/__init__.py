"""The audit trail's write path (审计留痕): the tables and `record`, below every package that records.

Reading the trail (search, exports, seals, its pages) is `fanzha.audit`, which sits above `fanzha.org` because it
scopes what a reader sees; recording needs nothing of org, so `fanzha.org` itself records its area and unit changes
here. `fanzha.audit.service.record` is this same function.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from fanzha.db import writer_of
from fanzha.trail.models import AuditEntry


class Actor(Protocol):
    """Who acts: a `fanzha.org.scope.Scope` (user, name, address and browser of the request)."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def username(self) -> str: ...
    @property
    def ip(self) -> str: ...
    @property
    def user_agent(self) -> str: ...


def record(session: Session, scope: Actor | None, action: str, entity: str = "", entity_id: object = "",
           *, fields: list[str] | None = None, detail: dict[str, Any] | None = None, username: str | None = None,
           ip: str = "", user_agent: str = "") -> None:
    """One entry in the caller's transaction; a reading on the read replica writes it to the request's primary
    session (`writer_of`), so the view is recorded even though the records came from a read-only copy."""
    writer_of(session).add(AuditEntry(
        user_id=scope.user_id if scope else None,
        username=username or (scope.username if scope else ""),
        action=action, entity=entity, entity_id=str(entity_id or ""),
        fields=fields or [], detail=detail or {},
        ip=(scope.ip if scope else ip) or ip, user_agent=(scope.user_agent if scope else user_agent) or user_agent,
    ))
