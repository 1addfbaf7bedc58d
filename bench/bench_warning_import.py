"""Benchmark: importing a provincial warning export (validate → dedupe → match → triage → dispatch) on PostgreSQL.

    .venv/bin/python bench/bench_warning_import.py                     # 100,000 rows, then 1,000,000 rows
    .venv/bin/python bench/bench_warning_import.py --rows 20000 --memory-rows 0      # a quick look

Targets (docs/benchmarks.md): 100,000 rows at ≥ 5,000 rows/s, shown beside a bare COPY of the same file into a plain
table; 1,000,000 rows under 500 MB peak memory.

What it does, reproducibly from --seed:
  1. creates a fresh PostgreSQL database, migrates it and generates the demo county (江州市) into it;
  2. writes a GBK CSV the way the provincial platform exports it (header variants, a blank-header column, Excel
     serial and Chinese dates, 15-digit IDs, +86 phones, "9.55万" amounts, messy addresses, ~1 % bad rows, ~1 %
     repeated 预警编号, ~5 % addresses outside the county) from the demo's people and standard addresses;
  3. imports it in a child process through fanzha.imports.service.run_file in ONE transaction, as the worker
     would, and reads the child's peak RSS with os.wait4 (resource usage of that child only);
  4. times `COPY raw FROM STDIN (FORMAT csv, HEADER, ENCODING 'GBK')` of the same file into a plain table of text
     columns in the same database, for the ratio.
Each import gets a database of its own (fresh demo county), so the 1,000,000-row run does not see the 100,000.

Not part of the test suite: the 1,000,000-row run takes a few minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("FANZHA_BENCH_DIR", Path(tempfile.gettempdir()) / "fanzha-bench"))
DEFAULT_PG = os.environ.get("FANZHA_TEST_POSTGRES_URL", "postgresql://postgres:fanzha@127.0.0.1:5432/postgres")
HEADER = ["预警编码", "预警类别", "风险等级", "下发时间", "反馈期限", "", "受害人姓名", "身份证号码", "联系电话", "户籍地",
          "居住地址", "诈骗类型", "涉案金额", "收款账号", "下发机关", "备注"]
KINDS = ["资金预警"] * 30 + ["涉诈电话"] * 30 + ["涉诈短信"] * 14 + ["涉诈APP"] * 10 + ["涉诈网址"] * 8 + \
        ["境外来电"] * 6 + ["其他"] * 2
FRAUDS = ["刷单返利", "虚假网络投资理财", "冒充电商物流客服", "贷款、代办信用卡", "冒充公检法", "虚假征信", "虚假购物",
          "杀猪盘", "冒充领导", "游戏交易", "冒充军警购物", "网黑", "新型诈骗"]
OUTSIDE = ["广东省深圳市南山区科技园南路18号", "湖南省长沙市岳麓区麓山南路932号", "外省务工暂住", "不详",
           "浙江省杭州市西湖区文三路90号", "北京市朝阳区建国路88号", "江州市某工地宿舍"]
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _W)) % 11]


def pg_url(base: str, dbname: str) -> str:
    return re.sub(r"/[^/]*$", f"/{dbname}", base)


def fresh_database(base: str, dbname: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{dbname}\" ENCODING 'UTF8' TEMPLATE template0")
    return pg_url(base, dbname)


def drop_database(base: str, dbname: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def child(args: list[str], env_url: str) -> tuple[dict, int, float]:
    """Runs this script in a child process; returns (its JSON output, its peak RSS in KiB, wall seconds)."""
    env = os.environ.copy()
    env.update(FANZHA_DATABASE_URL=env_url, FANZHA_QUEUE_IMMEDIATE="1",
               FANZHA_DATA_DIR=str(WORK))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], env=env, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss, wall


# -- child: set up a demo county ----------------------------------------------------------------------------

def child_setup(seed: int, people: int) -> dict:
    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    reset_caches()
    upgrade()
    with session_scope() as session:
        result = generate(session, seed=seed, people=people)
    # A live database has statistics (autovacuum keeps them); a freshly loaded one has none until ANALYZE.
    with session_scope() as session:
        session.connection().exec_driver_sql("ANALYZE")
    return result.counts


# -- child: the import ----------------------------------------------------------------------------------------

def child_import(path: str) -> dict:
    import resource

    from fanzha.db import session_scope
    from fanzha.imports.service import run_file
    from fanzha.org.scope import Scope
    from fanzha.warnings import intake  # noqa: F401  (registers the importer)

    started = time.perf_counter()
    with session_scope() as session:
        tally = run_file(session, Scope.system(session), "warning", Path(path))
        applied = time.perf_counter()
    committed = time.perf_counter()
    return tally.summary() | {"errors_kept": len(tally.errors), "pipeline_s": applied - started,
                              "commit_s": committed - applied, "total_s": committed - started,
                              "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              "checker_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


# -- the CSV -------------------------------------------------------------------------------------------------

def _messy(r: random.Random, address: str) -> str:
    text = r.choice(("", "", "江州市", "江州市江城区", "江州")) + address
    if r.random() < 0.3:
        text = text.replace("栋", "幢")
    if r.random() < 0.4 and not text.endswith("室"):
        text += f"{r.randint(1, 20)}栋{r.randint(1, 3)}单元{r.randint(1, 30):02d}0{r.randint(1, 4)}"
    if r.random() < 0.1:
        text = text[:2] + " " + text[2:]
    return text


def _when(r: random.Random, at: datetime) -> str:
    roll = r.random()
    if roll < 0.4:
        return at.strftime("%Y-%m-%d %H:%M:%S")
    if roll < 0.6:
        return f"{at.year}/{at.month}/{at.day} {at.hour}:{at.minute:02d}"
    if roll < 0.8:
        serial = (at - datetime(1899, 12, 30)).total_seconds() / 86400
        return f"{serial:.10f}"
    return f"{at.year}年{at.month}月{at.day}日 {at.hour}时{at.minute}分"


def write_csv(path: Path, rows: int, seed: int, people: list[tuple], addresses: list[str]) -> None:
    r = random.Random(seed)
    start = datetime(2026, 1, 1, 0, 0)
    fresh: list[tuple[str, str, str]] = []  # new people: (name, id, phone) reused now and then (repeat warnings)
    new_seq = 0
    with path.open("w", encoding="gbk", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(HEADER)
        for n in range(1, rows + 1):
            at = start + timedelta(seconds=n * 30 + r.randint(0, 29))
            kind = r.choice(KINDS)
            ext = f"YJ{at:%Y%m%d}{n:07d}"
            if r.random() < 0.01 and n > 10:  # re-sent by the platform
                ext = f"YJ{(start + timedelta(seconds=(n - 5) * 30)):%Y%m%d}{n - 5:07d}"
            name, idn, phone = "", "", ""
            roll = r.random()
            if roll < 0.55:
                name, idn, phone, _ = r.choice(people)
                idn, phone = idn or "", phone or ""
                style = r.random()
                if style < 0.2 and phone:
                    idn = ""
                elif style < 0.3 and idn[6:8] == "19":
                    idn = idn[:6] + idn[8:17]  # the old 15-digit form
                elif style < 0.4 and idn.endswith("X"):
                    idn = idn[:-1] + "x"
                if phone and r.random() < 0.3:
                    phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
            elif roll < 0.65 and fresh:
                name, idn, phone = r.choice(fresh)
            else:
                new_seq += 1
                birth = datetime(1940, 1, 1) + timedelta(days=r.randint(0, 365 * 65))
                first17 = f"4399{r.randint(11, 99):02d}{birth:%Y%m%d}{new_seq % 1000:03d}"
                idn = first17 + _check(first17) if r.random() < 0.8 else ""
                phone = f"1{r.choice('3589')}{r.randint(0, 9)}{new_seq:08d}"
                name = "新" + "某" * r.randint(1, 2)
                fresh.append((name, idn, phone))
            place = r.random()
            current = household = ""
            if place < 0.05:
                current = r.choice(OUTSIDE)
            elif place < 0.85:
                current = _messy(r, r.choice(addresses))
            elif place < 0.95:
                household = _messy(r, r.choice(addresses))
            grade = r.choice(("高", "中", "低")) if r.random() < 0.6 else ""
            deadline = r.choice(("24小时", "", "", "12小时", ""))
            amount = account = ""
            if kind == "资金预警":
                value = round(min(2_000_000, r.lognormvariate(10, 1.2)), -2)
                amount = f"{value / 10000:g}万" if r.random() < 0.3 else f"{value:,.0f}" if r.random() < 0.5 else f"{value:.2f}"
                account = "62" + "".join(str(r.randint(0, 9)) for _ in range(17))
            when = _when(r, at)
            bad = r.random()
            if bad < 0.003:
                idn = (idn[:17] + ("0" if idn[17:] != "0" else "1")) if len(idn) == 18 else "43990119900101123"
            elif bad < 0.006:
                when = "三月五号上午"
            elif bad < 0.008:
                kind = "直播带货"
            elif bad < 0.01:
                idn = phone = ""
            out.writerow([ext, kind, grade, when, deadline, "√" if r.random() < 0.1 else "", name, idn, phone,
                          household, current, r.choice(FRAUDS), amount, account, "省反诈中心", ""])


def demo_sources(url: str) -> tuple[list[tuple], list[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        people = conn.execute("SELECT name, id_number, phone, address FROM people ORDER BY id").fetchall()
        addresses = [t for (t,) in conn.execute("SELECT text FROM standard_addresses ORDER BY id")]
    return people, addresses


# -- COPY baseline --------------------------------------------------------------------------------------------

def copy_seconds(url: str, path: Path) -> tuple[float, int]:
    import psycopg

    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE raw_warnings ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, path.open("rb") as fh, \
                cur.copy("COPY raw_warnings FROM STDIN (FORMAT csv, HEADER true, ENCODING 'GBK')") as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
        count = conn.execute("SELECT count(*) FROM raw_warnings").fetchone()[0]
        conn.execute("DROP TABLE raw_warnings")
        conn.commit()
    return elapsed, count


# -- the machine ----------------------------------------------------------------------------------------------

def summary_ms(times: list[float]) -> dict:
    """n, p50, p95 and max of request times in milliseconds (p95 as the ⌈0.95 n⌉-th fastest)."""
    times = sorted(times)
    return {"n": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(round(0.95 * len(times))) - 1)], 1), "max_ms": round(times[-1], 1)}


def logged_in_client(username: str, password: str = "Fanzha@2026"):
    """A TestClient on a fresh app, logged in through the login page as a user of the demo county."""
    from fastapi.testclient import TestClient

    from fanzha.web.app import create_app

    c = TestClient(create_app())
    page = c.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return c


def timed_get(c, path: str, n: int) -> dict:
    """GET `path` once to warm the caches, as a page in use is, then `n` times: summary_ms of those n."""
    c.get(path)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = c.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return summary_ms(times)


def cpu_name() -> str:
    """The processor's model name (/proc/cpuinfo), for the machine line of a benchmark's report."""
    try:
        return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor()


def machine() -> dict:
    cpu = cpu_name()
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    import psycopg

    with psycopg.connect(DEFAULT_PG) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "postgresql": server, "date": time.strftime("%Y-%m-%d %H:%M"),
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def run(rows: int, args, label: str) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    dbname = f"fanzha_bench_{rows}"
    url = fresh_database(args.pg, dbname)
    try:
        counts, _, setup_s = child(["--child-setup", str(args.seed), str(args.people)], url)
        csv_path = WORK / f"warnings_{rows}_seed{args.seed}_people{args.people}.csv"
        WORK.mkdir(parents=True, exist_ok=True)
        if not csv_path.exists():
            people, addresses = demo_sources(url)
            write_csv(csv_path, rows, args.seed, people, addresses)
        result, maxrss_kib, wall = child(["--child-import", str(csv_path)], url)
        copy_s, copied = copy_seconds(url, csv_path)
    finally:
        if not args.keep:
            drop_database(args.pg, dbname)
    out = {"label": label, "rows": rows, "loadavg_after": [round(x, 2) for x in os.getloadavg()], "file_mb": round(csv_path.stat().st_size / 1e6, 1), "demo": counts,
           "setup_s": round(setup_s, 1), **result, "child_wall_s": round(wall, 2),
           "rows_per_s": round(result["read"] / result["total_s"]), "peak_rss_mb": round(maxrss_kib / 1024, 1),
           "checker_peak_rss_mb": round(result["checker_maxrss_kib"] / 1024, 1),
           "peak_rss_both_mb": round((result["self_maxrss_kib"] + result["checker_maxrss_kib"]) / 1024, 1),
           "copy_s": round(copy_s, 3), "copy_rows": copied, "copy_rows_per_s": round(copied / copy_s),
           "ratio_to_copy": round(result["total_s"] / copy_s, 1)}
    for key in ("pipeline_s", "commit_s", "total_s"):
        out[key] = round(out[key], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000, help="0 skips the large run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--people", type=int, default=3000, help="people in the demo county")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL (any database on it)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--child-setup", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-import", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        print(json.dumps(child_setup(int(args.child_setup[0]), int(args.child_setup[1]))))
        return
    if args.child_import:
        print(json.dumps(child_import(args.child_import)))
        return
    info = machine()
    print(json.dumps({"machine": info}, ensure_ascii=False), flush=True)
    results = [run(args.rows, args, "speed")]
    print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    if args.memory_rows:
        results.append(run(args.memory_rows, args, "memory"))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    speed = results[0]
    print(f"\n{speed['rows']:,} rows: {speed['total_s']:.1f} s = {speed['rows_per_s']:,} rows/s "
          f"(target ≥ 5,000); COPY of the same file {speed['copy_s']:.2f} s = {speed['copy_rows_per_s']:,} rows/s; "
          f"import/COPY = {speed['ratio_to_copy']}×; peak RSS {speed['peak_rss_mb']} MB + checking process "
          f"{speed['checker_peak_rss_mb']} MB")
    if len(results) > 1:
        big = results[1]
        print(f"{big['rows']:,} rows: {big['total_s']:.1f} s = {big['rows_per_s']:,} rows/s; peak RSS "
              f"{big['peak_rss_mb']} MB + checking process {big['checker_peak_rss_mb']} MB (target < 500 MB); COPY {big['copy_s']:.1f} s, ratio {big['ratio_to_copy']}×")


if __name__ == "__main__":
    main()
