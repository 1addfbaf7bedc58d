"""回访 scheduled, listed and recorded. A warning's 回访 comes from its 反馈 (defrauded, repeat, sample); a filed case's
victim gets one whether or not they were ever warned. Each is done by the station of its community: the case's
station lists it in its 回访 queue, where any of its staff may record it (the warning's dissuader sees their own in
我的任务 too). Every query goes through `visible`; every view and change is audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.privacy import identity
from fanzha.db import utcnow
from fanzha.dissuasion.followups import rules
from fanzha.dissuasion.models import FollowUp, TimelineEvent
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

LIST_LIMIT = 200

# A case's 回访 shows the case's victim and 案件编号. The cases package sits above this one: it registers how its cases
# are read (cases/intake.py, which schedules those 回访 and is loaded at start-up with every importer).
CaseReader = Callable[[Session, set[int]], dict[int, Any]]  # case ids → the cases (name, phone, case_number)
_case_readers: list[CaseReader] = []


def read_cases_with(reader: CaseReader) -> None:
    """Names the function that reads the cases a 回访 belongs to (one: a second registration replaces the first)."""
    _case_readers[:] = [reader]


def _cases(session: Session, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    if not _case_readers:
        raise RuntimeError("no case reader registered with dissuasion.followups.service (import fanzha.importers)")
    return _case_readers[0](session, ids)


def visible(scope: Scope):
    """The 回访 of the user's areas (by the community of its warning or case); the centre also sees unplaced ones."""
    return scope.records_clause(FollowUp.community_id)


def station_of(session: Session, community_id: int | None) -> int | None:
    """The station that covers a community (through its 警务区 when a beat covers it)."""
    if community_id is None:
        return None
    pid = session.scalar(select(Area.police_area_id).where(Area.id == community_id))
    police = session.get(Area, pid) if pid else None
    if police is None:
        return None
    return police.id if police.level == Level.STATION else police.parent_id


def schedule_for_warning(session: Session, w, now: datetime) -> list[FollowUp]:
    """The 回访 a warning's 反馈 calls for: 已被骗 a week later, a repeat warning a month later, one in five 劝阻成功
    a fortnight later (by warning id, so it is reproducible)."""
    reasons = []
    if w.outcome == "defrauded":
        reasons.append("defrauded")
    if w.repeat_count >= 1:
        reasons.append("repeat")
    if w.outcome == "dissuaded" and w.id % rules.SAMPLE_EVERY == 0:
        reasons.append("sample")
    made = []
    for reason in reasons:
        if session.scalar(select(FollowUp.id).where(FollowUp.warning_id == w.id, FollowUp.reason == reason)):
            continue
        f = FollowUp(warning_id=w.id, reason=reason, station_id=w.station_id, community_id=w.community_id,
                     due_at=now + timedelta(days=rules.DUE_DAYS[reason]), gaps=[], tries=0, escalates=True,
                     escalated="")
        session.add(f)
        made.append(f)
    return made


def schedule_for_case(session: Session, case, now: datetime, *, escalates: bool = True) -> FollowUp | None:
    """The 回访 of a filed case's victim (a person, ID number or phone), due a week after filing, by the station of the
    case's community. A case filed more than `rules.CASE_WINDOW_DAYS` days before it is registered, or not placed in
    a station's community, gets none. Called again after a correction, it moves an open one to the case's place."""
    if not (case.person_id or case.id_number or case.phone):
        return None
    station_id = station_of(session, case.community_id)
    existing = session.scalar(select(FollowUp).where(FollowUp.case_id == case.id, FollowUp.reason == "case"))
    if existing is not None:
        if existing.done_at is None and station_id is not None:
            existing.community_id, existing.station_id = case.community_id, station_id
        return existing
    if station_id is None or not rules.case_in_window(case.filed_at, now):
        return None
    f = FollowUp(case_id=case.id, reason="case", station_id=station_id, community_id=case.community_id,
                 due_at=rules.due("case", case.filed_at, now), gaps=[], tries=0, escalates=escalates, escalated="")
    session.add(f)
    return f


@dataclass
class Row:
    """One 回访 as a list shows it: the person masked, where they live, what it is about."""

    f: FollowUp
    name: str
    phone: str
    place: str
    subject: str  # 预警编号 or 案件编号
    link: str

    def overdue(self, now: datetime) -> bool:
        return self.f.done_at is None and self.f.due_at <= now


def _rows(session: Session, found: list[FollowUp]) -> list[Row]:
    from fanzha.warnings.models import Warning

    warnings = {w.id: w for w in session.scalars(select(Warning).where(
        Warning.id.in_({f.warning_id for f in found if f.warning_id})))}
    cases = _cases(session, {f.case_id for f in found if f.case_id})
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_({f.community_id for f in found
                                                                               if f.community_id})))}
    out = []
    for f in found:
        src = warnings.get(f.warning_id) if f.warning_id else cases.get(f.case_id)
        shown = identity(name=src.name if src else "", id_number=None, phone=src.phone if src else None, full=False,
                         name_full=False)
        subject = (src.external_id if f.warning_id else src.case_number) if src else ""
        link = f"/warnings/{f.warning_id}" if f.warning_id else f"/cases/{f.case_id}"
        area = areas.get(f.community_id)
        out.append(Row(f, shown.name, shown.phone, area.label if area else "", subject, link))
    return out


@dataclass
class Filters:
    state: str = "open"  # open 待回访 · overdue 已超期 · done 已完成 · "" all
    reason: str = ""


STATE_FILTERS = {"open": "待回访", "overdue": "已超期", "done": "已完成", "": "全部"}


def search(session: Session, scope: Scope, f: Filters, *, now: datetime | None = None,
           limit: int = LIST_LIMIT) -> list[Row]:
    """The 回访 queue of the user's areas: open ones soonest due first, done ones latest first."""
    scope.require(Perm.READ_WARNINGS)
    now = now or utcnow()
    if f.state not in STATE_FILTERS:
        raise Invalid("状态应为 待回访、已超期、已完成 之一", details=[{"loc": ["state"], "msg": "未知"}])
    if f.reason and f.reason not in rules.REASONS:
        raise Invalid("回访类型不对", details=[{"loc": ["reason"], "msg": "未知"}])
    stmt = select(FollowUp).where(visible(scope))
    if f.state in ("open", "overdue"):
        stmt = stmt.where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_at, FollowUp.id)
        if f.state == "overdue":
            stmt = stmt.where(FollowUp.due_at <= now)
    else:
        if f.state == "done":
            stmt = stmt.where(FollowUp.done_at.is_not(None))
        stmt = stmt.order_by(FollowUp.done_at.desc().nulls_first(), FollowUp.due_at, FollowUp.id)
    if f.reason:
        stmt = stmt.where(FollowUp.reason == f.reason)
    rows = _rows(session, list(session.scalars(stmt.limit(limit))))
    if rows:
        audit.record(session, scope, "view", "follow_up", "", fields=["name:masked", "phone:masked"],
                     detail={"ids": [r.f.id for r in rows]})
    return rows


def due_for(session: Session, scope: Scope, now: datetime, limit: int = 20) -> list[Row]:
    """我的任务's 到期回访: due ones on warnings the user holds, and the station's case-victim 回访 nobody holds."""
    from fanzha.warnings.models import Warning

    # Asked of each open, due follow-up (a few, from ix_follow_ups_open): an IN over the user's warnings would
    # read every warning they ever held (there is no index on closed ones' assignee), 41 s at 10 million warnings.
    mine = select(Warning.id).where(Warning.id == FollowUp.warning_id, Warning.assignee_id == scope.user_id).exists()
    stmt = (select(FollowUp).where(visible(scope), FollowUp.done_at.is_(None), FollowUp.due_at <= now,
                                   or_(mine, FollowUp.case_id.is_not(None)))
            .order_by(FollowUp.due_at).limit(limit))
    return _rows(session, list(session.scalars(stmt)))


def _one(session: Session, scope: Scope, follow_up_id: int, *, lock: bool = False) -> FollowUp:
    stmt = select(FollowUp).where(FollowUp.id == follow_up_id, visible(scope))
    f = session.scalar(stmt.with_for_update() if lock else stmt)
    if f is None:
        raise NotFound("回访任务不存在或不在您的管辖范围内")
    return f


def get(session: Session, scope: Scope, follow_up_id: int) -> Row:
    scope.require(Perm.READ_WARNINGS)
    row = _rows(session, [_one(session, scope, follow_up_id)])[0]
    audit.record(session, scope, "view", "follow_up", row.f.id, fields=["name:masked", "phone:masked"])
    return row


def record(session: Session, scope: Scope, follow_up_id: int, *, outcome: str, gaps: list[str] | tuple = (),
           missed_outreach: str = "", note: str = "", now: datetime | None = None) -> FollowUp:
    """A 回访 recorded: its state and, when the person was reached, the 宣防漏洞 found. 暂时找不到 keeps it open and
    due again `rules.RETRY_DAYS` days later (its escalation starts over); every other state closes it."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    gaps = list(dict.fromkeys(gaps))
    if problems := rules.check(outcome, gaps, missed_outreach):
        raise Invalid(problems[0][1], details=[{"loc": [field], "msg": msg} for field, msg in problems])
    f = _one(session, scope, follow_up_id, lock=True)
    if f.done_at is not None:
        raise Conflict("该回访已完成")
    f.by_user_id, f.outcome, f.note = scope.user_id, outcome, note.strip()
    text = f"回访：{rules.STATES[outcome]}"
    if outcome in rules.OPEN_STATES:
        f.tries += 1
        f.due_at, f.escalated, f.escalated_at = now + timedelta(days=rules.RETRY_DAYS), "", None
        text += f"（第{f.tries}次），{rules.RETRY_DAYS}天后再访"
    else:
        f.done_at = now
        f.gaps = gaps
        f.missed_outreach = missed_outreach.strip() if "other" in gaps else ""
        if gaps:
            text += "；宣防漏洞：" + "、".join(rules.GAPS[g] for g in gaps)
    if f.warning_id:
        session.add(TimelineEvent(warning_id=f.warning_id, at=now, kind="follow_up", text=text,
                                  by_user_id=scope.user_id))
    audit.record(session, scope, "update", "follow_up", f.id, detail={"outcome": outcome, "gaps": gaps})
    return f
