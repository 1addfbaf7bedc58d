"""在办 warnings and their partition bound (warnings.open_set): a bound read before a write never hides a warning the
write opens, and on partitioned PostgreSQL a query over open warnings reads none of the months before the oldest one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support.dissuasion import fresh_warning


@pytest.fixture
def session():
    from fanzha.db import get_engine

    s = Session(bind=get_engine())
    yield s
    s.rollback()
    s.close()


def _yanpan(s):
    from fanzha.org.models import User
    from fanzha.org.scope import Scope

    return Scope.for_user(s.scalar(select(User).where(User.username == "yanpan")))


def test_an_open_warning_older_than_the_bound_read_before_it_is_on_the_board(session):
    from fanzha.dissuasion import board
    from fanzha.warnings import open_set, service

    scope = _yanpan(session)
    service.search(session, scope, service.Filters(state="open"), limit=5)  # the bound is read here
    before = open_set.oldest_open(session)
    w = fresh_warning(session, at="2019-01-10 09:00", tag="OPENSET")  # opened far before any open warning
    rows, total = service.search(session, scope, service.Filters(state="open", q=w.external_id))
    assert [r.id for r in rows] == [w.id] and total == 1
    figures = board.counts(session, scope, w.warned_at)
    assert sum(figures.total.values()) >= 1  # the old warning is unsigned: counted although older than the bound
    if session.get_bind().dialect.name == "postgresql":  # the suite's PostgreSQL database is partitioned
        assert before is not None and before > w.warned_at
        assert open_set.oldest_open(session) == w.warned_at  # read again after the flush
    else:
        assert before is None and open_set.oldest_open(session) is None  # SQLite: no bound, no extra query


@pytest.mark.postgres_pass  # partitions are PostgreSQL's (the SQLite half is the test above)
def test_open_warnings_are_read_from_the_months_at_or_after_the_oldest_open_one(session):
    from fanzha.config import get_settings
    from fanzha.ops import partitions
    from fanzha.warnings import open_set
    from fanzha.warnings.models import Warning

    open_set.forget()  # not a bound another test's rolled-back warning left in this process (lower: still right)
    since = open_set.oldest_open(session)
    assert since is not None
    # Two years of months before it (other tests may have left old open warnings, so the bound is not known
    # beforehand); made in this session's transaction, which the fixture rolls back.
    partitions.ensure(session.connection(), get_settings().timezone, since=date(since.year - 2, 1, 1))
    stmt = select(func.count()).select_from(Warning).where(open_set.clause(session))
    compiled = stmt.compile(session.get_bind())
    plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    read: set[str] = set()

    def walk(node):
        if str(node.get("Relation Name", "")).startswith("warnings_"):
            read.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    months = {p.name: p.month for p in partitions.listing(session.connection()) if p.table == "warnings"}
    assert read and read <= set(months)
    # A partition is a local month; the oldest open warning's UTC time may fall in the month before locally.
    first = (since - timedelta(days=31)).date().replace(day=1)
    assert all(months[name] is None or months[name] >= first for name in read)
    # What is left out: every month wholly before the oldest open warning.
    older = {name for name, month in months.items() if month is not None and month < first}
    assert len(older) >= 12 and not older & read
    # What must be read: every month after the oldest open warning's (each holds times after it).
    later = {name for name, month in months.items() if month is not None and month > since.date().replace(day=1)}
    assert later <= read
    assert session.scalar(stmt) == session.scalar(select(func.count()).select_from(Warning)
                                                  .where(Warning.feedback_at.is_(None)))
