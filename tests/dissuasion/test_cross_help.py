"""跨所协助首次联系 in the live platform (dissuasion/help.py), by the rule the replay simulator runs.

A hand-made 协助分局 (code XHB) with two stations, 甲所 (XHA) and 乙所 (XHS), one village each:
- 甲所's only dissuader `xh_jia` holds a warning whose first contact is still to make: nobody at 甲所 is free;
- 乙所's dissuaders `xh_yi1` and `xh_yi2` hold nothing (no roster at 乙所: every active dissuader is on duty).
Warnings at 甲所: the medium one 甲所's dissuader holds (waited 30 minutes, on offer too), a high 资金预警 that has waited 5 minutes (on offer: high is a help grade, 3 minutes passed), a
medium one that has waited 1 minute (not yet: under 3 minutes) and a low one that has waited an hour (low is not a
help grade). 乙所's dissuaders are offered the high one, then the held one; `xh_yi1` takes it through the form, calls the person
and records the first contact; the warning stays 甲所's (no assignee taken, not signed by the helper), a 见面 by the
helper is refused, and nobody else is offered it afterwards.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fanzha.db import session_scope, utcnow
from fanzha.org.models import Area, User
from fanzha.warnings.models import Warning
from support.web import DEMO_PASSWORD, csrf_of


@pytest.fixture(scope="module")
def branch(app):
    from fanzha.auth.passwords import hash_password
    from fanzha.org.names import refresh_labels
    from support.areas import add_area

    now = utcnow()
    with session_scope() as s:
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))
        town = s.scalar(select(Area).where(Area.level == "township").order_by(Area.id))
        b = add_area(s, chain="police", level="branch", name="协助分局", code="XHB", parent_id=bureau.id)
        st = {code: add_area(s, chain="police", level="station", name=name, code=code, parent_id=b.id)
              for code, name in (("XHA", "协助甲所"), ("XHS", "协助乙所"))}
        villages = {code: add_area(s, chain="admin", level="community", name=f"{st[code].name}村", code=f"{code}C",
                                   parent_id=town.id, police_area_id=st[code].id, police_path=st[code].path)
                    for code in st}
        refresh_labels(s)
        users = {}
        for username, code, shown in (("xh_jia", "XHA", "协甲"), ("xh_yi1", "XHS", "协乙一"), ("xh_yi2", "XHS", "协乙二")):
            u = User(username=username, display_name=shown, password_hash=hash_password(DEMO_PASSWORD),
                     role="dissuader", area_id=st[code].id)
            s.add(u)
            users[username] = u
        s.add(User(username="xh_yi_head", display_name="乙所长", password_hash=hash_password(DEMO_PASSWORD),
                   role="station_head", area_id=st["XHS"].id))
        s.flush()

        def warning(ext, grade, waited, **kw):
            w = Warning(external_id=ext, kind="funds", risk_grade=grade, grade_reasons=[], warned_at=now - waited,
                        sign_deadline=now + timedelta(minutes=5), contact_deadline=now + timedelta(minutes=10),
                        feedback_deadline=now + timedelta(days=1), station_id=st["XHA"].id,
                        community_id=villages["XHA"].id, status=kw.pop("status", "dispatched"), repeat_count=0,
                        name="协助人", phone="13900009999", face_required=True,
                        face_deadline=now + timedelta(hours=1), **kw)
            s.add(w)
            return w

        held = warning("XH-HELD", "medium", timedelta(minutes=30), assignee_id=users["xh_jia"].id,
                       assigned_at=now, status="assigned")
        high = warning("XH-HIGH", "high", timedelta(minutes=5), amount=50000)
        medium = warning("XH-MED", "medium", timedelta(minutes=1))
        low = warning("XH-LOW", "low", timedelta(hours=1))
        s.flush()
        return {"high": high.id, "medium": medium.id, "low": low.id, "held": held.id, "XHA": st["XHA"].id}


def _offered(client) -> list[int]:
    page = client.get("/tasks")
    assert page.status_code == 200
    import re
    return [int(x) for x in re.findall(r'data-offer="(\d+)"', page.text)]


def test_an_idle_sibling_takes_over_a_first_contact(branch, client_as, api_as, db):
    helper = client_as("xh_yi1")
    # The high one first; then the medium one 甲所's dissuader holds uncontacted for half an hour (held is not done).
    assert _offered(helper) == [branch["high"], branch["held"]]
    assert [o["warning_id"] for o in api_as("xh_yi2").get("/api/v1/help-offers").json()] == \
        [branch["high"], branch["held"]]
    assert _offered(client_as("xh_jia")) == []  # busy with its own first contact
    # The offer shows no name or number.
    page = helper.get("/tasks").text
    offer = page.split(f'data-offer="{branch["high"]}"')[1].split("</div>")[0]
    assert "协助人" not in offer and "13900009999" not in offer and "协助甲所" in offer

    # Before taking it, the warning is 甲所's alone.
    assert helper.get(f"/warnings/{branch['high']}").status_code == 404
    r = helper.post(f"/warnings/{branch['high']}/help", data={"csrf_token": csrf_of(helper)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/warnings/{branch['high']}")
    opened = helper.get(f"/warnings/{branch['high']}")
    assert opened.status_code == 200, opened.text[:3000]
    assert 'id="helping-note"' in opened.text and 'id="outcome-form"' not in opened.text
    assert 'id="next-step"' not in opened.text  # the station's 签收/反馈 bar is not the helper's
    tasks = helper.get("/tasks").text
    assert "协助首次联系" in tasks and f'href="/warnings/{branch["high"]}"' in tasks

    # A second helper finds it gone; the API says why.
    other = api_as("xh_yi2")
    assert [o["warning_id"] for o in other.get("/api/v1/help-offers").json()] == [branch["held"]]
    r = other.post(f"/api/v1/warnings/{branch['high']}/help")
    assert r.status_code == 404 and "已由他人协助" in r.text, r.text

    # The helper calls (an audited reveal) and records the first contact; a 见面 is refused.
    api = api_as("xh_yi1")
    assert api.post(f"/api/v1/warnings/{branch['high']}/call", json={}).json()["tel"] == "13900009999"
    r = api.post(f"/api/v1/warnings/{branch['high']}/contacts",
                 json={"channel": "face_to_face", "result": "reached", "note": "上门"})
    assert r.status_code == 422 and "见面由预警所属派出所负责" in r.text, r.text
    r = api.post(f"/api/v1/warnings/{branch['high']}/contacts",
                 json={"channel": "phone", "result": "reached", "note": "已提醒勿转账"})
    assert r.status_code == 201, r.text
    # Outcome and sign stay with 甲所.
    assert api.post(f"/api/v1/warnings/{branch['high']}/sign").status_code == 404
    db.expire_all()
    w = db.get(Warning, branch["high"])
    helper_id = db.scalar(select(User.id).where(User.username == "xh_yi1"))
    assert (w.helper_id, w.assignee_id, w.signed_at, w.station_id) == (helper_id, None, None, branch["XHA"])
    assert w.first_contact_at is not None
    # 乙所's head does not see 甲所's warning on its board.
    assert client_as("xh_yi_head").get(f"/warnings/{branch['high']}").status_code == 404
    # Once contacted it leaves the helper's tasks.
    assert f'href="/warnings/{branch["high"]}"' not in helper.get("/tasks").text


def test_help_counts_on_the_metrics_page(branch, client_as):
    # Runs after the take above or on its own: at least the row the fixture places, counted both ways.
    from fanzha.db import session_scope
    from fanzha.dissuasion.help import helped_counts
    from fanzha.org.scope import Scope
    from fanzha.warnings.models import WarningHelp

    with session_scope() as s:
        if s.get(WarningHelp, branch["high"]) is None:
            s.add(WarningHelp(warning_id=branch["high"], helped_at=utcnow(),
                              helper_id=s.scalar(select(User.id).where(User.username == "xh_yi2"))))
    now = utcnow()
    with session_scope() as s:
        jia_head = Scope.for_user(s.scalar(select(User).where(User.username == "xh_jia")))
        yi_head = Scope.for_user(s.scalar(select(User).where(User.username == "xh_yi_head")))
        assert helped_counts(s, jia_head, now - timedelta(days=1), now + timedelta(minutes=1)) == (1, 0)
        assert helped_counts(s, yi_head, now - timedelta(days=1), now + timedelta(minutes=1)) == (0, 1)
    page = client_as("xh_yi_head").get("/metrics")
    assert page.status_code == 200 and 'id="cross-help"' in page.text


def test_the_demo_shows_help_between_stations(client_as, db):
    """On first run ps01's station has warnings first contacted by a sibling station's dissuader, on their timelines
    and on the metrics pages of both stations."""
    from fanzha.warnings.models import WarningHelp

    helps = db.scalars(select(WarningHelp)).all()
    demo = [h for h in helps if db.get(User, h.helper_id).username.startswith("ps")]
    assert demo, "the demo county shows 协助首次联系"
    page = client_as("ps01_suozhang").get(f"/warnings/{demo[0].warning_id}")
    assert page.status_code == 200 and "协助首次联系：" in page.text
    metrics = client_as("ps01_suozhang").get("/metrics").text
    assert "其他派出所劝阻员协助首次联系 0 条" not in metrics


def test_my_tasks_reads_the_helps_of_its_warnings_in_one_query(client_as, db):
    """我的任务 marks 协助首次联系 from each warning's help: read with the list, not one query per warning held (at
    province scale a dissuader holds hundreds)."""
    from sqlalchemy import event, func
    from sqlalchemy.engine import Engine

    username, held = db.execute(
        select(User.username, func.count()).join(Warning, Warning.assignee_id == User.id)
        .where(User.role == "dissuader", User.is_active.is_(True), Warning.feedback_at.is_(None))
        .group_by(User.username).order_by(func.count().desc(), User.username).limit(1)).one()
    assert held >= 2  # one query per warning would make two
    client = client_as(username)
    loads = []

    def seen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().startswith("SELECT warning_helps.warning_id, warning_helps.helper_id"):
            loads.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert client.get("/tasks").status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert len(loads) == 1
