"""The narrative type model: hashed character n-grams (the checker's own hashing and normalisation) plus the cue
scores per type → a twelve-way linear softmax, stored as int8 weights with a per-type scale.

A scikit-learn style estimator: `__init__` only stores parameters, `fit` learns the attributes ending in `_`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from fanzha.cases.suggest import cues
from fanzha.cases.suggest.narratives import TYPES
from fanzha.detect.model import HashedVocabulary, dequantise, quantise, read_artefact, softmax
from fanzha.detect.ngrams import char_ngram_counts
from fanzha.detect.normalise import model_text, normalise


def prepare(texts) -> tuple[list[str], list[str], list[list[cues.CueHit]]]:
    """Normalised texts, model texts (reporting frame, numbers and links masked) and the cue hits of each (matched
    on the frame-masked text, spans in the normalised one)."""
    norms = [normalise(t) for t in texts]
    masked = [cues.mask_frame(n) for n in norms]
    return norms, [model_text(m) for m in masked], [cues.find(m, n) for m, n in zip(masked, norms, strict=False)]


class NarrativeTypeModel(HashedVocabulary):
    def __init__(self, n_features: int = 2 ** 20, ngram_range: tuple[int, int] = (1, 3), min_df: int = 5,
                 alpha: float = 1e-5, cue_weight: float = 1.0, max_iter: int = 20, temperature: float = 1.0,
                 random_state: int = 0):
        self.n_features = n_features
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.alpha = alpha
        self.cue_weight = cue_weight
        self.max_iter = max_iter
        self.temperature = temperature
        self.random_state = random_state

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("n_features", "ngram_range", "min_df", "alpha", "cue_weight",
                                               "max_iter", "temperature", "random_state")}

    # -- features ------------------------------------------------------------------------------------------------
    def featurize(self, prepared) -> tuple[sp.csr_matrix, np.ndarray]:
        _, mtexts, hits = prepared
        return char_ngram_counts(list(mtexts), self.n_features, self.ngram_range), cues.scores(hits)

    def _finish(self, H: sp.csr_matrix, C: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([self._tfidf(H), sp.csr_matrix(C * self.cue_weight, dtype=np.float32)], format="csr")

    # -- fitting -------------------------------------------------------------------------------------------------
    def fit(self, texts=None, y=None, prepared=None, features=None, sample_weight=None) -> NarrativeTypeModel:
        H, C = features if features is not None else self.featurize(prepared or prepare(texts))
        self._learn_vocabulary(H)
        X = self._finish(H, C)
        yi = np.array([TYPES.index(v) for v in y])
        clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.max_iter, tol=None, average=True,
                            random_state=self.random_state).fit(X, yi, sample_weight=sample_weight)
        self.coef_ = np.zeros((len(TYPES), X.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(TYPES), -30.0, dtype=np.float32)  # a type never seen stays improbable
        self.coef_[clf.classes_] = clf.coef_
        self.intercept_[clf.classes_] = clf.intercept_
        self._coef_t = None
        return self

    # -- prediction ----------------------------------------------------------------------------------------------
    def decision_function(self, prepared=None, features=None) -> np.ndarray:
        H, C = features if features is not None else self.featurize(prepared)
        if getattr(self, "_coef_t", None) is None or self._coef_t.shape[::-1] != self.coef_.shape:
            # sparse @ dense wants the dense side C-contiguous; coef_.T is not, and would be copied on every call
            self._coef_t = np.ascontiguousarray(self.coef_.T)
        return np.asarray(self._finish(H, C) @ self._coef_t) + self.intercept_

    def predict_proba(self, prepared=None, features=None) -> np.ndarray:
        return softmax(self.decision_function(prepared, features) / self.temperature)

    # -- artefact ------------------------------------------------------------------------------------------------
    def save(self, directory: Path | str, meta: dict | None = None) -> None:
        q, s = quantise(self.coef_)
        self._save_weights(directory, {"types": list(TYPES), **(meta or {})}, coef=q, coef_scale=s,
                           intercept=self.intercept_)

    @classmethod
    def load(cls, directory: Path | str) -> NarrativeTypeModel:
        meta, w = read_artefact(directory)
        if meta.get("types") != list(TYPES):
            raise ValueError("案情类型模型与当前类型列表不一致，请重新训练（fanzha cases train-suggest）")
        est = cls(**meta["params"])
        est._restore_vocabulary(w)
        est.coef_ = dequantise(w["coef"], w["coef_scale"])
        est.intercept_ = w["intercept"]
        est.meta_ = meta
        return est
