"""Cell values as exports really carry them: Excel serial dates, Chinese text dates, floats for integers.

Beijing time (Asia/Shanghai, UTC+8, no daylight saving) is the local zone; stored times are aware UTC.

Excel serial 45292 worked out by hand: the epoch is 1899-12-30 (serial 0), so 1900-01-01 is serial 2.
1900-01-01 → 2024-01-01 is 124 years = 124 × 365 = 45 260 days plus the 30 leap days of 1904 … 2020
(1900 is not a leap year), 45 290 days. 2 + 45 290 = 45 292, so serial 45292 is 2024-01-01 00:00 and
45292.5 is noon that day: 2024-01-01 12:00 Beijing = 2024-01-01 04:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from fanzha.imports.values import clean, clean_text, parse_datetime, parse_int


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- Excel serial numbers ----------------------------------------------------------------

def test_excel_serial_noon_new_year_2024():
    assert parse_datetime(45292.5) == utc(2024, 1, 1, 4, 0)


def test_excel_serial_whole_day_is_local_midnight():
    # 2024-01-01 00:00 Beijing is still 2023-12-31 in UTC
    assert parse_datetime(45292) == utc(2023, 12, 31, 16, 0)
    # one day later, by hand: 2024-01-02 00:00 Beijing
    assert parse_datetime(45293) == utc(2024, 1, 1, 16, 0)


def test_excel_serial_as_text():
    # A CSV written from Excel with the date column formatted as General
    assert parse_datetime("45292.5") == utc(2024, 1, 1, 4, 0)
    assert parse_datetime(" 45292 ") == utc(2023, 12, 31, 16, 0)


def test_excel_serial_fraction_rounds_to_the_second():
    # Excel keeps 08:00 as 1/3 of a day: 45292.333333333336 → 08:00:00 Beijing = 00:00 UTC, not 07:59:59.99
    assert parse_datetime(45292 + 1 / 3) == utc(2024, 1, 1, 0, 0, 0)
    # 14:30 = 0.6041666… of a day → 06:30 UTC
    assert parse_datetime(45292 + 14.5 / 24) == utc(2024, 1, 1, 6, 30, 0)


def test_excel_serial_leap_day_2024():
    # 2024-01-01 is 45292; Jan has 31 days → 2024-02-01 is 45323; +28 → 2024-02-29 is 45351
    assert parse_datetime(45351.75) == utc(2024, 2, 29, 10, 0)  # 18:00 Beijing


@pytest.mark.parametrize("value", [0, -1, 0.5, 3_000_000])
def test_excel_serial_out_of_range(value):
    with pytest.raises(ValueError, match="无法识别的时间"):
        parse_datetime(value)


# -- text dates --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2024/1/2 8:05", utc(2024, 1, 2, 0, 5)),
    ("2024/01/02 08:05:30", utc(2024, 1, 2, 0, 5, 30)),
    ("2024-01-02 08:05", utc(2024, 1, 2, 0, 5)),
    ("2024-01-02T08:05:00", utc(2024, 1, 2, 0, 5)),
    ("2024.1.2", utc(2024, 1, 1, 16, 0)),
    ("2024-01-01 00:30", utc(2023, 12, 31, 16, 30)),   # just after local midnight: previous UTC day
    ("2024年3月5日 14时30分", utc(2024, 3, 5, 6, 30)),
    ("2024年3月5日14时30分", utc(2024, 3, 5, 6, 30)),
    ("2024年3月5日 14时30分15秒", utc(2024, 3, 5, 6, 30, 15)),
    ("2024年3月5日 14:30", utc(2024, 3, 5, 6, 30)),
    ("2024年03月05日", utc(2024, 3, 4, 16, 0)),
    ("20240305", utc(2024, 3, 4, 16, 0)),
    ("20240305143000", utc(2024, 3, 5, 6, 30)),
    ("２０２４－０３－０５　１４：３０", utc(2024, 3, 5, 6, 30)),  # typed with a full-width input method
])
def test_text_dates_are_beijing_wall_time(text, expected):
    assert parse_datetime(text) == expected


def test_result_is_aware_utc():
    value = parse_datetime("2024/1/2 8:05")
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# -- date and datetime objects (openpyxl hands these back for date-formatted cells) -------

def test_naive_datetime_is_taken_as_beijing():
    assert parse_datetime(datetime(2024, 3, 5, 8, 0)) == utc(2024, 3, 5, 0, 0)
    assert parse_datetime(datetime(2024, 3, 5, 7, 59)) == utc(2024, 3, 4, 23, 59)


def test_aware_datetime_keeps_its_instant():
    assert parse_datetime(utc(2024, 3, 5, 8, 0)) == utc(2024, 3, 5, 8, 0)
    tokyo = timezone(timedelta(hours=9))
    assert parse_datetime(datetime(2024, 3, 5, 9, 0, tzinfo=tokyo)) == utc(2024, 3, 5, 0, 0)


def test_date_is_local_midnight():
    assert parse_datetime(date(2024, 3, 5)) == utc(2024, 3, 4, 16, 0)


# -- rejects -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "明天下午", "2024-13-01", "2024年2月30日", "2024年3月5日 25时00分", "3/5/2024x", "abc", "2024/1/2 8点5分",
])
def test_unparseable_text_names_the_value(text):
    with pytest.raises(ValueError) as info:
        parse_datetime(text)
    assert "无法识别的时间" in str(info.value)
    assert str(info.value).endswith(text)


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000"])
def test_empty_time(value):
    with pytest.raises(ValueError, match="时间为空"):
        parse_datetime(value)


# -- clean and parse_int ----------------------------------------------------------------

def test_clean_folds_full_width_and_excel_floats():
    assert clean(None) == ""
    assert clean(13812345678.0) == "13812345678"
    assert clean(2.5) == "2.5"
    assert clean("\u3000ＡＢＣ１２３\u3000") == "ABC123"
    assert clean("  人民路88号 ") == "人民路88号"


NARRATIVE = "受害人接到自称“公安局民警”的电话：称其涉嫌洗钱（安全账户），要求转账！共转账９万元……"


def test_free_text_keeps_its_chinese_punctuation_in_warnings_and_cases():
    """Names, addresses, notes and narratives as written: clean()'s NFKC fold would print ，as , in a bulletin."""
    from fanzha.cases.intake import parse_row as case_row
    from fanzha.warnings.intake import parse_row as warning_row

    assert clean_text("\u3000" + NARRATIVE + " ") == NARRATIVE and clean_text(13812345678.0) == "13812345678"
    warning = warning_row({"预警编号": "PUNCT-1", "预警类型": "资金预警", "预警时间": "2026-03-05 09:00",
                           "手机号": "13900000001", "现住址": "紫荆花园（二期）5栋", "备注": NARRATIVE,
                           "对方账号": "６２２２０２１２３４"})
    assert (warning.note, warning.current_address, warning.counterparty_account) == (
        NARRATIVE, "紫荆花园（二期）5栋", "6222021234")
    case = case_row({"案件编号": "PUNCT-1", "立案时间": "2026-03-05 10:00", "简要案情": NARRATIVE,
                     "发案地址": "紫荆花园（二期）5栋", "工作单位": "江州市税务局（第一分局）"})
    assert (case.narrative, case.address, case.employer_name) == (
        NARRATIVE, "紫荆花园（二期）5栋", "江州市税务局（第一分局）")


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("1,234", 1234), (3.0, 3), ("", 0), (None, 0), ("７", 7)])
def test_parse_int(raw, expected):
    assert parse_int(raw, name="户数") == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("十二", "户数 不是数字：十二"),
    ("-1", "户数 应为非负整数：-1"),
    ("2.5", "户数 应为非负整数：2.5"),
])
def test_parse_int_rejects(raw, message):
    with pytest.raises(ValueError) as info:
        parse_int(raw, name="户数")
    assert str(info.value) == message
