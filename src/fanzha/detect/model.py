"""The classifier (诈骗/违法推广/营销广告/正常 + fraud type): hashed character n-grams and rule flags → linear models.

A scikit-learn style estimator: `__init__` only stores parameters, `fit` learns every attribute ending in `_`,
`predict_proba` gives calibrated risk probabilities. The learned state is small enough to ship in the package:
features are kept only when seen in at least `min_df` training texts, and weights are stored as int8 with a
per-class scale (`save`/`load`).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import fields
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from fanzha.detect import chat, rules
from fanzha.detect.decision import NOTICE, PERSONAL, Thresholds, decide
from fanzha.detect.ngrams import char_ngram_counts
from fanzha.detect.normalise import VERSION as NORMALISE_VERSION
from fanzha.detect.normalise import model_text, normalise
from fanzha.detect.taxonomy import FRAUD_TYPES, RISKS

FRAUD = RISKS.index("fraud")
NORMAL, SPAM, ILLICIT = RISKS.index("normal"), RISKS.index("spam"), RISKS.index("illicit")
_RULE_INDEX = {code: i for i, code in enumerate(rules.RULE_CODES)}


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def prepare(texts) -> tuple[list[str], list[str]]:
    """Normalised texts (for rules and reasons) and model texts (for n-grams; a chat without its layout lines)."""
    norms = [normalise(t) for t in texts]
    return norms, [model_text(chat.body(n) if chat.is_chat(n) else n) for n in norms]


def hits_for(norm: str, mtext: str) -> list[rules.Hit]:
    """The red-flag rules and the cues (chat, fragments, chat pitch) of one text."""
    return rules.find(norm) + rules.cues(norm, mtext, chat.is_chat(norm))


def evidence(norms: list[str], hits: list[list[rules.Hit]], plains: list | None = None) -> tuple[np.ndarray, ...]:
    """What `decision.decide` needs besides the probabilities: (chat, decisive, plain kind, scam red flag, illicit red
    flag, account only) for each text; a scam red flag is a rule or a cue of risk fraud among its `hits`, an illicit
    one a rule of risk illicit, and account only the `fragment_account` cue (a short text that is little more than a
    bank account). `plains`, when given, is filled with each text's plain reason (`plain_hit`; None for chats), so a
    caller that shows it need not look again."""
    n = len(norms)
    is_chat = np.fromiter((chat.is_chat(t) for t in norms), dtype=bool, count=n)
    sure = np.array([bool(rules.decisive(t)) for t in norms], dtype=bool)
    plain = np.zeros(n, dtype=np.int8)
    red_flag, illicit, account = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    found = [None] * n
    for i, (t, hs) in enumerate(zip(norms, hits, strict=True)):
        for h in hs:  # one pass over the hits for the three flags
            if h.risk == "fraud":
                red_flag[i] = True
            elif h.risk == "illicit":
                illicit[i] = True
            if h.code == "fragment_account":
                account[i] = True
        if not is_chat[i]:
            found[i] = plain_hit(t, hs)
            plain[i] = _plain_kind(found[i])
    if plains is not None:
        plains[:] = found
    return is_chat, sure, plain, red_flag, illicit, account


def _plain_kind(hit: rules.Hit | None) -> int:
    return 0 if hit is None else NOTICE if hit.code in ("notice", "signed") else PERSONAL


def plain_hit(norm: str, hits: list[rules.Hit]) -> rules.Hit | None:
    """`rules.plain` for a text whose red flags are `hits` (cues that are not red flags do not count)."""
    flags = [h for h in hits if h.risk]
    if any(h.code not in rules.NOTICE_SUBJECTS for h in flags) or not norm or len(norm) > rules.NOTICE_MAX_CHARS:
        return None
    return rules.plain(norm, flags)


def speaker_texts(norms: list[str], is_chat) -> tuple[list[str], list[int], list[str]]:
    """What each speaker of each chat among `norms` says (`chat.speakers`), when it is at least
    `chat.SPEAKER_MIN_CHARS` long: (texts, the row each belongs to, the speakers' names)."""
    texts, rows, names = [], [], []
    for i, (norm, c) in enumerate(zip(norms, is_chat, strict=True)):
        if c:
            for name, said in chat.speakers(norm).items():
                if len(said) >= chat.SPEAKER_MIN_CHARS:
                    texts.append(said)
                    rows.append(i)
                    names.append(name)
    return texts, rows, names


def most_suspicious(raw: np.ndarray, rows, n: int, among=None) -> tuple[np.ndarray, np.ndarray]:
    """For each of `n` rows, the raw probabilities of its speaker with the highest P(fraud) (NaN where it has none)
    and that speaker's index in `raw` (-1 where none); with `among` (a flag per speaker), only the speakers flagged."""
    out = np.full((n, len(RISKS)), np.nan)
    which = np.full(n, -1)
    for j, i in enumerate(rows):
        if among is not None and not among[j]:
            continue
        if which[i] < 0 or raw[j, FRAUD] > out[i, FRAUD]:
            out[i], which[i] = raw[j], j
    return out, which


class Speakers(NamedTuple):
    """Each chat's speakers read alone (`FraudClassifier.speaker_raw`): the raw probabilities of its most suspicious
    speaker and of its most suspicious speaker who asks for money or a way in (`chat.asks`), NaN rows where there is
    none; every speaker's text and name; the index of each row's most suspicious speaker, and of its most suspicious
    asking speaker, in them (-1: none)."""

    raw: np.ndarray
    raw_asking: np.ndarray
    texts: list[str]
    names: list[str]
    which: np.ndarray
    which_asking: np.ndarray


def calibrated_fraud(raw: np.ndarray, ab) -> np.ndarray:
    """Platt-calibrated P(fraud) of raw probability rows, NaN rows kept NaN."""
    known = ~np.isnan(raw[:, FRAUD])
    out = np.full(len(raw), np.nan)
    a, b = ab
    out[known] = 1 / (1 + np.exp(-(a * _logit(raw[known, FRAUD]) + b)))
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of decision values (modifies nothing)."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class HashedVocabulary:
    """The n-gram vocabulary a model keeps from hashed counts (columns seen in at least `min_df` texts) and the
    sublinear tf × idf rows built on it; shared by the message classifier and the case-narrative type model."""

    n_features: int
    min_df: int

    def _learn_vocabulary(self, H: sp.csr_matrix) -> None:
        df = np.bincount(H.indices, minlength=self.n_features)
        self.kept_ = np.flatnonzero(df >= self.min_df).astype(np.int32)
        self.idf_ = (np.log((1 + H.shape[0]) / (1 + df[self.kept_])) + 1).astype(np.float32)
        self._set_lookup()

    def _set_lookup(self) -> None:
        self._lookup_ = np.full(self.n_features, -1, dtype=np.int32)
        self._lookup_[self.kept_] = np.arange(len(self.kept_), dtype=np.int32)

    def _project(self, H: sp.csr_matrix) -> sp.csr_matrix:
        """Hashed columns → the kept vocabulary (columns never kept are dropped)."""
        cols = self._lookup_[H.indices]
        keep = cols >= 0
        csum = np.concatenate([[0], np.cumsum(keep)])
        return sp.csr_matrix((H.data[keep], cols[keep], csum[H.indptr]), shape=(H.shape[0], len(self.kept_)))

    def _tfidf(self, H: sp.csr_matrix) -> sp.csr_matrix:
        """Kept n-gram columns with sublinear tf × idf, each row L2-normalised."""
        X = self._project(H)
        data = 1.0 + np.log(X.data)  # sublinear tf
        data *= self.idf_[X.indices]
        normalise_rows_l2(data, X.indptr)
        return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)

    def _restore_vocabulary(self, arrays: dict) -> None:
        self.kept_ = arrays["kept"]
        self.idf_ = arrays["idf"].astype(np.float32)
        self._set_lookup()

    def _save_weights(self, directory: Path | str, meta: dict, **arrays) -> None:
        """weights.npz (the vocabulary plus `arrays`) and meta.json (`params` and `meta`) in `directory`."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(d / "weights.npz", kept=self.kept_, idf=self.idf_.astype(np.float16), **arrays)
        params = self.get_params()
        params["ngram_range"] = list(params["ngram_range"])
        if "source_boost" in params:
            params["source_boost"] = [list(p) for p in params["source_boost"] or ()]
        (d / "meta.json").write_text(json.dumps({"params": params, **meta}, ensure_ascii=False, indent=2),
                                     encoding="utf-8")


def normalise_rows_l2(data: np.ndarray, indptr: np.ndarray) -> None:
    """Divide each CSR row's values (in place) by the row's L2 norm; empty and all-zero rows are left alone.

    What scikit-learn's `inplace_csr_row_normalize_l2` does, to the bit (each square in the values' precision, their
    sum, the root and the division in double precision), without importing scikit-learn (1.3 s, longer than scoring
    10,000 messages) where a model only scores.
    """
    lengths = np.diff(indptr)
    nonempty = lengths > 0
    if not nonempty.any():
        return
    sums = np.zeros(len(lengths), dtype=np.float64)
    sums[nonempty] = np.add.reduceat(np.square(data).astype(np.float64), indptr[:-1][nonempty])
    norms = np.where(sums > 0, np.sqrt(sums), 1.0)
    data[:] = data / np.repeat(norms, lengths)


class Estimator:
    """`get_params`/`set_params` from the constructor's arguments, as scikit-learn's `clone` and the saved
    `meta.json` use them, without scikit-learn's base classes (importing them costs a scoring process 1.3 s)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v != inspect.signature(type(self).__init__).parameters[k].default}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


class FraudClassifier(HashedVocabulary, Estimator):
    """Risk (normal/spam/illicit/fraud) and fraud-type classifier over raw message texts.

    fit(texts, y) takes `y` as risk labels and `fraud_type` as a keyword argument (types for the fraud rows).
    """

    def __init__(self, n_features: int = 2 ** 20, ngram_range: tuple[int, int] = (1, 3), min_df: int = 20,
                 alpha: float = 2.5e-7, rule_weight: float = 0.5, max_iter: int = 15, source_balance: float = 0.65,
                 source_boost: tuple = (), normal_min: float = 0.75, random_state: int = 0, n_seeds: int = 1,
                 n_jobs: int | None = None, fraud_min: float = 0.5, fraud_min_chat: float = 0.4,
                 plain_fraud_min: float = 0.97, unflagged_fraud_min: float = 0.7, spam_min_chat: float = 0.5,
                 whole_chat_fraud_min: float = 0.9, speaker_min: float = 0.7, speaker_ask_min: float = 0.3, speaker_whole_min: float = 0.02):
        self.n_features = n_features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.alpha = alpha
        self.rule_weight = rule_weight
        self.max_iter = max_iter
        self.source_balance = source_balance
        self.source_boost = source_boost
        self.normal_min = normal_min
        self.random_state = random_state
        self.n_seeds = n_seeds
        self.n_jobs = n_jobs
        self.fraud_min = fraud_min
        self.fraud_min_chat = fraud_min_chat
        self.plain_fraud_min = plain_fraud_min
        self.unflagged_fraud_min = unflagged_fraud_min
        self.spam_min_chat = spam_min_chat
        self.whole_chat_fraud_min = whole_chat_fraud_min
        self.speaker_min = speaker_min
        self.speaker_ask_min = speaker_ask_min
        self.speaker_whole_min = speaker_whole_min

    def thresholds(self) -> Thresholds:
        """The named thresholds `decision.decide` applies (saved with the model's parameters)."""
        return Thresholds(**{f.name: getattr(self, f.name) for f in fields(Thresholds)})

    # -- features ------------------------------------------------------------------------------------------------
    def _hasher(self):
        """The reference definition of the n-gram features; `hashed` computes the same matrix faster."""
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(analyzer="char", ngram_range=tuple(self.ngram_range), n_features=self.n_features,
                                 alternate_sign=False, norm=None, lowercase=False, dtype=np.float32)

    def hashed(self, mtexts: list[str]) -> sp.csr_matrix:
        """Hashed character n-gram counts of model texts (identical to `_hasher().transform`, vectorised)."""
        return char_ngram_counts(list(mtexts), self.n_features, tuple(self.ngram_range))

    def _rule_matrix(self, norms: list[str], mtexts: list[str] | None = None) -> sp.csr_matrix:
        if mtexts is None:
            mtexts = prepare(norms)[1]
        return self.rule_matrix_from_hits([hits_for(n, m) for n, m in zip(norms, mtexts, strict=False)])

    def rule_matrix_from_hits(self, hits: list[list]) -> sp.csr_matrix:
        """One column per rule, `rule_weight` where it fired (each row's columns in rule order)."""
        cols = np.fromiter((_RULE_INDEX[h.code] for hs in hits for h in hs), dtype=np.int32)
        indptr = np.zeros(len(hits) + 1, dtype=np.int32)
        np.cumsum([len(hs) for hs in hits], out=indptr[1:])
        data = np.full(len(cols), self.rule_weight, dtype=np.float32)
        return sp.csr_matrix((data, cols, indptr), shape=(len(hits), len(rules.RULE_CODES)))

    def _transform(self, norms: list[str], mtexts: list[str]) -> sp.csr_matrix:
        return self._finish(*self.featurize(norms, mtexts))

    # -- fitting -------------------------------------------------------------------------------------------------
    def _weights(self, y, groups) -> np.ndarray:
        """Each (source, label) cell weighs n**source_balance in total, so the 84k everyday SMS do not drown the rest;
        then `source_boost` ((key, factor) pairs, key "source" or "source|label") multiplies chosen cells.

        Off in the shipped recipe: boosting fbs_sms 3× raised its same-source macro-F1 (0.968 → 0.974) but made short
        scam SMS read as advertising (a 注销校园贷 message became spam) and ordinary SMS from an unseen source more
        often fraud; see MODEL_CARD.md.
        """
        y = np.asarray(y)
        g = np.asarray(groups) if groups is not None else np.zeros(len(y), dtype=object)
        keys = np.char.add(g.astype(str), np.char.add("|", y.astype(str)))
        _, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
        w = (counts ** self.source_balance / counts)[inv]
        for key, factor in self.source_boost or ():
            w[(keys == key) | (g.astype(str) == key)] *= factor
        return w * (len(y) / w.sum())

    def featurize(self, norms: list[str], mtexts: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Raw hashed counts and rule flags; `fit_features` learns from them (evaluation reuses them across folds)."""
        return self.hashed(mtexts), self._rule_matrix(norms, mtexts)

    def fit(self, texts, y, fraud_type=None, groups=None, prepared=None):
        norms, mtexts = prepared if prepared is not None else prepare(texts)
        H, R = self.featurize(norms, mtexts)
        return self.fit_features(H, R, y, fraud_type, groups)

    def fit_features(self, H, R, y, fraud_type=None, groups=None):
        y = np.asarray(y)
        self._learn_vocabulary(H)
        X = self._finish(H, R)
        self.classes_ = np.array(RISKS)
        self.types_ = np.array(FRAUD_TYPES)
        classes, coef, intercept = self._fit_linear(X, np.array([RISKS.index(v) for v in y]), self._weights(y, groups))
        self.coef_ = np.zeros((len(RISKS), X.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(RISKS), -30.0, dtype=np.float32)  # a risk never seen stays improbable
        self.coef_[classes] = coef
        self.intercept_[classes] = intercept
        self.type_coef_ = np.zeros((len(FRAUD_TYPES), X.shape[1]), dtype=np.float32)
        self.type_intercept_ = np.full(len(FRAUD_TYPES), -30.0, dtype=np.float32)
        ft = np.asarray(fraud_type) if fraud_type is not None else np.array([""] * len(y))
        mask = (y == "fraud") & (ft != "")
        if len(set(ft[mask])) >= 2:
            tidx = np.array([FRAUD_TYPES.index(v) for v in ft[mask]])
            g = np.asarray(groups)[mask] if groups is not None else None
            classes, coef, intercept = self._fit_linear(X[mask], tidx, self._weights(ft[mask], g))
            self.type_coef_[classes] = coef
            self.type_intercept_[classes] = intercept
        self.calibration_ = np.array([1.0, 0.0])  # Platt a, b on the fraud logit; set by calibrate()
        return self

    def _sgd(self, seed: int):
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.max_iter, tol=None, average=True,
                             random_state=seed, n_jobs=self.n_jobs)

    def _fit_linear(self, X, y, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Classes seen, weights and intercepts: the mean of `n_seeds` SGD fits that differ only in their shuffling
        seed. One linear model still (the mean of linear models), so scoring costs the same; on the seeded 20 % of
        fbs_sms single fits with seeds 0, 1, 2 gave macro-F1 0.9695, 0.9712, 0.9718 and their mean 0.9717."""
        fits = [self._sgd(self.random_state + k).fit(X, y, sample_weight=weights) for k in range(max(1, self.n_seeds))]
        return (fits[0].classes_, np.mean([f.coef_ for f in fits], axis=0),
                np.mean([f.intercept_ for f in fits], axis=0))

    def _finish(self, H, R) -> sp.csr_matrix:
        """Kept n-gram columns with sublinear tf × idf, each row L2-normalised, then the rule columns.

        The same numbers as `hstack([normalize(X.multiply(idf)), R])`, built straight from the arrays: that form
        spends more time checking and converting its inputs than computing when one message is scored.
        """
        X = self._tfidf(H)
        if not (sp.issparse(R) and R.format == "csr" and R.dtype == np.float32):
            R = sp.csr_matrix(R, dtype=np.float32)
        return _hstack_rows(X, R)

    def calibrate(self, raw_fraud_prob, is_fraud) -> FraudClassifier:
        """Fit fraud_prob = sigmoid(a·logit(p) + b) on held-out predictions (p from models that did not see them)."""
        self.calibration_ = fit_platt(raw_fraud_prob, is_fraud)
        return self

    # -- prediction ----------------------------------------------------------------------------------------------
    def decision_function(self, texts=None, prepared=None, X=None) -> np.ndarray:
        if X is None:
            norms, mtexts = prepared if prepared is not None else prepare(texts)
            X = self._transform(norms, mtexts)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def raw_proba(self, texts=None, prepared=None, X=None) -> np.ndarray:
        return softmax(self.decision_function(texts, prepared, X))

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Risk probabilities whose fraud column is calibrated; the other columns share the rest in proportion."""
        a, b = self.calibration_
        pf = 1 / (1 + np.exp(-(a * _logit(raw[:, FRAUD]) + b)))
        rest = np.delete(raw, FRAUD, axis=1)
        rest = rest / np.clip(rest.sum(axis=1, keepdims=True), 1e-12, None) * (1 - pf)[:, None]
        return np.insert(rest, FRAUD, pf, axis=1)

    def predict_proba(self, texts=None, prepared=None, X=None) -> np.ndarray:
        return self._calibrated(self.raw_proba(texts, prepared, X))

    def speaker_raw(self, norms: list[str], is_chat) -> Speakers:
        """Each chat's speakers, each read alone as a message (`Speakers`)."""
        texts, rows, names = speaker_texts(norms, is_chat)
        raw = self.raw_proba(texts=texts) if texts else np.zeros((0, len(RISKS)))
        best, which = most_suspicious(raw, rows, len(norms))
        asking, which_asking = most_suspicious(raw, rows, len(norms), among=[chat.asks(t) for t in texts])
        return Speakers(best, asking, texts, names, which, which_asking)

    def speaker_fraud(self, norms: list[str], is_chat) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated P(fraud) of each chat's most suspicious speaker and of its most suspicious speaker who asks for
        money or a way in (NaN where none): `decide`'s `speaker` and `speaker_asking`."""
        sp = self.speaker_raw(norms, is_chat)
        return calibrated_fraud(sp.raw, self.calibration_), calibrated_fraud(sp.raw_asking, self.calibration_)

    def predict(self, texts=None, prepared=None, X=None) -> np.ndarray:
        """Risks decided by `decision.decide` (with the chat, decisive and plain evidence and the chats' speakers when
        texts are given)."""
        proba = self.predict_proba(texts, prepared, X)
        if X is not None and texts is None and prepared is None:
            return self.classes_[decide(proba, th=self.thresholds())]
        norms, mtexts = prepared if prepared is not None else prepare(texts)
        ev = evidence(norms, [hits_for(n, m) for n, m in zip(norms, mtexts, strict=False)])
        speaker, asking = self.speaker_fraud(norms, ev[0])
        return self.classes_[decide(proba, *ev, th=self.thresholds(), speaker=speaker, speaker_asking=asking)]

    def type_proba(self, texts=None, prepared=None, X=None) -> np.ndarray:
        if X is None:
            norms, mtexts = prepared if prepared is not None else prepare(texts)
            X = self._transform(norms, mtexts)
        return softmax(np.asarray(X @ self.type_coef_.T) + self.type_intercept_)

    # -- artefact ------------------------------------------------------------------------------------------------
    def save(self, directory: Path | str, meta: dict | None = None) -> None:
        d = Path(directory)
        q, s = quantise(self.coef_)
        tq, ts = quantise(self.type_coef_)
        self._save_weights(d, {"risks": list(RISKS), "fraud_types": list(FRAUD_TYPES), "rules": list(rules.RULE_CODES),
                               "normalise": NORMALISE_VERSION, **(meta or {})},
                           coef=q, coef_scale=s, intercept=self.intercept_, type_coef=tq, type_scale=ts,
                           type_intercept=self.type_intercept_, calibration=self.calibration_)

    @classmethod
    def load(cls, directory: Path | str) -> FraudClassifier:
        meta, w = read_artefact(directory)
        params = meta["params"]
        params["source_boost"] = tuple(tuple(p) for p in params.get("source_boost") or ())
        params.setdefault("normal_min", 0.0)  # models saved before the threshold existed decided by arg-max
        params.setdefault("n_seeds", 1)  # and before the seed mean, from one fit
        params.setdefault("unflagged_fraud_min", 0.0)  # and before a message on its words alone needed more
        if meta.get("rules") != list(rules.RULE_CODES):
            raise ValueError("模型文件与当前规则列表不一致，请重新训练（fanzha detect train）")
        if meta.get("normalise", 1) != NORMALISE_VERSION:
            raise ValueError("模型文件与当前文本规范化版本不一致，请重新训练（fanzha detect train）")
        est = cls(**meta["params"])
        est._restore_vocabulary(w)
        est.coef_ = dequantise(w["coef"], w["coef_scale"])
        est.intercept_ = w["intercept"]
        est.type_coef_ = dequantise(w["type_coef"], w["type_scale"])
        est.type_intercept_ = w["type_intercept"]
        est.calibration_ = w["calibration"]
        est.classes_ = np.array(meta["risks"])
        est.types_ = np.array(meta["fraud_types"])
        est.meta_ = meta
        return est


def read_artefact(directory: Path | str) -> tuple[dict, dict]:
    """meta.json (with `params` ready for the estimator) and the arrays of weights.npz of a saved model."""
    d = Path(directory)
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    meta["params"]["ngram_range"] = tuple(meta["params"]["ngram_range"])
    with np.load(d / "weights.npz") as w:
        arrays = {k: w[k] for k in w.files}
    return meta, arrays


def _hstack_rows(A: sp.csr_matrix, B: sp.csr_matrix) -> sp.csr_matrix:
    """[A | B] for CSR matrices with the same rows: each row's entries of A, then its entries of B."""
    na, nb = np.diff(A.indptr), np.diff(B.indptr)
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(na + nb, out=indptr[1:])
    size = int(indptr[-1])
    data = np.empty(size, dtype=np.float32)
    indices = np.empty(size, dtype=np.int32)
    rows_a = np.repeat(np.arange(A.shape[0]), na)
    pos_a = indptr[rows_a] + np.arange(len(rows_a)) - A.indptr[rows_a]
    rows_b = np.repeat(np.arange(B.shape[0]), nb)
    pos_b = indptr[rows_b] + na[rows_b] + np.arange(len(rows_b)) - B.indptr[rows_b]
    data[pos_a], indices[pos_a] = A.data, A.indices
    data[pos_b], indices[pos_b] = B.data, B.indices + A.shape[1]
    if size < 2 ** 31:
        indptr = indptr.astype(np.int32)
    return sp.csr_matrix((data, indices, indptr), shape=(A.shape[0], A.shape[1] + B.shape[1]))


def quantise(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights with one scale per class (the rounding error is below 0.4 % of the largest weight)."""
    scale = np.abs(coef).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(coef / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def dequantise(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * scale[:, None]


def fit_platt(p, y) -> np.ndarray:
    from scipy.optimize import minimize

    x, y = _logit(np.asarray(p, dtype=float)), np.asarray(y, dtype=float)

    def nll(ab):
        z = ab[0] * x + ab[1]
        return float(np.sum(np.logaddexp(0, z) - y * z))

    return minimize(nll, np.array([1.0, 0.0]), method="Nelder-Mead").x
