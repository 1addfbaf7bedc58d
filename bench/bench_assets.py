"""Benchmark: what the chart pages cost a browser — bytes over the wire and time to the `load` event, cold and warm.

    .venv/bin/python bench/bench_assets.py                       # starts its own demo server, 5 rounds per page
    .venv/bin/python bench/bench_assets.py --url http://127.0.0.1:8000 --rounds 3   # an already running server

Without `--url` a demo platform is started as a new user would (`fanzha run` on a data dir of its own, the demo county
seeded on first start, htmx and ECharts from node_modules) on a free loopback port, and stopped at the end.

The system Chromium (headless, Playwright) logs in once as yanpan (反诈中心研判), then for each chart page (案件研判
`/cases/stats`, 指标 `/metrics`, 发案地图 `/map`, 大屏 `/screen`) and each round:

  * cold: a browser with a fresh profile on disk (empty HTTP cache and compiled-code cache, only the session
    cookie) opens the page;
  * warm: the same browser opens the page `--warm-visits` more times (default 2), as a person coming back does: the
    page itself is fetched again, scripts and styles may come from the cache, and from the third visit Chromium
    also reuses the code it compiled for them.

Transferred bytes are the sum of `encodedDataLength` of every response finished before the `load` event, from the
Chrome DevTools Protocol's Network domain (headers and body as they came over the wire, so compressed sizes);
responses served from the browser cache count 0. Load time is the Navigation Timing entry's `loadEventEnd` (from
the navigation's start); beside it the time to the page's first byte (the server's part) and the main thread's
script time (`ScriptDuration` of the Performance domain, less sensitive to other jobs on the machine than wall
time). Medians over the rounds; prints one JSON line per page and a summary with the machine and its load average.

On loopback the bytes cost almost nothing; `--mbit 10` holds each tab to a 10 Mbit/s link with 40 ms to each first
byte (Network.emulateNetworkConditions), as a station's line to the centre may be.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGES = ["/cases/stats", "/metrics", "/map", "/screen"]
USER = "yanpan"
PASSWORD = "Fanzha@2026"


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, timeout: float) -> subprocess.Popen:
    env = os.environ | {"FANZHA_DATA_DIR": str(data_dir), "FANZHA_STATIC_VENDOR_DIR": str(ROOT / "node_modules")}
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(Path(sys.executable).parent / "fanzha"), "run", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see {data_dir / 'server.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(1)
    stop_server(proc)
    raise SystemExit(f"server did not answer within {timeout:.0f} s; see {data_dir / 'server.log'}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def visit(context, url: str, mbit: float = 0) -> dict:
    """Open `url` in a new tab of `context`; bytes received before `load` and the load time the browser measured.
    With `mbit`, the tab's network is held to that many megabits a second down and up, 40 ms to each first byte."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if mbit:
        rate = mbit * 1_000_000 / 8
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 40, "downloadThroughput": rate,
                                                      "uploadThroughput": rate})
    cdp.send("Performance.enable")
    responses: dict[str, dict] = {}
    done: dict[str, int] = {}

    def on_response(event):
        r = event["response"]
        responses[event["requestId"]] = {"url": r["url"], "status": r["status"],
                                         "encoding": {k.lower(): v for k, v in r.get("headers", {}).items()}
                                         .get("content-encoding", ""),
                                         "cached": bool(r.get("fromDiskCache") or r.get("fromMemoryCache"))}

    def on_finished(event):
        done[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    page.goto(url, wait_until="load")
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {load: n.loadEventEnd - n.startTime, dom: n.domContentLoadedEventEnd - n.startTime,
                ttfb: n.responseStart - n.startTime}; }""")
    files = []
    for rid, info in responses.items():
        size = 0 if info["cached"] else done.get(rid, 0)
        files.append({**info, "bytes": size})
    charts = page.evaluate("() => document.querySelectorAll('canvas').length")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.close()
    return {"load_ms": round(timing["load"], 1), "dcl_ms": round(timing["dom"], 1), "ttfb_ms": round(timing["ttfb"], 1),
            "script_ms": round(metrics["ScriptDuration"] * 1000, 1),
            "bytes": sum(f["bytes"] for f in files), "requests": len(files),
            "from_cache": sum(1 for f in files if f["cached"]), "canvases": charts, "files": files}


def summarise(runs: list[dict]) -> dict:
    loads = [r["load_ms"] for r in runs]
    return {"load_ms_median": round(statistics.median(loads), 1), "load_ms_max": max(loads),
            "ttfb_ms_median": round(statistics.median(r["ttfb_ms"] for r in runs), 1),
            "script_ms_median": round(statistics.median(r["script_ms"] for r in runs), 1),
            "bytes_median": int(statistics.median(r["bytes"] for r in runs)),
            "requests": runs[-1]["requests"], "from_cache": runs[-1]["from_cache"], "canvases": runs[-1]["canvases"]}


def session_cookies(p, base: str, user: str, password: str) -> list[dict]:
    """Logs in once through the form in a throwaway browser and returns the session's cookies."""
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    login = browser.new_context()
    page = login.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if "/login" in page.url:
        raise SystemExit(f"login as {user} failed")
    cookies = login.cookies()
    browser.close()
    return cookies


def measure(base: str, rounds: int, pages: list[str], warm_visits: int, mbit: float = 0) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        cookies = session_cookies(p, base, USER, PASSWORD)
        for path in pages:
            cold, warm = [], []
            for _ in range(rounds):
                # A browser profile of its own on disk, as a person's browser has: HTTP cache and compiled-code cache.
                with tempfile.TemporaryDirectory(prefix="fanzha-bench-profile-") as profile:
                    context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                                   args=CHROMIUM_ARGS)
                    context.add_cookies(cookies)
                    cold.append(visit(context, base + path, mbit))
                    warm.extend(visit(context, base + path, mbit) for _ in range(warm_visits))
                    context.close()
            biggest = sorted(cold[-1]["files"], key=lambda f: -f["bytes"])[:4]
            results[path] = {"cold": summarise(cold), "warm": summarise(warm),
                             "largest_cold": [{"url": f["url"].removeprefix(base), "bytes": f["bytes"],
                                               "encoding": f["encoding"]} for f in biggest]}
            print(json.dumps({"page": path, **results[path]}, ensure_ascii=False), flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="measure this running server instead of starting one")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pages", nargs="*", default=PAGES)
    ap.add_argument("--warm-visits", type=int, default=2, help="visits after the first in the same profile")
    ap.add_argument("--mbit", type=float, default=0,
                    help="hold the browser's network to this many Mbit/s, 40 ms to each first byte (default: loopback)")
    ap.add_argument("--start-timeout", type=float, default=300)
    args = ap.parse_args()
    proc = data_dir = None
    base = (args.url or "").rstrip("/")
    if not base:
        data_dir = Path(tempfile.mkdtemp(prefix="fanzha-bench-assets-"))
        port = free_port()
        started = time.monotonic()
        proc = start_server(data_dir, port, args.start_timeout)
        print(json.dumps({"server_ready_s": round(time.monotonic() - started, 1)}), flush=True)
        base = f"http://127.0.0.1:{port}"
    try:
        results = measure(base, args.rounds, args.pages, args.warm_visits, args.mbit)
    finally:
        if proc is not None:
            stop_server(proc)
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps({"machine": machine(), "rounds": args.rounds, "mbit": args.mbit or "loopback",
                      "pages": {p: {"cold": r["cold"], "warm": r["warm"]} for p, r in results.items()}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
