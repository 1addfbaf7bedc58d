"""Amounts of money as users type them: 95,500 / 9.55万 / ¥95500元 → Decimal, finite, within a sane range."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal("1e12")


def parse_money(value: object, *, name: str = "金额") -> Decimal | None:
    """None for a blank; ValueError with a Chinese reason for anything that is not a plausible amount."""
    text = str(value if value is not None else "").strip()
    for junk in (",", "，", "¥", "￥", " "):
        text = text.replace(junk, "")
    text = text.removesuffix("元")
    if not text:
        return None
    factor = Decimal(1)
    if text.endswith("万"):
        factor, text = Decimal(10000), text[:-1]
    try:
        amount = Decimal(text) * factor
    except InvalidOperation as exc:
        raise ValueError(f"{name} 不是金额：{value}") from exc
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ValueError(f"{name} 超出范围：{value}")
    return amount.quantize(Decimal("0.01"))
