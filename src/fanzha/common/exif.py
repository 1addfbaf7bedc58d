"""When a photo was taken, as its camera wrote it (EXIF DateTimeOriginal), read with Pillow; None when absent."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003  # "YYYY:MM:DD HH:MM:SS", the camera's local time
OFFSET_TIME_ORIGINAL = 0x9011  # "+08:00", when the camera wrote it
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def taken_at(data: bytes, zone: str) -> datetime | None:
    """The capture time in UTC. Without an offset in the file the camera's clock is taken to be in `zone` (the
    deployment's zone: phones write local time). A file without EXIF, or with a date that does not parse, gives None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            tags = image.getexif().get_ifd(EXIF_IFD)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    text = _text(tags.get(DATE_TIME_ORIGINAL))
    try:
        local = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _OFFSET.match(_text(tags.get(OFFSET_TIME_ORIGINAL)))
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        tz = timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
        return local.replace(tzinfo=tz).astimezone(UTC)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip().strip("\x00")
