"""Case-type suggestion (案件类型建议): which of the twelve police fraud types a case narrative (案情) describes.

`suggest_type(text)` gives (type code, confidence) or None; `explain(text)` adds the cues behind it and the two most
likely types with the cues that speak for each (`top`), which the case page shows the officer.
The model (model/, built by `fanzha cases train-suggest`) is loaded once, on first use. No database is touched.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from fanzha.cases.suggest import cues
from fanzha.cases.suggest.narratives import TYPES

MODEL_DIR = Path(__file__).with_name("model")
# Below this, a text with no cue at all gets no suggestion. 0.2 (was 0.4): a case that is a fraud but names no scheme
# still gets the model's best guess when it stands out from the twelve (uniform is 0.083); the officer confirms it.
MIN_CONFIDENCE = 0.2
# Without a word about a fraud or a loss (被骗, 转账, 报警 …), a type needs cues worth this much (two decisive cues
# = 2.0, see cues.toml) before anything is suggested: "和朋友去超市采购，玩了会儿游戏" names no case.
STRONG_CUES = 5 / 3
MAX_CHARS = 20_000  # a narrative longer than this is read up to here
_lock = threading.Lock()
_model = None


def load_model():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from fanzha.cases.suggest.model import NarrativeTypeModel

                _model = NarrativeTypeModel.load(MODEL_DIR)
    return _model


def analyse_many(texts: list[str], model=None) -> list[dict | None]:
    """Per text None or {fraud_type, confidence, alternatives, top, cues, text}: what `explain` gives, without
    labels."""
    from fanzha.cases.suggest.model import prepare

    model = model or load_model()
    out: list[dict | None] = [None] * len(texts)
    live = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if not live:
        return out
    norms, mtexts, hits = prepare([texts[i][:MAX_CHARS] for i in live])
    proba = model.predict_proba(prepared=(norms, mtexts, hits))
    for k, i in enumerate(live):
        if not cues.has_context(norms[k]) and cues.top_score(hits[k]) < STRONG_CUES:
            continue  # nothing speaks of a fraud or a loss, and no type is named strongly enough: no suggestion
        best = int(proba[k].argmax())
        if not hits[k] and proba[k, best] < MIN_CONFIDENCE:
            continue
        order = np.argsort(-proba[k], kind="stable")[:3]
        out[i] = {"fraud_type": TYPES[best], "confidence": round(float(proba[k, best]), 4),
                  "alternatives": [(TYPES[j], round(float(proba[k, j]), 4)) for j in order],
                  "top": [{"fraud_type": TYPES[j], "confidence": round(float(proba[k, j]), 4),
                           "cues": [h.as_dict() for h in hits[k] if h.fraud_type == TYPES[j]]} for j in order[:2]],
                  "cues": [h.as_dict() for h in hits[k]], "text": norms[k]}
    return out


def suggest_many(texts: list[str], model=None) -> list[tuple[str, float] | None]:
    """`suggest_type` for a batch (much faster per text than one at a time)."""
    return [(r["fraud_type"], r["confidence"]) if r else None for r in analyse_many(list(texts), model)]


def suggest_type(text: str) -> tuple[str, float] | None:
    """The police fraud type a narrative most likely describes, with a confidence in 0–1; None for empty text, for
    text in which nothing points to a fraud, and for text with no type cue where the model is unsure."""
    return suggest_many([text])[0]


def explain(text: str) -> dict | None:
    """The suggestion with what supports it: {fraud_type, label, confidence, alternatives [(type, p)] × 3,
    top [{fraud_type, label, confidence, cues}] × 2 (the two most likely types, each with its own cues, strongest
    first), cues [{fraud_type, label, name, weight, start, end, text}] (spans in `text`, the normalised narrative,
    whose reporting frame — 民警, 报警, 派出所 — is never a cue), text}; or None."""
    from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS

    r = analyse_many([text])[0]
    if r is None:
        return None
    r["label"] = FRAUD_TYPE_LABELS[r["fraud_type"]]
    for c in r["cues"]:
        c["label"] = FRAUD_TYPE_LABELS[c["fraud_type"]]
    for t in r["top"]:
        t["label"] = FRAUD_TYPE_LABELS[t["fraud_type"]]
        t["cues"] = sorted(t["cues"], key=lambda c: (-c["weight"], c["start"]))
        for c in t["cues"]:
            c["label"] = t["label"]
    return r
