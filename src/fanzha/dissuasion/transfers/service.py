"""移交审核: a station (or the centre) asks to hand a warning to another station; it waits as 移交待审 until the
receiving station's head or officers (or the centre) accept it (接收: it moves there and is dispatched afresh) or
return it with a reason (退回: it stays, the sender is told). A person living outside the platform's area closes the
warning as 已移交外地, the receiving unit named in words. The deadlines keep running throughout: nothing here touches
them, and the escalation worker counts on the warning where it stands. Scoped, audited, on the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Forbidden, Invalid, NotFound
from fanzha.db import utcnow
from fanzha.dissuasion import holders
from fanzha.dissuasion import service as dissuasion
from fanzha.dissuasion.transfers.models import WarningTransfer
from fanzha.notify.service import notify
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning

STATUSES = {"pending": "移交待审", "accepted": "已接收", "returned": "已退回", "outside": "已移交外地"}
OUTSIDE = "outside"  # the warning's outcome when handed out of the platform's area (warnings.enums.OUTCOMES)


def may_send(scope: Scope) -> bool:
    """Who asks for a 移交: as for 改派, the station head or the centre's dispatch."""
    return holders.may_reassign(scope)


def may_receive(scope: Scope) -> bool:
    """Who accepts or returns one: the receiving station's head and officers, or the centre."""
    return scope.role in (Role.STATION_HEAD, Role.STATION_OFFICER) or holders.may_reassign(scope)


def _receivable(scope: Scope):
    """Transfers addressed to a station under the user's own node (their station; the centre's stations)."""
    if scope.is_system:
        return true()
    if not may_receive(scope) or scope.chain != Chain.POLICE:
        return false()
    stations = select(Area.id).where(Area.level == Level.STATION, scope.subtree_clause())
    return WarningTransfer.to_station_id.in_(stations)


@dataclass
class Plan:
    """A 移交 checked and not yet asked for: what the confirmation shows and the 确认 button sends."""

    warning: Warning
    station: Area | None  # None: out of the platform's area
    unit: str
    reason: str

    def sentence(self) -> str:
        if self.station is None:
            return f"将预警 {self.warning.external_id} 移交外地单位 {self.unit}，并以“已移交外地”结案"
        here = self.warning.station.label if self.warning.station else "—"
        return f"将预警 {self.warning.external_id} 由{here}移交至{self.station.label}，待对方接收"


def pending_of(session: Session, warning_id: int) -> WarningTransfer | None:
    return session.scalar(select(WarningTransfer).where(WarningTransfer.warning_id == warning_id,
                                                        WarningTransfer.status == "pending"))


def check_request(session: Session, scope: Scope, warning_id: int, *, station_id: int = 0, unit: str = "",
                  reason: str, lock: bool = False) -> Plan:
    """What refuses a 移交 before anything is written: another station of the platform, or a unit outside it."""
    if not may_send(scope):
        scope.require(Perm.MANAGE_ROSTER)
    w = dissuasion._warning(session, scope, warning_id, lock=lock)
    dissuasion._open(w)
    if pending_of(session, w.id) is not None:
        raise Conflict("该预警已有待接收的移交，请等对方接收或退回")
    unit = " ".join(unit.split())[:100]
    station = None
    if not unit:
        station = session.scalar(select(Area).where(Area.id == station_id, Area.level == Level.STATION))
        if station is None or station.id == w.station_id:
            raise Invalid("请选择另一个派出所", details=[{"loc": ["station_id"], "msg": "派出所不对"}])
    if not reason.strip():
        raise Invalid("请填写移交原因", details=[{"loc": ["reason"], "msg": "必填"}])
    return Plan(w, station, unit, reason.strip()[:200])


def _receivers(session: Session, station_id: int) -> list[int]:
    """The station's head and officers, who see the request on their board."""
    return list(session.scalars(select(User.id).join(Area, User.area_id == Area.id).where(
        User.is_active.is_(True), User.role.in_([Role.STATION_HEAD.value, Role.STATION_OFFICER.value]),
        Area.id == station_id)))


def request(session: Session, scope: Scope, warning_id: int, *, station_id: int = 0, unit: str = "", reason: str,
            now: datetime | None = None) -> WarningTransfer:
    """申请移交 (waits for the receiver), or 移交外地 (closes the warning at once: nobody on the platform answers)."""
    now = now or utcnow()
    plan = check_request(session, scope, warning_id, station_id=station_id, unit=unit, reason=reason, lock=True)
    w = plan.warning
    t = WarningTransfer(warning_id=w.id, from_station_id=w.station_id, reason=plan.reason, requested_at=now,
                        requested_by=scope.user_id)
    if plan.station is None:
        t.status, t.to_unit, t.decided_at, t.decided_by = "outside", plan.unit, now, scope.user_id
        w.outcome, w.outcome_note, w.feedback_at = OUTSIDE, f"移交外地单位：{plan.unit}。{plan.reason}", now
        w.amount_protected = w.amount_lost = None
        dissuasion._event(session, w, scope, "transfer", f"已移交外地：{plan.unit}（{plan.reason}），结案", now)
    else:
        t.status, t.to_station_id = "pending", plan.station.id
        dissuasion._event(session, w, scope, "transfer", f"申请移交至{plan.station.label}：{plan.reason}", now)
        # The reason is free text (it may name the person): the bell only.
        notify(session, _receivers(session, plan.station.id), "待接收的移交预警",
               f"由{w.station.label if w.station else '—'}移交：{plan.reason}", "/transfers", outward=False, now=now)
    session.add(t)
    session.flush()
    audit.record(session, scope, "create", "warning_transfer", t.id,
                 detail={"warning": w.id, "to_station": t.to_station_id, "outside": plan.station is None})
    return t


def incoming(session: Session, scope: Scope) -> list[WarningTransfer]:
    """移交待审 addressed to the user's station (the centre: to any of its stations), oldest first."""
    return list(session.scalars(select(WarningTransfer).where(WarningTransfer.status == "pending", _receivable(scope))
                                .options(joinedload(WarningTransfer.from_station),
                                         joinedload(WarningTransfer.to_station))
                                .order_by(WarningTransfer.requested_at, WarningTransfer.id)))


def incoming_count(session: Session, scope: Scope) -> int:
    if not may_receive(scope):
        return 0
    return len(session.scalars(select(WarningTransfer.id).where(WarningTransfer.status == "pending",
                                                                _receivable(scope))).all())


def outgoing(session: Session, scope: Scope) -> list[WarningTransfer]:
    """移交待审 of warnings the user's station holds (what it sent and waits on)."""
    from fanzha.warnings.service import visible

    return list(session.scalars(select(WarningTransfer).join(Warning, WarningTransfer.warning_id == Warning.id)
                                .where(WarningTransfer.status == "pending", visible(scope))
                                .order_by(WarningTransfer.requested_at, WarningTransfer.id)))


def warnings_of(session: Session, rows: list[WarningTransfer]) -> dict[int, Warning]:
    ids = [t.warning_id for t in rows]
    return {w.id: w for w in session.scalars(select(Warning).where(Warning.id.in_(ids))
                                             .options(joinedload(Warning.community)))} if ids else {}


def get_incoming(session: Session, scope: Scope, transfer_id: int, *, lock: bool = False) -> WarningTransfer:
    """A transfer the user may answer: addressed to their station (another station's, or a sender's, is not
    found), still waiting, and not one they asked for themselves."""
    stmt = select(WarningTransfer).where(WarningTransfer.id == transfer_id, _receivable(scope))
    t = session.scalar(stmt.with_for_update() if lock else stmt)
    if t is None:
        raise NotFound("移交申请不存在或不在您的管辖范围内")
    if t.status != "pending":
        raise Conflict(f"该移交已处理（{STATUSES.get(t.status, t.status)}）")
    if t.requested_by is not None and t.requested_by == scope.user_id:
        raise Forbidden("不能接收或退回自己发起的移交")
    return t


def check_answer(session: Session, scope: Scope, transfer_id: int, *, accept: bool, answer: str = "",
                 lock: bool = False) -> WarningTransfer:
    """What refuses an answer before anything is written: a 退回 needs its reason."""
    t = get_incoming(session, scope, transfer_id, lock=lock)
    if not accept and not answer.strip():
        raise Invalid("请填写退回原因", details=[{"loc": ["answer"], "msg": "必填"}])
    return t


def _locked_warning(session: Session, t: WarningTransfer) -> Warning:
    w = session.scalar(select(Warning).where(Warning.id == t.warning_id).with_for_update())
    if w.feedback_at is not None:
        raise Conflict("该预警已由原派出所反馈结案，不能再接收")
    return w


def accept(session: Session, scope: Scope, transfer_id: int, *, now: datetime | None = None) -> WarningTransfer:
    """接收: the warning moves to the receiving station and is dispatched there as a new dispatch would be (the
    duty dissuader assigned, or the station told); its deadlines stay as they were."""
    now = now or utcnow()
    t = check_answer(session, scope, transfer_id, accept=True, lock=True)
    w = _locked_warning(session, t)
    station = session.get(Area, t.to_station_id)
    t.status, t.decided_at, t.decided_by = "accepted", now, scope.user_id
    dissuasion.hand_over(session, scope, w, station, t.reason, now)
    dissuasion._event(session, w, scope, "transfer", f"{station.label}接收移交", now)
    if t.requested_by:
        notify(session, [t.requested_by], "移交已被接收", f"{station.label}已接收移交：{t.reason}",
               outward=False, now=now)
    audit.record(session, scope, "update", "warning_transfer", t.id,
                 detail={"warning": w.id, "status": "accepted", "station": station.id})
    return t


def give_back(session: Session, scope: Scope, transfer_id: int, *, answer: str,
              now: datetime | None = None) -> WarningTransfer:
    """退回: the warning stays with the sender; the reason goes on the timeline and to whoever asked."""
    now = now or utcnow()
    t = check_answer(session, scope, transfer_id, accept=False, answer=answer, lock=True)
    w = _locked_warning(session, t)
    station = session.get(Area, t.to_station_id)
    t.status, t.decided_at, t.decided_by, t.answer = "returned", now, scope.user_id, answer.strip()[:200]
    dissuasion._event(session, w, scope, "transfer", f"{station.label}退回移交：{t.answer}", now)
    senders = [t.requested_by] if t.requested_by else []
    notify(session, senders + [h for h in _receivers(session, t.from_station_id or 0) if h != t.requested_by],
           "移交被退回", f"{station.label}退回移交：{t.answer}", f"/warnings/{w.id}", outward=False, now=now)
    audit.record(session, scope, "update", "warning_transfer", t.id,
                 detail={"warning": w.id, "status": "returned"})
    return t


def answered(session: Session, scope: Scope, transfer_id: int) -> tuple[WarningTransfer, Warning, str] | None:
    """A transfer the user just answered and what to say about it (the message after 确认)."""
    t = session.scalar(select(WarningTransfer).where(WarningTransfer.id == transfer_id, _receivable(scope),
                                                     WarningTransfer.decided_by == scope.user_id))
    if t is None:
        return None
    w = session.get(Warning, t.warning_id)
    if t.status == "accepted":
        who = w.assignee.display_name if w.assignee else "值班人员（待认领）"
        return t, w, f"已接收预警 {w.external_id}，已指派给 {who}"
    return t, w, f"已退回预警 {w.external_id}：{t.answer}"
