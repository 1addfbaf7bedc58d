"""Demo warnings: a year of instructions through the real intake pipeline, plus one arriving now and then."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.addresses.models import StandardAddress
from fanzha.common.localtime import zone
from fanzha.db import utcnow
from fanzha.demo import names
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.warnings.enums import GRADES, KINDS
from fanzha.warnings.models import Warning
from fanzha.warnings.service import ingest_rows

KIND_WEIGHTS = {"funds": 30, "call": 30, "sms": 14, "app": 10, "url": 8, "overseas_call": 6, "other": 2}
FRAUD_WEIGHTS = {"brushing": 22, "investment": 18, "fake_customer_service": 14, "loan": 10, "impersonate_authority": 8,
                 "credit_repair": 6, "shopping": 6, "romance": 5, "impersonate_acquaintance": 5, "game_trade": 3,
                 "military_purchase": 2, "wanghei": 1}
ISSUERS = ("省反诈中心", "国家反诈中心", "市反诈中心", "省厅刑侦总队")


def _messy(r: random.Random, address: str) -> str:
    """The way addresses arrive: with or without city and district, 幢 for 栋, spaces, room numbers."""
    prefix = r.choice(("", "江州市", "江州市江城区", "江州", ""))
    text = prefix + address
    if r.random() < 0.3:
        text = text.replace("栋", "幢")
    if r.random() < 0.3:
        text += f"{r.randint(1, 20)}栋{r.randint(1, 3)}单元{r.randint(1, 30):02d}0{r.randint(1, 4)}"
    if r.random() < 0.2:
        text = text[:2] + " " + text[2:]
    return text


def _row(r: random.Random, n: int, at: datetime, person: tuple | None, addresses: list[str]) -> dict:
    kind = r.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    fraud = r.choices(list(FRAUD_WEIGHTS), weights=list(FRAUD_WEIGHTS.values()))[0]
    local = at.astimezone(zone())
    row = {
        "预警编号": f"YJ{local:%Y%m%d}{n:06d}",
        "预警类型": KINDS[kind],
        "预警级别": GRADES[r.choice(("high", "medium", "low"))] if r.random() < 0.6 else "",
        "预警时间": local.strftime("%Y-%m-%d %H:%M:%S"),
        "反馈时限": r.choice(("24小时", "", "", "12小时")),
        "涉诈类型": FRAUD_TYPE_LABELS[fraud],
        "下发单位": r.choice(ISSUERS),
    }
    if kind == "funds":
        row["拟转账金额"] = str(round(min(2_000_000, r.lognormvariate(10, 1.2)), -2))
        row["对方账号"] = "62" + "".join(str(r.randint(0, 9)) for _ in range(17))
    if person is not None:
        name, idn, phone, address = person
        row.update({"姓名": name, "身份证号": idn or "", "手机号": phone or "", "现住址": _messy(r, address)})
    else:
        idx = r.randrange(10**8)
        row.update({"姓名": r.choice(names.SURNAMES) + r.choice(names.GIVEN),
                    "手机号": r.choice(("138", "159", "186", "177")) + f"{idx:08d}"})
        if r.random() < 0.85:
            row["现住址"] = _messy(r, r.choice(addresses))
        else:  # outside the list or too vague to place: lands in 待分配
            row["现住址"] = r.choice(("外省务工暂住", "江州市某工地宿舍", "城南菜市场附近", "不详", "白沙镇街上"))
    return row


def generate_warnings(session: Session, *, seed: int, count: int, now: datetime | None = None) -> int:
    r = random.Random(seed + 1)
    now = now or utcnow()
    keep_roster(session, now)
    people = session.execute(select(Person.name, Person.id_number, Person.phone, Person.address)
                             .order_by(Person.id)).all()
    addresses = list(session.scalars(select(StandardAddress.text).order_by(StandardAddress.id)))
    repeaters = r.sample(people, k=min(len(people), max(1, len(people) // 15)))
    times = sorted(now - timedelta(days=365) + timedelta(seconds=r.randint(0, 365 * 86400)) for _ in range(count))
    rows = []
    for n, at in enumerate(times, start=1):
        roll = r.random()
        person = r.choice(repeaters) if roll < 0.15 else r.choice(people) if roll < 0.75 else None
        rows.append((n, _row(r, n, at, person, addresses)))
    tally = ingest_rows(session, Scope.system(session), rows, source="import")
    # History as it happened: each was dispatched and assigned within minutes of arriving, not at generation time.
    for w in session.scalars(select(Warning).where(Warning.dispatched_at.is_not(None))):
        w.dispatched_at = w.warned_at + timedelta(minutes=r.randint(1, 4))
        if w.assigned_at is not None:
            w.assigned_at = w.dispatched_at + timedelta(seconds=r.randint(5, 90))
    _assigned_as_it_happened(session)
    # Their own generators, so that the rest of the county stays as the main one draws it.
    play_history(session, r, now, amounts=random.Random(seed + 101))
    play_today(session, random.Random(seed + 102), now)
    play_conflict(session, random.Random(seed + 103), now)
    play_reassign(session, random.Random(seed + 104), now)
    play_transfers(session, now)
    play_help(session, now)
    return tally.created


def play_help(session: Session, now: datetime) -> int:
    """协助首次联系 in the demo: three of the last week's high- or medium-grade warnings of ps01's station were first
    contacted by the dissuader of a sibling station (same 分局) while nobody at ps01 was free — on their timelines and
    counted both ways on the metrics page (dissuasion/help.py)."""
    from fanzha.dissuasion.models import Contact, TimelineEvent
    from fanzha.org.models import Area, User
    from fanzha.org.roles import Role
    from fanzha.warnings.models import WarningHelp

    head = session.scalar(select(User).where(User.username == "ps01_suozhang"))
    station = session.get(Area, head.area_id) if head else None
    if station is None:
        return 0
    helper = session.scalar(select(User).join(Area, User.area_id == Area.id).where(
        User.role == Role.DISSUADER.value, User.is_active.is_(True), Area.parent_id == station.parent_id,
        Area.id != station.id).order_by(User.username))
    if helper is None:
        return 0
    helper_station = session.get(Area, helper.area_id)
    done = 0
    for w in session.scalars(select(Warning).where(
            Warning.station_id == station.id, Warning.risk_grade.in_(("high", "medium")),
            Warning.first_contact_at.is_not(None), Warning.warned_at >= now - timedelta(days=7))
            .order_by(Warning.warned_at.desc()).limit(3)):
        first = session.scalar(select(Contact).where(Contact.warning_id == w.id).order_by(Contact.at, Contact.id))
        if first is None:
            continue
        at = max(w.warned_at + timedelta(minutes=3), first.at - timedelta(minutes=2))
        first.by_user_id = helper.id
        session.add(WarningHelp(warning_id=w.id, helper_id=helper.id, helped_at=at))
        session.add(TimelineEvent(warning_id=w.id, at=at, kind="help", by_user_id=helper.id,
                                  text=f"协助首次联系：{helper.display_name}（{helper_station.label}）"))
        done += 1
    session.flush()
    return done


def keep_roster(session: Session, now: datetime) -> None:
    """One station of the demo keeps a duty roster (值班表): its dissuader on a week's shift around now, so that
    dispatch and 改派 show who is on duty. (ps01's stays without one: a station that keeps none is the other case.)"""
    from fanzha.org.models import User
    from fanzha.warnings.models import DutyShift

    user = session.scalar(select(User).where(User.username == "ps02_quanzu"))
    if user is not None:
        session.add(DutyShift(user_id=user.id, station_id=user.area_id, starts_at=now - timedelta(days=1),
                              ends_at=now + timedelta(days=6)))
        session.flush()


def _assigned_as_it_happened(session: Session) -> None:
    """The 指派 rows the intake wrote carry the time the demo has just moved each assignment to."""
    from sqlalchemy import update

    from fanzha.warnings.models import WarningAssignment

    session.flush()
    session.execute(update(WarningAssignment).values(at=select(Warning.assigned_at).where(
        Warning.id == WarningAssignment.warning_id).scalar_subquery()).execution_options(synchronize_session=False))


def play_reassign(session: Session, r: random.Random, now: datetime) -> None:
    """改派 in the demo: at the first two stations the 所长 handed a few open warnings from the dissuader to the
    station's officer, an hour or two after they were assigned, so the timeline shows both hand-overs."""
    from fanzha.dissuasion.service import reassign
    from fanzha.org.models import User

    for n in (1, 2):
        head = session.scalar(select(User).where(User.username == f"ps{n:02d}_suozhang"))
        officer = session.scalar(select(User).where(User.username == f"ps{n:02d}_minjing"))
        if head is None or officer is None:
            continue
        open_ones = session.scalars(select(Warning).where(
            Warning.station_id == head.area_id, Warning.feedback_at.is_(None), Warning.assignee_id.is_not(None),
            Warning.assignee_id != officer.id, Warning.assigned_at < now - timedelta(hours=3))
            .order_by(Warning.id).limit(2)).all()
        for w in open_ones:
            at = min(w.assigned_at + timedelta(minutes=r.randint(40, 150)), now - timedelta(minutes=30))
            reassign(session, Scope.for_user(head), w.id, user_id=officer.id,
                     reason=r.choice(("原劝阻员外出培训", "原劝阻员轮休", "对象在民警包片辖区")), now=at)
    session.flush()


def play_transfers(session: Session, now: datetime) -> None:
    """移交审核 in the demo: the 所长 of the stations holding the four oldest open warnings asked to hand them to
    ps02 (ps01, for ps02's own): one accepted, one returned with its reason, one still waiting (待接收移交 on the
    receiver's board); the fourth person lives outside the county and was handed to a unit there (已移交外地)."""
    from sqlalchemy import String, cast, exists, literal

    from fanzha.dissuasion.transfers import service as transfers
    from fanzha.notify.models import Notification
    from fanzha.org.models import User
    from fanzha.org.roles import Role

    heads = {u.area_id: u for u in session.scalars(select(User).where(
        User.role == Role.STATION_HEAD.value, User.username.like("ps%_suozhang")).order_by(User.username))}
    first, second = (session.scalar(select(User).where(User.username == n)) for n in ("ps02_suozhang", "ps01_suozhang"))
    open_ones = session.scalars(select(Warning).where(
        Warning.station_id.in_(list(heads)), Warning.feedback_at.is_(None), Warning.assignee_id.is_not(None),
        Warning.warned_at < now - timedelta(hours=8),
        # one someone was already told about (a 改派) would leave them a link to a warning gone elsewhere
        ~exists().where(Notification.link == literal("/warnings/") + cast(Warning.id, String)))
        .order_by(Warning.id).limit(4)).all()
    if first is None or second is None or len(open_ones) < 4:
        return
    plays = ((5, "accept", "对象实际居住在乙辖区"), (4, "return", "对象租住在乙辖区"), (1, "wait", "对象已搬至乙辖区"))
    for w, (hours, then, reason) in zip(open_ones, plays, strict=False):
        receiver = first if w.station_id != first.area_id else second
        t = transfers.request(session, Scope.for_user(heads[w.station_id]), w.id, station_id=receiver.area_id,
                              reason=reason, now=now - timedelta(hours=hours))
        at = now - timedelta(hours=hours) + timedelta(minutes=40)
        if then == "accept":
            transfers.accept(session, Scope.for_user(receiver), t.id, now=at)
        elif then == "return":
            transfers.give_back(session, Scope.for_user(receiver), t.id, answer="经核实对象仍居住在原辖区，户籍地址有误",
                                now=at)
    last = open_ones[3]
    transfers.request(session, Scope.for_user(heads[last.station_id]), last.id, unit="某省某市公安局某分局反诈中心",
                      reason="对象常住外省", now=now - timedelta(hours=2))
    session.flush()


OUTCOME_WEIGHTS = {"dissuaded": 70, "not_needed": 8, "unreachable": 8, "refused": 4, "defrauded": 10}


def play_history(session: Session, r: random.Random, now: datetime, *, amounts: random.Random) -> None:
    """What the stations did with last year's warnings: signed, called, visited with evidence, closed — mostly on
    time, some late, a few still open — and the follow-ups that came due. `amounts` draws the 劝阻金额 the dissuaders
    record with 劝阻成功."""
    from decimal import Decimal

    from fanzha.cases.models import Case
    from fanzha.dissuasion.followups.service import schedule_for_warning as schedule_follow_ups
    from fanzha.dissuasion.models import Contact, TimelineEvent
    from fanzha.warnings.enums import OUTCOMES

    checklist = ["look_calls", "look_chats", "look_apps", "look_transfers", "ask_why", "ask_stranger", "protect"]
    history = session.scalars(select(Warning).where(Warning.assignee_id.is_not(None),
                                                    Warning.warned_at < now - timedelta(hours=30))
                              .order_by(Warning.id)).all()
    for w in history:
        if r.random() < 0.02:  # a few never closed: they show up as 超期未反馈
            continue
        late = r.random() < 0.12
        w.signed_at = w.dispatched_at + timedelta(minutes=r.randint(1, 40 if late else 4))
        w.signed_by = w.assignee_id
        call = w.signed_at + timedelta(minutes=r.randint(1, 30))
        reached = r.random() < 0.85
        session.add(Contact(warning_id=w.id, channel="phone", at=call, by_user_id=w.assignee_id,
                            result="reached" if reached else "not_reached", note="",
                            no_answer_reason=None if reached else _no_answer(w.id)))
        w.first_contact_at = call
        outcome = r.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
        if not reached and outcome == "dissuaded":
            outcome = "unreachable"
        if w.face_required and outcome in ("dissuaded", "defrauded", "refused") and r.random() < 0.9:
            face = call + timedelta(minutes=r.randint(15, 300 if late else 55))
            evidence = r.random() < 0.93
            session.add(Contact(warning_id=w.id, channel="face_to_face", at=face, by_user_id=w.assignee_id,
                                result="reached", note="上门见面，讲解诈骗手法", location="对象住处" if evidence else "",
                                notice_signed=evidence, checklist=r.sample(checklist, 5), counts_as_face=evidence))
            if evidence:
                w.face_at = face
        w.outcome = outcome
        w.feedback_at = w.signed_at + timedelta(hours=r.uniform(0.5, 30 if late else 20))
        if outcome == "dissuaded":
            w.amount_protected = _recorded(amounts, w.amount)
        _provincial(w, now)
        session.add(TimelineEvent(warning_id=w.id, at=w.feedback_at, kind="outcome", text=f"反馈：{OUTCOMES[outcome]}",
                                  by_user_id=w.assignee_id))
        if outcome == "defrauded" and w.person_id:  # the 立案 that follows: lost money hours after the warning
            before = r.random() < 0.25  # …or it had already gone before the warning came down (预警前已被骗)
            loss = w.warned_at + (timedelta(hours=-r.randint(2, 30)) if before else timedelta(hours=r.randint(1, 8)))
            session.add(Case(case_number=f"JZ{w.warned_at:%Y%m%d}{w.id:06d}", person_id=w.person_id, name=w.name,
                             id_number=w.id_number, phone=w.phone, community_id=w.community_id,
                             address=w.current_address, filed_at=max(loss, w.warned_at) + timedelta(hours=r.randint(2, 48)),
                             loss_at=loss, fraud_type=w.fraud_type or "other",
                             loss_amount=w.amount or Decimal(r.randint(2, 300) * 100), source="import"))
        for f in schedule_follow_ups(session, w, w.feedback_at):
            if f.due_at < now and r.random() < 0.85:
                f.done_at, f.by_user_id = f.due_at + timedelta(hours=r.randint(1, 72)), w.assignee_id
                f.outcome = "defrauded" if r.random() < 0.03 else "not_defrauded"
    session.flush()


def _no_answer(warning_id: int) -> str:
    """未接原因 of an unanswered demo call, by the warning's id (the demo's random draws stay as they were)."""
    from fanzha.dissuasion.enums import NO_ANSWER_REASONS

    return list(NO_ANSWER_REASONS)[warning_id % len(NO_ANSWER_REASONS)]


def _provincial(w: Warning, now: datetime) -> None:
    """What the provincial feedback adds, by the warning's id: most dissuaders choose 劝阻对象 (now and then 亲友),
    a 劝阻成功 is 自主防范 one time in four, the rest leave them to be read from the contacts (及时劝阻); feedback
    older than a week was sent up (首次), one in twenty of it twice (再次 — corrected after it was sent)."""
    if w.id % 5 and w.outcome in ("dissuaded", "defrauded", "refused", "not_needed"):
        record = w.feedback_record()
        record.target = "family" if w.id % 9 == 0 else "self"
        record.success_kind = ("self_guarded" if w.id % 4 == 0 else "stopped") if w.outcome == "dissuaded" else None
    if w.feedback_at < now - timedelta(days=7):
        w.feedback_exported_at = w.feedback_at + timedelta(days=1)
        w.feedback_record().submissions = 2 if w.id % 20 == 0 else 1


def _recorded(r: random.Random, at_risk):
    """The 劝阻金额 a dissuader types with 劝阻成功: often the 拟转账金额, sometimes what the person had really meant to
    send, sometimes nothing (避免损失 then counts the 拟转账金额 as an estimate); for a call or message without an
    amount at risk, now and then the sum the person names."""
    from decimal import Decimal

    roll = r.random()
    if at_risk:
        if roll < 0.45:
            return at_risk
        if roll < 0.65:
            return (Decimal(at_risk) * Decimal(r.choice((30, 50, 60, 80))) / 100).quantize(Decimal("100"))
        return None
    return Decimal(r.randint(5, 300) * 100) if roll < 0.25 else None


def play_today(session: Session, r: random.Random, now: datetime) -> None:
    """The last hours as they stand at generation: most recent warnings signed within minutes and called, the older
    ones of them fed back, the newest still waiting — so that 今日签收 and 今日处理 show on the wall screen."""
    from fanzha.dissuasion.models import Contact, TimelineEvent
    from fanzha.warnings.enums import OUTCOMES

    recent = session.scalars(select(Warning).where(
        Warning.assignee_id.is_not(None), Warning.signed_at.is_(None), Warning.feedback_at.is_(None),
        Warning.warned_at >= now - timedelta(hours=30), Warning.warned_at < now - timedelta(minutes=20))
        .order_by(Warning.id)).all()
    for w in recent:
        if r.random() < 0.2:
            continue
        w.signed_at = min(w.dispatched_at + timedelta(minutes=r.randint(1, 8)), now - timedelta(minutes=10))
        w.signed_by = w.assignee_id
        call = min(w.signed_at + timedelta(minutes=r.randint(1, 20)), now - timedelta(minutes=5))
        reached = r.random() < 0.85
        session.add(Contact(warning_id=w.id, channel="phone", at=call, by_user_id=w.assignee_id,
                            result="reached" if reached else "not_reached", note=""))
        w.first_contact_at = call
        feedback = call + timedelta(hours=r.uniform(0.5, 6))
        if not reached or feedback >= now or r.random() < 0.3:
            continue
        w.outcome = r.choices(("dissuaded", "not_needed", "refused"), weights=(85, 10, 5))[0]
        w.feedback_at = feedback
        if w.outcome == "dissuaded":
            w.amount_protected = _recorded(r, w.amount)
        session.add(TimelineEvent(warning_id=w.id, at=feedback, kind="outcome", text=f"反馈：{OUTCOMES[w.outcome]}",
                                  by_user_id=w.assignee_id))
    session.flush()


def play_conflict(session: Session, r: random.Random, now: datetime) -> None:
    """One 冲突 for the demo: ps01_quanzu recorded 劝阻成功 on the phone without signal, and before the phone found it
    again the warning had been closed; the queued outcome is kept, on 我的任务 for the dissuader and the 所长."""
    import uuid

    from fanzha.dissuasion.models import Submission
    from fanzha.dissuasion.offline import conflict_event
    from fanzha.org.models import User

    user = session.scalar(select(User).where(User.username == "ps01_quanzu"))
    w = session.scalar(select(Warning).where(Warning.assignee_id == user.id, Warning.feedback_at.is_not(None),
                                             Warning.feedback_at < now - timedelta(hours=1))
                       .order_by(Warning.feedback_at.desc())) if user else None
    if w is None:
        return
    device_at = w.feedback_at + timedelta(minutes=r.randint(3, 20))
    received = min(device_at + timedelta(minutes=r.randint(25, 50)), now)
    session.add(Submission(
        user_id=user.id, key=str(uuid.UUID(int=r.getrandbits(128), version=4)), kind="outcome", warning_id=w.id,
        area_id=user.area_id, status="conflict", reason="closed", device_at=device_at, clock_skew=r.randint(-20, 20),
        skew_flagged=False, trusted_at=received, received_at=received,
        payload={"outcome": "dissuaded", "amount_protected": "", "amount_lost": "",
                 "note": "断网时在对象家中登记：已答应不再转账"}))
    session.add(conflict_event(w.id, user.id, "outcome", "closed", received))
    session.flush()


def live_warning(session: Session) -> int:
    """One warning arriving now (the demo's worker calls this every few minutes)."""
    n = int(session.scalar(select(func.count()).select_from(Person)) or 0)
    r = random.Random()
    people = session.execute(select(Person.name, Person.id_number, Person.phone, Person.address)
                             .offset(r.randrange(max(1, n))).limit(1)).all()
    addresses = list(session.scalars(select(StandardAddress.text).limit(500)))
    row = _row(r, r.randrange(10**6), utcnow(), people[0] if people and r.random() < 0.7 else None, addresses)
    row["预警编号"] = "LIVE" + utcnow().strftime("%Y%m%d%H%M%S") + f"{r.randrange(1000):03d}"
    return ingest_rows(session, Scope.system(session), [(1, row)], source="import").created
