"""People within the user's areas; every view of personal data is audited, full numbers only on reveal."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.auth import lookups
from fanzha.common.errors import Conflict, Invalid, NotFound, not_here
from fanzha.common.identity import id_number_birth_date, id_number_gender, mask_id_number, mask_name
from fanzha.common.privacy import PII_FIELDS, Identity, identity, identity_fields
from fanzha.org import service as org
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.schemas import PersonIn, PersonOut, PersonPatch


def to_out(person: Person, *, reveal: bool = False) -> PersonOut:
    shown = person_identity(person, full=reveal)
    return PersonOut(
        id=person.id, name=shown.name, id_number=shown.id_number, phone=shown.phone, gender=shown.gender,
        age_band=shown.age_band, birth_date=shown.birth_date, community_id=person.community_id,
        community_name=person.community.label if person.community else "", address=person.address,
        groups=list(person.groups or []), unit_id=person.unit_id, masked=shown.masked,
    )


def person_identity(person: Person, *, full: bool) -> Identity:
    return identity(name=person.name, id_number=person.id_number, phone=person.phone, gender=person.gender,
                    birth_date=person.birth_date, full=full)


def _scoped(scope: Scope) -> Select[Person]:
    return select(Person).where(scope.community_clause(Person.community_id)).options(joinedload(Person.community))


def _filtered(scope: Scope, q: str, community_id: int | None) -> Select[Person]:
    stmt = _scoped(scope)
    if q:
        stmt = stmt.where(or_(Person.name.contains(q, autoescape=True), Person.id_number == q.upper(),
                              Person.phone == q))
    if community_id:
        stmt = stmt.where(Person.community_id == community_id)
    return stmt


def search(session: Session, scope: Scope, *, q: str = "", group: str = "", community_id: int | None = None,
           limit: int = 50, offset: int = 0) -> tuple[list[Person], int]:
    """A list shows masked numbers; the names shown are audited as one 'view' entry per page."""
    scope.require(Perm.READ_PEOPLE)
    lookups.check(session, scope, q, where="person")
    stmt = _filtered(scope, q, community_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(session.scalars(stmt.order_by(Person.id).limit(limit).offset(offset)))
    if group:
        rows = [p for p in rows if group in (p.groups or [])]
    if rows:
        audit.record(session, scope, "view", "person", "", fields=identity_fields(full=False) + ["address"],
                     detail={"ids": [p.id for p in rows], "query": lookups.masked(q)})
    return rows, int(total or 0)


EXPORT_HEADER = ("姓名", "身份证号", "手机号", "性别", "年龄段", "出生日期", "村/社区", "住址", "易受骗群体")


def export(session: Session, scope: Scope, *, q: str = "", full: bool = False) -> bytes:
    """The people list with its search as an XLSX file (导出 Excel), in the list's order, at most exports.ROW_CAP
    rows; masked as the list shows them (ID number and phone masked, an age band), full values only with `full`
    (pii_full). A personal-data export: export_personal, audited with its fields and rows."""
    from fanzha.audit import exports
    from fanzha.org.enums import GROUPS

    scope.require(Perm.READ_PEOPLE)
    exports.require(scope)
    if full:
        scope.require(Perm.PII_FULL)
    lookups.check(session, scope, q, where="person")
    rows = []
    for p in session.scalars(_filtered(scope, q, None).order_by(Person.id).limit(exports.ROW_CAP + 1)):
        who = person_identity(p, full=full)
        rows.append([who.name, who.id_number, who.phone, who.gender, who.age_band, who.birth_date,
                     p.community.label if p.community else "", p.address,
                     "、".join(GROUPS.get(g, g) for g in p.groups or [])])
    return exports.list_file(session, scope, "person", header=EXPORT_HEADER, rows=rows, sheet="人员",
                             fields=identity_fields(full=full) + ["address"],
                             detail={"filters": {"q": lookups.masked(q)} if q else {}, "full": full})


def get(session: Session, scope: Scope, person_id: int, *, reveal: bool = False) -> Person:
    scope.require(Perm.READ_PEOPLE)
    if reveal:
        scope.require(Perm.PII_FULL)
    person = session.scalar(_scoped(scope).where(Person.id == person_id))
    if person is None:
        raise NotFound("人员不存在或不在您的管辖范围内")
    audit.record(session, scope, "reveal" if reveal else "view", "person", person.id,
                 fields=identity_fields(full=reveal) + ["address"])
    return person


def _check_community(session: Session, scope: Scope, community_id: int) -> None:
    ok = session.scalar(select(Area.id).where(Area.id == community_id, Area.id.in_(scope.community_ids())))
    if ok is None:
        raise Invalid("村/社区不存在或不在您的管辖范围内", details=[{"loc": ["community_id"], "msg": "应为您辖区内的村/社区"}])


def create(session: Session, scope: Scope, data: PersonIn) -> Person:
    scope.require(Perm.WRITE_PEOPLE)
    _check_community(session, scope, data.community_id)
    if not data.id_number and not data.phone:
        raise Invalid("身份证号和手机号至少填写一项", details=[{"loc": ["id_number"], "msg": "与手机号至少填一项"}])
    if data.id_number and (known := session.scalar(select(Person.id).where(Person.id_number == data.id_number))):
        if session.scalar(_scoped(scope).where(Person.id == known)) is not None:
            raise Conflict(f"身份证号 {mask_id_number(data.id_number)} 的人员已登记", details=[{"loc": ["id_number"],
                           "msg": "已登记", "person_id": known}])
        raise Conflict(not_here("该人员"), details=[{"loc": ["id_number"], "msg": not_here("该人员")}])
    person = Person(**data.model_dump())
    if data.id_number:
        person.gender = id_number_gender(data.id_number)
        person.birth_date = id_number_birth_date(data.id_number)
    session.add(person)
    session.flush()
    audit.record(session, scope, "create", "person", person.id, fields=list(PII_FIELDS))
    return person


def update(session: Session, scope: Scope, person_id: int, data: PersonPatch) -> Person:
    scope.require(Perm.WRITE_PEOPLE)
    person = session.scalar(_scoped(scope).where(Person.id == person_id))
    if person is None:
        raise NotFound("人员不存在或不在您的管辖范围内")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("community_id"):
        _check_community(session, scope, changes["community_id"])
    for key, value in changes.items():
        if value is not None:
            setattr(person, key, value)
    audit.record(session, scope, "update", "person", person.id,
                 fields=[f for f in changes if f in PII_FIELDS], detail={"changed": sorted(changes)})
    return person


def find(session: Session, id_number: str | None, phone: str | None, *,
         where: ColumnElement[bool] | None = None) -> Person | None:
    """The person a record belongs to: by 身份证号, else by 手机号 (optionally only among `where`)."""
    extra = [where] if where is not None else []
    person = None
    if id_number:
        person = session.scalar(select(Person).where(Person.id_number == id_number, *extra))
    if person is None and phone:
        person = session.scalar(select(Person).where(Person.phone == phone, *extra).order_by(Person.id).limit(1))
    return person


def display_name(person: Person, scope: Scope) -> str:
    """Full name for roles that work cases; 张某 style for the rest."""
    return person.name if scope.can(Perm.PII_FULL) else mask_name(person.name)


def count_in_area(session: Session, scope: Scope, area: Area) -> int:
    """在册人员 under `area` that the caller may see (the area's page, org.views)."""
    return session.scalar(select(func.count()).select_from(Person).where(
        Person.community_id.in_(Scope(user_id=None, username="", role=scope.role, area_id=area.id, chain=area.chain,
                                      path=area.path).community_ids()),
        scope.community_clause(Person.community_id))) or 0


org.count_people_with(count_in_area)
