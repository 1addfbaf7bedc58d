"""Warnings: the ingest pipeline (validate → dedupe → match person and address → triage → dispatch), queries,
placing the unplaced (待分配) and exactly-once claims."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import JSON, case, func, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from fanzha.addresses.models import StandardAddress
from fanzha.addresses.service import AddressMatcher, guess_kind, normalize
from fanzha.audit import service as audit
from fanzha.auth import lookups
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.identity import id_number_birth_date, id_number_gender
from fanzha.common.privacy import PII_FIELDS, Identity, identity, identity_fields
from fanzha.db import UTCDateTime, naive_utc, one_of, utcnow
from fanzha.imports.service import Tally
from fanzha.links import records as link_records
from fanzha.links import store as links_store
from fanzha.links.models import CounterpartyId
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role, has_perm
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.people.service import find as find_person
from fanzha.warnings import assignments, flags, open_set, triage
from fanzha.warnings.dispatch import Assigner, station_of_communities
from fanzha.warnings.enums import GRADE_ORDER, GRADES, KINDS, STATUSES
from fanzha.warnings.intake import WarningDraft, check_rows
from fanzha.warnings.models import Warning, WarningAssignment

CHUNK = 2000
COUNT_CAP = 10_000
PEOPLE_CACHE = 200_000
@dataclass
class _Context:
    """What one ingest run keeps between chunks: lookups loaded once and what this run already did."""

    session: Session
    scope: Scope
    source: str
    batch_id: int | None
    matcher: AddressMatcher
    stations: dict[int, int]
    assigner: Assigner
    rules: triage.Rules
    first_id: int | None = None  # the first warning this run created: a later 预警编号 at or above it is its own
    # People looked up and their warnings counted so far. Only a cache: rows of earlier chunks are in the table
    # (same transaction), where the look-ups and the repeat counts find them again, so it is emptied whenever it
    # grows past PEOPLE_CACHE and a 1,000,000-row file costs no more memory than a 200,000-row one.
    people_by_id: dict[str, int] = field(default_factory=dict)
    people_by_phone: dict[str, int] = field(default_factory=dict)
    person_info: dict[int, tuple[int, tuple[str, ...]]] = field(default_factory=dict)  # id → (community, groups)
    repeats: dict[object, int] = field(default_factory=lambda: defaultdict(int))

    # 预警编号 already on file before this run that the run has met (refreshed or found unchanged): a second row
    # of the same number later in the file is a duplicate, wherever the chunk boundaries fall. Small: re-sent rows.
    existing_seen: set[str] = field(default_factory=set)

    def next_chunk(self) -> None:
        if len(self.person_info) + len(self.repeats) > PEOPLE_CACHE:
            for lookup in (self.people_by_id, self.people_by_phone, self.person_info):
                lookup.clear()
            # Counts under a person are found again in the table; those under an ID number or phone with no person
            # (warnings not placed yet) are not, so they stay.
            for key in [k for k in self.repeats if k[0] == "p"]:
                del self.repeats[key]


def _context(session: Session, scope: Scope, source: str, batch_id: int | None) -> _Context:
    return _Context(session=session, scope=scope, source=source, batch_id=batch_id,
                    matcher=AddressMatcher(session, None if scope.is_centre else scope),
                    stations=station_of_communities(session), assigner=Assigner(session, utcnow()).ready(),
                    rules=triage.current_rules())


def ingest_rows(session: Session, scope: Scope, rows: Iterable[tuple[int, dict]], *, source: str = "import",
                batch_id: int | None = None, strict: bool = False, tally: Tally | None = None) -> Tally:
    """Runs rows through validation and the pipeline in chunks; bad rows go to tally.errors with reasons."""
    scope.require(Perm.INTAKE_WARNINGS)
    tally = tally or Tally()
    ctx = _context(session, scope, source, batch_id)
    chunk: list[tuple[int, WarningDraft]] = []
    # A file's rows may be checked by a separate process (imports run on the worker); an API call never starts one.
    for number, raw, draft, problem in check_rows(rows, strict=strict, processes=0 if source == "api" else None,
                                                  matcher=ctx.matcher):
        tally.read += 1
        if draft is None:
            tally.rejected += 1
            tally.errors.append((number, *problem, {k: _jsonable(v) for k, v in raw.items()}))
        else:
            chunk.append((number, draft))
        if len(chunk) >= CHUNK:
            _apply(ctx, chunk, tally)
            chunk = []
    if chunk:
        _apply(ctx, chunk, tally)
    return tally


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def _load_people(ctx: _Context, drafts: list[WarningDraft]) -> None:
    s = ctx.session
    ids = {d.id_number for d in drafts if d.id_number and d.id_number not in ctx.people_by_id}
    phones = {d.phone for d in drafts if d.phone and d.phone not in ctx.people_by_phone}
    # Each person comes with the number of warnings already on file for them (the correlated count walks the
    # person_id index; a grouped count over an ANY list could scan the table this very import is growing).
    earlier = select(func.count()).where(Warning.person_id == Person.id).scalar_subquery()
    columns = (Person.id, Person.id_number, Person.phone, Person.community_id, Person.groups, earlier)
    found = []
    if ids:
        found += s.execute(select(*columns).where(one_of(s, Person.id_number, ids))).all()
    if phones:
        found += s.execute(select(*columns).where(one_of(s, Person.phone, phones))).all()
    for pid, idn, phone, community_id, groups, count in found:
        if idn:
            ctx.people_by_id.setdefault(idn, pid)
        if phone:
            ctx.people_by_phone.setdefault(phone, pid)
        if pid not in ctx.person_info:
            ctx.person_info[pid] = (community_id, tuple(groups or ()))
            ctx.repeats[("p", pid)] += count


def _person_of(ctx: _Context, d: WarningDraft) -> int | None:
    if d.id_number and d.id_number in ctx.people_by_id:
        return ctx.people_by_id[d.id_number]
    if d.phone and d.phone in ctx.people_by_phone:
        return ctx.people_by_phone[d.phone]
    return None


def _repeat_key(person_id: int | None, d: WarningDraft) -> object:
    if person_id is not None:
        return ("p", person_id)
    return ("i", d.id_number) if d.id_number else ("t", d.phone)


def _place(ctx: _Context, d: WarningDraft, person_id: int | None) -> tuple[int | None, str | None]:
    for i, (text, source) in enumerate(((d.current_address, "current"), (d.household_address, "household"))):
        if text:
            cid = d.places[i] if d.places is not None else ctx.matcher.match(text)
            if cid is not None and cid in ctx.stations:
                return cid, source
    if person_id is not None:
        cid = ctx.person_info.get(person_id, (None, ()))[0]
        if cid in ctx.stations:
            return cid, "person"
    return None, None


def _apply(ctx: _Context, chunk: list[tuple[int, WarningDraft]], tally: Tally) -> None:
    s = ctx.session
    ctx.next_chunk()
    fresh: list[WarningDraft] = []
    seen: set[str] = set()
    ext_ids = [d.external_id for _, d in chunk]
    existing = {w.external_id: w for w in s.scalars(select(Warning).where(one_of(s, Warning.external_id, ext_ids)))}
    for _, d in chunk:
        old = existing.get(d.external_id)
        if d.external_id in seen or d.external_id in ctx.existing_seen or \
                (old is not None and _made_by_this_run(ctx, old)):
            tally.duplicates += 1  # the same 预警编号 twice in one file: the first one stands
            continue
        seen.add(d.external_id)
        if old is None:
            fresh.append(d)
            continue
        ctx.existing_seen.add(d.external_id)
        if _refresh(ctx, old, d):
            tally.updated += 1
        else:
            tally.duplicates += 1
    if not fresh:
        return
    _load_people(ctx, fresh)
    now = utcnow()
    linked = _counterparty_matches(s, fresh, now)
    new_people: dict[object, dict] = {}
    rows: list[dict] = []
    for d in fresh:
        person_id = _person_of(ctx, d)
        community_id, match_source = _place(ctx, d, person_id)
        key = _repeat_key(person_id, d)
        repeats = ctx.repeats[key]
        ctx.repeats[key] += 1
        groups = ctx.person_info.get(person_id, (None, ()))[1] if person_id else ()
        row = _row(ctx, d, repeats, groups, now, linked.get(id(d), ""))
        row.update(person_id=person_id, community_id=community_id, match_source=match_source)
        if community_id is not None:
            _dispatch(ctx, row, community_id, now)
            if person_id is None:
                pkey = ("i", d.id_number) if d.id_number else ("t", d.phone)
                new_people.setdefault(pkey, _new_person(d, community_id))
                row["_person_key"] = pkey
        rows.append(row)
    if new_people:
        made = _insert(s, Person, list(new_people.values()))
        for (key, person), pid in zip(new_people.items(), made, strict=True):
            person["id"] = pid
            if person["id_number"]:
                ctx.people_by_id[person["id_number"]] = pid
            if person["phone"]:
                ctx.people_by_phone.setdefault(person["phone"], pid)
            ctx.person_info[pid] = (person["community_id"], ())
            # Later chunks find this person by id: the warnings counted under the ID/phone so far go with it.
            ctx.repeats[("p", pid)] += ctx.repeats.pop(key, 0)
    for row in rows:
        pkey = row.pop("_person_key", None)
        if pkey is not None:
            row["person_id"] = new_people[pkey]["id"]
    ids = _insert(s, Warning, rows)
    # New warnings: their identifiers need no check against stored ones, and go in as the warnings did (COPY).
    counterparties = links_store.rows_for("warning", [(i, d.counterparties) for i, d in zip(ids, fresh, strict=True)])
    if counterparties:
        _insert(s, CounterpartyId, counterparties)
    if held := assignments.intake_rows(ids, rows):
        _insert(s, WarningAssignment, held)
    if ctx.first_id is None:
        ctx.first_id = ids[0]
    tally.created += len(rows)
    for row in rows:
        key = str(row["station_id"] or "")
        tally.went[key] = tally.went.get(key, 0) + 1
    from fanzha.warnings.alerts import Arrival, announce

    announce(s, [Arrival(i, r["external_id"], r["kind"], r["risk_grade"], r["status"], r["station_id"],
                         r["assignee_id"], r["sign_deadline"], r["feedback_deadline"]) for i, r in zip(ids, rows, strict=False)],
             utcnow())


def _made_by_this_run(ctx: _Context, warning: Warning) -> bool:
    return (ctx.first_id is not None and warning.id >= ctx.first_id and warning.batch_id == ctx.batch_id
            and warning.source == ctx.source)


def _insert(session: Session, model: type[Warning | Person | WarningAssignment | CounterpartyId],
            rows: list[dict]) -> list[int]:
    """Inserts rows (dicts with the same keys) in the session's transaction; returns their new ids, in order.

    On PostgreSQL the ids are taken from the table's sequence and the rows go in with one binary COPY (the driver's
    C dumpers, told each column's type), each value as the column stores it (`_copy_converter`: naive UTC datetimes,
    JSON) and Python-side defaults filled in for columns the rows leave out, so constraints, triggers and stored
    values are those of an INSERT at a fraction of its cost.
    Elsewhere: one executemany INSERT … RETURNING. (An ORM bulk insert of rows with None here and there is split
    into a statement per run of rows with the same non-None columns; render_nulls keeps it one batch.)
    """
    table = model.__table__
    conn = session.connection()
    if model is Warning:
        open_set.forget(session)
    if conn.dialect.name != "postgresql":
        return list(session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows,
                                    execution_options={"render_nulls": True}).scalars())
    given = list(rows[0])
    defaults = {c.key: c.default.arg if c.default.is_scalar else c.default.arg(None) for c in table.columns
                if c.key not in rows[0] and not c.primary_key and c.default is not None
                and (c.default.is_scalar or c.default.is_callable)}
    # A column that is empty in every row (signed_at, outcome … of new warnings) is left to COPY's NULL.
    keys = [k for k in given if any(row[k] is not None for row in rows)]
    columns = keys + list(defaults)
    converters = [(i + 1, f) for i, f in enumerate(_copy_converter(table.c[k].type, conn.dialect) for k in columns)
                  if f is not None]
    ids = list(conn.exec_driver_sql(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                    f"FROM generate_series(1, {len(rows)})").scalars())
    names = ", ".join(f'"{k}"' for k in ["id", *columns])
    fixed = list(defaults.values())
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(["int4", *(_pg_type(table.c[k].type, conn.dialect) for k in columns)])
        for new_id, row in zip(ids, rows, strict=True):
            values = [new_id, *(row[k] for k in keys), *fixed]
            for i, convert in converters:
                if values[i] is not None:
                    values[i] = convert(values[i])
            copy.write_row(values)
    return ids


def _pg_type(type_, dialect) -> str:
    """The PostgreSQL type name COPY's binary format writes a column's values as."""
    name = type_.dialect_impl(dialect).compile(dialect=dialect).lower()
    return name.split("(")[0].strip()


def _copy_converter(type_, dialect):
    """What a value needs before COPY: naive UTC for UTCDateTime, text for JSON, the type's own bind step for the
    rest (None when there is none)."""
    if isinstance(type_, UTCDateTime):
        return naive_utc
    if isinstance(type_, JSON):
        from psycopg.types.json import Json

        return partial(Json, dumps=partial(json.dumps, ensure_ascii=False))
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _counterparty_matches(session: Session, drafts: list[WarningDraft], now: datetime) -> dict[int, str]:
    """id(draft) → the 串并 reason of each draft whose counterparty an open case holds or the blocklist lists."""
    pairs = {(i.kind, i.key) for d in drafts for i in d.counterparties}
    if not pairs:
        return {}
    cases, blocked = links_store.open_case_keys(session, pairs, now), links_store.blocklisted(session, pairs)
    return {id(d): reason for d in drafts if d.counterparties
            and (reason := links_store.match_reason(d.counterparties, cases, blocked))}


def _row(ctx: _Context, d: WarningDraft, repeats: int, groups: tuple[str, ...], now: datetime,
         linked: str = "") -> dict:
    verdict = triage.grade(triage.Facts(kind=d.kind, upstream_grade=d.upstream_grade, amount=d.amount,
                                        groups=groups, repeats=repeats, fraud_type=d.fraud_type, linked=linked),
                           ctx.rules)
    dl = triage.deadlines(verdict.grade, d.warned_at, verdict.face_required, d.upstream_deadline, ctx.rules)
    if d.upstream_deadline:
        verdict.reasons.append("反馈时限按上级下发")
    return dict(
        external_id=d.external_id, kind=d.kind, upstream_grade=d.upstream_grade, risk_grade=verdict.grade,
        grade_reasons=verdict.reasons, warned_at=d.warned_at, sign_deadline=dl.sign, contact_deadline=dl.contact,
        face_deadline=dl.face, feedback_deadline=dl.feedback, upstream_deadline=dl.upstream_feedback,
        face_required=verdict.face_required, name=d.name, id_number=d.id_number, phone=d.phone,
        household_address=d.household_address, current_address=d.current_address, fraud_type=d.fraud_type,
        amount=d.amount, counterparty_account=d.counterparty_account, issuing_unit=d.issuing_unit, note=d.note,
        repeat_count=repeats, status="unplaced", assignee_id=None, dispatched_at=None, assigned_at=None,
        station_id=None, source=ctx.source, batch_id=ctx.batch_id, created_at=now, updated_at=now,
    )


def _dispatch(ctx: _Context, row: dict, community_id: int, now: datetime) -> None:
    station_id = ctx.stations[community_id]
    row.update(station_id=station_id, status="dispatched", dispatched_at=now)
    assignee = ctx.assigner.pick(station_id)
    if assignee is not None:
        row.update(assignee_id=assignee, status="assigned", assigned_at=now)


def _new_person(w: WarningDraft | Warning, community_id: int) -> dict:
    """The person record a warning registers (from a draft at intake or a warning being placed)."""
    birth = gender = None
    if w.id_number:
        birth, gender = id_number_birth_date(w.id_number), id_number_gender(w.id_number)
    now = utcnow()
    return dict(name=w.name or "（未知）", id_number=w.id_number, phone=w.phone, gender=gender or "",
                birth_date=birth, community_id=community_id, address=w.current_address or w.household_address,
                groups=[], unit_id=None, created_at=now, updated_at=now)


def _refresh(ctx: _Context, old: Warning, d: WarningDraft) -> bool:
    """A re-sent instruction may raise the upstream grade or move the deadline; anything else is a duplicate."""
    raised = d.upstream_grade and (old.upstream_grade is None
                                   or GRADE_ORDER[d.upstream_grade] > GRADE_ORDER[old.upstream_grade])
    moved = d.upstream_deadline is not None and d.upstream_deadline != old.feedback_deadline
    if not (raised or moved):
        return False
    groups = tuple(old.person.groups or ()) if old.person else ()
    # The 串并 found at intake stands (what the counterparty matched then is why the grade was raised).
    linked = next((r.split("串并：", 1)[1] for r in old.grade_reasons or () if "串并：" in r), "")
    verdict = triage.grade(triage.Facts(kind=old.kind, upstream_grade=d.upstream_grade or old.upstream_grade,
                                        amount=old.amount, groups=groups, repeats=old.repeat_count,
                                        fraud_type=old.fraud_type, linked=linked), ctx.rules)
    if GRADE_ORDER[verdict.grade] < GRADE_ORDER[old.risk_grade]:  # never lower silently
        verdict.grade = old.risk_grade
        verdict.reasons.append("保留原级别（不自动降级）")
    dl = triage.deadlines(verdict.grade, old.warned_at, old.face_required, d.upstream_deadline or
                          (old.feedback_deadline if old.upstream_deadline else None), ctx.rules)
    old.upstream_grade = d.upstream_grade or old.upstream_grade
    old.risk_grade, old.grade_reasons = verdict.grade, verdict.reasons + ["上级重新下发，已更新"]
    old.sign_deadline, old.contact_deadline, old.face_deadline = dl.sign, dl.contact, dl.face
    old.feedback_deadline, old.upstream_deadline = dl.feedback, dl.upstream_feedback
    return True


# -- one at a time (API) -----------------------------------------------------------------


def create_one(session: Session, scope: Scope, raw: dict) -> tuple[Warning, str]:
    """Validates and ingests one API warning. Returns (warning, 'created'|'updated'|'duplicate')."""
    tally = ingest_rows(session, scope, [(1, raw)], source="api", strict=True)
    if tally.errors:
        _, column, reason, _ = tally.errors[0]
        raise Invalid(reason, details=[{"loc": [column], "msg": reason}])
    external_id = str(raw.get("预警编号", "")).strip()
    warning = session.scalar(select(Warning).where(Warning.external_id == external_id))
    outcome = "created" if tally.created else "updated" if tally.updated else "duplicate"
    audit.record(session, scope, "create" if tally.created else "update", "warning", warning.id,
                 fields=list(PII_FIELDS), detail={"external_id": external_id, "outcome": outcome})
    return warning, outcome


# -- reading -----------------------------------------------------------------------------


def visible(scope: Scope):
    return scope.records_clause(Warning.community_id)


# How links reads warnings: a record's links and the centre's list (which adds up the 受骗金额 reported).
link_records.register(link_records.Records(
    kind="warning", label="预警", perm=Perm.READ_WARNINGS, model=Warning, visible=visible, number=Warning.external_id,
    at=Warning.warned_at, amount=Warning.amount, loss=func.coalesce(Warning.amount_lost, 0)))


def reachable(scope: Scope):
    """visible, and the warnings whose first contact the user took over from a sibling station (跨所协助,
    dissuasion/help.py): the helper opens and calls those, nothing else of them."""
    if scope.user_id is None:
        return visible(scope)
    from fanzha.warnings.models import WarningHelp

    return or_(visible(scope), Warning.id.in_(select(WarningHelp.warning_id).where(
        WarningHelp.helper_id == scope.user_id)))


def helping_only(session: Session, scope: Scope, w: Warning) -> bool:
    """The user reaches `w` only as the helper who took over its first contact, not through their own areas."""
    return scope.user_id is not None and w.helper_id == scope.user_id and session.scalar(
        select(Warning.id).where(Warning.id == w.id, visible(scope))) is None


@dataclass
class Filters:
    status: str = ""
    state: str = ""  # open: 在办 (no feedback yet) · closed: 已反馈 · "": both
    grade: str = ""
    kind: str = ""
    station_id: int | None = None
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None
    mine: bool = False
    condition: object = None  # a metric's numerator or denominator (metrics.drill)
    flag: str = ""  # a board figure (warnings.flags: unsigned, overdue, escalated, backlog)
    assignee_id: int | None = None  # 劝阻员: the user holding the warning


def flag_clause(flag: str, now: datetime | None = None):
    """A board figure's condition (its one definition lives in dissuasion.board, which registers it with
    warnings.flags)."""
    return flags.condition(flag, now or utcnow())


def _filtered(session: Session, scope: Scope, f: Filters):
    stmt = select(Warning).where(visible(scope))
    if f.condition is not None:
        stmt = stmt.where(f.condition)
    if f.status:
        stmt = stmt.where(Warning.status == f.status)
    if f.state == "open":
        stmt = stmt.where(open_set.clause(session))
    elif f.state == "closed":
        stmt = stmt.where(Warning.feedback_at.is_not(None))
    if f.grade:
        stmt = stmt.where(Warning.risk_grade == f.grade)
    if f.kind:
        stmt = stmt.where(Warning.kind == f.kind)
    if f.station_id:
        stmt = stmt.where(Warning.station_id == f.station_id)
    if f.q:
        stmt = stmt.where(or_(Warning.external_id == f.q, Warning.id_number == f.q.upper(), Warning.phone == f.q,
                              Warning.name == f.q))
    if f.since:
        stmt = stmt.where(Warning.warned_at >= f.since)
    if f.until:
        stmt = stmt.where(Warning.warned_at < f.until)
    if f.mine:
        stmt = stmt.where(Warning.assignee_id == scope.user_id)
    if f.assignee_id:
        stmt = stmt.where(Warning.assignee_id == f.assignee_id)
    if f.flag:  # every board figure is one of open warnings: the bound lets it skip the closed months too
        stmt = stmt.where(flag_clause(f.flag), open_set.clause(session))
    return stmt


def search(session: Session, scope: Scope, f: Filters, *, limit: int = 50, offset: int = 0) -> tuple[list[Warning], int]:
    scope.require(Perm.READ_WARNINGS)
    lookups.check(session, scope, f.q, where="warning")
    stmt = _filtered(session, scope, f)
    # Counted up to COUNT_CAP + 1: "more than 10,000" is all a list needs to say, and counting five million
    # rows of history to say it exactly would cost seconds.
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Warning.id)
                                                             .limit(COUNT_CAP + 1).subquery()))
    rows = list(session.scalars(stmt.options(joinedload(Warning.station), joinedload(Warning.community),
                                             joinedload(Warning.assignee))
                                .order_by(Warning.warned_at.desc(), Warning.id.desc()).limit(limit).offset(offset)))
    if rows:
        audit.record(session, scope, "view", "warning", "", fields=["name"], detail={"ids": [w.id for w in rows]})
    return rows, int(total or 0)


def counts(session: Session, scope: Scope, f: Filters) -> dict[str, dict[str, int]]:
    scope.require(Perm.READ_WARNINGS)
    sub = _filtered(session, scope, Filters(kind=f.kind, station_id=f.station_id, since=f.since, until=f.until,
                                   mine=f.mine, condition=f.condition, state=f.state, flag=f.flag,
                                   assignee_id=f.assignee_id)).subquery()
    out: dict[str, dict[str, int]] = {"grade": {}, "status": {}, "kind": {}}
    for col in ("grade", "status", "kind"):
        column = {"grade": sub.c.risk_grade, "status": sub.c.status, "kind": sub.c.kind}[col]
        for key, n in session.execute(select(column, func.count()).group_by(column)):
            out[col][key] = n
    return out


def holders(session: Session, scope: Scope) -> list[tuple[Area, list[User]]]:
    """The board's 劝阻员 filter: per station in scope, its active users whose role may hold a warning (claim_warnings
    in org/roles.py: 劝阻员, 民警, 社区民警, 所长), at the station or one of its 警务区, station by station."""
    roles = [r.value for r in Role if has_perm(r, Perm.CLAIM_WARNINGS)]
    stations = [a for a in session.scalars(select(Area).where(Area.level == Level.STATION, scope.area_clause())
                                           .order_by(Area.path)) if scope.covers(a)]
    by_path = {a.path: a for a in stations}
    users = session.execute(select(User, Area.path).join(Area, User.area_id == Area.id).where(
        User.is_active.is_(True), User.role.in_(roles),
        Area.level.in_((Level.STATION, Level.BEAT)), scope.area_clause()).order_by(User.display_name, User.id)).all()
    out: dict[int, list[User]] = defaultdict(list)
    for user, path in users:
        station = next((a for p, a in by_path.items() if path.startswith(p)), None)
        if station is not None:
            out[station.id].append(user)
    return [(a, out[a.id]) for a in stations if out[a.id]]


EXPORT_HEADER = ("预警编号", "预警时间", "预警类型", "风险等级", "姓名", "身份证号", "手机号", "拟转账金额（元）", "派出所",
                 "村/社区", "劝阻员", "状态", "签收时间", "首次联系时间", "反馈时间", "劝阻结果", "已超时", "已升级", "积压",
                 "研判理由", "下发单位", "备注")


def export(session: Session, scope: Scope, f: Filters, *, full: bool = False) -> bytes:
    """The board's list with its filters as an XLSX file (导出 Excel), newest first, at most exports.ROW_CAP rows.
    Masked as the board shows it (name in full, ID number and phone masked); full numbers only with `full`, which
    needs pii_full. A personal-data export: export_personal, audited with its fields, rows and filters."""
    from fanzha.audit import exports
    from fanzha.common.timefmt import fmt_minute
    from fanzha.warnings.enums import OUTCOMES

    scope.require(Perm.READ_WARNINGS)
    exports.require(scope)
    if full:
        scope.require(Perm.PII_FULL)
    lookups.check(session, scope, f.q, where="warning")
    now = utcnow()
    marks = [flag_clause(key, now) for key in ("overdue", "escalated", "backlog")]
    stmt = _filtered(session, scope, f).add_columns(*(case((m, 1), else_=0) for m in marks))
    found = session.execute(stmt.options(joinedload(Warning.station), joinedload(Warning.community),
                                         joinedload(Warning.assignee))
                            .order_by(Warning.warned_at.desc(), Warning.id.desc()).limit(exports.ROW_CAP + 1)).all()
    yes = {1: "是", 0: ""}
    rows = []
    for w, overdue, escalated, backlog in found:
        who = shown_identity(w, full=full)
        rows.append([w.external_id, fmt_minute(w.warned_at), KINDS.get(w.kind, w.kind), GRADES.get(w.risk_grade, ""),
                     who.name, who.id_number, who.phone, w.amount, w.station.label if w.station else "",
                     w.community.label if w.community else "", w.assignee.display_name if w.assignee else "",
                     STATUSES.get(w.status, w.status), fmt_minute(w.signed_at), fmt_minute(w.first_contact_at),
                     fmt_minute(w.feedback_at), OUTCOMES.get(w.outcome or "", ""), yes[overdue], yes[escalated],
                     yes[backlog], "；".join(w.grade_reasons or []), w.issuing_unit, w.note])
    shown = identity_fields(full=full, with_ages=False)
    return exports.list_file(session, scope, "warning", header=EXPORT_HEADER, rows=rows, sheet="预警指令",
                             fields=[*shown, "note"], detail={"filters": _described(f), "full": full})


def _described(f: Filters) -> dict:
    """The filters of an export as its audit entry keeps them (a searched number masked)."""
    out = {k: v for k, v in (("status", f.status), ("state", f.state), ("grade", f.grade), ("kind", f.kind),
                              ("station_id", f.station_id), ("flag", f.flag), ("assignee_id", f.assignee_id),
                              ("mine", f.mine)) if v}
    if f.q:
        out["q"] = lookups.masked(f.q)
    for key in ("since", "until"):
        if getattr(f, key):
            out[key] = getattr(f, key).isoformat()
    if f.condition is not None:
        out["metric"] = True
    return out


def get(session: Session, scope: Scope, warning_id: int, *, reveal: bool = False) -> Warning:
    scope.require(Perm.READ_WARNINGS)
    if reveal:
        scope.require(Perm.PII_FULL)
    warning = session.scalar(select(Warning).where(Warning.id == warning_id, reachable(scope))
                             .options(joinedload(Warning.station), joinedload(Warning.community),
                                      joinedload(Warning.assignee), joinedload(Warning.person)))
    if warning is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    audit.record(session, scope, "reveal" if reveal else "view", "warning", warning.id, fields=shown_fields(reveal))
    return warning


def shown_fields(full: bool) -> list[str]:
    """What a warning's detail shows of its person, as its audit entry lists it."""
    return identity_fields(full=full, with_ages=False) + ["address"]


def shown_identity(w: Warning, *, full: bool) -> Identity:
    """The warned person as the viewer sees them: the one masking path of the API and the detail page."""
    return identity(name=w.name, id_number=w.id_number, phone=w.phone, full=full)


# -- placing and claiming ----------------------------------------------------------------


def place(session: Session, scope: Scope, warning_id: int, community_id: int, *, add_address: bool = False) -> Warning:
    """An analyst places a 待分配 warning on a community; optionally the address joins the standard list."""
    scope.require(Perm.INTAKE_WARNINGS)
    warning = session.scalar(select(Warning).where(Warning.id == warning_id, visible(scope)).with_for_update())
    if warning is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    if warning.status != "unplaced":
        raise Conflict("该预警已分配到派出所，不能重复分配")
    community = session.scalar(select(Area).where(Area.id == community_id, Area.id.in_(scope.community_ids())))
    stations = station_of_communities(session)
    if community is None or community.id not in stations:
        raise Invalid("请选择您辖区内的村/社区", details=[{"loc": ["community_id"], "msg": "村/社区不对"}])
    now = utcnow()
    warning.community_id, warning.match_source = community.id, "manual"
    warning.station_id, warning.status, warning.dispatched_at = stations[community.id], "dispatched", now
    assignee = Assigner(session, now).pick(warning.station_id)
    if assignee is not None:
        warning.assignee_id, warning.status, warning.assigned_at = assignee, "assigned", now
        assignments.record(session, warning, kind="assign", at=now)
    from fanzha.warnings.alerts import Arrival, announce

    announce(session, [Arrival.of(warning)], now)
    if warning.person_id is None:
        existing = find_person(session, warning.id_number, warning.phone)
        if existing is None:
            from sqlalchemy.exc import IntegrityError

            try:
                with session.begin_nested():  # someone else may register the same person at this very moment
                    existing = Person(**_new_person(warning, community.id))
                    session.add(existing)
            except IntegrityError:
                existing = session.scalar(select(Person).where(Person.id_number == warning.id_number))
        warning.person_id = existing.id
    text = warning.current_address or warning.household_address
    if add_address and text:
        key = normalize(text)
        if key and not session.scalar(select(StandardAddress.id).where(StandardAddress.normalized == key)):
            session.add(StandardAddress(community_id=community.id, kind=guess_kind(text), text=text[:200],
                                        normalized=key))
            audit.record(session, scope, "create", "address", "", detail={"text": text[:200], "from_warning": warning.id})
    audit.record(session, scope, "update", "warning", warning.id,
                 detail={"placed_on": community.id, "add_address": add_address})
    return warning


def claim(session: Session, scope: Scope, warning_id: int) -> Warning:
    """Takes a warning at one's own station. Exactly one of several simultaneous claims wins."""
    scope.require(Perm.CLAIM_WARNINGS)
    warning = session.scalar(select(Warning).where(Warning.id == warning_id, visible(scope)))
    if warning is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    now = utcnow()
    result = session.execute(
        update(Warning).where(Warning.id == warning_id, Warning.status == "dispatched", Warning.assignee_id.is_(None))
        .values(assignee_id=scope.user_id, status="assigned", assigned_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("该预警已被他人认领或不在待认领状态")
    audit.record(session, scope, "update", "warning", warning_id, detail={"claimed": True})
    session.refresh(warning)
    assignments.record(session, warning, kind="claim", at=now, by_user_id=scope.user_id)
    return warning
