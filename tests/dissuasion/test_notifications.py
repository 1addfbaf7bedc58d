"""通知 links to what the reader may still open: a notification about a warning that has since left the reader's
reach (移交 to another station) says so instead of offering a link that answers 404."""

from __future__ import annotations

from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.notify.service import notify
from fanzha.org.models import User
from fanzha.warnings.models import Warning


def test_a_notification_about_a_warning_no_longer_in_reach_has_no_link(client_as, db):
    head = db.scalar(select(User).where(User.username == "ps01_suozhang"))
    other = db.scalar(select(User).where(User.username == "ps02_quanzu"))
    mine = db.scalar(select(Warning.id).where(Warning.station_id == head.area_id).order_by(Warning.id).limit(1))
    theirs = db.scalar(select(Warning.id).where(Warning.station_id == other.area_id).order_by(Warning.id).limit(1))
    with session_scope() as s:
        notify(s, [head.id], "高风险预警待签收", "仍在本所", link=f"/warnings/{mine}")
        notify(s, [head.id], "预警已移交", "已移交他所", link=f"/warnings/{theirs}")
    client = client_as("ps01_suozhang")
    page = client.get("/notifications").text
    assert f'href="/warnings/{mine}"' in page
    assert f'href="/warnings/{theirs}"' not in page
    assert "该预警已不在您的处置范围内" in page
    assert client.get(f"/warnings/{theirs}").status_code == 404  # what the link would have answered
