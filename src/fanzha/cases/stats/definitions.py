"""What each case figure counts (统计口径): the one definition read by 案件研判 (page, API, CLI), bulletins, the map,
the wall screen and assessment, and the words each of them shows beside the figures.

Each figure is counted by one time of the case, whose local day places the case in a period (common.periods):
立案数 and the amounts by 立案时间 (`filed_at`), 破案数 by 破案时间 (`solved_at`), 抓获犯罪嫌疑人 by 抓获时间
(`caught_at`). The roll-up (rollup.py) adds each figure on the day of its time and the list behind a figure
(service.behind_clause) selects by the same time, so the two agree by construction. docs/case-stats.md, "Which
cases a figure counts", says it for users. Changing a figure's time changes stored cells: it needs a migration that
rebuilds the roll-up, and a line in the release notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fanzha.common.ages import AGE_BAND_LABELS, band_sql

TIMES = {"filed_at": "立案时间", "solved_at": "破案时间", "caught_at": "抓获时间"}
EVENTS = {"filed_at": "立案", "solved_at": "破案", "caught_at": "抓获"}


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: str
    counted_by: str  # the column of `cases` whose local day places a case in a period (TIMES)
    summed: str = ""  # the column summed ('' = cases counted)

    @property
    def time_label(self) -> str:
        return TIMES[self.counted_by]

    @property
    def event(self) -> str:
        """立案 / 破案 / 抓获: the event the figure counts."""
        return EVENTS[self.counted_by]

    @property
    def basis(self) -> str:
        """破案数按破案时间统计."""
        return f"{self.label}按{self.time_label}统计"


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("cases", "立案数", "起", "filed_at"),
    Measure("loss", "损失金额", "元", "filed_at", "loss_amount"),
    Measure("recovered", "追回金额", "元", "filed_at", "recovered_amount"),
    Measure("frozen", "冻结金额", "元", "filed_at", "frozen_amount"),
    Measure("solved", "破案数", "起", "solved_at"),
    Measure("suspects", "抓获犯罪嫌疑人", "人", "caught_at", "suspects_caught"),
)}
# Recovered and frozen amounts have no date of their own in the register.
AMOUNTS_NOTE = "追回、冻结金额没有单独的日期，随案件的立案时间计入（某月的追回金额是该月立案的案件至今已追回的金额）"
RATE_NOTE = "万人发案率 = 立案数 ÷（常住人口 ÷ 10000），不折算为年率"


def basis(keys=tuple(MEASURES)) -> str:
    """The bases of these figures in one sentence, grouped by time: 立案数、损失金额按立案时间统计；破案数按破案时间统计."""
    by_time: dict[str, list[str]] = {}
    for key in keys:
        m = MEASURES[key]
        by_time.setdefault(m.counted_by, []).append(m.label)
    return "；".join(f"{'、'.join(labels)}按{TIMES[t]}统计" for t, labels in by_time.items())


# The headline four every report gives (立案、损失、破案、抓获) and the sentence that goes with them.
HEADLINE = ("cases", "loss", "solved", "suspects")
HEADLINE_BASIS = basis(HEADLINE)


@dataclass(frozen=True)
class LossBand:
    key: str
    label: str
    floor: Decimal  # the band holds losses >= floor (and below the next band's floor)


# 损失金额段, as bulletins publish them (largest first).
LOSS_BANDS = (
    LossBand("ge100k", "10万元以上", Decimal(100_000)),
    LossBand("50k_100k", "5万（含）—10万元", Decimal(50_000)),
    LossBand("10k_50k", "1万（含）—5万元", Decimal(10_000)),
    LossBand("lt10k", "1万元以下", Decimal(0)),
)
LOSS_BAND_LABELS = {b.key: b.label for b in LOSS_BANDS}
AGE_BANDS = AGE_BAND_LABELS  # common.ages: one set of age bands for statistics, bulletins and person pages

# The bands as SQL over a row alias {c}, so the roll-up and the list behind a figure cut them alike.
AGE_BAND_SQL = band_sql("{c}.victim_age")
LOSS_BAND_SQL = ("CASE " + " ".join(f"WHEN {{c}}.loss_amount >= {int(b.floor)} THEN '{b.key}'" for b in LOSS_BANDS[:-1])
                 + f" ELSE '{LOSS_BANDS[-1].key}' END")
