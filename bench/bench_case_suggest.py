"""Benchmark of case-type suggestion: narratives per second on one core, in batches as `fanzha cases suggest-type`
reads them, and one at a time as the case form calls `suggest_type`.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_case_suggest.py [--n 50000]

Narratives are template narratives (seeded, about 80 characters) and the hand-written evaluation narratives
(about 120 characters), half each.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    args = ap.parse_args()
    from fanzha.cases.suggest import load_model, suggest_many, suggest_type
    from fanzha.cases.suggest.narratives import generate
    from fanzha.cases.suggest.train import load_hand_set

    templ = [t for t, _ in generate(args.n // 12 + 1, seed=99)]
    hand = [t for t, _ in load_hand_set()]
    # half template narratives, half hand-written ones, each hand-written one given a different tail so that no
    # cache can help: mean about 100 characters, as short 简要案情 are
    texts = [templ[i] if i % 2 else f"{hand[i % len(hand)]}（编号{i}）" for i in range(args.n)]
    t0 = time.perf_counter()
    load_model()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, len(texts), 2048):
        suggest_many(texts[i:i + 2048])
    batch = len(texts) / (time.perf_counter() - t0)
    single_n = min(2000, len(texts))
    t0 = time.perf_counter()
    for t in texts[:single_n]:
        suggest_type(t)
    single = single_n / (time.perf_counter() - t0)
    chars = sum(map(len, texts)) / len(texts)
    print(f"model load {t_load * 1000:.0f} ms; {len(texts)} narratives (mean {chars:.0f} chars): "
          f"batch {batch:,.0f}/s, one at a time {single:,.0f}/s; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
