"""The 滨州 case-change item at every boundary, the other formula kinds, and the shipped schemes, worked by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from fanzha.assess import formulas, scheme
from fanzha.assess.scheme import ConditionParams, CountTargetParams, RankParams
from fanzha.common.errors import Invalid

BINZHOU = scheme.available()["binzhou"]
P = BINZHOU.item("case_change").parsed  # the shipped defaults: 平稳 45, cutoff 20 %, ceil, linear, zero base → 0
MAX = Decimal(50)


def score(this, last, largest=Fraction(40), p=P):
    return formulas.case_change(this, last, largest, p, MAX)


def test_shipped_defaults_are_the_article():
    assert (P.stable_points, P.stable_band_pct, P.rise_cutoff_pct, P.points_per_pct) == (45, 0, 20, 1)
    assert (P.rise_rounding, P.fall_rule, P.zero_base) == ("ceil", "linear", "cutoff")
    assert BINZHOU.total == 100 and [s.max for s in BINZHOU.sections] == [40, 50, 10]


@pytest.mark.parametrize("this,last,expected", [
    (10, 10, "45.0"),      # r = 0: 平稳
    (12, 20, "50.0"),      # −40 %: the pool's largest fall
    (9, 10, "46.3"),       # −10 %: 45 + 5 × 10/40 = 46.25 → 46.3 (half up)
    (999, 1000, "45.0"),   # −0.1 %: 45 + 5 × 0.1/40 = 45.0125 → 45.0
    (201, 200, "44.0"),    # +0.5 %: a started point counts as one → 45 − 1
    (1199, 1000, "25.0"),  # +19.9 % → 20 points off
    (12, 10, "0.0"),       # +20 % exactly: 20%（含）以上 scores nothing
    (27, 20, "0.0"),       # +35 %
    (0, 0, "45.0"),        # last year 0, this year 0: 平稳
    (3, 0, "0.0"),         # last year 0, this year 3: an unbounded rise
])
def test_case_change_boundaries(this, last, expected):
    assert score(this, last).points == Decimal(expected)


def test_missing_data_is_not_scored_as_zero():
    for this, last in [(None, 3), (3, None)]:
        got = score(this, last)
        assert got.points is None and "缺少" in got.basis


def test_rounding_alternatives():
    floor = P.model_copy(update={"rise_rounding": "floor"})
    exact = P.model_copy(update={"rise_rounding": "exact"})
    assert score(201, 200, p=floor).points == Decimal("45.0")   # +0.5 %: no whole point yet
    assert score(201, 200, p=exact).points == Decimal("44.5")
    assert score(1199, 1000, p=floor).points == Decimal("26.0")  # +19.9 % → 19 whole points
    assert score(1199, 1000, p=exact).points == Decimal("25.1")


def test_zero_base_per_case_and_stable_band_and_top_only():
    per_case = P.model_copy(update={"zero_base": "per_case", "per_case_points": Decimal(5)})
    assert score(3, 0, p=per_case).points == Decimal("30.0")  # 45 − 3 × 5
    assert score(10, 0, p=per_case).points == Decimal("0.0")  # never below 0
    band = P.model_copy(update={"stable_band_pct": Decimal(5)})
    assert score(104, 100, None, p=band).points == Decimal("45.0")  # +4 % inside the band
    assert score(95, 100, None, p=band).points == Decimal("45.0")   # −5 % at the edge: still 平稳
    assert score(106, 100, None, p=band).points == Decimal("39.0")  # +6 %: outside, 6 points off
    top = P.model_copy(update={"fall_rule": "top_only"})
    assert score(9, 10, p=top).points == Decimal("45.0")
    assert score(12, 20, p=top).points == Decimal("50.0")


def test_largest_fall_is_per_pool():
    units = [(10, 10), (12, 20), (9, 10), (201, 200)]  # falls: 40 %, 10 %
    townships = [(5, 10), (8, 10)]                       # falls: 50 %, 20 %
    assert formulas.largest_fall(units, P) == 40
    assert formulas.largest_fall(townships, P) == 50
    # The township that fell 20 % is measured against its own pool's 50 %: 45 + 5 × 20/50 = 47.
    assert score(8, 10, formulas.largest_fall(townships, P)).points == Decimal("47.0")
    # Two units tie on the largest fall: both get the maximum.
    assert score(6, 10, Fraction(40)).points == Decimal("50.0") == score(12, 20, Fraction(40)).points
    assert formulas.largest_fall([(10, 10), (11, 10)], P) is None  # nobody fell


def test_count_condition_rank():
    ct = CountTargetParams(metric="activities", target=12)
    assert formulas.count_target(9, ct, Decimal(10)).points == Decimal("7.5")
    assert formulas.count_target(20, ct, Decimal(10)).points == Decimal("10.0")  # capped
    c = ConditionParams(condition="no_card_problem")
    assert formulas.condition(True, c, Decimal(3)).points == 3
    assert formulas.condition(False, c, Decimal(3)).points == 0
    assert formulas.condition(None, c, Decimal(3)).points is None
    got = formulas.rank({"a": 3, "b": 0, "c": 3, "d": 7}, RankParams(metric="cases"), Decimal(60))
    # sorted 0, 3, 3, 7; one rank is worth 60/3 = 20 points; a and c share rank 2
    assert {k: v.points for k, v in got.items()} == {"a": Decimal(40), "b": Decimal(60), "c": Decimal(40), "d": Decimal(0)}


def test_scheme_files_are_checked(tmp_path: Path):
    text = (scheme.SHIPPED_DIR / "binzhou.toml").read_text(encoding="utf-8")
    (tmp_path / "bad.toml").write_text(text.replace("max = 50\n  kind = \"case_change\"", "max = 45\n  kind = \"case_change\""),
                                       encoding="utf-8")
    with pytest.raises(Invalid, match="不等于"):
        scheme.load(tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text(text.replace('kind = "condition"', 'kind = "formula"', 1), encoding="utf-8")
    with pytest.raises(Invalid, match="未知的评分方式"):
        scheme.load(tmp_path / "bad2.toml")
    (tmp_path / "bad3.toml").write_text(text.replace("rise_cutoff_pct = 20", "rise_cutoff = 20"), encoding="utf-8")
    with pytest.raises(Invalid):
        scheme.load(tmp_path / "bad3.toml")


def test_a_new_scheme_needs_no_code():
    jiangyou = scheme.available()["jiangyou"]
    assert jiangyou.period == "quarter" and jiangyou.pools == ("township",)
    assert {i.kind for _, i in jiangyou.items()} == {"rank"}
