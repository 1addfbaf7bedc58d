"""Benchmark: the station board, 我的任务 and a year of city metrics over a long warning history on PostgreSQL.

For each size (default 1,000,000 and 5,000,000 warnings):

  1. a fresh database is migrated and given the demo county (seed 2026), then `size` historical warnings spread
     evenly over the last five years are loaded with one INSERT … SELECT (each on a community with its station and
     one of that station's dissuaders; kinds, grades and outcomes mixed; signed, contacted, fed back — all but the
     last 36 hours, which stay open, as a live centre's backlog), with a person for every ten warnings, a case
     for every fifty and a follow-up (回访) for every fifth closed one; then ANALYZE, as autovacuum would have done,
     and the metrics' daily roll-ups are built from scratch (timed: what the first reading after the upgrade to
     migration 0013 does for the days it reads);
  2. in a child process the real application answers, through its ASGI interface (starlette's TestClient: the
     whole request — session check, scoping, queries, audit record, template — without a network), N requests each
     of: the station board as the station's chief (ps01_suozhang), 我的任务 as the station's dissuader
     (ps01_quanzu), the board as the centre (yanpan); and 5 times the metrics page and `metrics.report` for the
     whole city over the last 365 days, then 5 times `metrics.report` again with 20 warnings signed or fed back
     (committed) before each reading, so that the roll-up of the changed days is recomputed first;
  3. p50 / p95 / max of each are printed as JSON.

On PostgreSQL after migration 0034 the four tables are partitioned by month: the loader makes a partition for
every month of the five years before loading (`fanzha db partitions --from`), and fills the 预警编号 key table
(warning_keys) after the load, as its trigger is off during it. `--unpartitioned` measures the same on the schema
before 0034 (migrated to 0033, then stamped as the head so that the application serves it). Besides the pages above
it measures the warning list filtered to one month (as the centre), and, last, how long dropping the oldest
month's partitions takes (`fanzha db drop-month`).

    .venv/bin/python bench/bench_metrics.py                      # 1M and 5M (about 15 minutes)
    .venv/bin/python bench/bench_metrics.py --sizes 10000000     # the province-scale figure (docs/benchmarks.md)
    .venv/bin/python bench/bench_metrics.py --sizes 1000000 --unpartitioned
    .venv/bin/python bench/bench_metrics.py --sizes 200000       # a quick look
    PYTHONPATH=/other/checkout/src .venv/bin/python bench/bench_metrics.py --sizes 10000000 --reuse --pages-only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import (DEFAULT_PG, drop_database, fresh_database, logged_in_client,  # noqa: E402
                                  machine, pg_url, timed_get)

YEARS = 5
OPEN_HOURS = 36

LOAD_SQL = """
INSERT INTO warnings (external_id, kind, upstream_grade, risk_grade, grade_reasons, warned_at, sign_deadline,
    contact_deadline, face_deadline, feedback_deadline, upstream_deadline, face_required, name, id_number, phone,
    household_address, current_address, fraud_type, amount, counterparty_account, issuing_unit, note, repeat_count,
    person_id, community_id, station_id, match_source, status, assignee_id, dispatched_at, assigned_at, signed_at,
    signed_by, first_contact_at, face_at, feedback_at, outcome, outcome_note, amount_protected, source,
    created_at, updated_at)
SELECT 'H' || g, k.kind, NULL, k.grade, '["历史"]', x.at, x.at + interval '30 minutes', x.at + interval '2 hours',
    CASE WHEN k.kind = 'funds' THEN x.at + interval '24 hours' END, x.at + interval '72 hours', false,
    k.kind = 'funds', '历史' || g, NULL, '139' || lpad((g % 100000000)::text, 8, '0'), '', '', 'brushing',
    CASE WHEN k.kind = 'funds' THEN (x.r1 * 100000)::numeric(14, 2) END, '', '省反诈中心', '', 0,
    :first_person + (g % :people), c.community_id, c.station_id, 'current',
    CASE WHEN c.dissuader IS NULL THEN 'dispatched' ELSE 'assigned' END, c.dissuader, x.at, x.at,
    CASE WHEN NOT x.open OR x.r2 < 0.5 THEN x.at + (x.r2 * 50) * interval '1 minute' END,
    CASE WHEN NOT x.open OR x.r2 < 0.5 THEN c.dissuader END,
    CASE WHEN NOT x.open THEN x.at + (10 + x.r1 * 120) * interval '1 minute' END,
    CASE WHEN NOT x.open AND k.kind = 'funds' AND x.r2 < 0.9 THEN x.at + interval '5 hours' END,
    CASE WHEN NOT x.open THEN x.at + (x.r2 * 90) * interval '1 hour' END,
    CASE WHEN x.open THEN NULL WHEN x.r1 < 0.7 THEN 'dissuaded' WHEN x.r1 < 0.78 THEN 'defrauded'
         WHEN x.r1 < 0.86 THEN 'unreachable' WHEN x.r1 < 0.9 THEN 'refused' ELSE 'not_needed' END,
    '', NULL, 'import', x.at, x.at
FROM (SELECT g, t.at, t.at > now() AT TIME ZONE 'UTC' - interval '{open_hours} hours' AS open, random() AS r1,
             random() AS r2, 1 + (g::bigint * 7919 % :communities)::int AS ci
      FROM generate_series(1, :n) AS g,
           LATERAL (SELECT now() AT TIME ZONE 'UTC' - (g::float / :n) * interval '{years} years' AS at) AS t) AS x
JOIN bench_communities AS c ON c.n = x.ci
JOIN bench_kinds AS k ON k.n = 1 + (x.g % 10)
""".format(open_hours=OPEN_HOURS, years=YEARS)


def _child(args: list[str], url: str) -> dict:
    env = os.environ | {"FANZHA_DATABASE_URL": url, "FANZHA_QUEUE_IMMEDIATE": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env, check=True,
                         stdout=subprocess.PIPE).stdout
    return json.loads(out.decode().strip().splitlines()[-1])


def child_load(size: int, unpartitioned: bool = False) -> dict:
    """Migrates, generates the demo county and loads `size` historical warnings; returns counts and seconds."""
    from datetime import date

    from sqlalchemy import text

    from fanzha.config import get_settings
    from fanzha.ops import partitions

    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade
    from fanzha.org.models import User
    from fanzha.org.roles import Role
    from fanzha.warnings import metrics
    from fanzha.warnings.dispatch import station_of_communities

    reset_caches()
    if unpartitioned:
        from alembic.script import ScriptDirectory

        from fanzha.migrate import alembic_config

        upgrade("0033")
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with session_scope() as s:
            s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    else:
        upgrade()
    started = time.perf_counter()
    with session_scope() as s:
        generate(s, seed=2026, people=3000)
        today = date.today()
        made = partitions.ensure(s.connection(), get_settings().timezone,
                                 since=date(today.year - YEARS, today.month, 1))
    with session_scope() as s:
        stations = station_of_communities(s)
        dissuaders: dict[int, list[int]] = {}
        for uid, area in s.execute(text("SELECT id, area_id FROM users WHERE role = :r"), {"r": Role.DISSUADER.value}):
            dissuaders.setdefault(area, []).append(uid)
        conn = s.connection()
        conn.exec_driver_sql("CREATE TEMP TABLE bench_communities (n int, community_id int, station_id int, "
                             "dissuader int)")
        rows = [(i + 1, cid, sid, (dissuaders.get(sid) or [None])[i % len(dissuaders.get(sid) or [None])])
                for i, (cid, sid) in enumerate(sorted(stations.items()))]
        conn.execute(text("INSERT INTO bench_communities VALUES (:n, :c, :s, :d)"),
                     [{"n": n, "c": c, "s": st, "d": d} for n, c, st, d in rows])
        conn.exec_driver_sql("CREATE TEMP TABLE bench_kinds (n int, kind text, grade text)")
        kinds = ["funds", "funds", "funds", "call", "call", "call", "sms", "app", "url", "overseas_call"]
        grades = ["high", "high", "medium", "medium", "low", "medium", "low", "low", "medium", "high"]
        conn.execute(text("INSERT INTO bench_kinds VALUES (:n, :k, :g)"),
                     [{"n": i + 1, "k": k, "g": g} for i, (k, g) in enumerate(zip(kinds, grades))])
        people = max(size // 10, 1)
        first_person = conn.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM people").scalar()
        conn.execute(text(
            "INSERT INTO people (name, id_number, phone, gender, community_id, address, groups, created_at, "
            "updated_at) SELECT '历史' || g, NULL, '137' || lpad(g::text, 8, '0'), '', "
            "(SELECT community_id FROM bench_communities WHERE n = 1 + (g % :c)), '', '[]', now(), now() "
            "FROM generate_series(1, :p) AS g"), {"p": people, "c": len(rows)})
        indexes = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'warnings' "
                                       "AND indexname NOT IN ('pk_warnings', 'uq_warnings_external_id')").all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        # The history goes in as a database restored from elsewhere would: without the triggers that log changed
        # days (each row would look up its person's next warning, with the indexes dropped); the roll-ups are then
        # built from scratch below, as after upgrading a database that has warnings.
        conn.exec_driver_sql("ALTER TABLE warnings DISABLE TRIGGER USER")
        conn.execute(text(LOAD_SQL), {"n": size, "people": people, "first_person": first_person,
                                      "communities": len(rows)})
        conn.exec_driver_sql("ALTER TABLE warnings ENABLE TRIGGER USER")
        if partitions.partitioned(conn):  # the key table's trigger was off with the others
            conn.exec_driver_sql("INSERT INTO warning_keys (id, external_id) SELECT id, external_id FROM warnings "
                                 "WHERE external_id LIKE 'H%%'")
        conn.execute(text(
            "INSERT INTO cases (case_number, person_id, name, community_id, address, filed_at, loss_at, fraud_type, "
            "loss_amount, narrative, source, created_at, updated_at) "
            "SELECT 'HC' || w.id, w.person_id, w.name, w.community_id, '', w.warned_at + interval '20 days', "
            "w.warned_at + (CASE WHEN w.id % 2 = 0 THEN 1 ELSE -1 END) * interval '3 days', 'brushing', 5000, '', "
            "'import', now(), now() FROM warnings AS w WHERE w.id % 50 = 0 AND w.external_id LIKE 'H%'"))
        # 回访: one closed warning in five, due a week later, done the next day unless due in the last week.
        conn.execute(text(
            "INSERT INTO follow_ups (warning_id, reason, due_at, done_at, by_user_id, outcome, missed_outreach, note) "
            "SELECT w.id, 'sample', w.feedback_at + interval '7 days', CASE WHEN w.feedback_at + interval '7 days' "
            "< now() AT TIME ZONE 'UTC' - interval '7 days' THEN w.feedback_at + interval '8 days' END, "
            "w.assignee_id, NULL, '', '' FROM warnings AS w WHERE w.id % 5 = 0 AND w.feedback_at IS NOT NULL "
            "AND w.external_id LIKE 'H%' ON CONFLICT DO NOTHING"))
    # VACUUM before the indexes are built again: the demo's updates left dead row versions, and an index built
    # over them is marked usable only by transactions that start after every transaction then running on the
    # server has ended (pg_index.indcheckxmin) — with another job's long transaction in some other database the
    # planner would not use it, and the metrics would scan the table per person.
    from fanzha.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE warnings")
    with session_scope() as s:
        for _, definition in indexes:
            # A partitioned table's index reads "ON ONLY": as written it would make the parent's index alone, invalid,
            # with no index on any partition.
            s.connection().exec_driver_sql(definition.replace(" ON ONLY ", " ON "))
    with session_scope() as s:
        s.connection().exec_driver_sql("ANALYZE")
        unusable = s.execute(text("SELECT count(*) FROM pg_index WHERE indrelid = 'warnings'::regclass "
                                  "AND indcheckxmin")).scalar()
    loaded = time.perf_counter()
    with session_scope() as s:
        s.execute(text("DELETE FROM warning_days_state"))  # as after the upgrade: every day is built again
        days = metrics.refresh_days(s)
    built = time.perf_counter()
    with session_scope() as s:
        s.connection().exec_driver_sql("ANALYZE")
        counts = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("warnings", "people", "cases", "follow_ups", "warning_days", "warned_people_days")}
        counts["open"] = s.execute(text("SELECT count(*) FROM warnings WHERE feedback_at IS NULL")).scalar()
        counts["partitions"] = len(partitions.listing(s.connection()))
    counts["partitions_made_before_load"] = len(made)
    return counts | {"load_s": round(loaded - started, 1), "rollup_days": days, "indcheckxmin": unusable,
                     "rollup_build_s": round(built - loaded, 1)}


def child_pages(repeat: int) -> dict:
    """The four pages alone (no metrics, no writes, no dropped month): for runs of two versions of the code taken in
    turns on one kept database (`--reuse --pages-only`, the code chosen by PYTHONPATH)."""
    from datetime import timedelta

    from fanzha.db import utcnow

    today = utcnow().date()
    month_ago = (today.replace(day=1) - timedelta(days=380)).replace(day=1)
    month_end = (month_ago + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        "warning_list_one_month": timed_get(logged_in_client("yanpan"),
                                            f"/warnings?since={month_ago}&until={month_end}", repeat),
        "station_board": timed_get(logged_in_client("ps01_suozhang"), "/warnings", repeat),
        "my_tasks": timed_get(logged_in_client("ps01_quanzu"), "/tasks", repeat),
        "centre_board": timed_get(logged_in_client("yanpan"), "/warnings", repeat),
    }


def child_measure(repeat: int) -> dict:
    from datetime import timedelta

    from sqlalchemy import text

    from fanzha.db import session_scope, utcnow
    from fanzha.org.scope import Scope
    from fanzha.warnings import metrics

    today = utcnow().date()
    year = f"since={today - timedelta(days=364)}&until={today}"
    month_ago = (today.replace(day=1) - timedelta(days=380)).replace(day=1)
    month_end = (month_ago + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    out = {
        "warning_list_one_month": timed_get(logged_in_client("yanpan"),
                                            f"/warnings?since={month_ago}&until={month_end}", repeat),
        "station_board": timed_get(logged_in_client("ps01_suozhang"), "/warnings", repeat),
        "my_tasks": timed_get(logged_in_client("ps01_quanzu"), "/tasks", repeat),
        "centre_board": timed_get(logged_in_client("yanpan"), "/warnings", repeat),
        "metrics_page_city_year": timed_get(logged_in_client("yanpan"), f"/metrics?{year}", 5),
    }
    times = []
    with session_scope() as s:
        since, until = metrics.period(str(today - timedelta(days=364)), str(today))
        for _ in range(5):
            t = time.perf_counter()
            rep = metrics.report(s, Scope.system(s), since=since, until=until)
            times.append((time.perf_counter() - t) * 1000)
    out["report_city_year"] = {"n": 5, "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                               "warnings_in_year": rep.warnings, "warned_people": rep.warned_people}
    # The same while the centre works: before each reading, 20 warnings are signed or fed back in another
    # committed transaction, so today's roll-up (and yesterday's, the UTC date spans both) is recomputed first.
    times, refreshed = [], []
    for i in range(5):
        with session_scope() as s:
            s.execute(text(
                "UPDATE warnings SET signed_at = coalesce(signed_at, now() AT TIME ZONE 'UTC'), "
                "feedback_at = CASE WHEN :close THEN now() AT TIME ZONE 'UTC' END, "
                "outcome = CASE WHEN :close THEN 'dissuaded' END "
                "WHERE id IN (SELECT id FROM warnings WHERE feedback_at IS NULL ORDER BY id LIMIT 20)"),
                {"close": i % 2 == 0})
        with session_scope() as s:
            t = time.perf_counter()
            pending = s.execute(text("SELECT count(*) FROM warning_days_dirty")).scalar()
            rep2 = metrics.report(s, Scope.system(s), since=since, until=until)
            times.append((time.perf_counter() - t) * 1000)
            refreshed.append(pending)
    out["report_city_year_after_changes"] = {"n": 5, "p50_ms": round(statistics.median(times), 1),
                                             "max_ms": round(max(times), 1), "dirty_rows_before": refreshed,
                                             "warnings_in_year": rep2.warnings}
    # Last, as it removes data: the oldest month's partitions dropped, as `fanzha db drop-month` does.
    from fanzha.db import get_engine
    from fanzha.ops import partitions

    with get_engine().begin() as conn:
        months = sorted({p.month for p in partitions.listing(conn) if p.month})
        if months:
            rows = conn.execute(text(f"SELECT count(*) FROM warnings_p{months[0]:%Y_%m}")).scalar()
            t = time.perf_counter()
            dropped = partitions.drop_month(conn, months[0])
            out["drop_oldest_month"] = {"month": f"{months[0]:%Y-%m}", "warnings_rows": rows, "dropped": dropped,
                                        "seconds": round(time.perf_counter() - t, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=40, help="requests per page")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--unpartitioned", action="store_true", help="the schema before migration 0034")
    parser.add_argument("--load-only", action="store_true", help="load and keep the database, measure nothing")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --load-only (and keep it)")
    parser.add_argument("--pages-only", action="store_true",
                        help="with --reuse: the four pages alone, nothing written or dropped")
    parser.add_argument("--child-load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-unpartitioned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-pages", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_pages:
        print(json.dumps(child_pages(args.child_pages)))
        return
    if args.child_load:
        print(json.dumps(child_load(args.child_load, args.child_unpartitioned)))
        return
    if args.child_measure:
        print(json.dumps(child_measure(args.child_measure)))
        return
    print(json.dumps({"machine": machine()}, ensure_ascii=False), flush=True)
    for size in args.sizes:
        dbname = f"fanzha_bench_metrics_{'plain' if args.unpartitioned else 'parts'}_{size}"
        if args.reuse:
            url, loaded = pg_url(args.pg, dbname), "(loaded earlier with --load-only)"
        else:
            url = fresh_database(args.pg, dbname)
        try:
            if not args.reuse:
                loaded = _child(["--child-load", str(size)] + (["--child-unpartitioned"] if args.unpartitioned
                                                                else []), url)
                print(json.dumps({"size": size, "loaded": loaded, "loadavg": [round(x, 2) for x in os.getloadavg()]},
                                 ensure_ascii=False), flush=True)
            if args.load_only:
                continue
            measured = _child(["--child-pages" if args.pages_only else "--child-measure", str(args.repeat)], url)
        finally:
            if not (args.keep or args.load_only or args.reuse):  # a database loaded to be measured again stays
                drop_database(args.pg, dbname)
        print(json.dumps({"size": size, "partitioned": not args.unpartitioned, "loaded": loaded, **measured,
                          "loadavg": [round(x, 2) for x in os.getloadavg()]}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
