"""The wall screen's figures (大屏), one JSON document refreshed every minute: today's warnings and dissuasions, this
month so far — 立案, 损失, 破案, 抓获 as 案件研判 and the bulletins count them, with 同比 (the same days a year
before) and their basis — 30-day trends, type breakdown, rankings, map."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.cases.stats import definitions
from fanzha.common import periods
from fanzha.common.errors import Forbidden
from fanzha.common.localtime import zone
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import geo, provider

TREND_DAYS = 30


def figures(session: Session, scope: Scope, *, now: datetime | None = None) -> dict:
    scope.require(Perm.READ_CASES)
    tz = zone()
    now = (now or utcnow()).astimezone(tz)
    today = now.date()
    day_start = datetime.combine(today, time.min, tz)
    tomorrow = day_start + timedelta(days=1)

    out: dict = {"now": now.isoformat(timespec="seconds"), "today": today.isoformat(),
                 "timezone": get_settings().timezone}
    out["warnings_today"] = _warnings(session, scope, day_start, tomorrow, now)

    month = periods.month(today)
    so_far = periods.custom(month.start, today)  # 同比: the same days a year before (common.periods, custom)
    month_figures = provider.get_provider().figures(session, scope, so_far, None)
    out["month"] = _month(month_figures, month.label, today.day)
    out["handled"] = _handled(month_figures.warnings)
    out["types"] = [{"key": t.key, "label": t.label, "cases": t.cases, "loss_wan": round(float(t.loss) / 10_000, 2)}
                    for t in month_figures.by_type]
    out["townships"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                        for r in month_figures.by_area[:10]]
    out["stations"] = [{"name": r.name, "cases": r.cases, "loss_wan": round(float(r.loss) / 10_000, 2)}
                       for r in month_figures.by_station[:10]]
    out["trend"] = _trend(session, scope, day_start - timedelta(days=TREND_DAYS - 1), tomorrow, tz, now)
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


def _handled(w) -> dict | None:
    """本月 查询/止付/冻结 done so far, as the month's bulletin prints them (反诈中心处理情况); None for a reader who
    may not see warnings."""
    if w is None:
        return None
    return {"queries": w.queries, "stops": w.stop_payments, "stop_wan": round(float(w.stop_amount) / 10_000, 2),
            "freezes": w.freezes, "frozen_wan": round(float(w.frozen_amount) / 10_000, 2)}


def _warnings(session: Session, scope: Scope, since: datetime, until: datetime, now: datetime) -> dict | None:
    """Today's work as the metrics page counts it for the same day (metrics.activity): each figure dated by when
    it happened — 下发, 签收, 反馈, 劝阻成功, 超期反馈 — with its label, its basis in a few words (the screen's small
    print) and its full 口径."""
    from fanzha.warnings import metrics

    try:
        done = metrics.activity(session, scope, since=since, until=until, now=now)
    except Forbidden:
        return None
    return {**{key: item["count"] for key, item in done.as_dict().items()},
            "labels": {e.key: e.label for e in metrics.EVENTS}, "bases": {e.key: e.basis for e in metrics.EVENTS},
            "definitions": [f"{e.label}：{e.text}" for e in metrics.EVENTS]}


def _trend(session: Session, scope: Scope, since: datetime, until: datetime, tz, now: datetime) -> dict:
    """Cases (by 立案 day) and warnings dispatched (下发, as 今日下发 counts them) per local day over the last days."""
    days = [(since + timedelta(days=i)).date().isoformat() for i in range(TREND_DAYS)]
    cases = Counter()
    filed_at = getattr(Case, definitions.MEASURES["cases"].counted_by)
    for (filed,) in session.execute(select(filed_at).where(Case.community_id.in_(provider.leaves(session, scope)),
                                                           filed_at >= since, filed_at < until)):
        cases[filed.astimezone(tz).date().isoformat() if filed.tzinfo else filed.date().isoformat()] += 1
    dispatched = {}
    try:
        from fanzha.warnings import metrics

        done = metrics.activity(session, scope, since=since, until=until, now=now)
        dispatched = {day: counts["dispatched"] for day, counts in done.by_day.items()}
    except Forbidden:
        pass
    return {"days": days, "cases": [cases.get(d, 0) for d in days], "warnings": [dispatched.get(d, 0) for d in days]}
