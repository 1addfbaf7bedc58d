"""Exactly one of several simultaneous claims (认领) of a warning wins, on a real PostgreSQL server.

SQLite serialises writers, so this only means something on PostgreSQL: the test makes a database of its own on the
server (conftest.pg_create), whichever database the rest of the run uses, migrates it and seeds a small county
(seed 3, 50 people, 50 warnings). Station ps01 keeps a duty roster with nobody on duty now, so 20 warnings imported
for one of its addresses stay 已下发 (dispatched) with no assignee. For each of them 8 threads — each with its own
connection and session, each a different dissuader of ps01 — wait at a barrier and then all call
warnings.service.claim() and commit: exactly one wins, the other 7 get Conflict, and the warning ends with the winner.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fanzha.common.errors import Conflict
from support.db import pg_available, pg_create, pg_drop

pytestmark = pytest.mark.postgres

THREADS = 8
WARNINGS = 20


@pytest.fixture
def claim_db():
    """URL of a fresh, migrated and seeded PostgreSQL database, dropped afterwards."""
    if not pg_available():
        pytest.skip("PostgreSQL 不可用：认领并发测试需要 PostgreSQL（FANZHA_TEST_POSTGRES_URL）")
    from fanzha.db import make_engine
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    name = f"fanzha_claims_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = pg_create(name)
    engine = None
    try:
        upgrade(url=url)
        engine = make_engine(url)
        with Session(engine) as session:
            generate(session, seed=3, people=50, warnings=50, password="Fanzha@2026")
            session.commit()
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        pg_drop(name)


def _prepare(engine) -> tuple[list[int], list]:
    """20 dispatched, unassigned warnings at ps01's station and the scopes of its 8 dissuaders."""
    from fanzha.addresses.models import StandardAddress
    from fanzha.db import utcnow
    from fanzha.org.models import User
    from fanzha.org.roles import Role
    from fanzha.org.scope import Scope
    from fanzha.warnings.models import DutyShift, Warning
    from fanzha.warnings.service import ingest_rows

    with Session(engine) as s:
        first = s.scalar(select(User).where(User.username == "ps01_quanzu"))
        station = first.area_id
        # A roster nobody is on now: warnings wait at the station for someone to claim them.
        s.add(DutyShift(user_id=first.id, station_id=station, starts_at=utcnow() - timedelta(days=2),
                        ends_at=utcnow() - timedelta(days=1)))
        others = [User(username=f"claimer{i}", display_name=f"劝阻员{i}", password_hash="!", role=Role.DISSUADER.value,
                       area_id=station) for i in range(1, THREADS)]
        s.add_all(others)
        s.flush()
        address = s.scalar(select(StandardAddress.text)
                           .where(Scope.for_user(first).community_clause(StandardAddress.community_id))
                           .order_by(StandardAddress.id))
        rows = [(n, {"预警编号": f"CLAIM-{n:02d}", "预警类型": "涉诈电话", "预警时间": "2026-03-05 09:00",
                     "手机号": f"1390731{n:04d}", "现住址": address}) for n in range(1, WARNINGS + 1)]
        tally = ingest_rows(s, Scope.system(s), rows)
        assert tally.created == WARNINGS, tally.errors
        s.commit()
        made = s.execute(select(Warning.id, Warning.status, Warning.station_id, Warning.assignee_id)
                         .where(Warning.external_id.startswith("CLAIM-")).order_by(Warning.id)).all()
        assert [(status, st, who) for _, status, st, who in made] == [("dispatched", station, None)] * WARNINGS
        scopes = [Scope.for_user(u) for u in [first, *others]]
    return [wid for wid, *_ in made], scopes


def _race(factory, warning_id: int, scopes) -> list[tuple[str, int | None]]:
    from fanzha.warnings.service import claim

    barrier = threading.Barrier(len(scopes), timeout=60)
    results: list[tuple[str, int | None]] = [("not run", None)] * len(scopes)

    def attempt(i: int) -> None:
        with factory() as session:
            session.connection()  # its own connection, taken before the start signal
            barrier.wait()
            try:
                claim(session, scopes[i], warning_id)
                session.commit()
                results[i] = ("won", scopes[i].user_id)
            except Conflict:
                session.rollback()
                results[i] = ("conflict", None)
            except Exception as exc:  # noqa: BLE001  (reported below, not swallowed)
                session.rollback()
                results[i] = (f"error: {exc!r}", None)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(scopes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_exactly_one_of_eight_simultaneous_claims_wins(claim_db):
    from fanzha.trail.models import AuditEntry
    from fanzha.warnings.models import Warning

    warning_ids, scopes = _prepare(claim_db)
    factory = sessionmaker(bind=claim_db, expire_on_commit=False)
    winners = {}
    for warning_id in warning_ids:
        results = _race(factory, warning_id, scopes)
        won = [who for outcome, who in results if outcome == "won"]
        assert len(won) == 1, results
        assert sorted(outcome for outcome, _ in results) == ["conflict"] * (THREADS - 1) + ["won"], results
        winners[warning_id] = won[0]

    with Session(claim_db) as s:
        rows = s.execute(select(Warning.id, Warning.status, Warning.assignee_id)
                         .where(Warning.id.in_(warning_ids))).all()
        assert {wid: (status, who) for wid, status, who in rows} == \
            {wid: ("assigned", who) for wid, who in winners.items()}
        claims = dict(s.execute(select(AuditEntry.entity_id, func.count()).where(
            AuditEntry.entity == "warning", AuditEntry.action == "update",
            AuditEntry.entity_id.in_([str(w) for w in warning_ids])).group_by(AuditEntry.entity_id)).all())
        assert claims == {str(w): 1 for w in warning_ids}  # one audited claim per warning
