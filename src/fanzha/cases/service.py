"""Cases within the user's areas: list, read (audited), enter one through the same row check as files."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.cases.intake import make_handler
from fanzha.cases.models import Case
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.imports.service import RowRejected
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

PII_FIELDS = ["name", "id_number", "phone"]


def visible(scope: Scope):
    clause = scope.community_clause(Case.community_id)
    return or_(clause, Case.community_id.is_(None)) if scope.is_centre else clause


def search(session: Session, scope: Scope, *, q: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
    scope.require(Perm.READ_CASES)
    stmt = select(Case).where(visible(scope))
    if q:
        stmt = stmt.where(or_(Case.case_number == q, Case.id_number == q.upper(), Case.phone == q, Case.name == q))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.options(joinedload(Case.community)).order_by(Case.filed_at.desc())
                                .limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "case", "", fields=["name"], detail={"ids": [c.id for c in rows]})
    return rows, int(total or 0)


def get(session: Session, scope: Scope, case_id: int) -> Case:
    scope.require(Perm.READ_CASES)
    case = session.scalar(select(Case).where(Case.id == case_id, visible(scope)).options(joinedload(Case.community)))
    if case is None:
        raise NotFound("案件不存在或不在您的管辖范围内")
    audit.record(session, scope, "view", "case", case.id, fields=["name"])
    return case


def create(session: Session, scope: Scope, raw: dict) -> Case:
    """One case from a form or the API, checked exactly as an imported row."""
    scope.require(Perm.WRITE_CASES)
    try:
        outcome = make_handler(session, scope)(raw)
    except RowRejected as exc:
        raise Invalid(exc.reason, details=[{"loc": [exc.column], "msg": exc.reason}]) from exc
    if outcome == "duplicate":
        raise Conflict(f"案件编号 {raw.get('案件编号')} 已存在")
    case = session.scalar(select(Case).where(Case.case_number == str(raw.get("案件编号")).strip()))
    if not scope.is_centre and case.community_id is None:
        raise Invalid("发案地址无法匹配到您辖区内的村/社区", details=[{"loc": ["发案地址"], "msg": "无法定位"}])
    audit.record(session, scope, "create", "case", case.id, fields=PII_FIELDS)
    return case
