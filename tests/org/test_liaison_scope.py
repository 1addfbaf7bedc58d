"""A member-unit liaison (成员单位联络员) acts for its unit, never as the centre: `danwei01` (教育局, placed on the city
node) reads and changes only 教育局's own activities, 三包 items and 考核, whatever node it sits on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fanzha.common.localtime import local_day
from fanzha.db import session_scope, utcnow
from fanzha.org.enums import Level
from fanzha.org.models import Area, Unit, User
from fanzha.org.scope import Scope
from fanzha.prevention import service
from fanzha.prevention.models import Activity, ActivityPhoto, Supervision
from fanzha.registry.models import Duty
from support.web import DEMO_PASSWORD, csrf_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _user(s, username: str) -> User:
    return s.scalar(select(User).where(User.username == username))


def _record(username: str, organiser: str, *, photo: bool = False) -> tuple[int, int | None]:
    """An activity recorded by `username` on the first village of its own area, with a photo if asked."""
    with session_scope() as s:
        user = _user(s, username)
        scope = Scope.for_user(user)
        leaf = s.scalar(select(Area).where(Area.level == Level.COMMUNITY, scope.community_clause(Area.id))
                        .order_by(Area.id))
        group = next(iter(service.aimable_groups(s, scope))) if scope.unit_only else ""  # a unit names its group
        a = service.create_activity(s, scope, service.ActivityDraft(
            kind="lecture", community_id=leaf.id, held_on=local_day(utcnow()), counts={"participants": 30},
            organiser=organiser, target_group=group), photos=[PNG] if photo else None)
        return a.id, s.scalar(select(ActivityPhoto.id).where(ActivityPhoto.activity_id == a.id))


@pytest.fixture(scope="module")
def others(app):
    """A lecture with a photo recorded by station ps02's officer, and one recorded by 税务局's liaison (danwei02)."""
    station, station_photo = _record("ps02_minjing", "派出所宣讲", photo=True)
    unit, _ = _record("danwei02", "另一单位宣讲")
    return {"station": station, "photo": station_photo, "unit": unit}


def test_liaison_does_not_reach_a_stations_or_another_units_activity(others, client_as, api_as, db):
    page, api = client_as("danwei01"), api_as("danwei01")
    for activity_id in (others["station"], others["unit"]):
        assert page.get(f"/prevention/activities/{activity_id}").status_code == 404
        assert api.get(f"/api/v1/prevention/activities/{activity_id}").status_code == 404
    assert page.get(f"/prevention/photos/{others['photo']}").status_code == 404
    before = db.scalar(select(func.count()).select_from(ActivityPhoto).where(
        ActivityPhoto.activity_id == others["station"]))
    r = page.post(f"/prevention/activities/{others['station']}/photos", data={"csrf_token": csrf_of(page)},
                  files={"photo": ("a.png", PNG, "image/png")})
    assert r.status_code == 404
    r = api.post(f"/api/v1/prevention/activities/{others['station']}/photos",
                 files={"photo": ("a.png", PNG, "image/png")})
    assert r.status_code == 404
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ActivityPhoto).where(
        ActivityPhoto.activity_id == others["station"])) == before
    # The lists hold the unit's own activities only.
    unit_id = _user(db, "danwei01").unit_id
    listed = [a["id"] for a in api.get("/api/v1/prevention/activities?limit=500").json()]
    held = set(db.scalars(select(Activity.unit_id).where(Activity.id.in_(listed)))) if listed else set()
    assert held <= {unit_id}
    assert others["station"] not in listed and others["unit"] not in listed
    text = page.get("/prevention/activities").text
    assert "派出所宣讲" not in text and "另一单位宣讲" not in text


def test_liaison_records_for_its_own_unit_only(others, client_as, api_as, db):
    page, api = client_as("danwei01"), api_as("danwei01")
    me = _user(db, "danwei01")
    other_unit = db.scalar(select(Unit.id).where(Unit.id != me.unit_id).order_by(Unit.id))
    # The unit's staff go into any village of the city for 六进 activities: a city liaison records on any of them.
    city = db.get(Area, me.area_id)
    village = db.scalar(select(Area).where(Area.level == Level.COMMUNITY, Area.path.startswith(city.path))
                        .order_by(Area.id.desc()))
    r = page.post("/prevention/activities", data={
        "csrf_token": csrf_of(page), "kind": "school", "community_id": str(village.id),
        "held_on": local_day(utcnow()).isoformat(), "participants": "45", "organiser": "教育局进校园",
        "unit_id": str(other_unit)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    own = int(r.headers["location"].split("/")[-1].split("?")[0])
    db.expire_all()
    assert db.get(Activity, own).unit_id == me.unit_id  # a unit named in the form is ignored
    assert page.get(f"/prevention/activities/{own}").status_code == 200
    r = page.post(f"/prevention/activities/{own}/photos", data={"csrf_token": csrf_of(page)},
                  files={"photo": ("a.png", PNG, "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    assert own in [a["id"] for a in api.get("/api/v1/prevention/activities?limit=500").json()]
    # The API refuses a unit of the caller's choosing outright.
    body = {"kind": "school", "community_id": village.id, "held_on": local_day(utcnow()).isoformat(),
            "counts": {"participants": 5}, "unit_id": other_unit}
    assert api.post("/api/v1/prevention/activities", json=body).status_code == 422
    # Another unit's liaison does not see it.
    assert client_as("danwei02").get(f"/prevention/activities/{own}").status_code == 404


@pytest.fixture(scope="module")
def township_liaison(app):
    """A liaison of an enterprise that has a 三包 item, placed on the township the enterprise reports to."""
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn

    with session_scope() as s:
        duty = s.scalar(select(Duty).where(Duty.unit_id.is_not(None)).order_by(Duty.id))
        unit = s.get(Unit, duty.unit_id)
        if _user(s, "qy_liaison") is None:
            users.create_user(s, Scope.system(s), UserIn(username="qy_liaison", display_name="企业联络员",
                                                       password=DEMO_PASSWORD, role="unit_liaison",
                                                       area_id=unit.area_id, unit_id=unit.id))
        return {"unit": unit.id, "duty": duty.id, "township": unit.area_id, "staff": _user_name(s, duty.user_id)}


def _user_name(s, user_id: int) -> str:
    return s.get(User, user_id).display_name


def test_liaison_records_only_within_its_node(township_liaison, client_as, db):
    page = client_as("qy_liaison")
    township = db.get(Area, township_liaison["township"])
    elsewhere = db.scalar(select(Area).where(Area.level == Level.COMMUNITY, ~Area.path.startswith(township.path))
                          .order_by(Area.id))
    r = page.post("/prevention/activities", data={
        "csrf_token": csrf_of(page), "kind": "enterprise", "community_id": str(elsewhere.id),
        "held_on": local_day(utcnow()).isoformat(), "participants": "20"})
    assert r.status_code == 404


def test_liaison_reads_its_own_duty_item_with_the_name_masked(township_liaison, client_as, api_as, db):
    api = api_as("qy_liaison")
    rows = api.get("/api/v1/registry/duties").json()
    assert [d["id"] for d in rows] == [township_liaison["duty"]]
    page = client_as("qy_liaison").get("/registry/duties")
    assert page.status_code == 200
    name = township_liaison["staff"]
    assert name not in page.text and f"{name[0]}某" in page.text
    assert "人员工作量" not in page.text and "重新分配" not in page.text
    # 教育局 is not itself a 三包 item: danwei01 sees none, and nobody's workload.
    assert api_as("danwei01").get("/api/v1/registry/duties").json() == []
    assert "人员工作量" not in client_as("danwei01").get("/registry/duties").text


def test_liaison_sees_no_supervision_and_manages_no_campaign(client_as, db):
    held = db.scalar(select(Supervision).order_by(Supervision.id))
    assert held is not None
    with session_scope() as s:
        assert service.list_supervisions(s, Scope.for_user(_user(s, "danwei01")), held.campaign_id) == []
    page = client_as("danwei01")
    text = page.get(f"/prevention/campaigns/{held.campaign_id}").text
    assert held.note not in text
    r = page.post(f"/prevention/campaigns/{held.campaign_id}/quotas",
                  data={"csrf_token": csrf_of(page), "area_code": db.get(Area, held.area_id).code,
                        "metric": "households", "target": "1"})
    assert r.status_code in (403, 404)


def test_liaison_home_leads_to_its_units_work(client_as):
    """The home page offers its unit's work (web/test_crawl.py checks that no page offers what refuses it)."""
    home = client_as("danwei01").get("/").text
    for href in ("/prevention/activities/new", "/prevention/activities", "/assess", "/assess/letters"):
        assert f'href="{href}"' in home


def test_the_demo_liaison_lists_exactly_its_units_activities(api_as, db):
    """The demo county gives each member unit activities of its own, so a liaison's list is not empty on first run;
    it holds those and nothing else."""
    liaison = db.scalar(select(User).where(User.username == "danwei01"))
    own = set(db.scalars(select(Activity.id).where(Activity.unit_id == liaison.unit_id)))
    assert len(own) >= 3
    listed = api_as("danwei01").get("/api/v1/prevention/activities", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    assert {a["id"] for a in listed.json()} == own
