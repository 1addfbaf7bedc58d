"""调度回放: the centre replays a past week's real warnings with a day's roster under today's practice (先到先办)
and under the platform's policy, side by side, to decide staffing."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common.errors import Invalid
from fanzha.common.localtime import zone
from fanzha.db import utcnow
from fanzha.dispatch import policy
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, require
from fanzha.web.render import render

router = APIRouter()
MAX_DAYS = 31
GRADES = (("high", "高"), ("medium", "中"), ("low", "低"))


def _day(text: str, default: date, name: str, label: str) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{label} 应为日期（如 2026-12-01）", details=[{"loc": [name], "msg": "日期格式不对"}]) from exc


def _minutes(x: float) -> str:
    return "未联系" if math.isinf(x) else f"{x:.1f}"


def replay(session: Session, scope: Scope, *, since: date, until: date, roster_day: date, seed: int = 0) -> dict:
    """Both policies over the scope's stations' warnings of [since, until] with the roster of `roster_day`."""
    from fanzha.dispatch import simulate

    if until < since:
        raise Invalid("结束日期不能早于开始日期", details=[{"loc": ["until"], "msg": "早于开始日期"}])
    if (until - since).days + 1 > MAX_DAYS:
        raise Invalid(f"一次最多回放 {MAX_DAYS} 天", details=[{"loc": ["since"], "msg": "时间段太长"}])
    tz = zone()
    start = datetime.combine(since, time(0), tz)
    end = datetime.combine(until + timedelta(days=1), time(0), tz)
    warnings, shifts, siblings = simulate.from_database(session, since=start, until=end, roster_day=roster_day)
    mine = set(session.scalars(select(Area.code).where(Area.level == Level.STATION, scope.area_clause())))
    warnings = [w for w in warnings if w.station in mine]
    shifts = [s for s in shifts if s.station in mine]
    results = {name: simulate.simulate(warnings, shifts, policy=name, seed=seed, siblings=siblings)
               for name in ("fifo", "ours")} if warnings else {}
    same = bool(results) and all(
        (f.p50, f.p90, f.p95, f.unreached) == (o.p50, o.p90, o.p95, o.unreached)
        for g, f in results["fifo"].by_grade.items() for o in [results["ours"].by_grade.get(g, f)])
    return {"warnings": len(warnings), "stations": len({w.station for w in warnings}),
            "dissuaders": len({(s.station, s.dissuader) for s in shifts}), "results": results, "same": same}


def _chart(results: dict) -> dict:
    return {"grades": [label for _, label in GRADES],
            "series": [{"name": policy.POLICY_LABELS[name], "p90": [
                None if math.isinf(r.by_grade[g].p90) else round(r.by_grade[g].p90, 1) if g in r.by_grade else None
                for g, _ in GRADES]} for name, r in results.items()]}


@router.get("/dispatch/replay")
def replay_page(request: Request, db: Db, since: str = Query("", max_length=10), until: str = Query("", max_length=10),
                roster_day: str = Query("", max_length=10), seed: int = Query(0, ge=0, le=1_000_000),
                run: str = Query("", max_length=2), scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    today = utcnow().astimezone(zone()).date()
    form = {"since": since, "until": until, "roster_day": roster_day, "seed": seed}
    error, out = "", None
    try:
        d_since = _day(since, today - timedelta(days=7), "since", "开始日期")
        d_until = _day(until, today - timedelta(days=1), "until", "结束日期")
        d_roster = _day(roster_day, today, "roster_day", "值班表日期")
        form.update(since=d_since.isoformat(), until=d_until.isoformat(), roster_day=d_roster.isoformat())
        if run:
            out = replay(db, scope, since=d_since, until=d_until, roster_day=d_roster, seed=seed)
    except Invalid as exc:
        error = exc.message
    return render(request, "dispatch/replay.html", status_code=422 if error else 200, form=form, error=error,
                  out=out, chart=_chart(out["results"]) if out and out["results"] else None, GRADE_ROWS=GRADES,
                  minutes=_minutes, POLICY_LABELS=policy.POLICY_LABELS)
