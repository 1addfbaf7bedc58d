"""Benchmark: 我的任务 on a dissuader's phone over a weak line — bytes over the wire and first paint, cold and warm.

    .venv/bin/python bench/bench_phone_tasks.py              # its own demo platform, 5 rounds
    .venv/bin/python bench/bench_phone_tasks.py --rounds 3 --data-dir /tmp/fanzha-bench-phone

A demo platform is started as `bench_assets.py` starts one (`fanzha run` on a data dir of its own). The dissuader
`ps01_quanzu` is given 50 open warnings (the demo's open warnings of that station, assigned to them, with deadlines
ahead), as on a busy duty day. Then, in the system Chromium at 390×844 with the line held to 400 kbit/s each way and
400 ms to each first byte (DevTools protocol, Network.emulateNetworkConditions):

  * cold: a fresh browser profile (only the session cookie) opens /tasks;
  * warm: the same browser opens /tasks again (the app's shell — CSS, htmx, scripts — from its cache).

Reported: bytes received before `load` (sum of encodedDataLength, compressed as sent), first contentful paint and
the `load` event, medians over the rounds; the issue's targets are ≤ 100 KB, first paint ≤ 3 s cold, ≤ 1 s warm.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_assets", HERE / "bench_assets.py")
assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assets)

USER, PASSWORD = "ps01_quanzu", "Fanzha@2026"
KBIT, LATENCY_MS = 400, 400
OPEN_TASKS = 50


def give_open_tasks(data_dir: Path, n: int) -> int:
    """Assigns `n` warnings of the dissuader's station to them, open, with deadlines ahead of now."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    import fanzha.models  # noqa: F401  (every table, for the foreign keys)
    from fanzha.org.models import User
    from fanzha.warnings.models import Warning

    engine = create_engine(f"sqlite:///{data_dir / 'fanzha.db'}", connect_args={"timeout": 30})
    now = datetime.now(UTC)
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == USER))
        rows = list(s.scalars(select(Warning).where(Warning.station_id == user.area_id).order_by(Warning.id.desc())
                              .limit(n)))
        for i, w in enumerate(rows):
            w.assignee_id, w.status, w.feedback_at, w.outcome = user.id, "assigned", None, None
            w.signed_at = None if i % 3 == 0 else now - timedelta(minutes=30)
            w.sign_deadline = now + timedelta(minutes=5 + i)
            w.contact_deadline = now + timedelta(minutes=30 + i)
            w.feedback_deadline = now + timedelta(hours=24)
        s.commit()
    engine.dispose()
    return len(rows)


def visit(context, url: str) -> dict:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    rate = KBIT * 1000 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": LATENCY_MS,
                                                  "downloadThroughput": rate, "uploadThroughput": rate})
    cached: dict[str, bool] = {}
    done: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda e: cached.__setitem__(
        e["requestId"], bool(e["response"].get("fromDiskCache") or e["response"].get("fromMemoryCache"))))
    cdp.on("Network.loadingFinished", lambda e: done.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(url, wait_until="load")
    t = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return {load: n.loadEventEnd - n.startTime, fcp: fcp ? fcp.startTime : null}; }""")
    tasks = page.evaluate("() => document.querySelectorAll('#tasks a.task').length")
    page.close()
    return {"fcp_ms": round(t["fcp"] or -1, 1), "load_ms": round(t["load"], 1), "tasks_shown": tasks,
            "bytes": sum(0 if cached.get(rid) else size for rid, size in done.items()),
            "requests": len(done), "from_cache": sum(1 for rid in done if cached.get(rid))}


def measure(base: str, rounds: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        cookies = assets.session_cookies(p, base, USER, PASSWORD)
        cold, warm = [], []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(prefix="fanzha-bench-phone-") as profile:
                context = p.chromium.launch_persistent_context(
                    profile, executable_path=assets.CHROMIUM, headless=True, args=assets.CHROMIUM_ARGS,
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
                context.add_cookies(cookies)
                cold.append(visit(context, base + "/tasks"))
                warm.append(visit(context, base + "/tasks"))
                context.close()

    def med(runs, key):
        return round(statistics.median(r[key] for r in runs), 1)

    return {name: {"fcp_ms_median": med(runs, "fcp_ms"), "load_ms_median": med(runs, "load_ms"),
                   "bytes_median": int(med(runs, "bytes")), "requests": runs[-1]["requests"],
                   "from_cache": runs[-1]["from_cache"], "tasks_shown": runs[-1]["tasks_shown"]}
            for name, runs in (("cold", cold), ("warm", warm))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fanzha-bench-phone-data-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = assets.free_port()
    proc = assets.start_server(data_dir, port, timeout=600)
    try:
        given = give_open_tasks(data_dir, OPEN_TASKS)
        result = measure(f"http://127.0.0.1:{port}", args.rounds)
    finally:
        assets.stop_server(proc)
    print(json.dumps({"machine": assets.machine(), "open_tasks": given, "line": f"{KBIT} kbit/s, {LATENCY_MS} ms",
                      **result}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
