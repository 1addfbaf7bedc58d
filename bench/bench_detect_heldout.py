"""Cross-source held-out check of the checker's decision rules (识诈研判规则), without retraining the shipped model.

    .venv/bin/python bench/bench_detect_heldout.py [--data ../shared/data] [--sources hw_sms,sms_spam,…]
                                                   [--cache /tmp/detect-heldout.pkl]

Held-out predictions are made once and cached: for each source named, a model of the shipped recipe trained on every
other source scores it (leave one source out, as `fanzha detect eval` does), and the seeded 20 % of fbs_sms is scored
by a model trained on everything else (the same-source view, drawn as `evaluate.within_source` draws it). The
decision is then made from those raw probabilities with the shipped calibration and thresholds and with the evidence
(chat, decisive rule, plain message) the current code finds in each text, so a change to the rules that act after the
model (notice, personal, signed messages, chat layout, decisive rules) is measured on text the model never saw, in
seconds. Each row is printed as shipped and again with chats read as a whole only (without the speaker-by-speaker
reading of `chat.speakers`, added 2026-12-07), for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import time

import numpy as np

SOURCES = "consumer_reviews,fraud_r1,golfxiao_dialogs,handwritten,hw_chats,hw_sms,sms_spam,teleantifraud,telecom_fraud_texts"


def heldout(root: str | None, sources: list[str], log=print) -> dict:
    """{name: {"texts", "y", "raw"}} for each held-out source and for "fbs_sms 20 %"."""
    from fanzha.detect import data, evaluate
    from fanzha.detect.model import FraudClassifier
    from fanzha.detect.train import DEFAULT_PARAMS

    t0 = time.time()
    ex = data.load_all(root)
    params = {**DEFAULT_PARAMS, "n_jobs": 1}
    features, ev = evaluate.analyse([e.text for e in ex], FraudClassifier(**params))
    y = np.array([e.risk for e in ex])
    ft = np.array([e.fraud_type for e in ex])
    src = np.array([e.source for e in ex])
    labels = np.array([e.label for e in ex])
    texts = [e.text for e in ex]
    log(f"features of {len(ex)} texts, {time.time() - t0:.0f} s")
    out = {}
    rng = np.random.default_rng(0)  # as evaluate.within_source draws its 20 %
    te = np.zeros(len(y), dtype=bool)
    for lab in sorted(set(labels[src == "fbs_sms"])):
        idx = np.flatnonzero((src == "fbs_sms") & (labels == lab))
        te[rng.choice(idx, size=max(1, int(round(0.2 * len(idx)))), replace=False)] = True
    H, R = features[:2]
    m = FraudClassifier(**params).fit_features(H[~te], R[~te], y[~te], ft[~te], src[~te])
    out["fbs_sms 20 %"] = {"texts": [t for t, k in zip(texts, te, strict=True) if k], "y": y[te],
                           "raw": m.raw_proba(X=m._finish(H[te], R[te])),
                           "speaker": evaluate.speaker_raw(m, features, te), "model": m}
    log(f"fbs_sms same-source 20 %, {time.time() - t0:.0f} s")
    res = evaluate.loso(ex, params, features=features, ev=ev, only=sources, log=log, keep_models=True)
    for g in sources:
        keep = src == g
        out[g] = {"texts": [t for t, k in zip(texts, keep, strict=True) if k], "y": y[keep],
                  "raw": res["oof_raw"][keep], "speaker": res["oof_speaker"][keep], "model": res["models"][g],
                  "labels": labels[keep]}
    return out


def ours_digest() -> str:
    """A digest of our own training text (seed_examples.tsv, handwritten/): the corpus fingerprint does not cover it."""
    from fanzha.detect import handwritten

    h = hashlib.sha256()
    for p in sorted([*handwritten.HERE.iterdir(), handwritten.HERE.parent / "seed_examples.tsv"]):
        if p.suffix in (".tsv", ".txt"):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def evidence(texts: list[str]):
    from fanzha.detect.model import evidence, hits_for, prepare

    norms, mtexts = prepare(texts)
    return evidence(norms, [hits_for(n, m) for n, m in zip(norms, mtexts, strict=True)])


def row(name: str, y, raw, ev, model, speaker=None) -> str:
    from fanzha.detect import evaluate
    from fanzha.detect.model import calibrated_fraud

    m = evaluate.metrics(y, evaluate.apply_platt(raw, model.calibration_), th=model.thresholds(), ev=ev,
                         speaker=None if speaker is None else calibrated_fraud(speaker, model.calibration_))

    def f(v, pct=False):
        return "—" if v is None else f"{100 * v:.2f} %" if pct else f"{v:.4f}"

    return (f"| {name} | {m['n']} | {f(m['macro_f1'])} | {f(m['flagged_f1'])} | {f(m['normal_called_fraud'], True)} | "
            f"{f(m['nonnormal_flagged'], True)} | {f(m['fraud_recall'])} | {m['confusion']} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--sources", default=SOURCES)
    ap.add_argument("--cache", default="/tmp/detect-heldout.pkl")
    args = ap.parse_args()
    from fanzha.detect import data
    from fanzha.detect.service import load_model

    sources = args.sources.split(",")
    key = {"data": data.fingerprint(args.data), "ours": ours_digest(), "sources": sources, "speakers": 1, "models": 1}
    cached = None
    if os.path.exists(args.cache):
        with open(args.cache, "rb") as fh:
            cached = pickle.load(fh)
    if cached is None or cached.get("key") != key:
        cached = {"key": key, "sets": heldout(args.data, sources)}
        with open(args.cache, "wb") as fh:
            pickle.dump(cached, fh)
    model = load_model()
    print(f"model {model.meta_.get('version')}  thresholds {json.dumps(model.thresholds().as_dict())}")
    print("| held out | n | macro-F1 | flagged-F1 | normal→诈骗 | non-normal flagged | fraud recall | confusion "
          "(rows true 正常/营销广告/违法推广/诈骗) |\n|---|---|---|---|---|---|---|---|")
    for name, s in cached["sets"].items():
        ev = evidence(s["texts"])
        print(row(name, s["y"], s["raw"], ev, model, s["speaker"]))
        if ev[0].any():
            print(row(f"{name}, chats read as a whole only", s["y"], s["raw"], ev, model))


if __name__ == "__main__":
    main()
