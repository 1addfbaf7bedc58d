"""The named formula kinds of a scheme, as pure functions of the figures behind them (no database here).

Each returns `Points`: the points (None when the item cannot be scored: data missing, or a manual item not yet
scored), a one-line basis in Chinese that says how the points came about, and the figures used, so a page can show
them and link to the cases behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, TypeVar

from fanzha.assess.scheme import (
    CampaignCompletionParams,
    CaseChangeParams,
    ConditionParams,
    CountTargetParams,
    RankParams,
)


@dataclass(frozen=True)
class Points:
    points: Decimal | None
    basis: str
    figures: dict[str, Any] = field(default_factory=dict)  # JSON-like: stored with the score


def _round(value: Fraction | Decimal, decimals: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _pct(f: Fraction) -> str:
    """A percentage for people: 19.9%, 0.5%, 20%."""
    return f"{_round(f, 1).normalize():f}%"


def change_pct(this: int, last: int) -> Fraction | None:
    """r = (this − last) / last in percent, exact; None when last year had no case."""
    return None if last == 0 else Fraction(100 * (this - last), last)


def largest_fall(pairs: list[tuple[int | None, int | None]], p: CaseChangeParams) -> Fraction | None:
    """The pool's largest fall beyond the 平稳 band (a positive percentage), or None when nobody fell."""
    band = Fraction(p.stable_band_pct)
    falls = [-r for this, last in pairs if this is not None and last is not None
             and (r := change_pct(this, last)) is not None and -r > band]
    return max(falls) if falls else None


def case_change(this: int | None, last: int | None, pool_largest_fall: Fraction | None, p: CaseChangeParams,
                maximum: Decimal) -> Points:
    figures: dict[str, Any] = {"this": this, "last": last}
    if this is None or last is None:
        return Points(None, "缺少本期或上年同期发案数据，不能计分，请核实", figures)
    stable = Fraction(p.stable_points)
    r = change_pct(this, last)
    if r is None:  # last year 0 cases
        if this == 0:
            return Points(_round(stable, p.decimals), "上年同期 0 起、本期 0 起，同比平稳", figures)
        if p.zero_base == "cutoff":
            return Points(_round(Fraction(0), p.decimals),
                          f"上年同期 0 起、本期 {this} 起，按上升 {_pct(Fraction(p.rise_cutoff_pct))}（含）以上计，不得分", figures)
        pts = max(Fraction(0), stable - Fraction(p.per_case_points) * this)
        return Points(_round(pts, p.decimals),
                      f"上年同期 0 起、本期 {this} 起，每起减 {p.per_case_points} 分", figures)
    figures["change_pct"] = float(r)
    band = Fraction(p.stable_band_pct)
    if abs(r) <= band:
        return Points(_round(stable, p.decimals), f"同比 {_pct(r)}，属平稳", figures)
    if r > 0:
        if r >= Fraction(p.rise_cutoff_pct):
            return Points(_round(Fraction(0), p.decimals),
                          f"同比上升 {_pct(r)}，达到 {_pct(Fraction(p.rise_cutoff_pct))}（含）以上，不得分", figures)
        steps = {"ceil": Fraction(math.ceil(r)), "floor": Fraction(math.floor(r)), "exact": r}[p.rise_rounding]
        pts = max(Fraction(0), stable - steps * Fraction(p.points_per_pct))
        how = {"ceil": "不足 1 个百分点按 1 个百分点计", "floor": "按整百分点计", "exact": "按实际百分点计"}[p.rise_rounding]
        return Points(_round(pts, p.decimals),
                      f"同比上升 {_pct(r)}，{how}，减 {_round(steps * Fraction(p.points_per_pct), 2).normalize():f} 分", figures)
    fall = -r
    top = pool_largest_fall if pool_largest_fall is not None and pool_largest_fall >= fall else fall
    figures["pool_largest_fall_pct"] = float(top)
    full = Fraction(maximum)
    if fall == top:
        return Points(_round(full, p.decimals), f"同比下降 {_pct(fall)}，为同类降幅最高，记满分", figures)
    if p.fall_rule == "top_only":
        return Points(_round(stable, p.decimals), f"同比下降 {_pct(fall)}（同类最高降幅 {_pct(top)}），记平稳分", figures)
    pts = stable + (full - stable) * fall / top
    return Points(_round(pts, p.decimals),
                  f"同比下降 {_pct(fall)}，按同类最高降幅 {_pct(top)} 线性计分", figures)


def count_target(count: int | None, p: CountTargetParams, maximum: Decimal) -> Points:
    if count is None:
        return Points(None, "缺少数据，不能计分", {"count": None, "target": p.target})
    share = min(Fraction(1), Fraction(count, p.target))
    return Points(_round(Fraction(maximum) * share, p.decimals), f"完成 {count}，目标 {p.target}（{_pct(share * 100)}）",
                  {"count": count, "target": p.target})


CONDITION_TEXT = {
    "card_propaganda_done": ("已在六进活动中同步开展两卡宣传", "未见两卡宣传记录"),
    "no_card_problem": ("未发生两卡突出问题", "发生两卡突出问题"),
    "no_cases": ("本期无发案", "本期有发案"),
}


def condition(value: bool | None, p: ConditionParams, maximum: Decimal, *,
              figures: dict[str, Any] | None = None) -> Points:
    if value is None:
        return Points(None, "缺少数据，不能计分", figures or {})
    yes, no = CONDITION_TEXT[p.condition]
    return Points(maximum if value else Decimal(0), yes if value else f"{no}，不得分", figures or {})


def campaign_completion(done: int | None, target: int | None, p: CampaignCompletionParams, maximum: Decimal) -> Points:
    if not target or done is None:
        return Points(None, "本期无专项行动指标，不能计分", {"done": done, "target": target})
    share = min(Fraction(1), Fraction(done, target))
    return Points(_round(Fraction(maximum) * share, p.decimals), f"专项行动完成 {done}/{target}（{_pct(share * 100)}）",
                  {"done": done, "target": target})


K = TypeVar("K")


def rank(values: dict[K, Decimal | int | None], p: RankParams, maximum: Decimal) -> dict[K, Points]:
    """Fewest first; equal values share the better rank (1, 1, 3); rank 1 the maximum, the last rank min_points."""
    known = {k: Decimal(v) for k, v in values.items() if v is not None}
    ordered = sorted(known.values())
    n = len(ordered)
    label = "发案数" if p.metric == "cases" else "损失金额"
    out: dict[K, Points] = {}
    for key, value in values.items():
        if value is None:
            out[key] = Points(None, "缺少数据，不能计分", {"value": None})
            continue
        place = ordered.index(Decimal(value)) + 1
        step = Fraction(0) if n == 1 else (Fraction(maximum) - Fraction(p.min_points)) / (n - 1)
        pts = Fraction(maximum) - step * (place - 1)
        out[key] = Points(_round(pts, p.decimals), f"{label} {value}，{n} 个中排第 {place} 名（由少到多）",
                          {"value": float(value), "place": place, "of": n})
    return out
