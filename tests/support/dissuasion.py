"""Making a fresh warning at a known station for dissuasion tests, through the real intake pipeline."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning
from fanzha.warnings.service import ingest_rows

_n = itertools.count(1)


def fresh_warning(session, *, station_user: str = "ps01_quanzu", kind: str = "资金预警", at: str = "2026-03-05 09:00",
                  grade: str = "", amount: str = "95500", tag: str = "T") -> Warning:
    """A warning for 张某 living at a standard address of `station_user`'s station, held by that dissuader."""
    user = session.scalar(select(User).where(User.username == station_user))
    scope = Scope.for_user(user)
    address = session.scalar(select(StandardAddress.text).where(scope.community_clause(StandardAddress.community_id))
                             .order_by(StandardAddress.id))
    ext = f"DS{tag}{next(_n):05d}{datetime.now().strftime('%H%M%S%f')}"
    row = {"预警编号": ext, "预警类型": kind, "预警级别": grade, "预警时间": at, "姓名": "张某某",
           "手机号": f"139{abs(hash(ext)) % 10**8:08d}", "现住址": address, "拟转账金额": amount}
    tally = ingest_rows(session, Scope.system(session), [(1, row)])
    assert tally.created == 1, tally.errors
    w = session.scalar(select(Warning).where(Warning.external_id == ext))
    from datetime import timedelta

    # The clock of these tests is the warning's own day: dispatched a minute after it arrived.
    w.assignee_id, w.status = user.id, "assigned"
    w.dispatched_at = w.assigned_at = w.warned_at + timedelta(minutes=1)
    from sqlalchemy import delete

    from fanzha.warnings import assignments
    from fanzha.warnings.models import WarningAssignment

    session.execute(delete(WarningAssignment).where(WarningAssignment.warning_id == w.id))  # its history agrees
    assignments.record(session, w, kind="assign", at=w.assigned_at)
    session.flush()
    return w


# The smallest valid PNG (1×1), for photos of visits and activities.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
