"""GET /api/v1/escalations: the worker's 超时升级 on the warnings a user may see, newest first, with the steps and
levels named; another station's are not listed; the parameters are bounded. The escalations are stored as the worker
stores them (its rules are tested in dissuasion/test_dissuasion.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.dissuasion.models import Escalation
from fanzha.org.models import User
from support.dissuasion import fresh_warning

SINCE = "2027-04-02T09:00:00+08:00"


def _at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2027-04-02T{hhmm}:00+08:00")


def test_a_station_lists_its_own_escalations_newest_first(api_as):
    with session_scope() as s:
        mine = fresh_warning(s, tag="ESA", at="2027-04-02 09:00")
        theirs = fresh_warning(s, station_user="ps02_quanzu", tag="ESB", at="2027-04-02 09:00")
        head = s.scalar(select(User.id).where(User.username == "ps01_suozhang"))
        for w, step, level, hhmm in ((mine, "sign", "assignee", "09:05"), (mine, "sign", "head", "09:10"),
                                     (theirs, "sign", "assignee", "09:05")):
            s.add(Escalation(warning_id=w.id, step=step, level=level, at=_at(hhmm), notified=[head]))
        s.add(Escalation(warning_id=mine.id, step="contact", level="assignee", at=_at("08:59"), notified=[]))
        mine_ext, mine_id, theirs_id = mine.external_id, mine.id, theirs.id

    station = api_as("ps01_suozhang").get("/api/v1/escalations", params={"since": SINCE})
    assert station.status_code == 200, station.text
    rows = [(r["warning_id"], r["step_label"], r["level_label"], r["notified"]) for r in station.json()
            if r["warning_id"] in (mine_id, theirs_id)]
    assert rows == [(mine_id, "签收", "所长", 1), (mine_id, "签收", "劝阻员", 1)]  # 08:59 is before `since`
    assert station.json()[0]["external_id"] == mine_ext

    centre = api_as("yanpan").get("/api/v1/escalations", params={"since": SINCE, "limit": 500}).json()
    assert {mine_id, theirs_id} <= {r["warning_id"] for r in centre}


def test_bad_parameters_are_refused_by_name(api_as):
    api = api_as("ps01_suozhang")
    assert api.get("/api/v1/escalations", params={"limit": 0}).status_code == 422
    assert api.get("/api/v1/escalations", params={"limit": 501}).status_code == 422
    assert api.get("/api/v1/escalations", params={"since": "昨天"}).status_code == 422
    assert api.get("/api/v1/escalations", params={"offset": -1}).status_code == 422
    assert api.get("/api/v1/escalations", params={"since": "2027-04-02T09:00:00"}).status_code == 422  # no zone
