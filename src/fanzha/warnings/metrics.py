"""Dissuasion metrics (DESIGN.md), each with numerator and denominator, for any node and period.

Every rate is a pair of SQL conditions on warnings (numerator ⊆ denominator), so the same condition that counts
a warning also lists it when someone clicks through. Decisions where the definitions leave room are written
down in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning
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
    Rate("success_rate", "劝阻成功率", "劝阻成功", "有结果（不含无需劝阻）"),
    Rate("overdue_rate", "超期反馈率", "超期或逾期未反馈", "反馈时限已到"),
]
RATE_BY_KEY = {r.key: r for r in RATES}


def period(since: str, until: str) -> tuple[datetime, datetime]:
    """从/至 as local dates, 至 included, as [start, end) datetimes; default the last 30 days. The page, the feedback
    file and the CLI all cut periods here."""
    from datetime import date, time

    from fanzha.common.errors import Invalid

    tz = ZoneInfo(get_settings().timezone)
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
        den = and_(W.outcome.is_not(None), W.outcome != "not_needed")
        return and_(den, W.outcome == "dissuaded"), den
    if key == "overdue_rate":
        den = and_(dispatched, W.feedback_deadline <= now)
        late = or_(W.feedback_at > W.feedback_deadline, W.feedback_at.is_(None))
        return and_(den, late), den
    raise KeyError(key)


def area_clause(session: Session, area: Area | None):
    """Warnings on communities under `area` in its own chain (a police node through the communities it covers)."""
    if area is None:
        return W.community_id.is_not(None)
    column = Area.police_path if area.chain == Chain.POLICE else Area.path
    leaves = select(Area.id).where(Area.level == Level.COMMUNITY, column.startswith(area.path, autoescape=True))
    return W.community_id.in_(leaves)


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
    rates: list[Figure] = field(default_factory=list)
    warnings: int = 0
    warned_people: int = 0
    defrauded_after: int = 0
    defrauded_before: int = 0
    prognosis_days: int = 30
    mean_response_minutes: float | None = None
    responses: int = 0
    loss_avoided: Decimal = Decimal(0)

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
        out["loss_avoided"] = str(self.loss_avoided)
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


def _local_day(session: Session, column, since: datetime):
    """The local calendar day of a stored (naive UTC) time, in SQL: the time shifted by the zone's offset at the start
    of the period (Asia/Shanghai has had one offset since 1991; a zone with summer time would put the hour around
    each change on the neighbouring day). Plain arithmetic, not a time-zone look-up per row."""
    offset = since.astimezone(ZoneInfo(get_settings().timezone)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    if _dialect(session) == "postgresql":
        return func.date(column + func.make_interval(0, 0, 0, 0, 0, minutes))  # years … hours, mins
    return func.date(column, f"{minutes:+d} minutes")


@dataclass
class Overview:
    report: Report
    ranking: list[dict]
    trend: list[dict]


def overview(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
             by: str = "month", now: datetime | None = None, prognosis_days: int = 30) -> Overview:
    """Every figure of the metrics page from two queries: one grouped by (day, station) over the period's warnings
    — the totals, the station ranking and the trend are sums of its rows — and one for 预后被骗率. Nothing is
    computed per warning in Python, so a year of a city's warnings costs what PostgreSQL takes to read them once
    (docs/benchmarks.md)."""
    now = now or utcnow()
    where = base(session, scope, area, since, until)
    if _dialect(session) == "postgresql":
        # Two plain scans: PostgreSQL's JIT would spend longer compiling them than running them, and a year of
        # (day, station) groups sorts on disk in the default 4 MB; 64 MB keeps it a hash in memory.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    day = _local_day(session, W.warned_at, since)
    responded = and_(W.dispatched_at.is_not(None), W.first_contact_at.is_not(None))
    grid = session.execute(
        select(day, W.station_id, func.count(), *_sums(now),
               func.sum(case((responded, _minutes(session, W.first_contact_at, W.dispatched_at)), else_=None)),
               func.sum(case((responded, 1), else_=0)),
               func.coalesce(func.sum(case((W.outcome == "dissuaded", W.amount), else_=0)), 0))
        .where(where).group_by(day, W.station_id)).all()
    width = 2 * len(RATES)
    total = [0] * (1 + width)
    stations: dict[int, list[int]] = {}
    buckets: dict[str, list[int]] = {}
    response_minutes, responses, avoided = 0.0, 0, Decimal(0)
    for row in grid:
        counts = [int(v or 0) for v in row[2:3 + width]]
        response_minutes += float(row[3 + width] or 0)
        responses += int(row[4 + width] or 0)
        avoided += Decimal(row[5 + width] or 0)
        for acc in (total, stations.setdefault(row[1], [0] * (1 + width)) if row[1] is not None else None,
                    buckets.setdefault(_bucket(row[0], by), [0] * (1 + width))):
            if acc is not None:
                for i, v in enumerate(counts):
                    acc[i] += v
    rep = Report(since=since, until=until, area=area, warnings=total[0], prognosis_days=prognosis_days,
                 loss_avoided=avoided, responses=responses,
                 mean_response_minutes=response_minutes / responses if responses else None)
    for i, r in enumerate(RATES):
        rep.rates.append(Figure(r.key, r.label, total[1 + 2 * i], total[2 + 2 * i], r.num_label, r.den_label))
    _prognosis(session, where, rep, prognosis_days)
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(list(stations)))).all())
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
           now: datetime | None = None, prognosis_days: int = 30) -> Report:
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


def _prognosis(session: Session, where, rep: Report, days: int) -> None:
    """People warned in the period; of them, who lost money within `days` after a warning (预后被骗: a loss time t
    with warned < t ≤ warned + days, for any of their warnings) and, apart, those with no such loss who had lost
    money within `days` up to a warning (warned − days ≤ t ≤ warned). Losses are dated by the case's loss time,
    not its filing time. In SQL: one pass over the period's warnings joined to the same people's cases."""
    warned = select(W.person_id.label("pid"), W.warned_at.label("at")).where(where, W.person_id.is_not(None)).cte("warned")
    if _dialect(session) == "postgresql":
        window = func.make_interval(0, 0, 0, days)  # years, months, weeks, days
        loss, at = Case.loss_at, warned.c.at
        after = and_(loss > at, loss <= at + window)
        before = and_(loss >= at - window, loss <= at)
    else:
        loss, at = func.julianday(Case.loss_at), func.julianday(warned.c.at)
        after = and_(loss > at, loss <= at + days)
        before = and_(loss >= at - days, loss <= at)
    hits = (select(warned.c.pid, func.max(case((after, 1), else_=0)).label("after"),
                   func.max(case((before, 1), else_=0)).label("before"))
            .select_from(warned.join(Case, Case.person_id == warned.c.pid)).group_by(warned.c.pid).subquery())
    people = session.scalar(select(func.count(func.distinct(warned.c.pid))))
    defrauded_after, defrauded_before = session.execute(select(
        func.coalesce(func.sum(hits.c.after), 0),
        func.coalesce(func.sum(case((and_(hits.c.after == 0, hits.c.before == 1), 1), else_=0)), 0))).one()
    rep.warned_people = int(people or 0)
    rep.defrauded_after = int(defrauded_after or 0)
    rep.defrauded_before = int(defrauded_before or 0)


def drill(session: Session, scope: Scope, key: str, part: str, *, since: datetime, until: datetime,
          area: Area | None = None, now: datetime | None = None):
    """The condition behind one side of one rate, for listing the warnings it counts."""
    now = now or utcnow()
    num, den = conditions(key, now)
    return and_(base(session, scope, area, since, until), num if part == "num" else den)
