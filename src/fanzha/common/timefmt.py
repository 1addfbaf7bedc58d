"""Showing times to people: Beijing time (or the configured zone), to the minute."""

from __future__ import annotations

from datetime import datetime

from fanzha.common.localtime import zone


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(zone())


def fmt_minute(dt: datetime | None) -> str:
    value = local(dt)
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
