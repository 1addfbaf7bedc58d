"""How numbers read in a bulletin: 万元 with two decimals, 上升/下降 with one-decimal percentages."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from fanzha.common.localtime import zone


def wan(amount) -> str:
    """95500 → 9.55万元; under 1万 in 元 (3200元) — bulletins quote large losses in 万元."""
    value = Decimal(amount or 0)
    if value >= 10_000:
        return f"{(value / 10_000).quantize(Decimal('0.01'), ROUND_HALF_UP)}万元"
    return f"{value.quantize(Decimal('1'), ROUND_HALF_UP)}元"


def wan_number(amount) -> str:
    """For table cells headed （万元）: 9.55."""
    return str((Decimal(amount or 0) / 10_000).quantize(Decimal("0.01"), ROUND_HALF_UP))


def pct(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{Decimal(str(share * 100)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def chg(ratio: float | None) -> str:
    """A change as words: 上升12.5% / 下降3.0% / 持平 / 无可比基数 (the base period had none)."""
    if ratio is None:
        return "无可比基数"
    if abs(ratio) < 0.0005:
        return "持平"
    return ("上升" if ratio > 0 else "下降") + pct(abs(ratio))


def signed_pct(ratio: float | None) -> str:
    """For table cells: +12.5% / −3.0% / —."""
    if ratio is None:
        return "—"
    return ("+" if ratio >= 0 else "-") + pct(abs(ratio))


def mdate(at: datetime) -> str:
    local = at.astimezone(zone()) if at.tzinfo else at
    return f"{local.month}月{local.day}日"


def counts(mapping: dict[str, int], unit: str = "人") -> str:
    """{'男': 3, '女': 5} → 男3人、女5人."""
    return "、".join(f"{k}{v}{unit}" for k, v in mapping.items()) or "无"


FILTERS = {"wan": wan, "wan_number": wan_number, "pct": pct, "chg": chg, "signed_pct": signed_pct, "mdate": mdate,
           "counts": counts}
