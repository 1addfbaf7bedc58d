"""Dissuasion metrics (DESIGN.md), each with numerator and denominator, for any node and period.

Every rate is a pair of SQL conditions on warnings (numerator ⊆ denominator), so the same condition that counts
a warning also lists it when someone clicks through. Decisions where the definitions leave room are written
down in docs/metrics.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
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


def report(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
           now: datetime | None = None, prognosis_days: int = 30) -> Report:
    now = now or utcnow()
    where = base(session, scope, area, since, until)
    row = session.execute(select(func.count(), *_sums(now),
                                 func.coalesce(func.sum(case((W.outcome == "dissuaded", W.amount), else_=0)), 0))
                          .where(where)).one()
    rep = Report(since=since, until=until, area=area, warnings=row[0], prognosis_days=prognosis_days,
                 loss_avoided=Decimal(row[-1] or 0))
    for i, r in enumerate(RATES):
        rep.rates.append(Figure(r.key, r.label, int(row[1 + 2 * i] or 0), int(row[2 + 2 * i] or 0), r.num_label,
                                r.den_label))
    _response(session, where, rep)
    _prognosis(session, where, rep, prognosis_days)
    return rep


def _response(session: Session, where, rep: Report) -> None:
    total, n = 0.0, 0
    for dispatched, contacted in session.execute(select(W.dispatched_at, W.first_contact_at).where(
            where, W.dispatched_at.is_not(None), W.first_contact_at.is_not(None))):
        total += (contacted - dispatched).total_seconds() / 60
        n += 1
    rep.responses = n
    rep.mean_response_minutes = total / n if n else None


def classify_people(session: Session, where, days: int) -> dict[int, str]:
    """person id → 'after' (lost money within `days` after a warning), 'before' (lost within `days` up to the
    warning: counted apart) or 'safe'. Losses are dated by the case's loss time, not its filing time."""
    warned: dict[int, list[datetime]] = defaultdict(list)
    for pid, at in session.execute(select(W.person_id, W.warned_at).where(where, W.person_id.is_not(None))):
        warned[pid].append(at)
    losses: dict[int, list[datetime]] = defaultdict(list)
    ids = list(warned)
    for start in range(0, len(ids), 5000):
        for pid, loss in session.execute(select(Case.person_id, Case.loss_at).where(
                Case.person_id.in_(ids[start:start + 5000]))):
            losses[pid].append(loss)
    window = timedelta(days=days)
    out = {}
    for pid, times in warned.items():
        status = "safe"
        for loss in losses.get(pid, []):
            if any(t < loss <= t + window for t in times):
                status = "after"
                break
            if any(t - window <= loss <= t for t in times):
                status = "before"
        out[pid] = status
    return out


def _prognosis(session: Session, where, rep: Report, days: int) -> None:
    people = classify_people(session, where, days)
    rep.warned_people = len(people)
    rep.defrauded_after = sum(1 for s in people.values() if s == "after")
    rep.defrauded_before = sum(1 for s in people.values() if s == "before")


def ranking(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
            now: datetime | None = None) -> list[dict]:
    """Per station: every rate's numerator and denominator, for the station ranking."""
    now = now or utcnow()
    where = base(session, scope, area, since, until)
    rows = session.execute(select(W.station_id, func.count(), *_sums(now)).where(where, W.station_id.is_not(None))
                           .group_by(W.station_id)).all()
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_([r[0] for r in rows]))).all())
    out = []
    for row in rows:
        figs = {r.key: Figure(r.key, r.label, int(row[2 + 2 * i] or 0), int(row[3 + 2 * i] or 0))
                for i, r in enumerate(RATES)}
        out.append({"station_id": row[0], "station": names.get(row[0], ""), "warnings": row[1], "figures": figs})
    return out


def trend(session: Session, scope: Scope, *, since: datetime, until: datetime, area: Area | None = None,
          by: str = "month", now: datetime | None = None) -> list[dict]:
    """Warnings and each rate per day, week or month (Beijing calendar)."""
    now = now or utcnow()
    tz = ZoneInfo(get_settings().timezone)
    where = base(session, scope, area, since, until)
    flags = []
    for r in RATES:
        num, den = conditions(r.key, now)
        flags += [case((num, 1), else_=0), case((den, 1), else_=0)]
    buckets: dict[str, list[int]] = {}
    for row in session.execute(select(W.warned_at, *flags).where(where)):
        local = row[0].astimezone(tz)
        if by == "day":
            key = local.strftime("%Y-%m-%d")
        elif by == "week":
            iso = local.isocalendar()
            key = f"{iso.year}-W{iso.week:02d}"
        else:
            key = local.strftime("%Y-%m")
        acc = buckets.setdefault(key, [0] * (1 + len(flags)))
        acc[0] += 1
        for i, v in enumerate(row[1:], start=1):
            acc[i] += v
    out = []
    for key in sorted(buckets):
        acc = buckets[key]
        point = {"period": key, "warnings": acc[0]}
        for i, r in enumerate(RATES):
            num, den = acc[1 + 2 * i], acc[2 + 2 * i]
            point[r.key] = round(num / den, 4) if den else None
        out.append(point)
    return out


def drill(session: Session, scope: Scope, key: str, part: str, *, since: datetime, until: datetime,
          area: Area | None = None, now: datetime | None = None):
    """The condition behind one side of one rate, for listing the warnings it counts."""
    now = now or utcnow()
    num, den = conditions(key, now)
    return and_(base(session, scope, area, since, until), num if part == "num" else den)
