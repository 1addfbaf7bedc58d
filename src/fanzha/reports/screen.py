"""The wall screen's figures (大屏), one JSON document refreshed every minute: today's warnings and dissuasions, this
month's cases and losses with 同比 (the same days a year before), 30-day trends, type breakdown, rankings, map."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.common.errors import Forbidden
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import geo, periods, provider
from fanzha.reports.figures import change

TREND_DAYS = 30


def _same_day_last_year(d: date) -> date:
    return d.replace(year=d.year - 1, day=28) if (d.month, d.day) == (2, 29) else d.replace(year=d.year - 1)


def figures(session: Session, scope: Scope, *, now: datetime | None = None) -> dict:
    scope.require(Perm.READ_CASES)
    tz = ZoneInfo(get_settings().timezone)
    now = (now or utcnow()).astimezone(tz)
    today = now.date()
    day_start = datetime.combine(today, time.min, tz)
    tomorrow = day_start + timedelta(days=1)

    out: dict = {"now": now.isoformat(timespec="seconds"), "today": today.isoformat(),
                 "timezone": get_settings().timezone}
    out["warnings_today"] = _warnings(session, scope, day_start, tomorrow)

    month = periods.parse(f"{today:%Y-%m}")
    m_start = datetime.combine(month.start, time.min, tz)
    ly_start = datetime.combine(_same_day_last_year(month.start), time.min, tz)
    ly_end = datetime.combine(_same_day_last_year(today), time.min, tz) + timedelta(days=1)
    cases, loss = provider.totals(session, scope, m_start, tomorrow)
    ly_cases, ly_loss = provider.totals(session, scope, ly_start, ly_end)
    out["month"] = {"label": month.label, "days": today.day, "cases": cases, "loss": float(loss),
                    "loss_wan": round(float(loss) / 10_000, 2), "cases_last_year": ly_cases,
                    "loss_last_year": float(ly_loss), "cases_yoy": change(cases, ly_cases),
                    "loss_yoy": change(loss, ly_loss)}

    month_figures = provider.get_provider().figures(session, scope, month, None)
    out["types"] = [{"key": t.key, "label": t.label, "cases": t.cases, "loss_wan": round(float(t.loss) / 10_000, 2)}
                    for t in month_figures.by_type]
    out["townships"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                        for r in month_figures.by_area[:10]]
    out["stations"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                       for r in month_figures.by_station[:10]]
    out["trend"] = _trend(session, scope, day_start - timedelta(days=TREND_DAYS - 1), tomorrow, tz)
    out["map"] = geo.layer(session, scope, geo.default_parent(session, scope), month)
    return out


def _warnings(session: Session, scope: Scope, since: datetime, until: datetime) -> dict | None:
    from fanzha.warnings import metrics

    try:
        rep = metrics.overview(session, scope, since=since, until=until).report
    except Forbidden:
        return None
    rates = {f.key: f for f in rep.rates}
    return {"warnings": rep.warnings, "signed": rates["sign_rate"].num, "dissuaded": rates["success_rate"].num,
            "overdue": rates["overdue_rate"].num, "sign_rate": rates["sign_rate"].rate,
            "loss_avoided_wan": round(float(rep.loss_avoided) / 10_000, 2)}


def _trend(session: Session, scope: Scope, since: datetime, until: datetime, tz) -> dict:
    """Cases (by 立案 day) and warnings per local day over the last days."""
    days = [(since + timedelta(days=i)).date().isoformat() for i in range(TREND_DAYS)]
    cases = Counter()
    for (filed,) in session.execute(select(Case.filed_at).where(provider.case_clause(scope, None),
                                                                Case.filed_at >= since, Case.filed_at < until)):
        cases[filed.astimezone(tz).date().isoformat() if filed.tzinfo else filed.date().isoformat()] += 1
    warnings = {}
    try:
        from fanzha.warnings import metrics

        warnings = {p["period"]: p["warnings"] for p in
                    metrics.overview(session, scope, since=since, until=until, by="day").trend}
    except Forbidden:
        pass
    return {"days": days, "cases": [cases.get(d, 0) for d in days], "warnings": [warnings.get(d, 0) for d in days]}
