"""Leave-one-source-out evaluation (留一来源交叉验证): train on all corpora but one, test on the one left out.

The report gives, for each held-out source s, the raw ECE of fraud_prob and the ECE after a Platt calibrator fitted
on the held-out predictions of the other sources only (so s's labels never reach what scores s).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from fanzha.detect import chat
from fanzha.detect.data import FRAUD_TYPES, RISKS, Example
from fanzha.detect.decision import Thresholds, decide
from fanzha.detect.model import (
    FRAUD,
    FraudClassifier,
    calibrated_fraud,
    evidence,
    fit_platt,
    hits_for,
    most_suspicious,
    prepare,
    speaker_texts,
)


def ece(prob, truth, bins: int = 15) -> float:
    """Expected calibration error of a binary probability, equal-width bins."""
    prob, truth = np.asarray(prob, dtype=float), np.asarray(truth, dtype=float)
    if len(prob) == 0:
        return float("nan")
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(prob[m].mean() - truth[m].mean())
    return float(total / len(prob))


def apply_platt(raw: np.ndarray, ab) -> np.ndarray:
    est = FraudClassifier()
    est.calibration_ = np.asarray(ab)
    return est._calibrated(raw)


def analyse(texts: list[str], est: FraudClassifier | None = None):
    """Features and decision evidence of texts, computed once: ((hashed n-grams, rule/cue columns, speakers),
    `model.evidence`); speakers are the features of what each chat's speakers say, read alone, and the row each
    belongs to and whether they ask for money or a way in (`speaker_raw` scores them with a fitted model)."""
    est = est or FraudClassifier()
    norms, mtexts = prepare(texts)
    hits = [hits_for(n, m) for n, m in zip(norms, mtexts, strict=False)]
    ev = evidence(norms, hits)
    said, rows, _ = speaker_texts(norms, ev[0])
    s_norms, s_mtexts = prepare(said)
    s_hits = [hits_for(n, m) for n, m in zip(s_norms, s_mtexts, strict=False)]
    speakers = (est.hashed(s_mtexts), est.rule_matrix_from_hits(s_hits), np.asarray(rows, dtype=int),
                np.array([chat.asks(t) for t in said], dtype=bool))
    return (est.hashed(mtexts), est.rule_matrix_from_hits(hits), speakers), ev


def speaker_raw(m: FraudClassifier, features, mask: np.ndarray, asking: bool = False) -> np.ndarray:
    """Raw probabilities of the most suspicious speaker of each chat among the rows of `mask` (with `asking`, of
    its most suspicious speaker who asks for money or a way in), read by the fitted model `m` (NaN rows where there
    is none, or when `features` carry no speakers)."""
    n = int(mask.sum())
    if len(features) < 3:
        return np.full((n, len(RISKS)), np.nan)
    Hs, Rs, rows, asks = features[2]
    sel = mask[rows] & (asks if asking else True)
    pos = np.cumsum(mask) - 1  # a row's position among the rows of mask
    raw = m.raw_proba(X=m._finish(Hs[sel], Rs[sel])) if sel.any() else np.zeros((0, len(RISKS)))
    return most_suspicious(raw, pos[rows[sel]], n)[0]


def speaker_pair(m: FraudClassifier, features, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`speaker_raw` of every speaker and of the asking ones."""
    return speaker_raw(m, features, mask), speaker_raw(m, features, mask, asking=True)


def _rows(ev, mask):
    return None if ev is None else tuple(np.asarray(a)[mask] for a in ev)


def metrics(y_true, proba, type_true=None, type_proba=None, th: Thresholds | None = None, ev=None,
            speaker=None, speaker_asking=None) -> dict:
    """Per-source figures: macro-F1 over the risks present, fraud P/R/F1, flagged rates, confusion, ECE.

    Risks are decided as the product decides them (`decision.decide` with the model's thresholds and, when `ev` is
    given, each row's `model.evidence` and `speaker`/`speaker_asking`, the calibrated P(fraud) of each
    chat's most suspicious speaker and of its most suspicious asking speaker)."""
    y_true = np.asarray(y_true)
    pred = np.array(RISKS)[decide(proba, *(ev or ()), th=th or Thresholds(), speaker=speaker,
                                  speaker_asking=speaker_asking)]
    present = [r for r in RISKS if (y_true == r).any()]
    is_f, pf = y_true == "fraud", pred == "fraud"
    p, r, f, _ = precision_recall_fscore_support(is_f, pf, average="binary", zero_division=0)
    flagged_true, flagged_pred = y_true != "normal", pred != "normal"
    out = {
        "n": len(y_true),
        "counts": {k: int((y_true == k).sum()) for k in present},
        "macro_f1": float(f1_score(y_true, pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float((pred == y_true).mean()),
        "fraud_precision": float(p), "fraud_recall": float(r), "fraud_f1": float(f),
        "chat_share": float(np.mean(ev[0])) if ev is not None and len(y_true) else None,
        "flagged_f1": float(precision_recall_fscore_support(flagged_true, flagged_pred, average="binary",
                                                            zero_division=0)[2]),
        "normal_called_fraud": float(pf[y_true == "normal"].mean()) if (y_true == "normal").any() else None,
        "normal_flagged": float(flagged_pred[y_true == "normal"].mean()) if (y_true == "normal").any() else None,
        "nonnormal_flagged": float(flagged_pred[flagged_true].mean()) if flagged_true.any() else None,
        "ece": ece(proba[:, FRAUD], is_f),
        "confusion": confusion_matrix(y_true, pred, labels=list(RISKS)).tolist(),
    }
    if type_true is not None and type_proba is not None:
        type_true = np.asarray(type_true)
        m = is_f & (type_true != "")
        if m.any():
            tp = np.array(FRAUD_TYPES)[type_proba[m].argmax(axis=1)]
            labels = sorted(set(type_true[m]))
            out["type_accuracy"] = float((tp == type_true[m]).mean())
            out["type_macro_f1"] = float(f1_score(type_true[m], tp, labels=labels, average="macro", zero_division=0))
    return out


def loso(examples: list[Example], params: dict | None = None, prepared=None, features=None,
         log: Callable[[str], None] = print, only: list[str] | None = None, ev=None, keep_models: bool = False) -> dict:
    """Leave-one-source-out: returns {"per_source": …, "oof_raw": …, "oof_type": …, "oof_speaker": …} (held-out
    predictions; `oof_speaker` the raw probabilities of each chat's most suspicious speaker, NaN where none, and
    `oof_asking` those of its most suspicious speaker who asks for money or a way in), and
    with `keep_models` also "models": {source: the model fitted without it}."""
    y = np.array([e.risk for e in examples])
    ft = np.array([e.fraud_type for e in examples])
    src = np.array([e.source for e in examples])
    est = FraudClassifier(**(params or {}))
    if features is None:
        features, ev = analyse([e.text for e in examples], est)
    H, R = features[:2]
    oof_raw = np.zeros((len(y), len(RISKS)))
    oof_type = np.zeros((len(y), len(FRAUD_TYPES)))
    oof_speaker = np.full((len(y), len(RISKS)), np.nan)
    oof_asking = np.full((len(y), len(RISKS)), np.nan)
    held = [g for g in sorted(set(src)) if not only or g in only]
    models = {}
    for g in held:
        t0 = time.time()
        te = src == g
        tr = ~te
        m = clone(est).fit_features(H[tr], R[tr], y[tr], ft[tr], src[tr])
        X = m._finish(H[te], R[te])
        oof_raw[te] = m.raw_proba(X=X)
        oof_type[te] = m.type_proba(X=X)
        oof_speaker[te], oof_asking[te] = speaker_pair(m, features, te)
        if keep_models:
            models[g] = m
        log(f"  留出 {g}: {te.sum()} 条，{time.time() - t0:.0f} 秒")
    per_source = {}
    for g in held:
        te = src == g
        other = ~te & np.isin(src, held)
        ab = fit_platt(oof_raw[other, FRAUD], y[other] == "fraud")
        per_source[g] = metrics(y[te], apply_platt(oof_raw[te], ab), ft[te], oof_type[te], est.thresholds(),
                                _rows(ev, te), calibrated_fraud(oof_speaker[te], ab),
                                calibrated_fraud(oof_asking[te], ab))
        per_source[g]["ece_uncalibrated"] = ece(oof_raw[te, FRAUD], y[te] == "fraud")
    out = {"per_source": per_source, "oof_raw": oof_raw, "oof_type": oof_type, "oof_speaker": oof_speaker,
           "oof_asking": oof_asking}
    if keep_models:
        out["models"] = models
    return out


def kfold_raw(examples: list[Example], params: dict | None = None, features=None, k: int = 5,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold raw probabilities from k seeded random folds over all sources (the shipped calibration set), and
    those of each chat's most suspicious speaker and most suspicious asking speaker (NaN where none)."""
    y = np.array([e.risk for e in examples])
    ft = np.array([e.fraud_type for e in examples])
    src = np.array([e.source for e in examples])
    fold = np.random.default_rng(seed).integers(0, k, size=len(y))
    est = FraudClassifier(**(params or {}))
    H, R = features[:2]
    oof = np.zeros((len(y), len(RISKS)))
    oof_speaker = np.full((len(y), len(RISKS)), np.nan)
    oof_asking = np.full((len(y), len(RISKS)), np.nan)
    for f in range(k):
        te = fold == f
        m = clone(est).fit_features(H[~te], R[~te], y[~te], ft[~te], src[~te])
        oof[te] = m.raw_proba(X=m._finish(H[te], R[te]))
        oof_speaker[te], oof_asking[te] = speaker_pair(m, features, te)
    return oof, oof_speaker, oof_asking


def within_source(examples: list[Example], source: str, params: dict | None = None, features=None,
                  frac: float = 0.2, seed: int = 0, calibration=None, ev=None) -> dict:
    """Hold out a seeded `frac` of one source (per label) and train on everything else: the in-distribution view,
    which is how the withheld 20 % of fbs_sms is drawn."""
    y = np.array([e.risk for e in examples])
    ft = np.array([e.fraud_type for e in examples])
    src = np.array([e.source for e in examples])
    labels = np.array([e.label for e in examples])
    rng = np.random.default_rng(seed)
    te = np.zeros(len(y), dtype=bool)
    for lab in sorted(set(labels[src == source])):
        idx = np.flatnonzero((src == source) & (labels == lab))
        te[rng.choice(idx, size=max(1, int(round(frac * len(idx)))), replace=False)] = True
    est = FraudClassifier(**(params or {}))
    H, R = features[:2]
    m = est.fit_features(H[~te], R[~te], y[~te], ft[~te], src[~te])
    X = m._finish(H[te], R[te])
    raw = m.raw_proba(X=X)
    ab = m.calibration_ if calibration is None else calibration
    if calibration is not None:
        raw = apply_platt(raw, calibration)
    spk, asking = speaker_pair(m, features, te)
    return metrics(y[te], raw, ft[te], m.type_proba(X=X), m.thresholds(), _rows(ev, te),
                   calibrated_fraud(spk, ab), calibrated_fraud(asking, ab))


def format_table(per_source: dict) -> str:
    """A Markdown table of the per-source figures (used by the CLI and the model card)."""
    head = ("| held-out source | n | macro-F1 | fraud P | fraud R | flagged-F1 | normal→fraud | non-normal flagged "
            "| ECE raw | ECE Platt | type acc |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []

    def f(v):
        return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

    for g, m in per_source.items():
        rows.append(f"| {g} | {m['n']} | {f(m['macro_f1'])} | {f(m['fraud_precision'])} | {f(m['fraud_recall'])} | "
                    f"{f(m['flagged_f1'])} | {f(m['normal_called_fraud'])} | {f(m['nonnormal_flagged'])} | "
                    f"{f(m.get('ece_uncalibrated'))} | {f(m['ece'])} | {f(m.get('type_accuracy'))} |")
    return head + "\n".join(rows) + "\n"
