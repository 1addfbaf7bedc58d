"""One set of age bands (common/ages.py) for 案件研判, bulletins and the person pages."""

from __future__ import annotations

import sqlite3
from datetime import date

from fanzha.common.ages import AGE_BANDS, MIN_BAND_YEARS, age_on, band_of, band_sql
from fanzha.common.privacy import age_band


def test_bands_cover_every_age_once_and_each_is_at_least_five_years_wide():
    assert AGE_BANDS[0].low == 0 and AGE_BANDS[-1].high is None
    for a, b in zip(AGE_BANDS, AGE_BANDS[1:], strict=False):
        assert b.low == a.high + 1, (a, b)
    # A band stands in for a masked birth date (docs/privacy.md): none may narrow it to fewer than five years.
    assert all(b.high is None or b.high - b.low + 1 >= MIN_BAND_YEARS for b in AGE_BANDS)
    assert [b.label for b in AGE_BANDS] == ["18岁以下", "18—25岁", "26—35岁", "36—45岁", "46—59岁", "60岁及以上"]


def test_the_sql_the_roll_up_stores_cuts_ages_as_python_does():
    con = sqlite3.connect(":memory:")
    for age in [None, *range(0, 121)]:
        key = con.execute(f"SELECT {band_sql('x')} FROM (SELECT ? AS x)", (age,)).fetchone()[0]
        band = band_of(age)
        assert key == (band.key if band else ""), age


def test_the_person_page_shows_the_same_bands():
    today = date(2026, 12, 6)
    assert age_on(date(1958, 6, 15), today) == 68 and age_band(date(1958, 6, 15), today) == "60岁及以上"
    assert age_band(date(2001, 12, 7), today) == "18—25岁"  # 24 the day before the birthday
    assert age_band(date(2001, 12, 6), today) == "18—25岁"  # 25 on it
    assert age_band(date(2000, 12, 6), today) == "26—35岁"
    assert age_band(date(2010, 1, 1), today) == "18岁以下"
    assert age_band(None, today) == "" and age_band(date(2030, 1, 1), today) == ""
