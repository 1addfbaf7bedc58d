"""Periods of the case statistics: a day, an ISO week, a month, a quarter, a year or a custom range of local days,
with the period it is compared with for 环比 (the one before) and 同比 (the same one a year earlier).

Rules (docs/case-stats.md):
* 环比: the previous period of the same kind — the day, ISO week, calendar month, quarter or year before; for a custom
  range, the same number of days ending the day before it starts.
* 同比: a calendar period one year earlier (the month 2025-02 → 2024-02, all 29 days); a day or a custom range
  shifted by one year, where 29 February becomes 28 February, and a range ending on the last day of February ends on
  the last day of February a year earlier (2025-02-01..2025-02-28 → 2024-02-01..2024-02-29, as the month); a week
  → the week 52 weeks earlier (same weekdays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from fanzha.common.errors import Invalid
from fanzha.prevention.areas import tz

KIND_LABELS = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年", "custom": "自定义"}


def month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def add_months(d: date, months: int) -> date:
    """The first of the month `months` after d's month."""
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


def shift_year(d: date, years: int = -1, *, end: bool = False) -> date:
    """d moved by whole years; 29 Feb → 28 Feb, and (for a range's end) the last day of February → the last day of
    February."""
    if end and d.month == 2 and d == month_end(d):
        return month_end(date(d.year + years, 2, 1))
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return date(d.year + years, 2, 28)


@dataclass(frozen=True)
class Period:
    """Local calendar days start..end, both included."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "day":
            return f"{s.year}年{s.month}月{s.day}日"
        if self.kind == "week":
            iso = s.isocalendar()
            return f"{iso.year}年第{iso.week}周（{s.month}月{s.day}日—{self.end.month}月{self.end.day}日）"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{s.year}年"
        return f"{s.isoformat()} 至 {self.end.isoformat()}"

    @property
    def spec(self) -> str:
        """The string `parse` reads back (custom ranges: '2025-12-15..2026-01-14')."""
        s = self.start
        if self.kind == "day":
            return s.isoformat()
        if self.kind == "week":
            iso = s.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(s.year)
        return f"{s.isoformat()}..{self.end.isoformat()}"

    def previous(self) -> Period:
        """环比: the period before, of the same kind and (for a custom range) the same length."""
        s = self.start
        if self.kind == "month":
            p = add_months(s, -1)
            return Period("month", p, month_end(p))
        if self.kind == "quarter":
            p = add_months(s, -3)
            return Period("quarter", p, add_months(p, 3) - timedelta(days=1))
        if self.kind == "year":
            return Period("year", date(s.year - 1, 1, 1), date(s.year - 1, 12, 31))
        n = self.days
        return Period(self.kind, s - timedelta(days=n), s - timedelta(days=1))

    def year_ago(self) -> Period:
        """同比: the same period a year earlier."""
        s = self.start
        if self.kind == "month":
            p = date(s.year - 1, s.month, 1)
            return Period("month", p, month_end(p))
        if self.kind in ("quarter", "year"):
            return Period(self.kind, date(s.year - 1, s.month, 1), shift_year(self.end, end=True))
        if self.kind == "week":
            return Period("week", s - timedelta(weeks=52), self.end - timedelta(weeks=52))
        if self.kind == "day":
            d = shift_year(s)
            return Period("day", d, d)
        return Period("custom", shift_year(s), shift_year(self.end, end=True))

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware local datetimes: midnight of the first day, midnight after the last."""
        zone = tz()
        return datetime.combine(self.start, time(0), zone), datetime.combine(self.end + timedelta(days=1), time(0), zone)


def cover(start: date, end: date) -> list[tuple[str, date, date]]:
    """The fewest roll-up cells covering start..end: whole years ('y'), whole months ('m'), single days ('d'), as
    (grain, first cell key, last cell key) runs of consecutive keys."""
    runs: list[tuple[str, date, date]] = []
    d = start
    while d <= end:
        if d.month == 1 and d.day == 1 and date(d.year, 12, 31) <= end:
            grain, key, nxt = "y", d, date(d.year + 1, 1, 1)
        elif d.day == 1 and month_end(d) <= end:
            grain, key, nxt = "m", d, add_months(d, 1)
        else:
            grain, key, nxt = "d", d, d + timedelta(days=1)
        if runs and runs[-1][0] == grain:
            runs[-1] = (grain, runs[-1][1], key)
        else:
            runs.append((grain, key, key))
        d = nxt
    return runs


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.I)
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|至)\s*(\d{4}-\d{1,2}-\d{1,2})$")


def _day(text: str) -> date:
    y, m, d = (int(x) for x in text.split("-"))
    return date(y, m, d)


def parse(spec: str = "", since: str = "", until: str = "", *, today: date | None = None) -> Period:
    """A period from '2026-10' (month), '2026-Q3', '2026' (year), '2026-W43' (ISO week), '2026-10-05' (day),
    '2025-12-15..2026-01-14' (custom), or from since/until dates (custom, both included). Nothing given: the
    last full month before `today`."""
    spec = (spec or "").strip()
    try:
        if since or until:
            if not (since and until):
                raise Invalid("自定义时间段须同时填写开始和结束日期")
            p = Period("custom", _day(since.strip()), _day(until.strip()))
        elif not spec:
            first = add_months((today or datetime.now(tz()).date()).replace(day=1), -1)
            p = Period("month", first, month_end(first))
        elif m := _RANGE.match(spec):
            p = Period("custom", _day(m.group(1)), _day(m.group(2)))
        elif m := _MONTH.match(spec):
            first = date(int(m.group(1)), int(m.group(2)), 1)
            p = Period("month", first, month_end(first))
        elif m := _QUARTER.match(spec):
            first = date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
            p = Period("quarter", first, add_months(first, 3) - timedelta(days=1))
        elif m := _YEAR.match(spec):
            p = Period("year", date(int(spec), 1, 1), date(int(spec), 12, 31))
        elif m := _WEEK.match(spec):
            monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            p = Period("week", monday, monday + timedelta(days=6))
        else:
            d = _day(spec)
            p = Period("day", d, d)
    except (ValueError, TypeError) as exc:
        raise Invalid("时间段格式应为 2026-10、2026-Q3、2026、2026-W43、2026-10-05 或 2025-12-15..2026-01-14") from exc
    if not (date(2000, 1, 1) <= p.start <= p.end <= date(2100, 12, 31)):
        raise Invalid("日期应在 2000 年至 2100 年之间，且开始不晚于结束")
    if p.days > 3660:
        raise Invalid("时间段最长十年")
    return p
