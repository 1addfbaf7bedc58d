"""How a risk is decided from the probabilities (the normal threshold) and how training rows are weighed (the
per-source boost). Probabilities and counts written by hand; expected results worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from fanzha.detect.data import RISKS
from fanzha.detect.model import FraudClassifier, decide

# columns in RISKS order: normal, spam, illicit, fraud
P = np.array([
    [0.90, 0.05, 0.02, 0.03],  # confident normal: normal under any threshold up to 0.90
    [0.70, 0.20, 0.05, 0.05],  # arg-max normal but below 0.75 → the likelier of spam/illicit: spam
    [0.60, 0.05, 0.30, 0.05],  # weak normal, illicit likelier than spam → illicit
    [0.45, 0.10, 0.05, 0.40],  # weak normal with a strong fraud: never turned into fraud, → spam (0.10 > 0.05)
    [0.20, 0.10, 0.05, 0.65],  # fraud is the arg-max → fraud whatever the threshold
    [0.10, 0.80, 0.05, 0.05],  # spam stays spam
])


def names(idx):
    return [RISKS[i] for i in idx]


def test_without_threshold_the_decision_is_the_arg_max():
    assert names(decide(P.copy())) == ["normal", "normal", "normal", "normal", "fraud", "spam"]


def test_normal_threshold_moves_weak_normals_to_spam_or_illicit_never_to_fraud():
    assert names(decide(P.copy(), 0.75)) == ["normal", "spam", "illicit", "spam", "fraud", "spam"]
    # at 0.65 only rows whose P(normal) < 0.65 move: 0.60 and 0.45
    assert names(decide(P.copy(), 0.65)) == ["normal", "normal", "illicit", "spam", "fraud", "spam"]


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.75, 0.95])
def test_threshold_never_changes_who_is_called_fraud(threshold):
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), size=500)
    assert np.array_equal(decide(p.copy(), threshold) == RISKS.index("fraud"),
                          p.argmax(axis=1) == RISKS.index("fraud"))


def test_source_boost_multiplies_the_named_cells():
    # cells: a|normal 100 rows, a|spam 25 rows, b|fraud 4 rows; source_balance 0.5 → each cell weighs sqrt(n):
    # 10, 5, 2 in total, i.e. per row 0.1, 0.2, 0.5. Boosting source b by 3 and cell a|spam by 2 gives per row
    # 0.1, 0.4, 1.5; the weights are then scaled to sum to the 129 rows: total 10 + 10 + 6 = 26.
    y = ["normal"] * 100 + ["spam"] * 25 + ["fraud"] * 4
    g = ["a"] * 125 + ["b"] * 4
    est = FraudClassifier(source_balance=0.5, source_boost=(("b", 3.0), ("a|spam", 2.0)))
    w = est._weights(y, g)
    assert w.sum() == pytest.approx(129)
    assert w[0] == pytest.approx(0.1 * 129 / 26)
    assert w[100] == pytest.approx(0.4 * 129 / 26)
    assert w[-1] == pytest.approx(1.5 * 129 / 26)
    plain = FraudClassifier(source_balance=0.5, source_boost=())._weights(y, g)
    assert plain[-1] / plain[0] == pytest.approx(5.0)  # 0.5 / 0.1 without the boost


def test_saved_parameters_round_trip(tmp_path):
    texts = ["加微信刷单返利垫付佣金", "今天晚上一起吃饭吧", "澳门娱乐城首充送彩金", "全场五折回T退订"] * 5
    y = ["fraud", "normal", "illicit", "spam"] * 5
    est = FraudClassifier(min_df=1, max_iter=5, source_boost=(("x", 2.0),), normal_min=0.6)
    est.fit(texts, y, fraud_type=["brushing", "", "", ""] * 5, groups=["x", "y"] * 10)
    est.save(tmp_path)
    back = FraudClassifier.load(tmp_path)
    assert back.source_boost == (("x", 2.0),) and back.normal_min == 0.6
    assert back.predict(texts[:4]).tolist() == est.predict(texts[:4]).tolist()
