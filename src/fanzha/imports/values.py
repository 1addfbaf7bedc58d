"""Parsing the cell values real exports contain: Excel serial dates, text dates, numbers stored as text."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from fanzha.config import get_settings

_EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_PATTERNS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S", "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
)
_SERIAL = re.compile(r"\d{5}(\.\d+)?")
_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[时:：](\d{1,2})(?:[分:：](\d{1,2})秒?|分)?)?$")


def clean(value: object) -> str:
    """A cell as trimmed text: full-width letters and digits folded, Excel's float artefacts removed."""
    text = clean_text(value)
    if text.isascii():  # NFKC leaves ASCII as it is: most cells (codes, dates, numbers) skip the fold
        return text
    return unicodedata.normalize("NFKC", text).strip()


def clean_text(value: object) -> str:
    """A free-text cell (a name, an address, a narrative, a note) as it was written, trimmed: NFKC would also turn
    its Chinese punctuation into ASCII (，→ , （）→ () ：→ :) and … into ..., and bulletins quote such text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_datetime(value: object) -> datetime:
    """Local (Beijing) wall time in the cell → aware UTC. Raises ValueError with a Chinese reason."""
    result = _parse_datetime(value)
    if not 1990 <= result.year <= 2100:
        raise ValueError(f"时间超出合理范围（1990—2100年）：{clean(value)}")
    return result


def _parse_datetime(value: object) -> datetime:
    tz = _zone(get_settings().timezone)
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None) if value.tzinfo is None else None
        try:
            return (naive.replace(tzinfo=tz) if naive else value).astimezone(UTC)
        except OverflowError as exc:
            raise ValueError(f"无法识别的时间：{value}") from exc
    if isinstance(value, date):
        try:
            return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC)
        except OverflowError as exc:
            raise ValueError(f"无法识别的时间：{value}") from exc
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value), tz)
    text = clean(value)
    if not text:
        raise ValueError("时间为空")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":  # the common export form, parsed without strptime
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            try:
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
            except OverflowError as exc:
                raise ValueError(f"无法识别的时间：{text}") from exc
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text), tz)
    if "T" in text or "+" in text[10:] or text.endswith("Z"):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            try:
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
            except OverflowError as exc:
                raise ValueError(f"无法识别的时间：{text}") from exc
    m = _CN_DATE.match(text)
    if m:
        y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
        try:
            return datetime(y, mo, d, h, mi, s, tzinfo=tz).astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"无法识别的时间：{text}") from exc
    for pattern in _DATE_PATTERNS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=tz).astimezone(UTC)
        except (ValueError, OverflowError):
            continue
    raise ValueError(f"无法识别的时间：{text}")


def _from_serial(serial: float, tz: tzinfo) -> datetime:
    if not 1 <= serial < 2958466:
        raise ValueError(f"无法识别的时间：{serial}")
    local = _EXCEL_EPOCH + timedelta(days=serial)
    local = local.replace(microsecond=0) + timedelta(seconds=round(local.microsecond / 1e6))
    return local.replace(tzinfo=tz).astimezone(UTC)


def parse_int(value: object, *, name: str) -> int:
    text = clean(value).replace(",", "")
    if not text:
        return 0
    try:
        number = float(text)
    except ValueError as exc:
        raise ValueError(f"{name} 不是数字：{text}") from exc
    if number < 0 or not number.is_integer():
        raise ValueError(f"{name} 应为非负整数：{text}")
    return int(number)
