"""宣防漏洞 summary time: the demo county (seed 7, 600 people, its warnings, campaigns and cases) plus N synthetic
victims over the last year, summarised for the whole city (system scope) and for one station (ps01_minjing).

    .venv/bin/python bench/bench_case_gaps.py --url postgresql://postgres@127.0.0.1:5432/fanzha_bench_gaps --victims 20000

The database at --url must exist and be empty (it is migrated and filled here); drop it afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--victims", type=int, nargs="+", default=[20000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    os.environ["FANZHA_DATABASE_URL"] = args.url
    from fanzha.cases.models import Case
    from fanzha.common.localtime import local_day
    from fanzha.db import utcnow
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade
    from fanzha.org.models import User
    from fanzha.org.scope import Scope
    from fanzha.people.models import Person
    from fanzha.prevention.gaps import service as gaps

    upgrade("head", url=args.url)
    engine = create_engine(args.url)
    added = 0
    with Session(engine) as s:
        generate(s, seed=7, people=600)
        s.commit()
        people = s.execute(select(Person.id, Person.id_number, Person.phone, Person.community_id)).all()
        r, now = random.Random(1), utcnow()
        for target in args.victims:
            rows = []
            for i in range(added, target):
                p = r.choice(people)
                loss = now - timedelta(days=r.uniform(1, 365))
                rows.append(dict(case_number=f"BENCH{i:07d}", person_id=p.id, id_number=p.id_number, phone=p.phone,
                                 community_id=p.community_id, filed_at=loss + timedelta(hours=3), loss_at=loss,
                                 name="某", fraud_type="other", loss_amount=Decimal(1000), victim_groups=(
                                     ["elderly"] if i % 3 == 0 else []), created_at=now, updated_at=now))
            for k in range(0, len(rows), 5000):
                s.execute(insert(Case), rows[k:k + 5000])
            added = target
            s.commit()
            if engine.dialect.name == "postgresql":
                s.execute(text("ANALYZE"))
                s.commit()
            today = local_day(now)
            for who in ("system", "ps01_minjing"):
                scope = Scope.system(s) if who == "system" else Scope.for_user(
                    s.scalar(select(User).where(User.username == who)))
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    summary = gaps.summary(s, scope, today - timedelta(days=365), today)
                    times.append(time.perf_counter() - t)
                    s.rollback()
                times.sort()
                print(f"{engine.dialect.name} synthetic={target} scope={who} victims={len(summary.total.victims)} "
                      f"median={times[len(times) // 2]:.2f}s max={times[-1]:.2f}s "
                      f"load={' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
