"""Triage (研判分级) by the default rules, with each expectation worked out from triage_default.toml by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fanzha.common.errors import Invalid
from fanzha.warnings.triage import DEFAULT_RULES, Facts, deadlines, grade, load_rules

RULES = load_rules(DEFAULT_RULES)
T0 = datetime(2026, 3, 5, 6, 5, tzinfo=UTC)  # 14:05 in Beijing


def test_upstream_grade_wins_and_is_stated():
    v = grade(Facts(kind="sms", upstream_grade="high"), RULES)
    assert v.grade == "high" and v.reasons[0] == "上级下发级别：高"


def test_missing_grade_comes_from_the_kind():
    assert grade(Facts(kind="funds"), RULES).grade == "high"
    assert grade(Facts(kind="call"), RULES).grade == "medium"
    v = grade(Facts(kind="url"), RULES)
    assert v.grade == "low" and "按预警类型“涉诈网址”定为低" in v.reasons[0]


def test_amount_raises_a_low_upstream_grade_with_its_reason():
    v = grade(Facts(kind="funds", upstream_grade="low", amount=Decimal("95500")), RULES)
    assert v.grade == "high"
    assert "升为高：拟转账金额 95,500.00 元，达到5万元" in v.reasons
    assert not any("达到1万元" in r for r in v.reasons)  # the larger threshold says it already


def test_never_lowered():
    v = grade(Facts(kind="sms", upstream_grade="high", amount=Decimal("20000")), RULES)
    assert v.grade == "high"
    assert "另：拟转账金额 20,000.00 元，达到1万元" in v.reasons


def test_repeat_and_groups():
    assert grade(Facts(kind="sms", repeats=1), RULES).grade == "medium"
    v = grade(Facts(kind="sms", repeats=2), RULES)
    assert v.grade == "high" and "升为高：此前已被预警 2 次（多次预警）" in v.reasons
    v = grade(Facts(kind="url", groups=("elderly", "investor")), RULES)
    assert v.grade == "medium" and "升为中：易受骗群体：老年人" in v.reasons


def test_fraud_type_and_face_to_face():
    v = grade(Facts(kind="sms", fraud_type="impersonate_authority"), RULES)
    assert v.grade == "medium" and "冒充公检法及政府机关" in v.reasons[-1]
    assert grade(Facts(kind="funds"), RULES).face_required
    assert not grade(Facts(kind="call"), RULES).face_required


def test_face_to_face_by_grade_is_configurable(tmp_path):
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace("grades = []", 'grades = ["high"]')
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    rules = load_rules(path)
    v = grade(Facts(kind="call", upstream_grade="high"), rules)
    assert v.face_required and v.reasons[-1] == "高风险预警须见面劝阻"
    assert not grade(Facts(kind="call", upstream_grade="medium"), rules).face_required


def test_deadlines_by_grade_to_the_minute():
    d = deadlines("high", T0, True, None, RULES)
    assert (d.sign - T0).total_seconds() == 5 * 60
    assert (d.contact - T0).total_seconds() == 10 * 60
    assert (d.face - T0).total_seconds() == 60 * 60
    assert (d.feedback - T0).total_seconds() == 24 * 3600 and not d.upstream_feedback
    low = deadlines("low", T0, False, None, RULES)
    assert low.face is None and (low.contact - T0).total_seconds() == 24 * 3600
    upstream = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert deadlines("medium", T0, False, upstream, RULES).feedback == upstream


def test_a_broken_rules_file_says_where(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text(DEFAULT_RULES.read_text(encoding="utf-8").replace('funds = "high"', 'funds = "urgent"', 1),
                   encoding="utf-8")
    with pytest.raises(Invalid, match="base_grade"):
        load_rules(bad)
    bad.write_text(DEFAULT_RULES.read_text(encoding="utf-8") + '\n[[raise]]\nwhen = "moon_phase"\nto = "high"\nreason = "x"\n',
                   encoding="utf-8")
    with pytest.raises(Invalid, match="第9条"):  # after the eight shipped rules
        load_rules(bad)


def test_the_rules_file_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "triage.md").read_text(encoding="utf-8")
    for word in ("amount_at_least", "group_in", "repeat_at_least", "fraud_type_in", "kind_in", "counterparty_linked",
                 "FANZHA_TRIAGE_RULES"):
        assert word in doc
