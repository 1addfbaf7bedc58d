"""The recipe that rebuilds the shipped model from the corpora (`fanzha detect train`): same data, same model.

Steps: load every corpus (data.py), normalise, hash character n-grams and rule flags, run leave-one-source-out for
the per-source report, fit the final model on everything, calibrate fraud_prob (Platt) on 5-fold out-of-fold
predictions, save weights + meta.json (parameters, data fingerprint, per-source results) into the model directory.

Why the calibrator is fitted on random folds and not on the leave-one-source-out predictions: a global Platt fitted
across held-out sources flattens every probability (a ≈ 0.35) and moves the fraud threshold for all the data the
model does know, while it cannot fix a source whose register it never saw; the per-source report keeps both ECEs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fanzha.detect import data, evaluate, normalise
from fanzha.detect.model import FRAUD, FraudClassifier, calibrated_fraud

DEFAULT_PARAMS: dict = {"n_jobs": 2}  # FraudClassifier's defaults are the shipped recipe; two threads for the one-vs-rest fits (same numbers)
WITHIN = ("fbs_sms", "sms_spam")


def _jsonable(d):
    return {k: v for k, v in d.items() if k not in ("oof_raw", "oof_type", "oof_speaker", "oof_asking")}


def params_digest(est: FraudClassifier) -> str:
    """Six hex digits of the estimator's parameters: a model trained on the same data with another recipe gets
    another version."""
    return hashlib.sha256(json.dumps(est.get_params(), sort_keys=True, default=list).encode()).hexdigest()[:6]


def train(root: Path | str | None = None, out: Path | str | None = None, params: dict | None = None,
          log: Callable[[str], None] = print, loso: bool = True, within: bool = True) -> dict:
    from fanzha.detect.service import MODEL_DIR

    params = {**DEFAULT_PARAMS, **(params or {})}
    t0 = time.time()
    examples = data.load_all(root)
    log(f"语料 {len(examples)} 条，来自 {len({e.source for e in examples})} 个来源")
    y = np.array([e.risk for e in examples])
    ft = np.array([e.fraud_type for e in examples])
    src = np.array([e.source for e in examples])
    est = FraudClassifier(**params)
    features, ev = evaluate.analyse([e.text for e in examples], est)
    log(f"特征完成（{time.time() - t0:.0f} 秒），开始留一来源交叉验证")
    res = evaluate.loso(examples, params, features=features, log=log, ev=ev) if loso else {"per_source": {}}
    log("五折交叉验证，拟合诈骗概率校准")
    kfold, kfold_speaker, kfold_asking = evaluate.kfold_raw(examples, params, features=features)
    final = est.fit_features(*features[:2], y, ft, src)
    final.calibrate(kfold[:, FRAUD], y == "fraud")
    within_res = {}
    for s in WITHIN if within else ():
        if s in set(src):  # scored with the shipped calibration, as the product would score them
            within_res[s] = evaluate.within_source(examples, s, params, features=features,
                                               calibration=final.calibration_, ev=ev)
            log(f"  {s} 同源 20% 留出：macro-F1 {within_res[s]['macro_f1']:.4f}")
    kfold_ece = {g: evaluate.ece(evaluate.apply_platt(kfold[src == g], final.calibration_)[:, FRAUD],
                                 y[src == g] == "fraud") for g in sorted(set(src))}
    kfold_rates = {}  # the decision rule (normal threshold) on out-of-fold predictions of the training data
    for g in sorted(set(src)):
        m = evaluate.metrics(y[src == g], evaluate.apply_platt(kfold[src == g], final.calibration_),
                             th=final.thresholds(), ev=tuple(a[src == g] for a in ev),
                             speaker=calibrated_fraud(kfold_speaker[src == g], final.calibration_),
                             speaker_asking=calibrated_fraud(kfold_asking[src == g], final.calibration_))
        kfold_rates[g] = {k: m[k] for k in ("macro_f1", "nonnormal_flagged", "normal_flagged", "normal_called_fraud")}
    today = dt.date.today().isoformat()
    fp = data.fingerprint(root)
    meta = {
        "version": f"{today.replace('-', '.')}-{fp[:8]}-{params_digest(final)}-n{normalise.VERSION}",
        "trained_at": today,
        "data_fingerprint": fp,
        "n_examples": len(examples),
        "counts": {f"{s}|{r}": n for (s, r), n in sorted(Counter(zip(src, y, strict=False)).items())},
        "n_features_kept": len(final.kept_),
        "calibration": [float(v) for v in final.calibration_],
        "loso": res["per_source"],
        "within_source": within_res,
        "kfold_ece_calibrated": kfold_ece,
        "kfold_rates": kfold_rates,
    }
    out = Path(out) if out else MODEL_DIR
    final.save(out, meta)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    log(f"模型已保存到 {out}（{size / 1e6:.1f} MB，用时 {time.time() - t0:.0f} 秒）")
    return meta
