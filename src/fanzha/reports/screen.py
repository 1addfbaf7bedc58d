"""The wall screen's figures (大屏), one JSON document refreshed every minute: today's warnings and dissuasions, this
month so far — 立案, 损失, 破案, 抓获 as 案件研判 and the bulletins count them, with 同比 (the same days a year
before) and their basis — 30-day trends, type breakdown, rankings, map."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.cases.stats import definitions
from fanzha.common import periods
from fanzha.common.errors import Forbidden
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import geo, provider

TREND_DAYS = 30


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

    month = periods.month(today)
    so_far = periods.custom(month.start, today)  # 同比: the same days a year before (common.periods, custom)
    month_figures = provider.get_provider().figures(session, scope, so_far, None)
    out["month"] = _month(month_figures, month.label, today.day)
    out["types"] = [{"key": t.key, "label": t.label, "cases": t.cases, "loss_wan": round(float(t.loss) / 10_000, 2)}
                    for t in month_figures.by_type]
    out["townships"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                        for r in month_figures.by_area[:10]]
    out["stations"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                       for r in month_figures.by_station[:10]]
    out["trend"] = _trend(session, scope, day_start - timedelta(days=TREND_DAYS - 1), tomorrow, tz)
    out["map"] = geo.layer(session, scope, geo.default_parent(session, scope), so_far)
    return out


def _month(f, label: str, days: int) -> dict:
    """This month so far: the four headline figures with the same days a year before, and their basis."""
    out = {"label": label, "days": days, "period": f.period.spec, "year_ago": f.period.year_ago().spec,
           "basis": f.basis, "loss_wan": round(float(f.loss.current) / 10_000, 2)}
    for key, c in (("cases", f.cases), ("loss", f.loss), ("solved", f.solved_compared),
                   ("suspects", f.suspects_compared)):
        amount = definitions.MEASURES[key].unit == "元"
        out[key] = float(c.current) if amount else c.current
        out[f"{key}_last_year"] = float(c.last_year) if amount else c.last_year
        out[f"{key}_yoy"] = c.yoy
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
    filed_at = getattr(Case, definitions.MEASURES["cases"].counted_by)
    for (filed,) in session.execute(select(filed_at).where(Case.community_id.in_(provider.leaves(session, scope)),
                                                           filed_at >= since, filed_at < until)):
        cases[filed.astimezone(tz).date().isoformat() if filed.tzinfo else filed.date().isoformat()] += 1
    warnings = {}
    try:
        from fanzha.warnings import metrics

        warnings = {p["period"]: p["warnings"] for p in
                    metrics.overview(session, scope, since=since, until=until, by="day").trend}
    except Forbidden:
        pass
    return {"days": days, "cases": [cases.get(d, 0) for d in days], "warnings": [warnings.get(d, 0) for d in days]}
