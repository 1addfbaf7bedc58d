"""Local time: the configured zone (the `timezone` setting, Beijing time by default), its days and midnights.

Every domain asks here instead of writing `ZoneInfo(get_settings().timezone)` itself.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fanzha.config import get_settings


def zone() -> ZoneInfo:
    """The configured time zone."""
    return ZoneInfo(get_settings().timezone)


def local_day(now: datetime) -> date:
    """The local calendar day of an aware datetime."""
    return now.astimezone(zone()).date()


def day_start(day: date) -> datetime:
    """Midnight of a local day, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=zone())


def days(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
