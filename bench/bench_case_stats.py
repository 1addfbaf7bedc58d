"""Benchmark: 案件研判 statistics for the whole city and a year over millions of cases on PostgreSQL.

For each size (default 1,000,000 and 5,000,000 cases):

  1. a fresh database is migrated and given the demo county (seed 2026: 江州市, 3 districts, 10 townships, 18
     stations, 181 communities, 701,615 residents, in both chains), then `size` cases spread over the five years
     before 2026-11-01 are loaded with INSERT … SELECT from generate_series in blocks of 250,000 rows — each block
     one statement, so the roll-up's statement-level trigger journals it as an import would and the journal is then
     folded in one statement as the first read would (`--via trigger`, timed as `fold_s`; above
     1,000,000 the default is `--via rebuild`: the triggers off while loading, then `rollup.rebuild`) — each case
     on a community drawn in proportion to its
     population, the twelve police types and 其他 in bulletin-like shares, losses from a few hundred yuan to a
     million, a third solved (with suspects caught for most of those), victims' age, sex, occupation, groups and
     channel mixed; then ANALYZE;
  2. in a child process the real application answers, through its ASGI interface (starlette's TestClient: session,
     scoping, the roll-up reads, the template or JSON — no network), `repeat` requests each of: the 案件研判 page
     for the city and the calendar year 2025 (yanpan, 反诈中心研判), the same by the police chain, the JSON API for
     the city and the last 365 days (whole months, and 2025-10-16..2026-10-15), the page for one station (ps01_suozhang) and the year; and `case_stats` itself
     for the city and the year;
  3. p50 / p95 / max of each are printed as JSON, with the load time and the roll-up's size.

    .venv/bin/python bench/bench_case_stats.py                     # 1M and 5M
    .venv/bin/python bench/bench_case_stats.py --sizes 200000      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import (DEFAULT_PG, drop_database, fresh_database, logged_in_client,  # noqa: E402
                                  machine, summary_ms, timed_get)

BLOCK = 250_000
END = "2026-11-01 00:00"  # cases are filed in the five years before this (UTC)

LOAD_SQL = """
INSERT INTO cases (case_number, name, community_id, address, filed_at, loss_at, fraud_type, loss_amount, narrative,
    source, type_status, recovered_amount, frozen_amount, solved_at, suspects_caught, caught_at, channel, victim_sex,
    victim_age, victim_occupation, victim_groups, employer_name, preventable, created_at, updated_at)
SELECT 'B' || g, '历史', c.community_id, '', x.at, x.at - interval '1 day' * x.r3 * 3, t.code,
    round((exp(x.r1 * ln(2000)) * 300)::numeric, 2), '', 'import', 'given',
    CASE WHEN x.r2 < 0.2 THEN round((exp(x.r1 * ln(2000)) * 300 * x.r3)::numeric, 2) ELSE 0 END,
    CASE WHEN x.r2 < 0.4 THEN round((exp(x.r1 * ln(2000)) * 150 * x.r3)::numeric, 2) ELSE 0 END,
    CASE WHEN x.r2 < 0.33 THEN x.at + interval '1 day' * (1 + x.r3 * 120) END,
    CASE WHEN x.r2 < 0.25 THEN 1 + (g % 3) ELSE 0 END,
    CASE WHEN x.r2 < 0.25 THEN x.at + interval '1 day' * (2 + x.r3 * 120) END,
    (ARRAY['phone', 'sms', 'social', 'social', 'app', 'app', 'website', 'game', 'livestream', 'other', ''])[1 + g % 11],
    CASE WHEN x.r3 < 0.52 THEN '女' WHEN x.r3 < 0.98 THEN '男' ELSE '' END,
    CASE WHEN x.r4 < 0.03 THEN NULL ELSE (14 + x.r4 * 70)::int END,
    (ARRAY['学生', '企业职员', '个体工商户', '退休', '无业', '会计', '教师', '医护', '务农', ''])[1 + (g / 7) % 10],
    (ARRAY['[]', '[]', '[]', '["elderly"]', '["student_teacher"]', '["accountant"]', '["investor"]',
           '["single_divorced"]', '["past_victim", "repeat_warned"]', '["company_head"]', '["medical"]'])[1 + (g / 3) % 11]::json,
    '', CASE WHEN x.r1 < 0.6 THEN true WHEN x.r1 < 0.9 THEN false END, x.at, x.at
FROM (SELECT g, timestamp '{end}' - (random() * interval '1826 days') AS at, random() AS r1, random() AS r2,
             random() AS r3, random() AS r4, random() AS rc
      FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g) AS x
JOIN bench_communities AS c ON x.rc >= c.lo AND x.rc < c.hi
JOIN bench_types AS t ON t.n = 1 + (x.g % 20)
""".format(end=END)

# 20 slots: bulletin-like shares (刷单返利 and 虚假投资理财 most, then 客服, 贷款 …)
TYPES = ["brushing"] * 4 + ["investment"] * 3 + ["fake_customer_service"] * 2 + ["loan"] * 2 + [
    "credit_repair", "shopping", "impersonate_authority", "impersonate_acquaintance", "game_trade", "romance",
    "wanghei", "military_purchase", "other"]


def _child(args: list[str], url: str, via: str = "trigger") -> dict:
    env = os.environ | {"FANZHA_DATABASE_URL": url, "FANZHA_QUEUE_IMMEDIATE": "1", "BENCH_VIA": via}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env, check=True,
                         stdout=subprocess.PIPE).stdout
    return json.loads(out.decode().strip().splitlines()[-1])


def child_load(size: int) -> dict:
    """Demo county, then `size` cases; BENCH_VIA=trigger folds each block into the roll-up as it is inserted,
    BENCH_VIA=rebuild loads with the roll-up's triggers off and builds it at the end (`rollup.rebuild`)."""
    from sqlalchemy import text

    from fanzha.cases.stats import rollup

    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    via = os.environ.get("BENCH_VIA", "trigger")
    reset_caches()
    upgrade()
    with session_scope() as s:
        generate(s, seed=2026, people=1000)
    started = time.perf_counter()
    with session_scope() as s:
        conn = s.connection()
        leaves = conn.exec_driver_sql("SELECT id, population FROM areas WHERE level = 'community' ORDER BY id").all()
        total = sum(p for _, p in leaves)
        conn.exec_driver_sql("CREATE TEMP TABLE bench_communities (community_id int, lo float8, hi float8)")
        acc, rows = 0, []
        for cid, pop in leaves:
            rows.append({"c": cid, "lo": acc / total, "hi": (acc + pop) / total if cid != leaves[-1][0] else 2.0})
            acc += pop
        conn.execute(text("INSERT INTO bench_communities VALUES (:c, :lo, :hi)"), rows)
        conn.exec_driver_sql("CREATE TEMP TABLE bench_types (n int, code text)")
        conn.execute(text("INSERT INTO bench_types VALUES (:n, :c)"), [{"n": i + 1, "c": c} for i, c in enumerate(TYPES)])
        indexes = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases' "
                                       "AND indexname NOT IN ('pk_cases', 'uq_cases_case_number')").all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        if via == "rebuild":
            for stmt in rollup.drop_ddl("postgresql"):
                conn.exec_driver_sql(stmt)
    blocks = []
    for first in range(1, size + 1, BLOCK):
        t = time.perf_counter()
        with session_scope() as s:  # one statement per block: the roll-up trigger folds 250,000 rows at once
            s.execute(text("SET LOCAL work_mem = '256MB'"))
            s.execute(text(LOAD_SQL), {"first": first, "last": min(first + BLOCK - 1, size)})
        blocks.append(round(time.perf_counter() - t, 1))
    with session_scope() as s:
        for _, definition in indexes:
            s.connection().exec_driver_sql(definition)
    rebuild_s = None
    if via == "rebuild":
        t = time.perf_counter()
        with session_scope() as s:
            s.execute(text("SET LOCAL work_mem = '256MB'"))
            rollup.rebuild(s.connection())
        rebuild_s = round(time.perf_counter() - t, 1)
    fold_s = None
    if via == "trigger":  # the triggers only journalled the blocks: fold them as the first read would
        t = time.perf_counter()
        with session_scope() as s:
            s.execute(text("SET LOCAL work_mem = '256MB'"))
            rollup.fold_pending(s.connection())
        fold_s = round(time.perf_counter() - t, 1)
    with session_scope() as s:
        s.connection().exec_driver_sql("ANALYZE")
        counts = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("cases", "case_stat_cells")}
        counts["cells_by_grain"] = dict(s.execute(text(
            "SELECT grain, count(*) FROM case_stat_cells GROUP BY grain ORDER BY grain")).all())
        counts["cases_2025"] = s.execute(text(
            "SELECT count(*) FROM cases WHERE filed_at >= '2024-12-31 16:00' AND filed_at < '2025-12-31 16:00'")).scalar()
    return counts | {"via": via, "fold_s": fold_s, "load_s": round(time.perf_counter() - started, 1), "block_s": blocks,
                     "rebuild_s": rebuild_s}


def child_measure(repeat: int) -> dict:
    from datetime import date, timedelta

    from sqlalchemy import select

    from fanzha.common import periods
    from fanzha.cases.stats.service import case_stats
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope

    def timed(c, path: str) -> dict:
        return timed_get(c, path, repeat)

    yanpan, chief = logged_in_client("yanpan"), logged_in_client("ps01_suozhang")
    last365 = f"from={date(2026, 10, 31) - timedelta(days=364)}&to=2026-10-31"
    out = {
        "page_city_2025": timed(yanpan, "/cases/stats?area=JZ&period=2025"),
        "page_city_2025_by_station": timed(yanpan, "/cases/stats?area=JZ&period=2025&chain=police"),
        "page_bureau_2025": timed(yanpan, "/cases/stats?area=JZGA&period=2025"),
        "api_city_last_365_days": timed(yanpan, f"/api/v1/cases/stats?area=JZ&{last365}"),
        "api_city_365_days_mid_month": timed(yanpan, "/api/v1/cases/stats?area=JZ&from=2025-10-16&to=2026-10-15"),
        "page_city_month": timed(yanpan, "/cases/stats?area=JZ&period=2026-10"),
        "page_station_2025": timed(chief, "/cases/stats?period=2025"),
    }
    times = []
    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        for _ in range(repeat):
            t = time.perf_counter()
            st = case_stats(s, Scope.system(s), area=city, period=periods.parse("2025"))
            times.append((time.perf_counter() - t) * 1000)
            s.rollback()
    out["case_stats_city_2025"] = summary_ms(times) | {"cases_2025": st.totals.cases, "communities": st.communities}
    return out


def run(size: int, args: argparse.Namespace) -> dict:
    """Load `size` cases into a fresh database, then measure; the database is dropped unless --keep."""
    dbname = f"fanzha_bench_case_stats_{size}"
    url = fresh_database(args.pg, dbname)
    try:
        via = args.via or ("trigger" if size <= 1_000_000 else "rebuild")
        result = {"size": size, "loaded": _child(["--child-load", str(size)], url, via)}
        print(json.dumps(result), flush=True)
        result |= _child(["--child-measure", str(args.repeat)], url)
    finally:
        if not args.keep:
            drop_database(args.pg, dbname)
    return result | {"loadavg": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=20, help="requests per view")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--keep", action="store_true", help="keep each database (fanzha_bench_case_stats_SIZE)")
    parser.add_argument("--via", choices=["trigger", "rebuild"], help="how the roll-up is filled: by the triggers "
                        "as blocks are inserted, or rebuilt after loading with them off (default: trigger up to "
                        "1,000,000 cases, rebuild above — the trigger path takes ~3 min per 250,000 here)")
    for step in ("load", "measure"):
        parser.add_argument(f"--child-{step}", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for step, fn in (("child_load", child_load), ("child_measure", child_measure)):
        if getattr(args, step):
            print(json.dumps(fn(getattr(args, step))))
            return
    print(json.dumps({"machine": machine()}, ensure_ascii=False), flush=True)
    for size in args.sizes:
        print(json.dumps(run(size, args), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
