"""Dissuasion metrics (DESIGN.md), each with numerator and denominator, for any node and period.

Every rate is a pair of SQL conditions on warnings (numerator ⊆ denominator), so the same condition that counts
a warning also lists it when someone clicks through. Decisions where the definitions leave room are written
down in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, delete, distinct, func, insert, not_, or_, select, text
from sqlalchemy.orm import Session, aliased

from fanzha.common.localtime import zone
from fanzha.config import get_settings
from fanzha.db import is_read_only, utcnow
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import losses
from fanzha.warnings.models import WarnedPeopleDay, Warning, WarningDay, WarningDayDirty, WarningDayState
from fanzha.warnings.service import visible

W = Warning


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    num_label: str
    den_label: str


RATES = [
    Rate("sign_rate", "签收率", "已签收", "已下发"),
    Rate("timely_sign_rate", "及时签收率", "按时签收", "已下发"),
    Rate("face_rate", "见面劝阻率", "有证据的见面劝阻", "须见面劝阻"),
    Rate("success_rate", "劝阻成功率", "劝阻成功", "有结果（不含无需劝阻、已移交外地）"),
    Rate("overdue_rate", "超期反馈率", "超期或逾期未反馈", "反馈时限已到"),
]
RATE_BY_KEY = {r.key: r for r in RATES}
# Outcomes in neither part of 劝阻成功率: 无需劝阻, and 已移交外地 (the person was handed to a unit outside the platform).
UNCOUNTED_OUTCOMES = ("not_needed", "outside")

# 避免损失 (loss avoided), per warning dissuaded successfully: the amount the dissuader records with 劝阻成功
# (劝阻金额, `amount_protected`); where none was recorded, the amount at risk (拟转账金额, `amount`) stands in as an
# estimate, and the figure says how much of it is estimated. A recorded 0 is 0, not "none recorded".
LOSS_AVOIDED_TEXT = "劝阻成功预警的劝阻金额（劝阻员反馈时填写）之和；未填写的按拟转账金额估算，填 0 的计 0"
ESTIMATED_TEXT = "按拟转账金额估算"

# 平均响应时长, two ways over the same warnings (dispatched, with a first contact): from the dispatch to the station
# (the station's own speed) and from the warning's 预警时间 (how long the person waited, as upstream measures it).
RESPONSE_TEXT = {"dispatch": "首次联系时间 − 下发时间", "warned": "首次联系时间 − 预警时间"}


def response_columns(session: Session):
    """(responded, minutes from dispatch, minutes from 预警时间) of one warning, as SQL expressions: the page, the
    API, the CLI and the roll-up all sum these."""
    responded = and_(W.dispatched_at.is_not(None), W.first_contact_at.is_not(None))
    return (responded, case((responded, _minutes(session, W.first_contact_at, W.dispatched_at)), else_=None),
            case((responded, _minutes(session, W.first_contact_at, W.warned_at)), else_=None))


def loss_avoided_columns():
    """(避免损失, of which estimated) of one warning, as SQL expressions to sum."""
    dissuaded = W.outcome == "dissuaded"
    avoided = case((dissuaded, func.coalesce(W.amount_protected, W.amount, 0)), else_=0)
    estimated = case((and_(dissuaded, W.amount_protected.is_(None)), func.coalesce(W.amount, 0)), else_=0)
    return avoided, estimated


def loss_avoided_of(w: Warning) -> tuple[Decimal | None, bool]:
    """One warning's 避免损失 and whether it is estimated; (None, False) when it counts nothing (not dissuaded, or
    neither amount known). The feedback file's 劝阻金额 reads it."""
    if w.outcome != "dissuaded":
        return None, False
    if w.amount_protected is not None:
        return w.amount_protected, False
    return w.amount, w.amount is not None


@dataclass(frozen=True)
class Event:
    """A count of what happened in a period, by the time it happened (not by the warning's 预警时间)."""
    key: str
    label: str
    text: str  # 口径, shown beside the figure
    basis: str  # the same in a few words, under a figure of the wall screen


EVENTS = [
    Event("dispatched", "下发", "下发到派出所的时间在期间内（移交的按移交后重新下发的时间）", "按下发时间计"),
    Event("signed", "签收", "签收时间在期间内", "按签收时间计"),
    Event("fed_back", "处理（反馈）", "反馈时间在期间内，不论预警哪天下发", "按反馈时间计，不论哪天下发"),
    Event("dissuaded", "劝阻成功", "反馈时间在期间内且结果为劝阻成功", "按反馈时间计"),
    Event("overdue", "超期反馈", "反馈时限在期间内已到，到时限仍未反馈（含之后才反馈的）", "按反馈时限计，逾时未反馈"),
]
EVENT_BY_KEY = {e.key: e for e in EVENTS}


def period(since: str, until: str) -> tuple[datetime, datetime]:
    """从/至 as local dates, 至 included, as [start, end) datetimes; default the last 30 days. The page, the feedback
    file and the CLI all cut periods here."""
    from datetime import date, time

    from fanzha.common.errors import Invalid

    tz = zone()
    today = utcnow().astimezone(tz).date()
    try:
        start = date.fromisoformat(since) if since else today - timedelta(days=29)
        end = date.fromisoformat(until) if until else today
    except ValueError as exc:
        raise Invalid("日期格式应为 2026-03-01") from exc
    if not (date(2000, 1, 1) <= start <= end <= date(2100, 1, 1)):
        raise Invalid("日期应在 2000 年至 2100 年之间，且开始不晚于结束")
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


def conditions(key: str, now: datetime):
    """(numerator, denominator) conditions for one rate."""
    dispatched = W.dispatched_at.is_not(None)
    if key == "sign_rate":
        return and_(dispatched, W.signed_at.is_not(None)), dispatched
    if key == "timely_sign_rate":
        return and_(dispatched, W.signed_at.is_not(None), W.signed_at <= W.sign_deadline), dispatched
    if key == "face_rate":
        den = and_(dispatched, W.face_required.is_(True))
        return and_(den, W.face_at.is_not(None)), den
    if key == "success_rate":
        den = and_(W.outcome.is_not(None), W.outcome.not_in(UNCOUNTED_OUTCOMES))
        return and_(den, W.outcome == "dissuaded"), den
    if key == "overdue_rate":
        den = and_(dispatched, W.feedback_deadline <= now)
        late = or_(W.feedback_at > W.feedback_deadline, W.feedback_at.is_(None))
        return and_(den, late), den
    raise KeyError(key)


def area_clause(session: Session, area: Area | None, community=W.community_id):
    """Warnings on communities under `area` in its own chain (a police node through the communities it covers)."""
    if area is None:
        return community.is_not(None)
    column = Area.police_path if area.chain == Chain.POLICE else Area.path
    leaves = select(Area.id).where(Area.level == Level.COMMUNITY, column.startswith(area.path, autoescape=True))
    return community.in_(leaves)


def base(session: Session, scope: Scope, area: Area | None, since: datetime, until: datetime):
    scope.require(Perm.READ_WARNINGS)
    return and_(visible(scope), area_clause(session, area), W.warned_at >= since, W.warned_at < until)


@dataclass
class Figure:
    key: str
    label: str
    num: int
    den: int
    num_label: str = ""
    den_label: str = ""

    @property
    def rate(self) -> float | None:
        return self.num / self.den if self.den else None


@dataclass
class Report:
    since: datetime
    until: datetime
    area: Area | None
    prognosis_days: int  # the 预后被骗率 window used: settings.prognosis_days unless the caller gave one
    rates: list[Figure] = field(default_factory=list)
    warnings: int = 0
    warned_people: int = 0
    defrauded_after: int = 0
    defrauded_before: int = 0
    mean_response_minutes: float | None = None  # from dispatch
    mean_response_warned_minutes: float | None = None  # from 预警时间
    responses: int = 0
    loss_avoided: Decimal = Decimal(0)
    loss_avoided_estimated: Decimal = Decimal(0)  # the part of loss_avoided taken from 拟转账金额

    @property
    def prognosis(self) -> Figure:
        den = self.warned_people - self.defrauded_before
        return Figure("prognosis_rate", "预后被骗率", self.defrauded_after, den, f"预警后{self.prognosis_days}天内被骗",
                      "被预警人数（不含预警前已被骗）")

    def as_dict(self) -> dict:
        out = {"from": self.since.isoformat(), "to": self.until.isoformat(),
               "area": self.area.code if self.area else None, "warnings": self.warnings}
        for f in [*self.rates, self.prognosis]:
            out[f.key] = {"label": f.label, "numerator": f.num, "denominator": f.den,
                          "rate": round(f.rate, 4) if f.rate is not None else None}
        out["prognosis_rate"]["defrauded_before_warning"] = self.defrauded_before
        out["mean_response_minutes"] = round(self.mean_response_minutes, 1) if self.mean_response_minutes else None
        out["mean_response_warned_minutes"] = (round(self.mean_response_warned_minutes, 1)
                                               if self.mean_response_warned_minutes else None)
        out["loss_avoided"] = str(self.loss_avoided)
        out["loss_avoided_estimated"] = str(self.loss_avoided_estimated)
        return out


def _sums(now: datetime):
    cols = []
    for r in RATES:
        num, den = conditions(r.key, now)
        cols += [func.sum(case((num, 1), else_=0)), func.sum(case((den, 1), else_=0))]
    return cols


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _minutes(session: Session, later, earlier):
    """later − earlier in minutes, in SQL."""
    if _dialect(session) == "postgresql":
        return func.extract("epoch", later - earlier) / 60
    return (func.julianday(later) - func.julianday(earlier)) * 1440


def _offset(at: datetime) -> int:
    """The configured zone's UTC offset at `at`, in minutes."""
    return int(at.astimezone(zone()).utcoffset().total_seconds() // 60)


def _local_day(session: Session, column, minutes: int):
    """The local calendar day of a stored (naive UTC) time, in SQL: the time shifted by the zone's offset at the start
    of the period (Asia/Shanghai has had one offset since 1991; a zone with summer time would put the hour around
    each change on the neighbouring day). Plain arithmetic, not a time-zone look-up per row."""
    if _dialect(session) == "postgresql":
        return func.date(column + func.make_interval(0, 0, 0, 0, 0, minutes))  # years … hours, mins
    return func.date(column, f"{minutes:+d} minutes")


@dataclass
class Overview:
    report: Report
    ranking: list[dict]
    trend: list[dict]


def overview(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
             by: str = "month", now: datetime | None = None, prognosis_days: int | None = None,
             rollup: bool = True) -> Overview:
    """Every figure of the metrics page from rows grouped by (day, station) — the totals, the station ranking and
    the trend are sums of them — and 预后被骗率. For a period of whole local days the rows come from the daily
    roll-up (`warning_days`, brought up to date first) plus the warnings whose 超期 status still depends on the
    moment; otherwise, or with rollup=False, from the warnings directly. Both give the same figures
    (tests/warnings/test_metrics_rollup.py); docs/metrics.md says how."""
    now = now or utcnow()
    where = base(session, scope, area, since, until)
    if _dialect(session) == "postgresql":
        # Plain scans: PostgreSQL's JIT would spend longer compiling them than running them, and a (day, station)
        # grouping of a year's warnings sorts on disk in the default 4 MB; 64 MB keeps it a hash in memory.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    days = _whole_days(since, until) if rollup else None
    if days is not None and is_read_only(session) and not rollup_current(session, days[0], days[1], _offset(since)):
        days = None  # a read replica cannot bring the roll-up up to date: count these days from the warnings
    if days is not None:
        if not is_read_only(session):
            refresh_days(session, days[0], days[1], minutes=_offset(since))
        whole = _whole_city(session, scope, area)
        by_day, stations = _sums_from_days(session, scope, area, where, days, now, _offset(since), whole)
    else:
        whole = False
        by_day, stations = _split(_grid_direct(session, where, now, _offset(since)))
    width = 2 * len(RATES)
    total = [0] * (1 + width)
    buckets: dict[str, list[int]] = {}
    response_minutes, warned_minutes, responses, avoided, estimated = 0.0, 0.0, 0, Decimal(0), Decimal(0)
    for day, acc in by_day.items():
        response_minutes += acc[1 + width]
        warned_minutes += acc[2 + width]
        responses += acc[3 + width]
        avoided += acc[4 + width]
        estimated += acc[5 + width]
        bucket = buckets.setdefault(_bucket(day, by), [0] * (1 + width))
        for i in range(1 + width):
            total[i] += acc[i]
            bucket[i] += acc[i]
    if prognosis_days is None:
        prognosis_days = get_settings().prognosis_days
    rep = Report(since=since, until=until, area=area, warnings=total[0], prognosis_days=prognosis_days,
                 loss_avoided=_cents(avoided), loss_avoided_estimated=_cents(estimated), responses=responses,
                 mean_response_minutes=response_minutes / responses if responses else None,
                 mean_response_warned_minutes=warned_minutes / responses if responses else None)
    for i, r in enumerate(RATES):
        rep.rates.append(Figure(r.key, r.label, total[1 + 2 * i], total[2 + 2 * i], r.num_label, r.den_label))
    _prognosis(session, where, rep, prognosis_days, days if whole else None)
    names = dict(session.execute(select(Area.id, Area.label).where(Area.id.in_(list(stations)))).all())
    ranking = [{"station_id": sid, "station": names.get(sid, ""), "warnings": acc[0],
                "figures": {r.key: Figure(r.key, r.label, acc[1 + 2 * i], acc[2 + 2 * i]) for i, r in enumerate(RATES)}}
               for sid, acc in stations.items()]
    trend = []
    for key in sorted(buckets):
        acc = buckets[key]
        point = {"period": key, "warnings": acc[0]}
        for i, r in enumerate(RATES):
            num, den = acc[1 + 2 * i], acc[2 + 2 * i]
            point[r.key] = round(num / den, 4) if den else None
        trend.append(point)
    return Overview(rep, ranking, trend)


def _bucket(day: object, by: str) -> str:
    local = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    if by == "day":
        return local.isoformat()
    if by == "week":
        iso = local.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return local.strftime("%Y-%m")


def report(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
           now: datetime | None = None, prognosis_days: int | None = None) -> Report:
    return overview(session, scope, since=since, until=until, area=area, now=now,
                    prognosis_days=prognosis_days).report


def ranking(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
            now: datetime | None = None) -> list[dict]:
    """Per station: every rate's numerator and denominator, for the station ranking."""
    return overview(session, scope, since=since, until=until, area=area, now=now).ranking


def trend(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
          by: str = "month", now: datetime | None = None) -> list[dict]:
    """Warnings and each rate per day, week or month (Beijing calendar)."""
    return overview(session, scope, since=since, until=until, area=area, by=by, now=now).trend


def _prognosis(session: Session, where, rep: Report, days: int, city_days: tuple[date, date] | None) -> None:
    """People warned in the period; of them, who lost money within `days` after a warning (预后被骗: a loss time t
    with warned < t ≤ warned + days, for any of their warnings) and, apart, those with no such loss who had lost
    money within `days` up to a warning (warned − days ≤ t ≤ warned). Losses are dated by the case's loss time,
    not its filing time.

    The warned people of the whole city over whole days are a sum of `warned_people_days`; of any other node a
    distinct count of the period's warnings. The defrauded are found from the cases side: the cases with a loss
    time within `days` of the period, each joined to its person's warnings within `days` of the loss (the
    (person_id, warned_at) index), so the work follows the cases, not the period's warnings."""
    if city_days is not None:  # the whole city over whole days
        first, last = city_days
        P = WarnedPeopleDay
        people = session.scalar(select(func.coalesce(func.sum(P.people), 0)).where(
            P.day >= first, P.day <= last, or_(P.previous_day.is_(None), P.previous_day < first)))
    else:
        people = session.scalar(select(func.count(distinct(W.person_id))).where(where, W.person_id.is_not(None)))
    C = losses.columns()
    cases = (select(C.person_id.label("pid"), C.loss_at.label("loss"))
             .where(C.person_id.is_not(None), C.loss_at >= rep.since - timedelta(days=days),
                    C.loss_at < rep.until + timedelta(days=days)).subquery())
    if _dialect(session) == "postgresql":
        window = func.make_interval(0, 0, 0, days)  # years, months, weeks, days
        loss, at = cases.c.loss, W.warned_at
        near = and_(at >= loss - window, at <= loss + window)
        after = and_(loss > at, loss <= at + window)
        before = and_(loss >= at - window, loss <= at)
    else:
        loss, at = func.julianday(cases.c.loss), func.julianday(W.warned_at)
        near = and_(at >= loss - days, at <= loss + days)
        after = and_(loss > at, loss <= at + days)
        before = and_(loss >= at - days, loss <= at)
    if _dialect(session) == "postgresql":
        # Per case, its person's warnings of the period within `days` of the loss: a look-up on (person_id,
        # warned_at) for each case (OFFSET 0 keeps PostgreSQL from making it a join over the period's warnings).
        per_case = (select(W.person_id.label("pid"), func.max(case((after, 1), else_=0)).label("after"),
                           func.max(case((before, 1), else_=0)).label("before"))
                    .where(where, W.person_id == cases.c.pid, near).group_by(W.person_id).offset(0).lateral())
        hits = (select(per_case.c.pid, func.max(per_case.c.after).label("after"),
                       func.max(per_case.c.before).label("before"))
                .select_from(cases.join(per_case, text("true"))).group_by(per_case.c.pid).subquery())
    else:
        hits = (select(W.person_id.label("pid"), func.max(case((after, 1), else_=0)).label("after"),
                       func.max(case((before, 1), else_=0)).label("before"))
                .select_from(cases).join(W, and_(W.person_id == cases.c.pid, near)).where(where)
                .group_by(W.person_id).subquery())
    defrauded_after, defrauded_before = session.execute(select(
        func.coalesce(func.sum(hits.c.after), 0),
        func.coalesce(func.sum(case((and_(hits.c.after == 0, hits.c.before == 1), 1), else_=0)), 0))).one()
    rep.warned_people = int(people or 0)
    rep.defrauded_after = int(defrauded_after or 0)
    rep.defrauded_before = int(defrauded_before or 0)


def _whole_city(session: Session, scope: Scope, area: Area | None) -> bool:
    """Whether scope and node together take in every community (then the city's roll-up of people applies)."""
    outside = session.scalar(select(func.count()).select_from(Area).where(
        Area.level == Level.COMMUNITY,
        not_(and_(scope.community_clause(Area.id), area_clause(session, area, Area.id)))))
    return not outside


def drill(session: Session, scope: Scope, key: str, part: str, *, since: datetime, until: datetime,
          area: Area | None = None, now: datetime | None = None):
    """The condition behind one side of one rate (part num/den), or behind one event count (part ev), for listing
    the warnings it counts."""
    now = now or utcnow()
    if part == EVENT_PART:
        scope.require(Perm.READ_WARNINGS)
        return and_(visible(scope), area_clause(session, area), event_condition(key, since, until, now)[0])
    num, den = conditions(key, now)
    return and_(base(session, scope, area, since, until), num if part == "num" else den)


EVENT_PART = "ev"


def drill_label(key: str, part: str) -> str | None:
    """What a click-through lists, in words; None when (key, part) is no figure of the metrics page."""
    if part == EVENT_PART and key in EVENT_BY_KEY:
        event = EVENT_BY_KEY[key]
        return f"{event.label}（按发生时间）：{event.text}"
    if part in ("num", "den") and key in RATE_BY_KEY:
        rate = RATE_BY_KEY[key]
        return f"{rate.label}的{'分子' if part == 'num' else '分母'}：{rate.num_label if part == 'num' else rate.den_label}"
    return None


# -- counts by the time things happened -------------------------------------------------------------------------------

def _within(column, since: datetime, until: datetime):
    return and_(column >= since, column < until)


def event_condition(key: str, since: datetime, until: datetime, now: datetime):
    """(condition, the time the event is dated by) of one of EVENTS in [since, until). 超期反馈 is dated by the
    feedback deadline and counts only deadlines already past at `now`."""
    if key == "dispatched":
        return _within(W.dispatched_at, since, until), W.dispatched_at
    if key == "signed":
        return _within(W.signed_at, since, until), W.signed_at
    if key == "fed_back":
        return _within(W.feedback_at, since, until), W.feedback_at
    if key == "dissuaded":
        return and_(_within(W.feedback_at, since, until), W.outcome == "dissuaded"), W.feedback_at
    if key == "overdue":
        # A late feedback came after the deadline, so after `since`: saying so lets the feedback_at index serve.
        late = or_(W.feedback_at.is_(None), and_(W.feedback_at >= since, W.feedback_at > W.feedback_deadline))
        due = _within(W.feedback_deadline, since, min(until, now))
        return and_(W.dispatched_at.is_not(None), due, late), W.feedback_deadline
    raise KeyError(key)


@dataclass
class Activity:
    """下发, 签收, 反馈, 劝阻成功 and 超期反馈 in a period, in total and per local day (ISO date → counts)."""
    since: datetime
    until: datetime
    area: Area | None
    counts: dict[str, int]
    by_day: dict[str, dict[str, int]]

    def as_dict(self) -> dict:
        return {e.key: {"label": e.label, "count": self.counts[e.key], "definition": e.text} for e in EVENTS}


def activity(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
             now: datetime | None = None) -> Activity:
    """What the stations did in [since, until), each event dated by when it happened — a warning issued last week
    and fed back today is today's feedback. The metrics page's 处理情况 and the wall screen's 今日 figures. One
    grouped count per event on the index of its time column."""
    scope.require(Perm.READ_WARNINGS)
    now = now or utcnow()
    node = and_(visible(scope), area_clause(session, area))
    minutes = _offset(since)
    counts: dict[str, int] = {}
    by_day: dict[str, dict[str, int]] = {}
    for event in EVENTS:
        condition, at = event_condition(event.key, since, until, now)
        day = _local_day(session, at, minutes)
        counts[event.key] = 0
        for d, n in session.execute(select(day, func.count()).where(node, condition).group_by(day)):
            by_day.setdefault(_as_date(d).isoformat(), {e.key: 0 for e in EVENTS})[event.key] = int(n)
            counts[event.key] += int(n)
    return Activity(since, until, area, counts, by_day)


# -- the (day, station) rows ---------------------------------------------------------------------------------------
# Each row: day, station, warnings, then (numerator, denominator) of every rate in RATES' order, then the sum of
# response minutes from dispatch and from 预警时间, the responses, the loss avoided and the part of it estimated.

def _count(cond):
    return func.sum(case((cond, 1), else_=0))


def _grid_direct(session: Session, where, now: datetime, minutes: int) -> list[tuple]:
    """Straight from the warnings: one grouped scan of the period."""
    day = _local_day(session, W.warned_at, minutes)
    responded, from_dispatch, from_warned = response_columns(session)
    return [tuple(row) for row in session.execute(
        select(day, W.station_id, func.count(), *_sums(now), func.sum(from_dispatch), func.sum(from_warned),
               func.sum(case((responded, 1), else_=0)),
               *[func.coalesce(func.sum(amount), 0) for amount in loss_avoided_columns()])
        .where(where).group_by(day, W.station_id)).all()]


def _whole_days(since: datetime, until: datetime) -> tuple[date, date] | None:
    """(first, last) local day if [since, until) is made of whole local days under one UTC offset, else None."""
    tz = zone()
    start, end = since.astimezone(tz), until.astimezone(tz)
    if start.timetz().replace(tzinfo=None) != time.min or end.timetz().replace(tzinfo=None) != time.min:
        return None
    if _offset(since) != _offset(until) or end <= start:
        return None
    return start.date(), end.date() - timedelta(days=1)


def _as_date(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _day_start(day: date, minutes: int) -> datetime:
    """The UTC instant a local day starts at."""
    return datetime.combine(day, time.min, UTC) - timedelta(minutes=minutes)


def _runs(days: Iterable[date], longest: int = 31) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most `longest` days."""
    out: list[list[date]] = []
    for d in sorted(set(days)):
        if out and d - out[-1][1] == timedelta(days=1) and (d - out[-1][0]).days < longest:
            out[-1][1] = d
        else:
            out.append([d, d])
    return [(a, b) for a, b in out]


def _ranges(days: Iterable[date], minutes: int):
    """warned_at within any of `days` (local), as few range conditions as the runs of days."""
    return or_(*[and_(W.warned_at >= _day_start(a, minutes), W.warned_at < _day_start(b + timedelta(days=1), minutes))
                 for a, b in _runs(days, longest=100_000)])


def _empty() -> list:
    return [0] * (1 + 2 * len(RATES)) + [0.0, 0.0, 0, Decimal(0), Decimal(0)]


def _cents(amount) -> Decimal:
    return Decimal(amount or 0).quantize(Decimal("0.01"))


def _tail(row) -> list:
    """The last five values of a row: response minutes (from dispatch, from 预警时间), responses, loss avoided, of
    which estimated."""
    return [float(row[-5] or 0), float(row[-4] or 0), int(row[-3] or 0), Decimal(row[-2] or 0), Decimal(row[-1] or 0)]


def _add(acc: list, values: list) -> None:
    for i, v in enumerate(values):
        acc[i] += v


def _split(grid: Iterable[tuple]) -> tuple[dict, dict]:
    """(day, station) rows → sums per day and per station (a warning without a station is in no ranking)."""
    by_day: dict[date, list] = {}
    by_station: dict[int, list] = {}
    for row in grid:
        values = [int(v or 0) for v in row[2:-5]] + _tail(row)
        _add(by_day.setdefault(_as_date(row[0]), _empty()), values)
        if row[1] is not None:
            _add(by_station.setdefault(row[1], _empty()), values)
    return by_day, by_station


def _sums_from_days(session: Session, scope: Scope, area: Area | None, where, days: tuple[date, date],
                    now: datetime, minutes: int, whole: bool) -> tuple[dict, dict]:
    """Sums per day and per station from the daily roll-up (two grouped reads of it, a few hundred rows back).
    Only 超期反馈率 depends on the moment of reading: the roll-up holds the fed-back warnings (late or not) and the
    latest feedback deadline among them, so a (day, station) whose latest deadline is still ahead of `now` has its
    fed-back part replaced by a count from the warnings, and the warnings without feedback (few: the open work)
    are always counted from the warnings."""
    R = WarningDay
    s = func.sum
    nodes = () if whole else (scope.community_clause(R.community_id), area_clause(session, area, R.community_id))
    in_period = and_(R.day >= days[0], R.day <= days[1], *nodes)
    sums = [s(R.warnings), s(R.signed), s(R.dispatched), s(R.signed_on_time), s(R.dispatched), s(R.face_done),
            s(R.face_required), s(R.dissuaded), s(R.outcome_counted), s(R.fed_back_late), s(R.fed_back),
            s(R.response_minutes), s(R.response_minutes_warned), s(R.responses), s(R.loss_avoided),
            s(R.loss_avoided_estimated)]

    def values(row) -> list:
        return [int(v or 0) for v in row[:-5]] + _tail(row)

    if _dialect(session) == "postgresql":  # both in one read of the rows
        by_day, by_station = {}, {}
        for row in session.execute(select(func.grouping(R.day), R.day, R.station_id, *sums).where(in_period)
                                   .group_by(func.grouping_sets(R.day, R.station_id))):
            if row[0] == 0:
                by_day[_as_date(row[1])] = values(row[3:])
            elif row[2] is not None:
                by_station[row[2]] = values(row[3:])
    else:
        by_day = {_as_date(row[0]): values(row[1:])
                  for row in session.execute(select(R.day, *sums).where(in_period).group_by(R.day))}
        by_station = {row[0]: values(row[1:]) for row in session.execute(
            select(R.station_id, *sums).where(in_period, R.station_id.is_not(None)).group_by(R.station_id))}
    width = 2 * len(RATES)
    day = _local_day(session, W.warned_at, minutes)
    dispatched, due = W.dispatched_at.is_not(None), W.feedback_deadline <= now

    def change(d, station, num: int, den: int) -> None:
        for acc in (by_day.setdefault(_as_date(d), _empty()),
                    by_station.setdefault(station, _empty()) if station is not None else None):
            if acc is not None:
                acc[width - 1] += num
                acc[width] += den

    live = {(_as_date(d), st): (int(late or 0), int(fed or 0)) for d, st, late, fed in session.execute(
        select(R.day, R.station_id, s(R.fed_back_late), s(R.fed_back))
        .where(in_period, R.last_feedback_deadline > now).group_by(R.day, R.station_id))}
    if live:
        for (d, station), (late, fed) in live.items():
            change(d, station, -late, -fed)
        for d, station, num, den in session.execute(
                select(day, W.station_id, _count(and_(due, W.feedback_at > W.feedback_deadline)), _count(due))
                .where(where, dispatched, W.feedback_at.is_not(None), _ranges({k[0] for k in live}, minutes))
                .group_by(day, W.station_id)):
            if (_as_date(d), station) in live:
                change(d, station, int(num or 0), int(den or 0))
    for d, station, n in session.execute(
            select(day, W.station_id, func.count()).where(where, dispatched, W.feedback_at.is_(None), due)
            .group_by(day, W.station_id)):
        change(d, station, int(n), int(n))
    return by_day, by_station


# -- keeping the roll-ups exact ---------------------------------------------------------------------------------------

_LOCK = 0x66616E7A  # pg_advisory_xact_lock key: one refresh at a time


def _hour(session: Session, column):
    """The UTC hour a stored time falls in, as the triggers log it."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00.000000", column)


def _lock(session: Session) -> None:
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})


def _marked(first: date | None, last: date | None, minutes: int):
    """The logged hours (warning_days_dirty) whose local days overlap first…last (all, without bounds)."""
    D = WarningDayDirty
    marked = select(D.id, D.hour)
    if first is not None:  # the hours that overlap the local days first…last
        marked = marked.where(D.hour > _day_start(first, minutes) - timedelta(hours=1),
                              D.hour < _day_start(last + timedelta(days=1), minutes))
    return marked


def rollup_current(session: Session, first: date, last: date, minutes: int) -> bool:
    """Whether the roll-up of local days first…last stands as it is, nothing waiting to be recomputed: what a
    read-only session (the read replica, docs/deploy.md) checks before it uses the roll-up it cannot refresh."""
    state = session.scalar(select(WarningDayState.offset_minutes).where(WarningDayState.id == 1))
    return state == minutes and session.execute(_marked(first, last, minutes).limit(1)).first() is None


def refresh_days(session: Session, first: date | None = None, last: date | None = None, *,
                 minutes: int | None = None) -> int:
    """Recompute the roll-ups of the local days in [first, last] (all, without bounds) whose warnings changed since
    (the triggers of migration 0013 log the UTC hour of every changed warning, and of the same person's next
    warning, in warning_days_dirty). Runs in the caller's transaction, one refresh at a time (an advisory lock on
    PostgreSQL): the logged rows it recomputes are deleted with it, those written meanwhile by transactions not yet
    committed stay for the next reading. Returns the number of local days recomputed."""
    minutes = _offset(utcnow()) if minutes is None else minutes
    D = WarningDayDirty
    state = session.scalar(select(WarningDayState.offset_minutes).where(WarningDayState.id == 1))
    if state != minutes:
        _lock(session)
        state = session.scalar(select(WarningDayState.offset_minutes).where(WarningDayState.id == 1))
        if state != minutes:  # first use, or another zone: every day with warnings is recomputed as it is read
            session.execute(delete(WarningDay))
            session.execute(delete(WarnedPeopleDay))
            session.execute(delete(D))
            session.execute(insert(D).from_select(["hour"], select(_hour(session, W.warned_at)).distinct()))
            session.execute(delete(WarningDayState))
            session.execute(insert(WarningDayState).values(id=1, offset_minutes=minutes))
    marked = _marked(first, last, minutes)
    if session.execute(marked.limit(1)).first() is None:
        return 0
    _lock(session)
    found = session.execute(marked).all()  # after the lock: what a refresh before us left
    if not found:
        return 0
    days: set[date] = set()
    for _, hour in found:
        days |= {(hour + timedelta(minutes=minutes)).date(),
                 (hour + timedelta(hours=1, microseconds=-1, minutes=minutes)).date()}
    for a, b in _runs(days):
        _recompute(session, a, b, minutes)
    ids = [i for i, _ in found]
    for n in range(0, len(ids), 5000):
        session.execute(delete(D).where(D.id.in_(ids[n:n + 5000])))
    return len(days)


def _recompute(session: Session, first: date, last: date, minutes: int) -> None:
    """The roll-up rows of local days first…last, from the warnings."""
    R, P = WarningDay, WarnedPeopleDay
    session.execute(delete(R).where(R.day >= first, R.day <= last))
    session.execute(delete(P).where(P.day >= first, P.day <= last))
    start, end = _day_start(first, minutes), _day_start(last + timedelta(days=1), minutes)
    communities = select(Area.id).where(Area.level == Level.COMMUNITY)  # as Scope.community_ids() counts them
    placed = and_(W.community_id.in_(communities), W.warned_at >= start, W.warned_at < end)
    day = _local_day(session, W.warned_at, minutes)
    dispatched = W.dispatched_at.is_not(None)
    fed_back = and_(dispatched, W.feedback_at.is_not(None))
    responded, from_dispatch, from_warned = response_columns(session)
    cols = [conditions(key, utcnow()) for key in ("sign_rate", "timely_sign_rate", "face_rate", "success_rate")]
    session.execute(insert(R).from_select(
        ["day", "community_id", "station_id", "warnings", "dispatched", "signed", "signed_on_time", "face_required",
         "face_done", "outcome_counted", "dissuaded", "fed_back", "fed_back_late", "last_feedback_deadline",
         "response_minutes", "response_minutes_warned", "responses", "loss_avoided", "loss_avoided_estimated"],
        select(day, W.community_id, W.station_id, func.count(), _count(dispatched), _count(cols[0][0]),
               _count(cols[1][0]), _count(cols[2][1]), _count(cols[2][0]), _count(cols[3][1]), _count(cols[3][0]),
               _count(fed_back), _count(and_(fed_back, W.feedback_at > W.feedback_deadline)),
               func.max(case((fed_back, W.feedback_deadline), else_=None)),
               func.coalesce(func.sum(from_dispatch), 0), func.coalesce(func.sum(from_warned), 0),
               _count(responded),
               *[func.coalesce(func.sum(amount), 0) for amount in loss_avoided_columns()])
        .where(placed).group_by(day, W.community_id, W.station_id)))
    # People: each person's first warning of each day, and their latest placed warning before it.
    firsts = (select(day.label("day"), W.person_id.label("pid"), func.min(W.warned_at).label("first_at"))
              .where(placed, W.person_id.is_not(None)).group_by(day, W.person_id).subquery())
    E = aliased(Warning)

    def latest(*where):  # backwards on (person_id, warned_at)
        return (select(E.warned_at).where(E.person_id == firsts.c.pid, E.community_id.in_(communities), *where)
                .order_by(E.warned_at.desc()).limit(1).scalar_subquery())

    # Asked first within the year before the run, bounded by constants: on monthly partitions PostgreSQL then reads
    # those partitions newest first and stops at the first that has one (open-ended, it looked into every partition
    # before first_at for each person, about 60 over five years); older warnings only for those with none in it.
    since = start - timedelta(days=366)
    previous = func.coalesce(latest(E.warned_at >= since, E.warned_at < end, E.warned_at < firsts.c.first_at),
                             latest(E.warned_at < since))
    pairs = select(firsts.c.day, previous.label("previous_at")).subquery()
    previous_day = _local_day(session, pairs.c.previous_at, minutes)
    session.execute(insert(P).from_select(
        ["day", "previous_day", "people"],
        select(pairs.c.day, previous_day, func.count()).group_by(pairs.c.day, previous_day)))
