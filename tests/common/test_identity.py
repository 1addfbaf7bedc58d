"""身份证号 and phone numbers as users type or export them, checked against check digits worked out by hand.

GB 11643-1999 check digit: S = Σ digit_i × W_i over the first 17 digits, W = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
check = "10X98765432"[S mod 11]. The sums below were done on paper, not by calling the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from fanzha.common.identity import (
    id_check_digit,
    id_number_birth_date,
    id_number_gender,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)

# 1101051949123100 2 → 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8+0·4+2·2
#   = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → "X"   (the GB 11643 example)
GB_EXAMPLE = "11010519491231002X"
# 44052418800101001 → 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → "4"
GUANGDONG = "440524188001010014"
# 11010119900307001 → 7+9+0+5+0+4+2+9+54+0+0+27+0+35+0+0+2 = 154; 154 mod 11 = 0 → "1"
BEIJING_1990 = "110101199003070011"


@pytest.mark.parametrize(("first17", "check"), [
    ("11010519491231002", "X"),
    ("44052418800101001", "4"),
    ("11010119900307001", "1"),
])
def test_check_digit_matches_hand_sums(first17, check):
    assert id_check_digit(first17) == check


@pytest.mark.parametrize("value", [GB_EXAMPLE, GUANGDONG, BEIJING_1990])
def test_valid_18_digit_ids_come_back_unchanged(value):
    assert normalize_id_number(value) == value


def test_lowercase_x_is_accepted_and_upper_cased():
    assert normalize_id_number("11010519491231002x") == GB_EXAMPLE


def test_spaces_inside_an_id_are_dropped():
    # Copied from a form that groups the digits: 6 / 8 / 4
    assert normalize_id_number(" 110105 19491231 002X ") == GB_EXAMPLE
    assert normalize_id_number("110101\t19900307\t0011") == BEIJING_1990


@pytest.mark.parametrize("flipped", [
    "110105194912310020",  # X → 0
    "110105194912310029",  # X → 9
    "440524188001010015",  # 4 → 5
    "110101199003070012",  # 1 → 2
])
def test_a_wrong_last_character_is_a_check_digit_error(flipped):
    with pytest.raises(ValueError, match="身份证号 校验位错误"):
        normalize_id_number(flipped)


def test_a_swapped_pair_of_digits_is_caught_by_the_check_digit():
    # Sequence "002" typed as "020": the sum changes by −2·2 + 2·4 → 171; 171 mod 11 = 6 → "6", not "X"
    with pytest.raises(ValueError, match="校验位错误"):
        normalize_id_number("11010519491231020X")


def test_fifteen_digit_id_is_widened_with_the_right_check_digit():
    # 110105 49 1231 002 → 110105 + "19" + 491231002 = 11010519491231002, check "X" (same sum as GB_EXAMPLE)
    assert normalize_id_number("110105491231002") == GB_EXAMPLE
    # 440524 800101 001 → "44052419800101001": first-generation IDs were issued to people born 19xx
    # 4·7+4·9+0+5·5+2·8+4·4+1·2+9·1+8·6+0+0+1·9+0+1·5+0+0+1·2 = 28+36+25+16+16+2+9+48+9+5+2 = 196;
    # 196 mod 11 = 9 → "3"
    assert normalize_id_number("440524800101001") == "440524198001010013"


@pytest.mark.parametrize("value", [
    "110105194902300012",  # 2月30日
    "110105194913010016",  # 13月
    "110105190002290010",  # 1900 is not a leap year
    "110105490230002",     # 15-digit, 1949-02-30
])
def test_invalid_birth_dates_are_rejected(value):
    with pytest.raises(ValueError, match="身份证号 出生日期无效"):
        normalize_id_number(value)


def test_a_real_leap_day_is_a_valid_birth_date():
    # 11010520000229001 → 7+9+0+5+0+20+4+0+0+0+0+18+20+45+0+0+2 = 130; 130 mod 11 = 9 → "3"
    assert normalize_id_number("110105200002290013") == "110105200002290013"
    with pytest.raises(ValueError, match="校验位错误"):
        normalize_id_number("110105200002290011")


@pytest.mark.parametrize("value", [
    "",
    "1101051949123100",      # 16 digits
    "1101051949123100201",   # 19 digits
    "11010519491231002Y",
    "11010519491231X002",
    "身份证11010519491231002X",
])
def test_wrong_length_or_characters(value):
    with pytest.raises(ValueError, match="身份证号 位数或字符不对"):
        normalize_id_number(value)


def test_birth_date_and_gender_are_read_from_the_number():
    assert id_number_birth_date(GB_EXAMPLE) == date(1949, 12, 31)
    assert id_number_gender(GB_EXAMPLE) == "女"    # 17th digit 2 is even
    assert id_number_gender(GUANGDONG) == "男"     # 17th digit 1 is odd
    assert id_number_birth_date(GUANGDONG) == date(1880, 1, 1)


# -- phones ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "13812345678",
    "+8613812345678",
    "+86 138 1234 5678",
    "0086 138-1234-5678",
    "008613812345678",
    "8613812345678",
    "138-1234-5678",
    " 138 1234 5678 ",
    "13812345678.0",       # Excel kept the number as a float and the export wrote it out
    "(+86)13812345678",
    "（+86）138 1234 5678",
])
def test_mobile_numbers_are_normalised(raw):
    assert normalize_phone(raw) == "13812345678"


def test_excel_float_as_a_number_object():
    # The cell value itself, not its text
    assert normalize_phone(13812345678.0) == "13812345678"
    assert normalize_phone(19912345678) == "19912345678"


@pytest.mark.parametrize(("raw", "expected"), [
    ("0571-87654321", "057187654321"),
    ("010-12345678", "01012345678"),
    ("(0731)8765432", "07318765432"),
    ("0731 8765 4321", "073187654321"),
])
def test_fixed_lines_keep_their_area_code(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "无", "abc", "1381234567",      # 10 digits
    "138123456789",                      # 12 digits
    "12812345678",                       # no mobile prefix 12x
    "+1 415 555 0100",
    "87654321",                          # fixed line without area code
    "13812345678转8001",
])
def test_garbage_phones_are_rejected_with_the_chinese_reason(raw):
    with pytest.raises(ValueError) as info:
        normalize_phone(raw)
    assert str(info.value) == "手机号 格式不对（应为11位手机号或带区号的固定电话）"


# -- masking -----------------------------------------------------------------------------

def test_mask_id_number_keeps_the_region_only():
    # The last four would leave only the birth date to guess (about 33 numbers once a birth year is known).
    assert mask_id_number(GB_EXAMPLE) == "110105************"
    assert mask_id_number("440524198001010013") == "440524************"
    assert len(mask_id_number(GB_EXAMPLE)) == 18
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("12345") == "*****"


def test_mask_phone_keeps_three_and_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("057187654321") == "057****4321"
    assert mask_phone(None) == ""
    assert mask_phone("1234567") == "*******"


@pytest.mark.parametrize(("name", "masked"), [
    ("张三丰", "张某某"),
    ("张三", "张某"),
    ("李", "李某"),
    ("", ""),
    (None, ""),
])
def test_mask_name_keeps_the_surname(name, masked):
    assert mask_name(name) == masked
