"""Periods (时间段) of every figure — a day, an ISO week, a month, a quarter, a year or a custom range — with the
periods each is compared with: 环比 (`previous`) and 同比 (`year_ago`).

One rule for 案件研判, its API and CLI, bulletins, the map, the wall screen and assessment; docs/case-stats.md
("Periods, 环比 and 同比") states it for users. A period is a run of local calendar days (FANZHA_TIMEZONE):
**`start` and `end` are both included**. `end_exclusive` is the day after `end`, and `bounds()` gives
[midnight starting `start`, midnight after `end`) as aware datetimes, the half-open range queries use.

* 环比: the period of the same kind just before — the day, ISO week, calendar month, quarter or year before; for a
  custom range the same number of days ending the day before it starts.
* 同比: the same period a year earlier — the same date (29 February → 28 February), the same ISO week number of the
  previous ISO year (week 53 → week 52 when that year has only 52), the same month (all of its days: February
  2025 → 1–29 February 2024), quarter or year; a custom range with both ends moved back a year (29 February → 28
  February, and an end on the last day of February → the last day of February).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fanzha.common.errors import Invalid
from fanzha.common.localtime import day_start, local_day

KINDS = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年", "custom": "自定义"}
QUARTER_NAMES = "一二三四"
FIRST, LAST = date(2000, 1, 1), date(2100, 12, 31)
MAX_DAYS = 3660  # ten years
FORMS = "2026-10-05（日）、2026-W41（周）、2026-10（月）、2026-Q3（季度）、2026（年）或 2025-12-15..2026-01-14（自定义）"


def month_end(d: date) -> date:
    """The last day of d's month."""
    return add_months(d, 1) - timedelta(days=1)


def add_months(d: date, months: int) -> date:
    """The first of the month `months` after d's month."""
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


def shift_year(d: date, years: int = -1, *, end: bool = False) -> date:
    """d moved by whole years; 29 February → 28 February, and (for a range's end) the last day of February → the
    last day of February."""
    if end and d.month == 2 and d == month_end(d):
        return month_end(date(d.year + years, 2, 1))
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return date(d.year + years, 2, 28)


def iso_weeks(iso_year: int) -> int:
    """52 or 53: 28 December always lies in the last ISO week of its year."""
    return date(iso_year, 12, 28).isocalendar().week


@dataclass(frozen=True)
class Period:
    """Local calendar days `start`..`end`, both included, of one kind (KINDS)."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        """The day after the last one: for comparisons written as start <= day < end_exclusive."""
        return self.end + timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware local datetimes: midnight starting the first day, midnight after the last."""
        return day_start(self.start), day_start(self.end_exclusive)

    @property
    def year(self) -> int:
        """The year the period belongs to: the ISO year for a week (2026-W01 starts on 29 December 2025)."""
        return self.start.isocalendar().year if self.kind == "week" else self.start.year

    @property
    def spec(self) -> str:
        """The written form, which `parse` reads back: 2026-10-05, 2026-W41, 2026-10, 2026-Q3, 2026 or
        2025-12-15..2026-01-14."""
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

    @property
    def label(self) -> str:
        """In words: 2026年10月5日, 2026年第41周（10月5日至10月11日）, 2026年第53周（2026年12月28日至2027年1月3日）,
        2026年10月, 2026年第三季度, 2026年, 2025年12月15日至2026年1月14日."""
        s, e = self.start, self.end
        if self.kind == "day":
            return _cn(s)
        if self.kind == "week":
            iso = s.isocalendar()
            days = f"{s.month}月{s.day}日至{e.month}月{e.day}日" if s.year == e.year else f"{_cn(s)}至{_cn(e)}"
            return f"{iso.year}年第{iso.week}周（{days}）"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年第{QUARTER_NAMES[(s.month - 1) // 3]}季度"
        if self.kind == "year":
            return f"{s.year}年"
        return f"{_cn(s)}至{_cn(e)}"

    def previous(self) -> Period:
        """环比: the period just before, of the same kind (a custom range: of the same number of days)."""
        s = self.start
        if self.kind == "month":
            return month(add_months(s, -1))
        if self.kind == "quarter":
            return quarter(add_months(s, -3))
        if self.kind == "year":
            return year(s.year - 1)
        n = self.days  # day, week (7) and custom
        return Period(self.kind, s - timedelta(days=n), s - timedelta(days=1))

    def year_ago(self) -> Period:
        """同比: the same period a year earlier (module docstring)."""
        s = self.start
        if self.kind == "day":
            d = shift_year(s)
            return Period("day", d, d)
        if self.kind == "week":
            iso = s.isocalendar()
            return week(iso.year - 1, min(iso.week, iso_weeks(iso.year - 1)))
        if self.kind == "month":
            return month(date(s.year - 1, s.month, 1))
        if self.kind == "quarter":
            return quarter(date(s.year - 1, s.month, 1))
        if self.kind == "year":
            return year(s.year - 1)
        return Period("custom", shift_year(s), shift_year(self.end, end=True))


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def day(d: date) -> Period:
    return Period("day", d, d)


def week(iso_year: int, number: int) -> Period:
    monday = date.fromisocalendar(iso_year, number, 1)
    return Period("week", monday, monday + timedelta(days=6))


def month(first: date) -> Period:
    first = first.replace(day=1)
    return Period("month", first, month_end(first))


def quarter(first: date) -> Period:
    first = date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    return Period("quarter", first, add_months(first, 3) - timedelta(days=1))


def year(y: int) -> Period:
    return Period("year", date(y, 1, 1), date(y, 12, 31))


def custom(start: date, end: date) -> Period:
    return Period("custom", start, end)


_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|至)\s*(\d{4}-\d{1,2}-\d{1,2})$")


def _date(text: str) -> date:
    m = _DAY.match(text.strip())
    if not m:
        raise ValueError(text)
    return date(int(m[1]), int(m[2]), int(m[3]))


def parse(spec: str = "", since: str = "", until: str = "", *, today: date | None = None) -> Period:
    """A period from its written form (`Period.spec`: 2026-10-05, 2026-W41, 2026-10, 2026-Q3, 2026,
    2025-12-15..2026-01-14; also 2026Q3, 2026w41, 2026-1), or a custom range from `since`/`until` (both included).
    Nothing given: the last complete month before `today` (the local date by default)."""
    spec = (spec or "").strip()
    try:
        if since or until:
            if not (since and until):
                raise Invalid("自定义时间段须同时填写开始和结束日期")
            p = custom(_date(since), _date(until))
        elif not spec:
            p = current("month", today or local_day(datetime.now(UTC)))
        elif m := _RANGE.match(spec):
            p = custom(_date(m[1]), _date(m[2]))
        elif m := _DAY.match(spec):
            p = day(_date(spec))
        elif m := _WEEK.match(spec):
            if not 1 <= int(m[2]) <= iso_weeks(int(m[1])):
                raise Invalid(f"时间段格式不对：{m[1]} 年只有 {iso_weeks(int(m[1]))} 周（ISO 周）")
            p = week(int(m[1]), int(m[2]))
        elif m := _MONTH.match(spec):
            if not 1 <= int(m[2]) <= 12:
                raise Invalid(f"时间段格式不对：{spec} 的月份应为 1–12")
            p = month(date(int(m[1]), int(m[2]), 1))
        elif m := _QUARTER.match(spec):
            p = quarter(date(int(m[1]), 3 * int(m[2]) - 2, 1))
        elif m := _YEAR.match(spec):
            p = year(int(m[1]))
        else:
            raise ValueError(spec)
    except ValueError as exc:  # also a 13th month, 30 February, week 53 of a 52-week year
        raise Invalid(f"时间段格式应为 {FORMS}") from exc
    if not (FIRST <= p.start <= p.end <= LAST):
        raise Invalid("日期应在 2000 年至 2100 年之间，且开始不晚于结束")
    if p.days > MAX_DAYS:
        raise Invalid("时间段最长十年")
    return p


def current(kind: str, today: date) -> Period:
    """The latest complete period of `kind` before `today`: what a bulletin written today is about (yesterday, last
    week, last month, last quarter, last year)."""
    if kind == "day":
        return day(today - timedelta(days=1))
    if kind == "week":
        iso = (today - timedelta(days=7)).isocalendar()
        return week(iso.year, iso.week)
    if kind == "month":
        return month(add_months(today, -1))
    if kind == "quarter":
        return quarter(add_months(quarter(today).start, -3))
    if kind == "year":
        return year(today.year - 1)
    raise Invalid(f"没有“{kind}”这种时间段")
