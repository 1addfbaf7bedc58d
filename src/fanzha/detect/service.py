"""The library's front door: `check(text) -> Verdict` for one message, `score_many(texts)` for a batch (识诈)."""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from fanzha.detect import rules
from fanzha.detect.advice import FRAUD_TYPE_NAMES, RISK_NAMES, advice_for
from fanzha.detect.extract import extract
from fanzha.detect.model import FRAUD, FraudClassifier
from fanzha.detect.normalise import model_text, normalise

MODEL_DIR = Path(__file__).with_name("model")
MAX_CHARS = 100_000  # longer texts are cut; the verdict says so
BATCH = 2048
_lock = threading.Lock()


@dataclass
class Verdict:
    risk: str  # fraud / illicit / spam / normal
    risk_label: str  # 诈骗 / 违法推广 / 营销广告 / 正常
    fraud_type: str  # "" unless risk == fraud
    fraud_type_label: str
    fraud_prob: float  # calibrated probability that the message is fraud
    reasons: list[dict] = field(default_factory=list)  # red-flag rules with the matched span (on the normalised text)
    advice: str = ""
    entities: dict = field(default_factory=dict)
    truncated: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> FraudClassifier:
    """The shipped model (package data), or another directory given by path / FANZHA_DETECT_MODEL."""
    with _lock:
        return FraudClassifier.load(path or os.environ.get("FANZHA_DETECT_MODEL") or MODEL_DIR)


def _clean(text) -> tuple[str, bool]:
    if text is None:
        return "", False
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = str(text)
    return (text[:MAX_CHARS], True) if len(text) > MAX_CHARS else (text, False)


def _pick_type(type_proba: np.ndarray, hits: list[rules.Hit], model: FraudClassifier) -> str:
    """The model's type, unless a type-specific rule fired: then the likeliest of the types the rules point to."""
    pointed = {h.fraud_type for h in hits if h.fraud_type and h.risk == "fraud"}
    types = list(model.types_)
    if pointed:
        return max(sorted(pointed), key=lambda t: type_proba[types.index(t)])
    return str(types[int(type_proba.argmax())])


def score_many(texts, model: FraudClassifier | None = None, with_entities: bool = False) -> list[Verdict]:
    """Verdicts for many texts, vectorised in batches of 2,048 (None, bytes and over-long texts are accepted)."""
    model = model or load_model()
    out: list[Verdict] = []
    texts = list(texts)
    for start in range(0, len(texts), BATCH):
        cleaned = [_clean(t) for t in texts[start:start + BATCH]]
        norms = [normalise(t) for t, _ in cleaned]
        hits = [rules.find(n) for n in norms]
        X = model._finish(model._hasher().transform([model_text(n) for n in norms]).tocsr(),
                          model.rule_matrix_from_hits(hits))
        proba = model.predict_proba(X=X)
        tproba = model.type_proba(X=X)
        for i, norm in enumerate(norms):
            risk = str(model.classes_[int(proba[i].argmax())]) if norm else "normal"
            ftype = _pick_type(tproba[i], hits[i], model) if risk == "fraud" else ""
            shown = [h for h in hits[i] if h.risk == risk or (risk != "normal" and h.risk == "fraud")]
            out.append(Verdict(
                risk=risk, risk_label=RISK_NAMES[risk], fraud_type=ftype, fraud_type_label=FRAUD_TYPE_NAMES.get(ftype, ""),
                fraud_prob=round(float(proba[i, FRAUD]) if norm else 0.0, 4),
                reasons=[h.as_dict() for h in shown], advice=advice_for(risk, ftype),
                entities=extract(norm).as_dict() if with_entities else {}, truncated=cleaned[i][1]))
    return out


def check(text, model: FraudClassifier | None = None) -> Verdict:
    """The verdict on one message, with the entities (phones, links, cards, QQ/WeChat ids, amounts) it names."""
    return score_many([text], model=model, with_entities=True)[0]
