"""Benchmark of `fanzha detect score --engine spark` beside the local path: messages per second on N messages
(default 1,000,000), and whether the outputs agree byte for byte.

    .venv/bin/python bench/bench_spark_score.py [--lines 1000000] [--runs local1,local2,spark] [--master local[2]]

Messages are made from the package's seed examples by the same generator as tests/detect/test_spark.py (numbers,
links, chat layout, quotes, formula-like starts); they are written to a CSV, and each run is the whole command
(`fanzha detect score`, a new process; for Spark, the JVM's start and the Python workers' imports included). A
Spark run on 100 messages is timed first: its time is the fixed cost of a Spark run on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bench_detect import _cpu  # noqa: E402
from test_detect_spark import messages, write_csv  # noqa: E402  (the test's own generator)


def _run(src: Path, dst: Path, args: list[str]) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "fanzha.cli.main", "detect", "score", str(src), "-o", str(dst), *args]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    secs = time.perf_counter() - t0
    if res.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stderr[-3000:]}")
    return secs, res.stderr.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", default="local1,local2,spark", help="comma-separated: local1, local2, spark")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    src = tmp / "in.csv"
    write_csv(src, messages(args.lines))
    print(f"date {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC  nproc {os.cpu_count()}  cpu {_cpu()}  "
          f"python {platform.python_version()}")
    print(f"messages {args.lines:,}  input {src.stat().st_size / 1e6:.0f} MB  master {args.master}")
    spark_args = ["--engine", "spark", "--spark-master", args.master] + (
        ["--partitions", str(args.partitions)] if args.partitions else [])
    outputs = {}
    for run in args.runs.split(","):
        load = os.getloadavg()[0]
        if run == "spark":
            small = tmp / "small.csv"
            write_csv(small, messages(100))
            fixed, _ = _run(small, tmp / "small_out.csv", spark_args)
            print(f"spark, 100 messages (the fixed cost of a run): {fixed:.1f} s (load average before {load:.1f})")
            load = os.getloadavg()[0]
            secs, said = _run(src, tmp / "spark.csv", spark_args)
            outputs[run] = tmp / "spark.csv"
        else:
            workers = run.removeprefix("local")
            secs, said = _run(src, tmp / f"{run}.csv", ["--workers", workers])
            outputs[run] = tmp / f"{run}.csv"
        print(f"{run}: {secs:.1f} s = {args.lines / secs:,.0f} messages/s (load average before {load:.1f}); {said}")
    first = next(iter(outputs.values()))
    for run, path in outputs.items():
        same = filecmp.cmp(first, path, shallow=False)
        print(f"{run} output identical to {next(iter(outputs))}: {same}")
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
