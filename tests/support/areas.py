"""Building a small hand-made jurisdiction inside a test: one area at a time, with its materialised path."""

from __future__ import annotations

from datetime import datetime

from fanzha.org.models import Area


def add_area(session, **kw) -> Area:
    a = Area(**kw)
    session.add(a)
    session.flush()
    parent = session.get(Area, a.parent_id) if a.parent_id else None
    a.path = (parent.path if parent else "/") + f"{a.id}/"
    return a


def station_with_dissuader(session, now: datetime) -> None:
    """城关派出所 (area 1) with 城关社区 (area 2) under it and its dissuader 王劝阻 (user 1), written with the columns
    of migration 0020 onwards (no ORM model, so a migration test can use it on an older schema)."""
    import sqlalchemy as sa

    from fanzha.db import UTCDateTime

    areas = sa.table("areas", *[sa.column(c) for c in ("id", "chain", "level", "kind_label", "name", "label", "code",
                                                        "parent_id", "path", "police_area_id", "police_path",
                                                        "population", "households", "shops")],
                     sa.column("created_at", UTCDateTime()))
    users = sa.table("users", *[sa.column(c) for c in ("id", "username", "display_name", "password_hash", "role",
                                                        "area_id", "phone", "is_active")],
                     sa.column("created_at", UTCDateTime()))
    common = {"kind_label": "", "population": 0, "households": 0, "shops": 0, "created_at": now}
    session.execute(areas.insert(), [
        {**common, "id": 1, "chain": "police", "level": "station", "name": "城关派出所", "label": "城关派出所",
         "code": "PS01", "path": "/1/"},
        {**common, "id": 2, "chain": "admin", "level": "community", "name": "城关社区", "label": "城关社区",
         "code": "C01", "path": "/2/", "police_area_id": 1, "police_path": "/1/"}])
    session.execute(users.insert().values(id=1, username="ps01_quanzu", display_name="王劝阻", password_hash="!",
                                          role="dissuader", area_id=1, phone="", is_active=True, created_at=now))
