"""Dissuasion steps on a warning: sign, contact (with evidence for 见面), outcome, reassign, transfer,
family contacts; the follow-ups (回访) an outcome schedules are dissuasion/followups. Every step is scoped,
audited and on the warning's timeline.
(查询/止付/冻结 requests raised on a warning: cases/requests/service.py.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.exif import taken_at
from fanzha.common.photos import MAX_PHOTO, store_photo  # noqa: F401  (views read MAX_PHOTO here)
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.dissuasion import holders
from fanzha.dissuasion.enums import (
    CALL_CHANNELS,
    CHANNELS,
    CHECKLIST,
    FACE_CHANNELS,
    NO_ANSWER_REASONS,
    RESULTS,
    SUCCESS_KINDS,
    TARGETS,
)
from fanzha.dissuasion.models import Contact, FamilyContact, TimelineEvent
from fanzha.notify.service import notify
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.warnings import assignments
from fanzha.warnings.enums import OUTCOMES
from fanzha.warnings.models import Warning
from fanzha.warnings.service import helping_only, reachable, visible

MAX_FAMILY = 8


def _warning(session: Session, scope: Scope, warning_id: int, *, lock: bool = False, helper: bool = False) -> Warning:
    """The warning if the user's areas hold it — or, with `helper`, if the user took over its first contact from a
    sibling station (跨所协助: contacts and calls only)."""
    stmt = select(Warning).where(Warning.id == warning_id, reachable(scope) if helper else visible(scope))
    if lock:
        stmt = stmt.with_for_update()
    w = session.scalar(stmt)
    if w is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    return w


def _open(w: Warning) -> None:
    if w.feedback_at is not None:
        raise Conflict("该预警已反馈结案，不能再修改")
    if w.station_id is None:
        raise Conflict("该预警尚未分配到派出所")


def _event(session: Session, w: Warning, scope: Scope, kind: str, text: str, at: datetime | None = None) -> None:
    session.add(TimelineEvent(warning_id=w.id, at=at or utcnow(), kind=kind, text=text, by_user_id=scope.user_id))


def sign(session: Session, scope: Scope, warning_id: int, *, now: datetime | None = None) -> Warning:
    """签收: the station accepts the instruction; a dissuader signing an unassigned one also takes it."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    w = _warning(session, scope, warning_id, lock=True)
    _open(w)
    if w.signed_at is not None:
        raise Conflict("该预警已签收")
    w.signed_at, w.signed_by = now, scope.user_id
    if w.assignee_id is None and scope.role == Role.DISSUADER:
        w.assignee_id, w.assigned_at, w.status = scope.user_id, now, "assigned"
        assignments.record(session, w, kind="claim", at=now, by_user_id=scope.user_id)
    audit.record(session, scope, "update", "warning", w.id, detail={"signed": True})
    return w


STEP_DEADLINES = (("签收", "sign_deadline", "signed_at"), ("首次联系", "contact_deadline", "first_contact_at"),
                  ("见面劝阻", "face_deadline", "face_at"), ("反馈", "feedback_deadline", "feedback_at"))


def next_deadline(w: Warning) -> tuple[str, datetime] | None:
    """The soonest deadline of a step not yet done (签收, 首次联系, 见面劝阻, 反馈): what the countdown counts to."""
    pending = [(getattr(w, deadline), label) for label, deadline, done in STEP_DEADLINES
               if getattr(w, deadline) is not None and getattr(w, done) is None]
    if not pending:
        return None
    at, label = min(pending)
    return label, at


def next_step(w: Warning, *, called: bool = False) -> str:
    """What the dissuader does next on an open warning: sign → call → record a contact → feed back. A warning that
    still needs its 见面 asks for a contact (the 见面) before the outcome."""
    if w.signed_at is None:
        return "sign"
    if w.first_contact_at is None:
        return "call" if w.phone and not called else "contact"
    if w.face_deadline is not None and w.face_at is None:
        return "contact"
    return "outcome"


@dataclass
class Evidence:
    """What a contact brings to prove a 见面: a photo, a typed place, the phone's position (WGS-84 latitude and
    longitude with the browser's accuracy in metres), a signed 告知书; and the checklist ticked."""

    photo: bytes | None = None
    photo_name: str = ""
    location: str = ""
    notice_signed: bool = False
    checklist: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    accuracy: int | None = None

    def present(self) -> bool:
        """Any one of photo, place (typed or measured) or signed 告知书 makes a reached 见面 count."""
        return bool(self.photo or self.location.strip() or self.notice_signed or self.latitude is not None)


EVIDENCE_KINDS = "现场照片、位置或签字告知书"


def uncounted_face(channel: str, result: str, evidence: Evidence) -> bool:
    """A reached 见面/上门 with no evidence at all: saved, it would not count toward 见面劝阻率 (the page asks first)."""
    return channel in FACE_CHANNELS and result == "reached" and not evidence.present()


def _check_position(evidence: Evidence) -> None:
    lat, lon, acc = evidence.latitude, evidence.longitude, evidence.accuracy
    if (lat is None) != (lon is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)) \
            or (acc is not None and not 0 <= acc <= 100_000):
        raise Invalid("定位数据不对，请重新获取位置", details=[{"loc": ["latitude"], "msg": "超出范围"}])


def _store_photo(session: Session, warning_id: int, data: bytes) -> str:
    """The file goes again if the contact's transaction rolls back: no evidence photo without its record."""
    return store_photo("evidence", warning_id, data, session=session)


def add_contact(session: Session, scope: Scope, warning_id: int, *, channel: str, result: str, note: str = "",
                evidence: Evidence | None = None, family_contact_id: int | None = None,
                no_answer_reason: str = "", now: datetime | None = None) -> Contact:
    """A contact; a 见面/上门 counts as face-to-face only when the person was reached AND there is evidence.
    未接原因 (no_answer_reason) is kept with a call not reached (电话 or 联系家属) only."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    if channel not in CHANNELS:
        raise Invalid("联系方式应为 电话、短信、见面、上门走访、联系家属 之一", details=[{"loc": ["channel"], "msg": "未知"}])
    if result not in RESULTS:
        raise Invalid("联系结果不对", details=[{"loc": ["result"], "msg": "未知"}])
    if no_answer_reason and no_answer_reason not in NO_ANSWER_REASONS:
        raise Invalid(f"未接原因应为 {'、'.join(NO_ANSWER_REASONS.values())} 之一",
                      details=[{"loc": ["no_answer_reason"], "msg": "未知"}])
    called = channel in CALL_CHANNELS and result == "not_reached"
    evidence = evidence or Evidence()
    if bad := [c for c in evidence.checklist if c not in CHECKLIST]:
        raise Invalid(f"未知的检查项：{bad}")
    _check_position(evidence)
    w = _warning(session, scope, warning_id, lock=True, helper=True)
    _open(w)
    helping = helping_only(session, scope, w)
    if helping and channel in FACE_CHANNELS:
        raise Invalid("协助首次联系只能电话、短信或联系家属；见面由预警所属派出所负责",
                      details=[{"loc": ["channel"], "msg": "协助时不能登记见面"}])
    if channel == "family" and (family_contact_id is None or session.scalar(select(FamilyContact.id).where(
            FamilyContact.id == family_contact_id, FamilyContact.person_id == w.person_id)) is None):
        raise Invalid("请选择该人员登记的家属", details=[{"loc": ["family_contact_id"], "msg": "必选"}])
    photo_path = _store_photo(session, w.id, evidence.photo) if evidence.photo else ""
    counts = channel in FACE_CHANNELS and result == "reached" and evidence.present()
    located = evidence.latitude is not None
    contact = Contact(warning_id=w.id, channel=channel, at=now, by_user_id=scope.user_id, result=result,
                      note=note, family_contact_id=family_contact_id if channel == "family" else None,
                      no_answer_reason=(no_answer_reason or None) if called else None,
                      photo_path=photo_path, location=evidence.location.strip()[:120],
                      photo_taken_at=taken_at(evidence.photo, get_settings().timezone) if evidence.photo else None,
                      latitude=evidence.latitude, longitude=evidence.longitude,
                      location_accuracy=evidence.accuracy if located else None,
                      notice_signed=evidence.notice_signed, checklist=list(evidence.checklist), counts_as_face=counts)
    session.add(contact)
    if w.signed_at is None and not helping:  # acting on it is accepting it (for its own station)
        w.signed_at, w.signed_by = now, scope.user_id
    if w.first_contact_at is None:
        w.first_contact_at = now
    if counts and w.face_at is None:
        w.face_at = now
    if w.assignee_id is None and scope.role == Role.DISSUADER and not helping:  # a helper never takes it over
        w.assignee_id, w.assigned_at, w.status = scope.user_id, now, "assigned"
        assignments.record(session, w, kind="claim", at=now, by_user_id=scope.user_id)
    session.flush()
    audit.record(session, scope, "create", "contact", contact.id,
                 detail={"warning": w.id, "channel": channel, "counts_as_face": counts})
    return contact


def _check_amount(amount: Decimal | None, label: str, field: str) -> None:
    if amount is not None and (not amount.is_finite() or amount < 0 or amount >= Decimal("1e12")):
        raise Invalid(f"{label}不对", details=[{"loc": [field], "msg": "超出范围"}])


def check_outcome(session: Session, scope: Scope, warning_id: int, *, outcome: str,
                  amount_protected: Decimal | None = None, amount_lost: Decimal | None = None,
                  target: str = "", success_kind: str = "", lock: bool = False) -> Warning:
    """What refuses a 反馈 before anything is written (the page's confirmation step asks only about a valid one)."""
    scope.require(Perm.CLAIM_WARNINGS)
    if not outcome:
        raise Invalid("请选择劝阻结果", details=[{"loc": ["outcome"], "msg": "必选"}])
    if outcome not in OUTCOMES or outcome == "outside":
        raise Invalid("劝阻结果应为 劝阻成功、已被骗、无法联系、无需劝阻、拒绝配合 之一", details=[{"loc": ["outcome"], "msg": "未知"}])
    if target and target not in TARGETS:
        raise Invalid("劝阻对象应为 本人、亲友 之一", details=[{"loc": ["target"], "msg": "未知"}])
    if success_kind and success_kind not in SUCCESS_KINDS:
        raise Invalid("劝阻成功的方式应为 自主防范、及时劝阻 之一", details=[{"loc": ["success_kind"], "msg": "未知"}])
    _check_amount(amount_protected, "避免损失金额", "amount_protected")
    _check_amount(amount_lost, "受骗金额", "amount_lost")
    w = _warning(session, scope, warning_id, lock=lock)
    _open(w)
    if outcome == "dissuaded" and w.first_contact_at is None:
        raise Invalid("还没有任何联系记录，不能反馈“劝阻成功”", details=[{"loc": ["outcome"], "msg": "先登记联系"}])
    return w


def set_outcome(session: Session, scope: Scope, warning_id: int, *, outcome: str,
                amount_protected: Decimal | None = None, amount_lost: Decimal | None = None, note: str = "",
                target: str = "", success_kind: str = "", now: datetime | None = None) -> Warning:
    """反馈: the outcome closes the warning and schedules the follow-ups (回访) it calls for. 避免损失 (劝阻金额) is
    kept with 劝阻成功 only — None when not given, which the metrics estimate from 拟转账金额; 0 is kept as 0 —
    受骗金额 with 已被骗 only. 劝阻对象 (本人/亲友; empty: the feedback file reads it from the contacts) is kept with
    every outcome but 无法联系, 自主防范/及时劝阻 with 劝阻成功 only (empty: the file says 及时劝阻)."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    w = check_outcome(session, scope, warning_id, outcome=outcome, amount_protected=amount_protected,
                      amount_lost=amount_lost, target=target, success_kind=success_kind, lock=True)
    w.outcome, w.outcome_note, w.feedback_at = outcome, note, now
    target, success_kind = (target if outcome != "unreachable" else ""), (success_kind if outcome == "dissuaded" else "")
    if target or success_kind or w.feedback_detail is not None:
        record = w.feedback_record()
        record.target, record.success_kind = target or None, success_kind or None
    w.amount_protected = amount_protected if outcome == "dissuaded" else None
    w.amount_lost = amount_lost if outcome == "defrauded" else None
    if w.signed_at is None:
        w.signed_at, w.signed_by = now, scope.user_id
    amount = (f"，避免损失 {w.amount_protected:,.2f} 元" if w.amount_protected is not None else "") + \
        (f"，受骗金额 {w.amount_lost:,.2f} 元" if w.amount_lost else "")
    how = (f"（{SUCCESS_KINDS[w.success_kind]}）" if w.success_kind else "") + \
        (f"，劝阻对象 {TARGETS[w.feedback_target]}" if w.feedback_target else "")
    _event(session, w, scope, "outcome", f"反馈：{OUTCOMES[outcome]}{how}{amount}", now)
    schedule_follow_ups(session, w, now)
    audit.record(session, scope, "update", "warning", w.id, detail={"outcome": outcome})
    return w


def schedule_follow_ups(session: Session, w: Warning, now: datetime) -> list:
    """The 回访 the outcome calls for (dissuasion/followups)."""
    from fanzha.dissuasion.followups.service import schedule_for_warning

    return schedule_for_warning(session, w, now)


@dataclass
class Reassignment:
    """A 改派 checked and not yet done: what the confirmation shows and the 确认 button sends."""

    warning: Warning
    to: holders.Holder
    from_name: str
    reason: str

    @property
    def moves(self) -> bool:
        """To another station's user (the centre only): the warning is moved there, as a 移交 would."""
        return self.to.station.id != self.warning.station_id

    def sentence(self) -> str:
        w, to = self.warning, self.to
        origin = f"由 {self.from_name} " if self.from_name else ""
        where = f"（移交至{to.station.label}）" if self.moves else ""
        return f"将预警 {w.external_id} {origin}改派给 {to.user.display_name}{where}"


def check_reassign(session: Session, scope: Scope, warning_id: int, *, user_id: int, reason: str,
                   lock: bool = False, now: datetime | None = None) -> Reassignment:
    """What refuses a 改派 before anything is written; the page's confirmation shows the rest."""
    if not holders.may_reassign(scope):
        scope.require(Perm.MANAGE_ROSTER)
    w = _warning(session, scope, warning_id, lock=lock)
    _open(w)
    to = holders.chosen(session, scope, w, user_id, now=now or utcnow())
    if not reason.strip():
        raise Invalid("请填写改派原因", details=[{"loc": ["reason"], "msg": "必填"}])
    return Reassignment(w, to, w.assignee.display_name if w.assignee else "", reason.strip())


def reassign(session: Session, scope: Scope, warning_id: int, *, user_id: int, reason: str,
             now: datetime | None = None) -> Reassignment:
    """改派: the station head hands the warning to another of the station's users; the centre to any station's
    (moving it there first, as 移交 does). The original assignment stays on the timeline, this one is added."""
    now = now or utcnow()
    done = check_reassign(session, scope, warning_id, user_id=user_id, reason=reason, lock=True, now=now)
    w, user = done.warning, done.to.user
    if done.moves:
        _move(session, scope, w, done.to.station, done.reason, now)
    previous = w.assignee_id
    w.assignee_id, w.assigned_at, w.status = user.id, now, "assigned"
    assignments.record(session, w, kind="reassign", at=now, by_user_id=scope.user_id, from_user_id=previous,
                       reason=done.reason)
    notify(session, [user.id], "新指派的预警", done.reason, f"/warnings/{w.id}", outward=False)  # free text
    audit.record(session, scope, "update", "warning", w.id,
                 detail={"reassigned_to": user.id, "from": previous, "station": done.to.station.id})
    return done


def _move(session: Session, scope: Scope, w: Warning, station: Area, reason: str, now: datetime) -> None:
    """The warning leaves its station for `station` (a 移交, or a 改派 across stations): on the station's first
    community, to be signed afresh, with a line on the timeline."""
    community = session.scalar(select(Area).where(Area.level == "community", Area.police_path.startswith(station.path))
                               .order_by(Area.id))
    if community is None:
        raise Invalid("该派出所没有下辖村/社区")
    old = session.get(Area, w.station_id)
    w.station_id, w.community_id, w.match_source = station.id, community.id, "manual"
    w.status, w.dispatched_at, w.assignee_id, w.assigned_at = "dispatched", now, None, None
    w.signed_at = w.signed_by = None
    _event(session, w, scope, "transfer", f"由{old.label if old else '—'}移交至{station.label}：{reason}", now)


def hand_over(session: Session, scope: Scope, w: Warning, station: Area, reason: str, now: datetime) -> None:
    """The warning goes to `station` as a new dispatch would: the duty dissuader assigned, or the station told
    (an accepted 移交, dissuasion/transfers)."""
    from fanzha.warnings.dispatch import Assigner

    _move(session, scope, w, station, reason, now)
    assignee = Assigner(session, now).pick(station.id)
    if assignee is not None:
        w.assignee_id, w.assigned_at, w.status = assignee, now, "assigned"
        assignments.record(session, w, kind="transfer", at=now, by_user_id=scope.user_id, reason=reason)
        # The reason is free text (it may name the person): the bell only, never an outward text.
        notify(session, [assignee], "移交来的预警", reason, f"/warnings/{w.id}", outward=False)
    else:
        from fanzha.warnings.alerts import Arrival, announce

        announce(session, [Arrival.of(w)], now)


def add_family(session: Session, scope: Scope, person_id: int, *, name: str, relation: str, phone: str) -> FamilyContact:
    """登记家属联系人 of a person in the user's areas (the page's form and POST /api/v1/people/{id}/family)."""
    from fanzha.common.identity import normalize_phone
    from fanzha.people.models import Person

    scope.require(Perm.CLAIM_WARNINGS)
    person = session.scalar(select(Person).where(Person.id == person_id, scope.community_clause(Person.community_id)))
    if person is None:
        raise NotFound("人员不存在或不在您的管辖范围内")
    missing = [f for f, v in (("name", name), ("relation", relation)) if not v.strip()]
    if missing:
        raise Invalid("请填写家属姓名和关系", details=[{"loc": [f], "msg": "必填"} for f in missing])
    try:
        phone = normalize_phone(phone)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["phone"], "msg": str(exc)}]) from exc
    n = session.scalar(select(func.count()).select_from(FamilyContact).where(FamilyContact.person_id == person.id))
    if n >= MAX_FAMILY:
        raise Conflict(f"每人最多登记{MAX_FAMILY}名家属")
    f = FamilyContact(person_id=person.id, name=name.strip()[:32], relation=relation.strip()[:16], phone=phone)
    session.add(f)
    session.flush()
    audit.record(session, scope, "create", "family_contact", f.id, fields=["name", "phone"])
    return f


@dataclass(frozen=True)
class Dial:
    """A number to call: only ever fetched at the moment of calling, as an audited reveal of that one number."""

    tel: str
    label: str
    warning: Warning


def dial(session: Session, scope: Scope, warning_id: int, family_contact_id: int | None = None) -> Dial:
    """拨打: the full number of the warned person, or of one of the person's registered family members."""
    from fanzha.warnings.service import get as get_warning

    scope.require(Perm.PII_FULL)
    w = get_warning(session, scope, warning_id)
    if family_contact_id:
        f = session.scalar(select(FamilyContact).where(FamilyContact.id == family_contact_id,
                                                       FamilyContact.person_id == w.person_id))
        if f is None or w.person_id is None:
            raise NotFound("该家属不存在")
        audit.record(session, scope, "reveal", "family_contact", f.id, fields=["phone"],
                     detail={"warning": w.id, "purpose": "call"})
        return Dial(f.phone, f"{f.relation} {f.name}", w)
    if not w.phone:
        raise NotFound("该预警没有手机号")
    audit.record(session, scope, "reveal", "warning", w.id, fields=["phone"], detail={"purpose": "call"})
    return Dial(w.phone, "预警对象", w)


@dataclass
class Step:
    at: datetime
    text: str
    kind: str
    who: str = ""
    contact: Contact | None = None


def timeline(session: Session, w: Warning) -> list[Step]:
    """Every step of a warning in time order, from its own fields, contacts, escalations and events."""
    names = {uid: name for uid, name in session.execute(select(User.id, User.display_name))}
    steps = [Step(w.warned_at, "上级下发预警" if w.source != "local" else "本地预警", "warned")]
    if w.dispatched_at:
        steps.append(Step(w.dispatched_at, f"分流至{w.station.label if w.station else '派出所'}", "dispatched"))
    for a in assignments.history(session, w.id):
        steps.append(Step(a.at, assignments.step_text(a, names), "assigned" if a.kind != "reassign" else "reassign",
                          names.get(a.by_user_id, "") if a.by_user_id else "系统"))
    if w.signed_at:
        steps.append(Step(w.signed_at, "签收", "signed", names.get(w.signed_by, "")))
    for c in session.scalars(select(Contact).where(Contact.warning_id == w.id)):
        text = f"{CHANNELS[c.channel]}：{RESULTS[c.result]}"
        if c.no_answer_reason:
            text += f"（{NO_ANSWER_REASONS.get(c.no_answer_reason, '')}）"
        if c.channel in FACE_CHANNELS:
            text += "（计入见面劝阻）" if c.counts_as_face else "（缺少证据或未见到，不计入见面劝阻）"
        steps.append(Step(c.at, text + (f"。{c.note}" if c.note else ""), "contact", names.get(c.by_user_id, ""), c))
    for e in session.scalars(select(TimelineEvent).where(TimelineEvent.warning_id == w.id)):
        steps.append(Step(e.at, e.text, e.kind, names.get(e.by_user_id, "") if e.by_user_id else "系统"))
    return sorted(steps, key=lambda s: s.at)
