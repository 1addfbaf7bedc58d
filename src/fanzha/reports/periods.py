"""Bulletin periods (日/周/月/季) from their written form, with the period before (环比) and a year before (同比)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fanzha.common.errors import Invalid
from fanzha.config import get_settings

KINDS = {"daily": "日", "weekly": "周", "monthly": "月", "quarterly": "季度"}
QUARTER_NAMES = "一二三四"


@dataclass(frozen=True)
class Period:
    kind: str  # daily / weekly / monthly / quarterly
    start: date
    end: date  # exclusive
    code: str  # as written: 2026-10-05, 2026-W41, 2026-10, 2026-Q3

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "daily":
            return f"{s.year}年{s.month}月{s.day}日"
        if self.kind == "weekly":
            e = self.last_day
            return f"{s.isocalendar().year}年第{s.isocalendar().week}周（{s.month}月{s.day}日至{e.month}月{e.day}日）"
        if self.kind == "monthly":
            return f"{s.year}年{s.month}月"
        return f"{s.year}年第{QUARTER_NAMES[(s.month - 1) // 3]}季度"

    @property
    def short_label(self) -> str:
        """Without the year, for sentences such as 较上月."""
        return {"daily": "日", "weekly": "周", "monthly": "月", "quarterly": "季度"}[self.kind]

    @property
    def year(self) -> int:
        return self.start.isocalendar().year if self.kind == "weekly" else self.start.year

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware local datetimes (periods are cut on the local calendar)."""
        tz = ZoneInfo(get_settings().timezone)
        return datetime.combine(self.start, time.min, tz), datetime.combine(self.end, time.min, tz)

    def previous(self) -> Period:
        """The period just before (环比)."""
        if self.kind == "daily":
            return parse((self.start - timedelta(days=1)).isoformat())
        if self.kind == "weekly":
            return _week(self.start - timedelta(days=7))
        if self.kind == "monthly":
            prev = self.start - timedelta(days=1)
            return parse(f"{prev.year}-{prev.month:02d}")
        prev = self.start - timedelta(days=1)
        return parse(f"{prev.year}-Q{(prev.month - 1) // 3 + 1}")

    def last_year(self) -> Period:
        """The same period a year before (同比): the same date (29 Feb → 28 Feb), ISO week number (week 53 → 52),
        month or quarter."""
        s = self.start
        if self.kind == "daily":
            day = s.day if not (s.month == 2 and s.day == 29) else 28
            return parse(date(s.year - 1, s.month, day).isoformat())
        if self.kind == "weekly":
            iso = s.isocalendar()
            week = iso.week
            while True:
                try:
                    return _week(date.fromisocalendar(iso.year - 1, week, 1))
                except ValueError:
                    week -= 1
        if self.kind == "monthly":
            return parse(f"{s.year - 1}-{s.month:02d}")
        return parse(f"{s.year - 1}-Q{(s.month - 1) // 3 + 1}")


def _week(day: date) -> Period:
    iso = day.isocalendar()
    start = date.fromisocalendar(iso.year, iso.week, 1)
    return Period("weekly", start, start + timedelta(days=7), f"{iso.year}-W{iso.week:02d}")


def parse(text: str) -> Period:
    """2026-10-05 (day), 2026-W41 (ISO week), 2026-10 (month), 2026-Q3 (quarter)."""
    text = (text or "").strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            d = date(int(m[1]), int(m[2]), int(m[3]))
            period = Period("daily", d, d + timedelta(days=1), d.isoformat())
        elif m := re.fullmatch(r"(\d{4})-W(\d{1,2})", text):
            period = _week(date.fromisocalendar(int(m[1]), int(m[2]), 1))
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            y, mo = int(m[1]), int(m[2])
            start = date(y, mo, 1)
            period = Period("monthly", start, date(y + mo // 12, mo % 12 + 1, 1), f"{y}-{mo:02d}")
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            y, q = int(m[1]), int(m[2])
            start = date(y, 3 * q - 2, 1)
            period = Period("quarterly", start, date(y + q // 4, (3 * q) % 12 + 1, 1), f"{y}-Q{q}")
        else:
            raise ValueError(text)
    except ValueError as exc:
        raise Invalid("期间格式应为 2026-10-05（日）、2026-W41（周）、2026-10（月）或 2026-Q3（季度）") from exc
    if not 2000 <= period.start.year <= 2100:
        raise Invalid("期间应在 2000 年至 2100 年之间")
    return period


def current(kind: str, today: date) -> Period:
    """The latest complete period of a kind before `today` (what a bulletin written today is about)."""
    if kind == "daily":
        return parse((today - timedelta(days=1)).isoformat())
    if kind == "weekly":
        return _week(today - timedelta(days=7))
    if kind == "monthly":
        prev = today.replace(day=1) - timedelta(days=1)
        return parse(f"{prev.year}-{prev.month:02d}")
    q_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    prev = q_start - timedelta(days=1)
    return parse(f"{prev.year}-Q{(prev.month - 1) // 3 + 1}")
