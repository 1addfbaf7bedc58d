"""Benchmark of `fanzha.detect` batch scoring: messages per second and peak memory on N lines (default 1,000,000).

    .venv/bin/python bench/bench_detect.py [--lines 1000000] [--data ../shared/data] [--workers 1,2]

Lines are SMS drawn (with replacement, seeded) from the public corpora when they are present, else a few fixed
sentences; a child process writes them to a CSV, then this process scores the file exactly as `fanzha detect score`
does (streaming, batches of 2,048) and reports throughput and peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import cpu_name  # noqa: E402


def _lines(n: int, root: str | None) -> list[str]:
    pool: list[str] = []
    try:
        from fanzha.detect import data

        for name in ("sms_spam", "fbs_sms", "telecom_fraud_texts"):
            pool += [e.text for e in data.LOADERS[name](data.Path(root) if root else data.DEFAULT_ROOT)][:40_000]
    except (FileNotFoundError, OSError):
        pool = ["您好，我是京东客服，您的校园贷需要注销", "晚上回家吃饭吗", "全场五折回T退订", "澳门娱乐城首充送彩金"]
    rnd = random.Random(0)
    return [pool[rnd.randrange(len(pool))] for _ in range(n)]


def make_file(path: str, n: int, root: str | None) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i, line in enumerate(_lines(n, root)):
            w.writerow([i, line])


def main() -> None:
    import subprocess
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1", help="comma-separated worker counts to run in turn, e.g. 1,2,1,2")
    ap.add_argument("--data", default=None)
    ap.add_argument("--make", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_file(args.make, args.lines, args.data)
        return
    tmp = tempfile.mkdtemp(prefix="bench-detect-")
    src, dst = os.path.join(tmp, "in.csv"), os.path.join(tmp, "out.csv")
    # The input is written by a child process, so the corpora it reads do not count in this process's memory.
    cmd = [sys.executable, __file__, "--lines", str(args.lines), "--make", src] + (["--data", args.data] if args.data else [])
    subprocess.run(cmd, check=True)
    from fanzha.detect.scorefile import score_file
    from fanzha.detect.service import load_model

    model = load_model()
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = os.path.getsize(src) / 1e6
    print(f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  nproc {os.cpu_count()}  cpu {cpu_name()}  "
          f"python {platform.python_version()}")
    print(f"model {model.meta_.get('version')}  lines {args.lines:,}  input {size:.0f} MB")
    for workers in [int(w) for w in args.workers.split(",")]:
        load = os.getloadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = score_file(src, dst, text_col="text", model=model, workers=workers)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (children.ru_utime - children0.ru_utime) + (children.ru_stime - children0.ru_stime)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"CSV in → CSV out, streaming, --workers {workers}: {secs:.1f} s = {summary.rows / secs:,.0f} messages/s "
              f"({cpu:.1f} s of CPU in all processes = {summary.rows / cpu:,.0f} messages per CPU second; load average "
              f"before {load[0]:.1f})")
    print(f"peak RSS of this process {peak:,.0f} MB ({rss_model:,.0f} MB after loading the model)")
    print("risks", dict(summary.risks))
    for p in (src, dst):
        os.remove(p)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
