"""The vectorised n-gram hasher gives exactly scikit-learn's HashingVectorizer matrix, so scores do not move."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fanzha.detect import ngrams
from fanzha.detect.normalise import model_text, normalise
from fanzha.detect.service import load_model, score_many

TRICKY = [
    "", " ", "a", "ab", "abc", "您好", "您好，我是京东客服，您的校园贷需要注销",
    "a  \n\t b", "   ", "x\ny", "\x00\x01",  # whitespace runs collapse to one space; control bytes are characters
    "é ü ß", "€100", "emoji 😀😀 🀄", "𠀀𠀁 rare CJK outside the BMP", "Ⓤ0Ⓟ退订", "ｆｕｌｌ　ｗｉｄｔｈ",
    "x" * 300, "长" * 5000, "mixed 中文 and English 123 456",
]


@pytest.fixture(autouse=True)
def always_vectorised(monkeypatch):
    """Compare the array path even on inputs small enough to go to scikit-learn in production."""
    monkeypatch.setattr(ngrams, "SMALL", 0)


def _random_texts(n: int, seed: int) -> list[str]:
    """Texts drawn from every UTF-8 length class: ASCII, 2-byte, 3-byte (CJK), 4-byte, and whitespace."""
    rnd = random.Random(seed)
    ranges = [(0x20, 0x7E), (0xA0, 0x7FF), (0x4E00, 0x9FFF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF)]
    out = []
    for _ in range(n):
        chars = []
        for _ in range(rnd.randrange(0, 40)):
            if rnd.random() < 0.1:
                chars.append(rnd.choice(" \t\n\u3000"))
            else:
                lo, hi = rnd.choice(ranges)
                chars.append(chr(rnd.randint(lo, hi)))
        out.append("".join(chars))
    return out


def _assert_same(texts, n_features=2 ** 20, ngram_range=(1, 3)):
    from sklearn.feature_extraction.text import HashingVectorizer

    want = HashingVectorizer(analyzer="char", ngram_range=ngram_range, n_features=n_features, alternate_sign=False,
                             norm=None, lowercase=False, dtype=np.float32).transform(texts).tocsr()
    got = ngrams.char_ngram_counts(texts, n_features, ngram_range)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def test_tricky_texts_hash_exactly_as_scikit_learn():
    _assert_same(TRICKY)


def test_random_unicode_hashes_exactly_as_scikit_learn():
    _assert_same(_random_texts(400, seed=11))
    _assert_same(_random_texts(50, seed=12), n_features=1000, ngram_range=(2, 4))  # a non-power-of-two width


def test_long_input_is_done_in_pieces_with_the_same_result(monkeypatch):
    monkeypatch.setattr(ngrams, "MAX_NGRAMS", 64)  # many pieces, and n-gram chunks inside a piece
    _assert_same(TRICKY + _random_texts(60, seed=13))


def test_murmurhash_matches_scikit_learn_on_every_length():
    from sklearn.utils import murmurhash3_32

    words = [bytes(range(65, 65 + n)) for n in range(1, 13)] + [b"\x00", b"\x00\x00\x00\x00\x00", b"\xff" * 12]
    rows = np.zeros((len(words), 16), dtype=np.uint8)
    for i, w in enumerate(words):
        rows[i, :len(w)] = list(w)
    got = ngrams.murmur3_32(rows.view("<u4")[:, :3], np.array([len(w) for w in words]))
    assert got.tolist() == [murmurhash3_32(w, seed=0) for w in words]


def test_small_inputs_use_scikit_learn_and_large_ones_do_not(monkeypatch):
    monkeypatch.setattr(ngrams, "SMALL", 2_000)
    used = []
    real = ngrams._reference
    monkeypatch.setattr(ngrams, "_reference", lambda *a: used.append(1) or real(*a))
    ngrams.char_ngram_counts(["晚上回家吃饭吗"] * 10)
    assert used == [1]
    _assert_same(["晚上回家吃饭吗"] * 400)  # 2,800 characters: the array path, checked against scikit-learn
    assert used == [1]


def test_lone_surrogates_go_to_scikit_learn_unchanged():
    with pytest.raises(UnicodeEncodeError):  # exactly what scikit-learn itself does with such a text
        ngrams.char_ngram_counts(["ok", "bad \ud800"])


def _reference_finish(model, H, R):
    """The feature formula as first written (scikit-learn's normalize and scipy's hstack)."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    X = model._project(H)
    X.data = 1.0 + np.log(X.data)
    X = normalize(X.multiply(model.idf_).tocsr(), copy=False)
    return sp.hstack([X, R], format="csr", dtype=np.float32)


def test_scores_are_identical_to_the_reference_features(monkeypatch):
    """The shipped model scores a sample of messages the same through both feature paths, to the last bit."""
    from fanzha.detect.model import FraudClassifier

    texts = [
        "【京东金融】您的校园贷账户未注销，将影响个人征信，请致电13912345678办理注销",
        "兼职刷单，日结三百，先垫付后返佣金，加微信 jz_2048a 领任务", "晚上回家吃饭吗？我买了排骨",
        "全场五折起，限时抢购，回T退订", "澳門娛樂城首充送彩金", "我是公安局民警，你涉嫌洗钱，需要把资金转到安全账户",
        "", "😀", "<script>alert(1)</script>办证刻章", "客服：您好\n用户：我的快递丢了\n客服：我们为您办理理赔",
    ] + _random_texts(40, seed=14)
    model = load_model()
    norms = [normalise(t) for t in texts]
    mtexts = [model_text(n) for n in norms]
    R = model._rule_matrix(norms)
    fast = model._finish(model.hashed(mtexts), R)
    reference = _reference_finish(model, model._hasher().transform(mtexts).tocsr(), R)
    for a, b in ((fast.indptr, reference.indptr), (fast.indices, reference.indices), (fast.data, reference.data)):
        assert np.array_equal(a, b)
    assert fast.dtype == reference.dtype == np.float32 and fast.shape == reference.shape
    assert np.array_equal(model.predict_proba(X=fast), model.predict_proba(X=reference))
    assert np.array_equal(model.type_proba(X=fast), model.type_proba(X=reference))

    new = [v.as_dict() for v in score_many(texts, model=model)]
    monkeypatch.setattr(FraudClassifier, "hashed", lambda self, m: self._hasher().transform(m).tocsr())
    monkeypatch.setattr(FraudClassifier, "_finish", _reference_finish)
    old = [v.as_dict() for v in score_many(texts, model=model)]
    assert new == old


def test_row_normalisation_matches_scikit_learn():
    """Rows of every shape (empty, all zeros, one value, long) come out as scikit-learn's `normalize` leaves them, to
    the last bit."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    from fanzha.detect.model import normalise_rows_l2

    rng = np.random.default_rng(3)
    rows = [[], [0.0, 0.0], [3.0], [3.0, 4.0], list(rng.random(2000) * 50), [], list(rng.random(7))]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int32)
    data = np.array([v for r in rows for v in r], dtype=np.float32)
    X = sp.csr_matrix((data.copy(), np.concatenate([np.arange(len(r)) for r in rows]).astype(np.int32), indptr),
                      shape=(len(rows), 2000))
    expected = normalize(X, copy=True).data
    normalise_rows_l2(data, indptr)
    assert np.array_equal(data, expected)
    assert data[0:2].tolist() == [0.0, 0.0] and data[2] == 1.0 and np.allclose(data[3:5], [0.6, 0.8])
    normalise_rows_l2(np.array([], dtype=np.float32), np.array([0, 0], dtype=np.int32))  # nothing to do


def test_verdict_as_dict_is_the_dataclass_copy():
    import dataclasses

    from fanzha.detect.service import check

    for text in ("【京东金融】您的校园贷账户未注销，请致电13912345678，或加QQ 987654321，访问 jd-zx.top", "晚上回家吃饭吗", ""):
        v = check(text)
        d = v.as_dict()
        assert d == dataclasses.asdict(v) and list(d) == [f.name for f in dataclasses.fields(v)]
        d["reasons"].append({"rule": "x"})
        d["entities"]["phones"].append("1")
        assert {"rule": "x"} not in v.reasons and "1" not in v.entities["phones"]  # a copy, as asdict makes
