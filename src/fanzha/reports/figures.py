"""BulletinFigures: everything a bulletin says in numbers — the one interface between whoever computes the figures
(a provider, see provider.py) and the bulletin template and charts, which only read it. What each case figure
counts is `cases.stats.definitions`; `basis` says it in words.

Amounts are in yuan (Decimal); shares and changes are fractions (0.125 = 12.5 %), None where the base is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from fanzha.cases.stats import definitions
from fanzha.common.periods import Period


def change(current: float | Decimal, base: float | Decimal | None) -> float | None:
    """(current − base) / base; None when there is no base to compare with."""
    if base is None or not base:
        return None
    return float((Decimal(current) - Decimal(base)) / Decimal(base))


@dataclass
class Compared:
    """One figure for the period, the period before (环比) and the same period a year before (同比)."""

    current: Decimal | int
    previous: Decimal | int
    last_year: Decimal | int

    @property
    def mom(self) -> float | None:  # 环比
        return change(self.current, self.previous)

    @property
    def yoy(self) -> float | None:  # 同比
        return change(self.current, self.last_year)


@dataclass
class TypeRow:
    """One fraud type: cases and losses, their shares of the period's totals."""

    key: str
    label: str
    cases: int
    loss: Decimal
    case_share: float | None = None
    loss_share: float | None = None


@dataclass
class AreaRow:
    """One township (or station, or community) in a ranking."""

    area_id: int
    code: str
    name: str
    cases: int
    loss: Decimal
    cases_last_year: int = 0
    population: int = 0
    loss_share: float | None = None
    solved: int = 0  # by 破案时间
    suspects: int = 0  # by 抓获时间

    @property
    def yoy(self) -> float | None:
        return change(self.cases, self.cases_last_year)

    @property
    def per_10k(self) -> float | None:  # 万人发案率
        return self.cases * 10_000 / self.population if self.population else None


@dataclass
class WarningFigures:
    """反诈中心处理情况: from the warnings and the case actions of the period."""

    warnings: int = 0
    signed: int = 0
    sign_rate: float | None = None
    timely_sign_rate: float | None = None
    dissuaded: int = 0
    success_rate: float | None = None
    face_rate: float | None = None
    overdue: int = 0
    overdue_rate: float | None = None
    loss_avoided: Decimal = Decimal(0)
    loss_avoided_estimated: Decimal = Decimal(0)  # the part taken from 拟转账金额 (warnings.metrics.ESTIMATED_TEXT)
    estimated_text: str = ""
    # 反诈中心处理情况: 查询/止付/冻结 answered successfully in the period (cases/requests.counts)
    queries: int = 0  # accounts queried (快速查询)
    stop_payments: int = 0  # 止付 done
    stop_amount: Decimal = Decimal(0)
    freezes: int = 0  # 冻结 done
    frozen_amount: Decimal = Decimal(0)


@dataclass
class TypicalCase:
    """A case told without the victim's name (典型案例)."""

    when: datetime
    area: str
    fraud_type: str
    loss: Decimal
    victim: str  # e.g. 某女，62岁
    summary: str


@dataclass
class BulletinFigures:
    period: Period
    area_code: str | None
    area_name: str  # 全市 / the area's name
    cases: Compared
    loss: Compared
    recovered: Decimal = Decimal(0)
    solved: int = 0  # cases solved in the period (破案时间), whenever filed
    suspects: int = 0  # suspects caught in the period (抓获时间)
    solved_compared: Compared | None = None
    suspects_compared: Compared | None = None
    basis: str = definitions.basis(("cases", "loss", "recovered", "solved", "suspects"))  # 统计口径, in words
    unplaced: int | None = None  # a whole-jurisdiction bulletin: the period's cases on no community (not counted)
    by_type: list[TypeRow] = field(default_factory=list)  # largest first
    by_area: list[AreaRow] = field(default_factory=list)  # the area's sub-areas (乡镇/街道), most cases first
    area_level_label: str = "乡镇（街道）"
    by_station: list[AreaRow] = field(default_factory=list)  # 派出所, most cases first
    areas_without_cases: list[str] = field(default_factory=list)
    loss_bands: dict[str, int] = field(default_factory=dict)  # ≥10万 / 5–10万 / 1–5万 / <1万 → cases
    victims_by_sex: dict[str, int] = field(default_factory=dict)
    victims_by_age: dict[str, int] = field(default_factory=dict)
    victims_by_group: dict[str, int] = field(default_factory=dict)  # 重点人群 (org.enums.GROUPS labels)
    warnings: WarningFigures | None = None  # None when the reader may not see warnings
    typical_cases: list[TypicalCase] = field(default_factory=list)

    @property
    def top_area(self) -> AreaRow | None:
        return self.by_area[0] if self.by_area and self.by_area[0].cases else None
