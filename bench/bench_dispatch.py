"""Benchmark of the dispatch policy against first-come-first-served (issue 30): one day of 13,000 warnings over 20
stations, replayed by `fanzha dispatch simulate` under `--policy fifo` and the platform's policy.

    .venv/bin/python bench/bench_dispatch.py [--seed 20261201] [--sim-seed 0] [--keep DIR]

The scenario (seeded, written once, never fitted to the result):

- **Load.** 13,000 warnings in one local day. Station k (1…20) gets a share ∝ 1/k^0.8 (Zipf-like): the busiest
  about 11 times the quietest. Hour of day by a diurnal profile (HOURLY): quiet 01–05, a morning peak 09–11, an
  afternoon plateau, a falling evening.
- **Kinds and grades.** 预警类型 drawn from KIND_MIX; 资金预警 carry an amount (log-normal, median 20,000 元), a fifth
  of the others one (median 5,000 元). 预警级别 is left blank, so the command grades each row by the packaged triage
  rules as the platform would (资金 → 高, 电话/APP/境外来电 → 中, 短信/网址/其他 → 低, raised by amount), and every
  资金预警 needs a 见面 (triage's face_to_face).
- **Roster.** Three daily shifts per station: 08:00–16:00, 16:00–24:00 and a night shift 00:00–08:00. Staffing is not
  proportional to load, as in practice: a station's day headcount grows with the square root of its load, so the
  busiest station has about 3.3 times the quietest's staff for 11 times its warnings (`--staffing 1.0`:
  proportional, a sensitivity check). The city's day headcount is the
  expected work of the day shift's arrivals (mean handling times: attempts, retries, calls and 见面) in 8-hour
  shifts plus 10 %; evenings get 60 % of the day headcount (at least one); nights one dissuader per station (two at
  the three busiest): thin, as the issue describes.
- **Help.** The roster names each station's 分局: four 分局 of five stations each, station k in 分局 k mod 4, so each
  mixes busy and quiet stations (a 分局 usually has an urban core and outlying stations).
- **Handling.** The packaged defaults of dispatch/policy_default.toml (attempt 2, reached call 6, 见面 45 minutes;
  reach 70 %, retry after 15 minutes, three attempts), never fitted to data.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import random
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

N_WARNINGS = 13_000
N_STATIONS = 20
ZIPF = 0.8
DAY = datetime(2026, 12, 1)  # local (Asia/Shanghai) wall time
HOURLY = [1.2, 0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 2.5, 4.0, 5.5, 6.0, 5.5, 4.0, 4.0, 5.0, 5.0, 4.8, 4.5, 4.0, 4.0, 3.8,
          3.2, 2.5, 1.8]
KIND_MIX = {"资金预警": 0.10, "涉诈电话": 0.25, "境外来电": 0.07, "涉诈APP": 0.13, "涉诈短信": 0.20, "涉诈网址": 0.20,
            "其他": 0.05}
SHIFTS = (("08:00", "16:00", range(8, 16)), ("16:00", "00:00", range(16, 24)), ("00:00", "08:00", range(0, 8)))
SPARE = 1.10


def generate(seed: int, out: Path, staffing: float = 0.5) -> dict:
    """Writes W.csv and S.csv into `out`; returns what the scenario is made of, for the record."""
    from fanzha.dispatch.policy import load_rules
    from fanzha.warnings import triage
    from fanzha.warnings.enums import KIND_ALIASES, lookup

    rng = random.Random(seed)
    weights = [1 / k ** ZIPF for k in range(1, N_STATIONS + 1)]
    shares = [w / sum(weights) for w in weights]
    codes = [f"PCS{k:02d}" for k in range(1, N_STATIONS + 1)]
    kinds, kind_p = list(KIND_MIX), list(KIND_MIX.values())
    rows = []
    for i in range(N_WARNINGS):
        hour = rng.choices(range(24), HOURLY)[0]
        at = DAY + timedelta(hours=hour, seconds=rng.randrange(3600))
        station = rng.choices(codes, shares)[0]
        kind = rng.choices(kinds, kind_p)[0]
        amount = None
        if kind == "资金预警":
            amount = round(rng.lognormvariate(math.log(20_000), 1.0), 2)
        elif rng.random() < 0.2:
            amount = round(rng.lognormvariate(math.log(5_000), 1.0), 2)
        rows.append((f"YJ{DAY:%Y%m%d}{i:06d}", f"{at:%Y-%m-%d %H:%M:%S}", "", kind,
                     "" if amount is None else f"{amount:.2f}", station))
    rows.sort(key=lambda r: r[1])
    with (out / "W.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["预警编号", "预警时间", "预警级别", "预警类型", "拟转账金额", "派出所"])
        w.writerows(rows)

    # Expected handling work per warning from the packaged handling means and triage's grades, for the headcount.
    h = load_rules().handling
    miss = 1 - h.reach_rate
    attempts = sum(miss ** k for k in range(h.max_attempts))
    reached = 1 - miss ** h.max_attempts
    work: dict[str, float] = {c: 0.0 for c in codes}
    per_shift = [0.0, 0.0, 0.0]
    grades = {"high": 0, "medium": 0, "low": 0}
    for _, at, _, kind, amount, station in rows:
        v = triage.grade(triage.Facts(kind=lookup(KIND_ALIASES, kind), amount=Decimal(amount) if amount else None))
        grades[v.grade] += 1
        minutes = attempts * h.call_attempt + reached * h.reached_call + (reached * h.face if v.face_required else 0)
        work[station] += minutes
        hour = int(at[11:13])
        per_shift[next(i for i, (_, _, hours) in enumerate(SHIFTS) if hour in hours)] += minutes
    day_heads = per_shift[0] / 480 * SPARE
    root = [s ** staffing for s in shares]
    day = [max(1, round(day_heads * r / sum(root))) for r in root]
    evening = [max(1, round(d * 0.6)) for d in day]
    night = [2 if k < 3 else 1 for k in range(N_STATIONS)]
    with (out / "S.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["派出所", "劝阻员", "上班", "下班", "分局"])
        for k, code in enumerate(codes):
            for (start, end, _), heads, tag in zip(SHIFTS, (day[k], evening[k], night[k]), "白晚夜", strict=True):
                for n in range(heads):
                    w.writerow([code, f"{code}-{tag}{n + 1}", start, end, f"分局{k % 4 + 1}"])
    loads = [sum(1 for r in rows if r[5] == c) for c in codes]
    return {"warnings": len(rows), "grades": grades, "loads": loads, "day": day, "evening": evening, "night": night,
            "work_hours_by_shift": [round(x / 60) for x in per_shift],
            "staffed_hours_by_shift": [sum(day) * 8, sum(evening) * 8, sum(night) * 8]}


def replay(out: Path, policy: str, seed: int) -> tuple[dict, float]:
    """The command as a user runs it (`fanzha dispatch simulate … --json`), through Typer's runner."""
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["dispatch", "simulate", "--warnings", str(out / "W.csv"), "--staff",
                                      str(out / "S.csv"), "--policy", policy, "--seed", str(seed), "--json"])
    elapsed = time.perf_counter() - t0
    if result.exit_code != 0:
        raise SystemExit(f"{policy}: exit {result.exit_code}: {result.output}")
    return json.loads(result.output), elapsed


def _fmt(x) -> str:
    return "inf" if x is None or x == math.inf else f"{x:,.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261201, help="scenario seed")
    ap.add_argument("--sim-seed", type=int, default=0, help="handling-time draws (the CLI's --seed)")
    ap.add_argument("--staffing", type=float, default=0.5,
                    help="day headcount ∝ load ** this (0.5, the recorded scenario; 1.0 = proportional, a sensitivity "
                         "check that favours fifo)")
    ap.add_argument("--sensitivity", action="store_true",
                    help="also replay `ours` with other starvation bounds and without help (simulate() directly, "
                         "not the command: for the record of what the defaults do, not a tuning)")
    ap.add_argument("--keep", type=Path, help="write W.csv and S.csv here instead of a temporary directory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        scenario = generate(args.seed, out, args.staffing)
        print(f"# {platform.node()} {platform.processor() or platform.machine()} Python {platform.python_version()} "
              f"{datetime.now():%Y-%m-%d %H:%M}")
        print(f"scenario: {json.dumps(scenario, ensure_ascii=False)}")
        runs = {p: replay(out, p, args.sim_seed) for p in ("fifo", "ours")}
        variants = sensitivity(out, args.sim_seed) if args.sensitivity else {}
    print(f"\nreplay time: fifo {runs['fifo'][1]:.1f} s, ours {runs['ours'][1]:.1f} s; "
          f"ours helped {runs['ours'][0]['helped']:,}, sms {runs['ours'][0]['sms']:,}")
    print("| grade | n | policy | p50 | p90 | p95 | in time | unreached |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for grade in ("high", "medium", "low"):
        for p in ("fifo", "ours"):
            f = runs[p][0]["by_grade"][grade]
            print(f"| {grade} | {f['n']:,} | {p} | {_fmt(f['p50'])} | {_fmt(f['p90'])} | {_fmt(f['p95'])} | "
                  f"{f['in_time']:.1%} | {f['unreached']:,} |")
    fifo, ours = (runs[p][0]["by_grade"] for p in ("fifo", "ours"))

    def ratio(a, b):
        if a is None or b is None:
            return None
        return a / b if b else math.inf

    high = ratio(ours["high"]["p90"], fifo["high"]["p90"])
    low = ratio(ours["low"]["p95"], fifo["low"]["p95"])
    print(f"\nhigh-grade p90: ours/fifo = {high if high is None else f'{high:.3f}'} "
          f"(goal ≤ 0.70: {'met' if high is not None and high <= 0.70 else 'NOT met'})")
    print(f"low-grade p95: ours/fifo = {low if low is None else f'{low:.3f}'} "
          f"(goal ≤ 1.50: {'met' if low is not None and low <= 1.50 else 'NOT met'})")
    for p in ("fifo", "ours"):
        util = [u["utilisation"] for u in runs[p][0]["utilisation"]]
        print(f"{p}: utilisation mean {sum(util) / len(util):.1%}, min {min(util):.1%}, max {max(util):.1%}")
    if variants:
        print("\n| ours variant | high p90 | high p95 | high in time | medium p90 | medium p95 | low p90 | low p95 "
              "| helped |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in variants.items():
            g = r.by_grade
            print(f"| {name} | {_fmt(g['high'].p90)} | {_fmt(g['high'].p95)} | {g['high'].in_time:.1%} | "
                  f"{_fmt(g['medium'].p90)} | {_fmt(g['medium'].p95)} | {_fmt(g['low'].p90)} | "
                  f"{_fmt(g['low'].p95)} | {r.helped:,} |")


def sensitivity(out: Path, seed: int) -> dict:
    """`ours` on the same files with the starvation bounds changed and without help."""
    from dataclasses import replace

    from fanzha.dispatch.policy import current_rules
    from fanzha.dispatch.replay_inputs import read_siblings
    from fanzha.dispatch.simulate import read_staff, read_warnings, simulate

    warnings, shifts, siblings = read_warnings(out / "W.csv"), read_staff(out / "S.csv"), read_siblings(out / "S.csv")
    base = current_rules()

    def bounds(medium: int, low: int):
        return replace(base, fair_after={"high": timedelta(0), "medium": timedelta(minutes=medium),
                                         "low": timedelta(minutes=low)})

    cases = {"defaults (中 120, 低 240, help)": (base, siblings), "no starvation guard": (bounds(0, 0), siblings),
             "guard 中 240, 低 480": (bounds(240, 480), siblings), "no help between stations": (base, None)}
    return {name: simulate(warnings, shifts, policy="ours", seed=seed, rules=rules, siblings=sib)
            for name, (rules, sib) in cases.items()}


if __name__ == "__main__":
    main()
