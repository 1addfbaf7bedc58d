"""The one period module (common/periods.py): each kind's written form, its days, 环比 and 同比, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from fanzha.common.errors import Invalid
from fanzha.common.periods import Period, current, iso_weeks, parse

D = date


def days(p: Period) -> tuple[date, date]:
    return p.start, p.end


@pytest.mark.parametrize("spec, kind, first, last, previous, year_ago", [
    # A day: the day before; the same date a year before.
    ("2026-10-05", "day", D(2026, 10, 5), D(2026, 10, 5), (D(2026, 10, 4),) * 2, (D(2025, 10, 5),) * 2),
    ("2026-01-01", "day", D(2026, 1, 1), D(2026, 1, 1), (D(2025, 12, 31),) * 2, (D(2025, 1, 1),) * 2),
    # 29 February: 环比 28 February; 同比 28 February of a year without a 29th.
    ("2024-02-29", "day", D(2024, 2, 29), D(2024, 2, 29), (D(2024, 2, 28),) * 2, (D(2023, 2, 28),) * 2),
    ("2025-03-01", "day", D(2025, 3, 1), D(2025, 3, 1), (D(2025, 2, 28),) * 2, (D(2024, 3, 1),) * 2),
    # An ISO week (Monday–Sunday): the week before; the same week number of the previous ISO year.
    ("2026-W41", "week", D(2026, 10, 5), D(2026, 10, 11), (D(2026, 9, 28), D(2026, 10, 4)),
     (D(2025, 10, 6), D(2025, 10, 12))),
    # The example: 2027-W10 against 2026-W10 (2 – 8 March), not 52 weeks back (9 – 15 March).
    ("2027-W10", "week", D(2027, 3, 8), D(2027, 3, 14), (D(2027, 3, 1), D(2027, 3, 7)),
     (D(2026, 3, 2), D(2026, 3, 8))),
    # Week 1 of 2026 starts in 2025; its 同比 is week 1 of 2025, which starts in 2024.
    ("2026-W01", "week", D(2025, 12, 29), D(2026, 1, 4), (D(2025, 12, 22), D(2025, 12, 28)),
     (D(2024, 12, 30), D(2025, 1, 5))),
    # 2026 has 53 ISO weeks, 2025 has 52: week 53 is compared with week 52 (22 – 28 December 2025).
    ("2026-W53", "week", D(2026, 12, 28), D(2027, 1, 3), (D(2026, 12, 21), D(2026, 12, 27)),
     (D(2025, 12, 22), D(2025, 12, 28))),
    # The week after a week 53: 环比 is week 53.
    ("2027-W01", "week", D(2027, 1, 4), D(2027, 1, 10), (D(2026, 12, 28), D(2027, 1, 3)),
     (D(2025, 12, 29), D(2026, 1, 4))),
    # 2021-W52 against 2020-W52, although 2020 had a week 53.
    ("2021-W52", "week", D(2021, 12, 27), D(2022, 1, 2), (D(2021, 12, 20), D(2021, 12, 26)),
     (D(2020, 12, 21), D(2020, 12, 27))),
    # A month: the calendar month before (all its days); the same month a year before (all its days).
    ("2026-03", "month", D(2026, 3, 1), D(2026, 3, 31), (D(2026, 2, 1), D(2026, 2, 28)),
     (D(2025, 3, 1), D(2025, 3, 31))),
    ("2025-02", "month", D(2025, 2, 1), D(2025, 2, 28), (D(2025, 1, 1), D(2025, 1, 31)),
     (D(2024, 2, 1), D(2024, 2, 29))),
    ("2024-03", "month", D(2024, 3, 1), D(2024, 3, 31), (D(2024, 2, 1), D(2024, 2, 29)),
     (D(2023, 3, 1), D(2023, 3, 31))),
    ("2026-01", "month", D(2026, 1, 1), D(2026, 1, 31), (D(2025, 12, 1), D(2025, 12, 31)),
     (D(2025, 1, 1), D(2025, 1, 31))),
    # A quarter.
    ("2026-Q1", "quarter", D(2026, 1, 1), D(2026, 3, 31), (D(2025, 10, 1), D(2025, 12, 31)),
     (D(2025, 1, 1), D(2025, 3, 31))),
    ("2024-Q1", "quarter", D(2024, 1, 1), D(2024, 3, 31), (D(2023, 10, 1), D(2023, 12, 31)),
     (D(2023, 1, 1), D(2023, 3, 31))),
    ("2026-Q4", "quarter", D(2026, 10, 1), D(2026, 12, 31), (D(2026, 7, 1), D(2026, 9, 30)),
     (D(2025, 10, 1), D(2025, 12, 31))),
    # A year: 环比 and 同比 are the same year.
    ("2026", "year", D(2026, 1, 1), D(2026, 12, 31), (D(2025, 1, 1), D(2025, 12, 31)),
     (D(2025, 1, 1), D(2025, 12, 31))),
    # A custom range: 环比 the same number of days just before; 同比 both ends a year back.
    ("2025-12-15..2026-01-14", "custom", D(2025, 12, 15), D(2026, 1, 14), (D(2025, 11, 14), D(2025, 12, 14)),
     (D(2024, 12, 15), D(2025, 1, 14))),
    # An end on the last day of February stays on the last day of February (as the month would).
    ("2025-02-01..2025-02-28", "custom", D(2025, 2, 1), D(2025, 2, 28), (D(2025, 1, 4), D(2025, 1, 31)),
     (D(2024, 2, 1), D(2024, 2, 29))),
    ("2024-02-10..2024-02-29", "custom", D(2024, 2, 10), D(2024, 2, 29), (D(2024, 1, 21), D(2024, 2, 9)),
     (D(2023, 2, 10), D(2023, 2, 28))),
])
def test_each_kind_with_its_previous_and_year_ago(spec, kind, first, last, previous, year_ago):
    p = parse(spec)
    assert (p.kind, p.start, p.end) == (kind, first, last)
    assert p.spec == spec and parse(p.spec) == p
    assert days(p.previous()) == previous and p.previous().kind == kind
    assert days(p.year_ago()) == year_ago and p.year_ago().kind == kind


def test_both_ends_are_included_and_bounds_are_half_open_local_midnights():
    p = parse("2026-10")
    assert p.days == 31 and p.end == D(2026, 10, 31) and p.end_exclusive == D(2026, 11, 1)
    since, until = p.bounds()
    bj = timezone(timedelta(hours=8))
    assert since == datetime(2026, 10, 1, tzinfo=bj) and until == datetime(2026, 11, 1, tzinfo=bj)
    # 23:30 on 31 October (Beijing) is October's; 00:10 on 1 November (16:10 UTC on 31 October) is not.
    assert since <= datetime(2026, 10, 31, 23, 30, tzinfo=bj) < until
    assert not datetime(2026, 10, 31, 16, 10, tzinfo=UTC) < until


def test_labels_in_words():
    assert [parse(s).label for s in ("2026-10-05", "2026-W41", "2026-W53", "2026-10", "2026-Q3", "2026",
                                     "2025-12-15..2026-01-14")] == [
        "2026年10月5日", "2026年第41周（10月5日至10月11日）", "2026年第53周（2026年12月28日至2027年1月3日）",
        "2026年10月", "2026年第三季度", "2026年", "2025年12月15日至2026年1月14日"]
    assert parse("2026-W01").year == 2026 and parse("2026-W01").start.year == 2025  # numbered in its ISO year


def test_written_forms_and_ranges_accepted():
    assert parse("2026Q3") == parse("2026-q3") == parse("2026-Q3")
    assert parse("2026w41") == parse("2026-W41")
    assert parse("2026-1") == parse("2026-01")
    assert parse("2025-12-15 至 2026-01-14") == parse("2025-12-15..2026-01-14") == \
        parse(since="2025-12-15", until="2026-01-14")
    assert parse("", today=D(2026, 1, 10)) == parse("2025-12")  # nothing given: the last complete month


@pytest.mark.parametrize("bad", ["2026-13", "2026-02-30", "2025-W53", "2026-W54", "2026-Q5", "soon", "1999-12",
                                 "2026-10-05..2026-10-01", "2000-01-01..2011-01-01"])
def test_wrong_periods_are_refused(bad):
    with pytest.raises(Invalid):
        parse(bad)
    with pytest.raises(Invalid):
        parse(since="2026-10-01")  # a custom range needs both ends


def test_53_week_years():
    assert [y for y in range(2015, 2033) if iso_weeks(y) == 53] == [2015, 2020, 2026, 2032]
    with pytest.raises(Invalid, match="2025 年只有 52 周"):
        parse("2025-W53")
    with pytest.raises(Invalid, match="月份应为 1–12"):
        parse("2026-13")


def test_the_latest_complete_period_is_what_a_bulletin_written_today_is_about():
    today = D(2027, 1, 6)  # a Wednesday in 2027-W01
    assert [current(k, today).spec for k in ("day", "week", "month", "quarter", "year")] == \
        ["2027-01-05", "2026-W53", "2026-12", "2026-Q4", "2026"]
    assert current("week", D(2026, 10, 12)).spec == "2026-W41"  # a Monday: last week is complete
    assert current("quarter", D(2026, 3, 31)).spec == "2025-Q4"
