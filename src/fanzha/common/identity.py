"""Chinese resident ID numbers (身份证号) and mobile numbers: parsing, checking and masking.

Each parser returns the normalised value or raises ValueError with a Chinese reason that
import error files and API errors show as they are.
"""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_FIXED = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_SPACE = re.compile(r"\s")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")


def id_check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def _birth(value: str) -> date:
    try:
        return date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise ValueError("身份证号 出生日期无效") from exc


def normalize_id_number(raw: str) -> str:
    """18-digit ID with upper-case X; 15-digit (first-generation) IDs are widened to 18."""
    value = _SPACE.sub("", str(raw)).upper()
    if _ID15.match(value):
        widened = value[:6] + "19" + value[6:]
        _birth(widened[6:14])
        return widened + id_check_digit(widened)
    if not _ID18.match(value):
        raise ValueError("身份证号 位数或字符不对（应为15位或18位）")
    _birth(value[6:14])
    if id_check_digit(value[:17]) != value[17]:
        raise ValueError("身份证号 校验位错误")
    return value


def id_number_birth_date(id_number: str) -> date:
    return _birth(id_number[6:14])


def id_number_gender(id_number: str) -> str:
    """'男' or '女' from the 17th digit."""
    return "男" if int(id_number[16]) % 2 else "女"


def normalize_phone(raw: str) -> str:
    """Mobile numbers lose +86/0086/86, spaces and dashes; fixed lines keep their area code."""
    value = _PHONE_JUNK.sub("", str(raw))
    if value.endswith(".0"):  # Excel stored the number as a float
        value = value[:-2]
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    if len(value) == 13 and value.startswith("86"):
        value = value[2:]
    if _MOBILE.match(value):
        return value
    if _FIXED.match(value):
        return value.replace("-", "")
    raise ValueError("手机号 格式不对（应为11位手机号或带区号的固定电话）")


def mask_id_number(value: str | None) -> str:
    """The region (first 6 digits) only: the birth date, sequence and check digit stay hidden (see privacy.py)."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 6) if len(value) >= 12 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_name(value: str | None) -> str:
    """张三丰 → 张某某 keeps the surname, as published case notes do (张某)."""
    if not value:
        return ""
    return value[0] + "某" * max(1, len(value) - 1)
