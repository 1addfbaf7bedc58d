"""Benchmark: a monthly bulletin (月通报) for a whole city, DOCX and PDF, on PostgreSQL.

  1. a fresh database is migrated and given the demo county (seed 2026, its warnings and map); then `--per-month`
     cases a month (default 1,000: a city of a few million people) are loaded with one INSERT … SELECT over the
     25 months up to the bulletin's month — so the month, the month before (环比) and the same month a year before
     (同比) are all full — spread over every community, fraud type and loss band; then ANALYZE;
  2. in a child process (cold: the first run pays for importing WeasyPrint and matplotlib and loading the fonts),
     `--runs` times: figures from the provider, the document composed from the template, the DOCX and the PDF,
     each timed; and `fanzha report bulletin` end to end once, as an officer runs it;
  3. the timings are printed as JSON.

    FANZHA_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_bulletin.py
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import DEFAULT_PG, drop_database, fresh_database, machine  # noqa: E402

DBNAME = "fanzha_bench_bulletin"
LOAD_SQL = """
INSERT INTO cases (case_number, name, community_id, address, filed_at, loss_at, fraud_type, loss_amount, narrative,
    source, type_status, recovered_amount, frozen_amount, suspects_caught, channel, victim_sex, victim_age,
    victim_groups, victim_occupation, employer_name, created_at, updated_at)
SELECT 'B' || g, '某某', c.id, '', x.at, x.at, (ARRAY['brushing', 'investment', 'fake_customer_service', 'loan',
    'impersonate_authority', 'credit_repair', 'shopping', 'romance', 'game_trade', 'other'])[1 + g % 10],
    (CASE WHEN g % 17 = 0 THEN 150000 + random() * 800000 WHEN g % 5 = 0 THEN 50000 + random() * 50000
          ELSE 500 + random() * 49500 END)::numeric(14, 2),
    '受害人被诱导转账。', 'import', 'given', 0, 0, 0, '', CASE WHEN g % 2 = 0 THEN '女' ELSE '男' END,
    18 + g % 70, '[]', '', '', x.at, x.at
FROM generate_series(1, :total) AS g
CROSS JOIN LATERAL (SELECT to_timestamp(:s0 + (g::float / :total) * (:s1 - :s0)) AT TIME ZONE 'UTC' AS at) x
JOIN LATERAL (SELECT id FROM areas WHERE level = 'community' ORDER BY id OFFSET (g % :communities) LIMIT 1) c ON true
"""


def load(url: str, per_month: int, month: date) -> int:
    from sqlalchemy import func, select, text

    from fanzha.db import make_engine
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade
    from fanzha.org.models import Area
    from sqlalchemy.orm import Session

    upgrade(url=url)
    engine = make_engine(url)
    with Session(engine) as s:
        generate(s, seed=2026)
        s.commit()
        communities = s.scalar(select(func.count()).select_from(Area).where(Area.level == "community"))
        first = date(month.year - 2, month.month, 1)
        end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        months = (end.year - first.year) * 12 + end.month - first.month
        total = per_month * months
        start_ts = calendar.timegm(first.timetuple()) - 8 * 3600  # Beijing midnight
        end_ts = calendar.timegm(end.timetuple()) - 8 * 3600 - 1
        s.execute(text(LOAD_SQL), {"total": total, "s0": start_ts, "s1": end_ts, "communities": communities})
        s.commit()
        s.execute(text("ANALYZE"))
        s.commit()
    engine.dispose()
    return total


def measure(period: str, runs: int) -> dict:
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope
    from fanzha.common import periods
    from fanzha.reports import bulletin
    from fanzha.reports.docx_out import render_docx
    from fanzha.reports.pdf_out import render_pdf

    p = periods.parse(period)
    times: dict[str, list[float]] = {"figures": [], "compose": [], "docx": [], "pdf": [], "total": [], "total_cpu": []}
    pages = cases = 0
    for _ in range(runs):
        with session_scope() as s:
            c0 = time.process_time()
            t0 = time.perf_counter()
            figures = bulletin.figures_for(s, Scope.system(s), p, None)
            t1 = time.perf_counter()
            head = bulletin.heading(s, p.kind, p, None)
            doc = bulletin.compose(s, figures, head, number=bulletin.number_text(head.prefix, p.year, 1),
                                   issued=p.end)
            t2 = time.perf_counter()
            render_docx(doc)
            t3 = time.perf_counter()
            pdf = render_pdf(doc)
            t4 = time.perf_counter()
            c4 = time.process_time()
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0, c4 - c0)):
            times[key].append(round(value, 3))
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        cases = figures.cases.current
    return {"cases_in_month": cases, "pdf_pages": pages,
            "seconds": {k: {"first": v[0], "p50": statistics.median(v), "max": max(v)} for k, v in times.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-month", type=int, default=1000)
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.period, args.runs)))
        return
    base = DEFAULT_PG
    url = fresh_database(base, DBNAME)
    try:
        os.environ["FANZHA_DATABASE_URL"] = url
        y, m = map(int, args.period.split("-"))
        total = load(url, args.per_month, date(y, m, 1))
        env = {**os.environ, "FANZHA_DATABASE_URL": url, "FANZHA_DATA_DIR": "/tmp/fanzha-bench-bulletin"}
        out = subprocess.run([sys.executable, __file__, "--measure", "--period", args.period, "--runs",
                              str(args.runs)], env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "fanzha"), "report", "bulletin", "--period", args.period,
                        "-o", "/tmp/fanzha-bench-bulletin/city.pdf"], env=env, check=True, capture_output=True)
        result["cli_end_to_end_seconds"] = round(time.perf_counter() - started, 2)
        result.update(cases_loaded=total, per_month=args.per_month, machine=machine())
        print(json.dumps(result, ensure_ascii=False, indent=1))
    finally:
        drop_database(base, DBNAME)


if __name__ == "__main__":
    main()
