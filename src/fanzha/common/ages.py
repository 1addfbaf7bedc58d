"""Ages and the one set of age bands (年龄段) used everywhere: 案件研判's breakdown (the victim's age at the loss),
the bulletin's 发案规律, and the person pages, where a band stands in for a masked birth date.

Each band spans at least `MIN_BAND_YEARS` years, so that shown with the region of a masked ID number and the sex it
still leaves well over `privacy.MIN_CANDIDATES` possible numbers (the narrowest, 18—25岁, about 8 × 365 × 500).
The roll-up stores the keys (`lt18` …) in its cells: changing a band changes stored figures and needs a migration
that rebuilds the roll-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MIN_BAND_YEARS = 5


@dataclass(frozen=True)
class AgeBand:
    key: str
    label: str
    low: int  # first age in the band
    high: int | None  # last age in the band; None: no upper end


AGE_BANDS = (
    AgeBand("lt18", "18岁以下", 0, 17),
    AgeBand("18_25", "18—25岁", 18, 25),
    AgeBand("26_35", "26—35岁", 26, 35),
    AgeBand("36_45", "36—45岁", 36, 45),
    AgeBand("46_59", "46—59岁", 46, 59),
    AgeBand("ge60", "60岁及以上", 60, None),  # 老年人 (org.groups.ELDERLY_AGE)
)
AGE_BAND_LABELS = {b.key: b.label for b in AGE_BANDS}


def age_on(birth: date | None, today: date) -> int | None:
    """Age in whole years on `today` (None without a birth date)."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def band_of(age: int | None) -> AgeBand | None:
    """The band of an age; None for no age or a negative one."""
    if age is None or age < 0:
        return None
    return next(b for b in AGE_BANDS if b.high is None or age <= b.high)


def band_sql(column: str) -> str:
    """The band key of an integer age column in SQL ('' for NULL), as the roll-up stores it."""
    parts = [f"WHEN {column} <= {b.high} THEN '{b.key}'" for b in AGE_BANDS if b.high is not None]
    last = next(b.key for b in AGE_BANDS if b.high is None)
    return f"CASE WHEN {column} IS NULL THEN '' {' '.join(parts)} ELSE '{last}' END"
