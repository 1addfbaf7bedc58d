"""Building a small hand-made jurisdiction inside a test: one area at a time, with its materialised path."""

from __future__ import annotations

from fanzha.org.models import Area


def add_area(session, **kw) -> Area:
    a = Area(**kw)
    session.add(a)
    session.flush()
    parent = session.get(Area, a.parent_id) if a.parent_id else None
    a.path = (parent.path if parent else "/") + f"{a.id}/"
    return a
