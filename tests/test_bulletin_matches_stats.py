"""The 通报 and the 案件研判 page say the same: for the demo county's month, the bulletin's headline figures, its
township ranking and its type breakdown equal what the statistics service gives for the same node and period."""

from __future__ import annotations

from sqlalchemy import select

from fanzha.cases.stats import periods as stat_periods
from fanzha.cases.stats.rollup import rebuild
from fanzha.cases.stats.service import case_stats
from fanzha.db import session_scope
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.reports import periods as report_periods
from fanzha.reports.provider import CaseTableProvider


def test_bulletin_figures_equal_the_statistics(database):
    with session_scope() as s:
        rebuild(s.connection())
        scope = Scope.system(s)
        city = s.scalar(select(Area).where(Area.chain == "admin", Area.parent_id.is_(None)).order_by(Area.id))
        for spec in ("2026-10", "2026-Q3"):
            bulletin = CaseTableProvider().figures(s, scope, report_periods.parse(spec), city)
            stats = case_stats(s, scope, area=city, period=stat_periods.parse(spec))
            assert stats.totals.cases > 0, spec
            assert (bulletin.cases.current, bulletin.cases.previous, bulletin.cases.last_year) == \
                (stats.totals.cases, stats.previous_totals.cases, stats.year_ago_totals.cases), spec
            assert bulletin.loss.current == stats.totals.loss and bulletin.loss.last_year == stats.year_ago_totals.loss
            assert {t.key: t.cases for t in bulletin.by_type if t.cases} == \
                {r.key: r.totals.cases for r in stats.breakdowns["type"].rows if r.totals.cases}
        # A county's bulletin ranks its townships, as the statistics page ranks a county's children.
        county = s.scalar(select(Area).where(Area.chain == "admin", Area.level == "county").order_by(Area.code))
        bulletin = CaseTableProvider().figures(s, scope, report_periods.parse("2026-Q3"), county)
        stats = case_stats(s, scope, area=county, period=stat_periods.parse("2026-Q3"))
        assert bulletin.by_area and {r.name: (r.cases, r.cases_last_year) for r in bulletin.by_area} == \
            {r.name: (r.totals.cases, r.yoy.base) for r in stats.children}
