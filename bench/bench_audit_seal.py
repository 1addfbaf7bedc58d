"""Benchmark: sealing and verifying the audit log's hash chain (fanzha.audit.seals).

    .venv/bin/python bench/bench_audit_seal.py                 # 200,000 rows on SQLite
    .venv/bin/python bench/bench_audit_seal.py --rows 500000 --url postgresql://postgres@127.0.0.1:5432/fz_bench

A migrated database of its own (a temporary SQLite file, or the PostgreSQL database named, which must exist and be
empty) is filled with audit rows shaped like a busy day's (views of people with their fields and ids); then every
row is sealed (as the worker does, a seal per 50,000 rows) and the whole chain verified. Reported: rows per second
for each.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from fanzha.audit import seals
    from fanzha.trail.models import AuditEntry
    from fanzha.migrate import upgrade

    tmp = tempfile.mkdtemp(prefix="fanzha-bench-seal-")
    url = args.url or f"sqlite:///{Path(tmp) / 'seal.db'}"
    upgrade(url=url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for start in range(0, args.rows, 10_000):
            conn.execute(insert(AuditEntry), [
                {"at": t0 + timedelta(seconds=i), "user_id": i % 40 + 1, "username": f"user{i % 40}", "action": "view",
                 "entity": "person", "entity_id": str(i), "fields": ["name", "phone:masked", "address"],
                 "detail": {"ids": [i, i + 1, i + 2]}, "ip": "10.1.2.3", "user_agent": "Mozilla/5.0 (Linux; Android 14)"}
                for i in range(start, min(start + 10_000, args.rows))])
    seal_file = Path(tmp) / "seals.jsonl"
    with Session(engine) as s:
        started = time.perf_counter()
        made = 0
        while (row := seals.seal(s, now=t0 + timedelta(days=30))) is not None:
            s.commit()
            seals.publish(row, seal_file)
            made += 1
        sealed = time.perf_counter() - started
        started = time.perf_counter()
        verdict = seals.verify(s, path=seal_file)
        verified = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"rows": args.rows, "database": url.split(":")[0], "seals": made, "ok": verdict.ok,
                      "seal_seconds": round(sealed, 2), "seal_rows_per_s": round(args.rows / sealed),
                      "verify_seconds": round(verified, 2), "verify_rows_per_s": round(args.rows / verified)}))


if __name__ == "__main__":
    main()
