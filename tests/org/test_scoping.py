"""Scoping, table-driven over every route: a user never reaches a record outside their node, and a member-unit
liaison none outside its unit, whatever node it sits on.

New routes are covered automatically: a route whose path parameter has no entry in PARAMS fails
test_every_path_parameter_is_known until someone says how to find a record for it.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Role
from fanzha.web.app import all_routes
from support.bodies import body_model, valid_bodies
from support.scoping_records import records_outside_unit, records_under
from support.web import csrf_of

# Path parameters that name a record, and those that do not (a kind of import, not a row).
RECORD_PARAMS = {"area_id", "person_id", "address_id", "user_id", "unit_id", "batch_id", "warning_id", "contact_id",
                 "follow_up_id", "case_id", "campaign_id", "activity_id", "photo_id", "supervision_id", "target_id",
                 "quiz_id", "report_id", "entity_id", "entry_id", "list_id", "duty_id", "run_id", "score_id",
                 "assessee_id", "document_id", "transfer_id", "request_id", "unplaced_id"}
OTHER_PARAMS = {"kind": "address", "fmt": "csv", "pool": "township"}


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def test_every_path_parameter_is_known():
    unknown = {p for path, _, _ in all_routes() for p in _params(path)} - RECORD_PARAMS - set(OTHER_PARAMS)
    assert not unknown, f"add these path parameters to the scoping tests: {unknown}"


def _station_of(db, username: str) -> Area:
    user = db.scalar(select(User).where(User.username == username))
    return db.get(Area, user.area_id)


@pytest.fixture(scope="module")
def batches(app):
    """An import batch made by the head of station 2 (ps02_suozhang) and one by ps01_suozhang."""
    from fanzha.db import session_scope
    from fanzha.imports import service as imports
    from fanzha.org.scope import Scope

    made = {}
    for username in ("ps01_suozhang", "ps02_suozhang"):
        with session_scope() as s:
            user = s.scalar(select(User).where(User.username == username))
            path = imports.get_settings().data_dir / f"scoping-{username}.csv"
            path.write_text("标准地址,所属村社区\n", encoding="utf-8")
            batch = imports.create_batch(s, Scope.for_user(user), "address", path.name, path)
            made[username] = batch.id
    return made


def _requests(path: str, methods: set[str], ids: dict[str, int]):
    url = path
    for p in _params(path):
        url = url.replace("{" + p + "}", str(ids.get(p, OTHER_PARAMS.get(p, ""))))
    for method in sorted(methods - {"HEAD"}):
        yield method, url


def _send(client, method: str, url: str, csrf: str, endpoint=None, bodies=None):
    if url.startswith("/api/"):
        # A valid body, so that a refusal comes from scoping and not from validation.
        model = body_model(endpoint) if endpoint and method in ("POST", "PATCH", "PUT") else None
        body = bodies.get(model.__name__, {}) if model is not None and bodies else ({} if method == "PATCH" else None)
        if method == "PATCH":
            body = {}
        return client.request(method, url, json=body)
    data = {"csrf_token": csrf}
    if method == "POST" and url.endswith("/import"):
        return client.post(url, data=data, files={"file": ("a.csv", io.BytesIO("标准地址\n".encode()), "text/csv")})
    return client.request(method, url, data=data if method != "GET" else None)


def _other_records(db, owner_node: Area, batch_id: int) -> list[dict[str, int]]:
    owned = records_under(db, owner_node)
    combos = []
    for param, ids in owned.ids.items():
        for i in ids:
            combos.append({param: i})
    combos.append({"batch_id": batch_id})
    return combos


@pytest.mark.parametrize("viewer, owner_username", [
    ("ps01_minjing", "ps02_minjing"),     # officer of station A, records of station B
    ("ps01_quanzu", "ps03_minjing"),      # dissuader of station A, records of a station of another township
    ("ps01_suozhang", "ps02_suozhang"),   # station head of A, records of B
])
def test_station_user_cannot_reach_another_stations_records(viewer, owner_username, client_as, api_as, db, batches):
    owner_station = _station_of(db, owner_username)
    own_station = _station_of(db, viewer)
    assert owner_station.id != own_station.id
    page, api = client_as(viewer), api_as(viewer)
    csrf = csrf_of(page)
    batch_id = batches.get(owner_username, batches["ps02_suozhang"])
    checked = 0
    bodies = valid_bodies(db)
    for path, methods, endpoint in all_routes():
        params = [p for p in _params(path) if p in RECORD_PARAMS]
        if not params:
            continue
        for ids in _other_records(db, owner_station, batch_id):
            if set(params) != set(ids):
                continue
            for method, url in _requests(path, methods, ids):
                client = api if url.startswith("/api/") else page
                response = _send(client, method, url, csrf, endpoint, bodies)
                assert response.status_code in (403, 404), f"{viewer} {method} {url} → {response.status_code}"
                checked += 1
    assert checked > 40


def test_station_user_reaches_own_records(client_as, api_as, db):
    """The same routes answer 200 for the user's own records, so the refusals above mean something."""
    station = _station_of(db, "ps01_minjing")
    owned = records_under(db, station)
    api = api_as("ps01_minjing")
    page = client_as("ps01_minjing")
    for person_id in owned.ids["person_id"]:
        assert api.get(f"/api/v1/people/{person_id}").status_code == 200
        assert page.get(f"/people/{person_id}").status_code == 200
    for address_id in owned.ids["address_id"]:
        assert api.get(f"/api/v1/addresses/{address_id}").status_code == 200
    assert owned.ids["warning_id"]
    for warning_id in owned.ids["warning_id"]:
        assert api.get(f"/api/v1/warnings/{warning_id}").status_code == 200
        assert page.get(f"/warnings/{warning_id}").status_code == 200
    for area_id in owned.ids["area_id"]:
        assert api.get(f"/api/v1/areas/{area_id}").status_code == 200


@pytest.fixture(scope="module")
def township_users(app):
    """Two grid workers placed on two different townships (created for this test)."""
    from fanzha.auth import users
    from fanzha.db import session_scope
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    with session_scope() as s:
        townships = list(s.scalars(select(Area).where(Area.level == Level.TOWNSHIP).order_by(Area.id)))
        t1, t2 = townships[0], townships[-1]
        for name, t in (("scope_town_a", t1), ("scope_town_b", t2)):
            if not s.scalar(select(User).where(User.username == name)):
                users.create_user(s, Scope.system(s), UserIn(username=name, display_name="测试网格员",
                                                               password="Fanzha@2026", role=Role.GRID_WORKER,
                                                               area_id=t.id))
        return {"scope_town_a": t1.id, "scope_town_b": t2.id}


def test_township_user_never_sees_another_townships_records(township_users, client_as, api_as, db):
    other = db.get(Area, township_users["scope_town_b"])
    owned = records_under(db, other)
    api = api_as("scope_town_a")
    page = client_as("scope_town_a")
    csrf = csrf_of(page)
    checked = 0
    bodies = valid_bodies(db)
    for path, methods, endpoint in all_routes():
        params = [p for p in _params(path) if p in RECORD_PARAMS]
        if not params:
            continue
        for param, ids in owned.ids.items():
            if params != [param]:
                continue
            for i in ids:
                for method, url in _requests(path, methods, {param: i}):
                    client = api if url.startswith("/api/") else page
                    r = _send(client, method, url, csrf, endpoint, bodies)
                    assert r.status_code in (403, 404), f"{method} {url} → {r.status_code}"
                    checked += 1
    assert checked > 10
    # Lists are scoped too: nothing of the other township appears.
    listed = {p["id"] for p in api.get("/api/v1/people?limit=500").json()}
    assert listed and not listed & set(owned.ids["person_id"])
    addresses = {a["community_id"] for a in api.get("/api/v1/addresses?limit=1000").json()}
    own = db.get(Area, township_users["scope_town_a"])
    own_communities = set(db.scalars(select(Area.id).where(Area.path.startswith(own.path),
                                                           Area.level == Level.COMMUNITY)))
    assert addresses and addresses <= own_communities


def test_lists_of_a_station_hold_only_its_communities(api_as, db):
    station = _station_of(db, "ps01_minjing")
    covered = set(db.scalars(select(Area.id).where(Area.police_path.startswith(station.path))))
    people = api_as("ps01_minjing").get("/api/v1/people?limit=500").json()
    assert people and {p["community_id"] for p in people} <= covered


@pytest.fixture(scope="module")
def liaison_world(app):
    """What the demo lacks for walking 教育局's liaison (danwei01, on the city node): a station's activity with a
    photo, another unit's activity and import, a city assessment with evidence for a township and for another unit, a
    函告 to another unit and a 报告; and an activity of its own."""
    from datetime import date
    from decimal import Decimal

    from fanzha.addresses.models import StandardAddress
    from fanzha.assess import service as assess
    from fanzha.common.localtime import local_day
    from fanzha.common.photos import store_photo
    from fanzha.db import session_scope, utcnow
    from fanzha.imports import service as imports
    from fanzha.org.scope import Scope
    from fanzha.prevention import service as prevention
    from fanzha.prevention.models import Campaign, CoverageTarget
    from fanzha.reports.models import IssuedDocument

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    with session_scope() as s:
        def record(username: str, photo: bool = False) -> int:
            scope = Scope.for_user(s.scalar(select(User).where(User.username == username)))
            leaf = s.scalar(select(Area.id).where(Area.level == Level.COMMUNITY, scope.community_clause(Area.id))
                            .order_by(Area.id))
            group = next(iter(prevention.aimable_groups(s, scope))) if scope.unit_only else ""  # a unit's group
            return prevention.create_activity(s, scope, prevention.ActivityDraft(
                kind="lecture", community_id=leaf, held_on=local_day(utcnow()), counts={"participants": 20},
                target_group=group), photos=[png] if photo else None).id

        record("ps02_minjing", photo=True)
        record("danwei02")
        own_activity = record("danwei01")
        other = s.scalar(select(User).where(User.username == "danwei02"))
        path = imports.get_settings().data_dir / "scoping-danwei02.csv"
        path.write_text("活动日期,活动类型\n", encoding="utf-8")
        batch = imports.create_batch(s, Scope.for_user(other), "activity", path.name, path).id
        # Someone on a station's list waiting to be placed (待落地): the registry's, never a unit's.
        from fanzha.registry.models import RegistryUnplaced

        station = s.scalar(select(User.area_id).where(User.username == "ps02_suozhang"))
        s.add(RegistryUnplaced(name="测某某", phone="14500000099", reason="未匹配到标准地址", area_id=station))
        system = Scope.system(s)
        city = s.get(Area, s.scalar(select(User.area_id).where(User.username == "danwei01")))
        run = assess.find_run(s, system, scheme_key="binzhou", period="2023", area_id=city.id) or assess.create_run(
            s, system, scheme_key="binzhou", period="2023", area_id=city.id)
        town = next(r.assessee_id for r in run.scores if r.pool == "township")
        for pool, assessee_id in (("unit", other.unit_id), ("township", town)):
            item = next(r.item_key for r in run.scores if r.pool == pool and r.assessee_id == assessee_id
                        and assess._scheme(run).item(r.item_key).kind == "manual")
            stored = store_photo("assess", run.id, b"%PDF-1.4\n", session=s, suffix=".pdf")
            assess.set_manual(s, system, run.id, pool=pool, assessee_id=assessee_id, item_key=item,
                              points=Decimal(1), note="佐证", evidence_file=stored)
        for seq, (kind, summary) in enumerate((("letter", {"unit_id": other.unit_id}), ("report", {})), start=1):
            if not s.scalar(select(IssuedDocument.id).where(IssuedDocument.kind == kind, IssuedDocument.year == 1999)):
                s.add(IssuedDocument(kind=kind, year=1999, seq=seq, number=f"测〔1999〕{seq}号", title="测试",
                                     issued_on=date(1999, 1, 1), summary=summary, docx=b"PK", pdf=b"%PDF"))
        # Read by design (docs/roles.md): campaigns covering its areas, coverage targets, the area tree, standard
        # addresses, the runs that assess its unit. Only their changes are walked.
        shared = {"campaign_id": s.scalar(select(Campaign.id).order_by(Campaign.id)),
                  "target_id": s.scalar(select(CoverageTarget.id).order_by(CoverageTarget.id)),
                  "address_id": s.scalar(select(StandardAddress.id).order_by(StandardAddress.id)),
                  "area_id": city.id, "run_id": run.id}
        return {"own_activity": own_activity, "batch": batch, "run": run.id, "other_unit": other.unit_id,
                "township": town, "shared": shared}


def test_member_unit_liaison_reaches_nothing_outside_its_unit(liaison_world, client_as, api_as, db):
    """danwei01 sits on the city node, yet every route refuses it every record that is not 教育局's own."""
    me = db.scalar(select(User).where(User.username == "danwei01"))
    outside = records_outside_unit(db, me.unit_id, me.id)
    run = liaison_world["run"]
    combos = [({param: i}, False) for param, ids in outside.ids.items() for i in ids]
    combos += [({"batch_id": liaison_world["batch"]}, False),
               ({"run_id": run, "pool": "unit", "assessee_id": liaison_world["other_unit"]}, False),
               ({"run_id": run, "pool": "township", "assessee_id": liaison_world["township"]}, False)]
    combos += [({param: i}, True) for param, i in liaison_world["shared"].items()]  # True: GET allowed
    unwalked = RECORD_PARAMS - {p for ids, _ in combos for p in ids}
    assert not unwalked, f"say which records of these kinds lie outside a member unit: {unwalked}"
    page, api = client_as("danwei01"), api_as("danwei01")
    csrf = csrf_of(page)
    bodies = valid_bodies(db)
    walked = set()
    for path, methods, endpoint in all_routes():
        params = {p for p in _params(path) if p in RECORD_PARAMS}
        if not params:
            continue
        for ids, readable in combos:
            if params != set(ids) - {"pool"}:
                continue
            for method, url in _requests(path, methods, ids):
                if readable and method == "GET":
                    continue
                client = api if url.startswith("/api/") else page
                response = _send(client, method, url, csrf, endpoint, bodies)
                assert response.status_code in (403, 404), f"danwei01 {method} {url} → {response.status_code}"
                walked.add(path)
    assert len(walked) > 60
    # The same routes answer for the unit's own records, so the refusals above mean something.
    own = liaison_world["own_activity"]
    assert page.get(f"/prevention/activities/{own}").status_code == 200
    assert api.get(f"/api/v1/prevention/activities/{own}").status_code == 200
    assert page.get(f"/assess/runs/{run}/unit/{me.unit_id}").status_code == 200
    assert page.get(f"/org/units/{me.unit_id}").status_code == 200
    # And the lists hold nothing of anyone else.
    from fanzha.prevention.models import Activity
    from fanzha.registry.models import Duty

    listed = [a["id"] for a in api.get("/api/v1/prevention/activities?limit=500").json()]
    assert own in listed and set(db.scalars(select(Activity.unit_id).where(Activity.id.in_(listed)))) == {me.unit_id}
    duties = [d["id"] for d in api.get("/api/v1/registry/duties").json()]
    assert set(db.scalars(select(Duty.unit_id).where(Duty.id.in_(duties)))) <= {me.unit_id}
    standings = api.get(f"/api/v1/assess/runs/{run}").json()["standings"]
    assert [row["pool"] for row in standings] == ["成员单位"] and len(standings) == 1


def test_the_centres_link_list_is_refused_outside_the_centre(api_as, client_as):
    """The 串并 list (/links, GET /api/v1/links) spans the city: the centre's only. The links of one record
    (/api/v1/cases/{case_id}/links, /api/v1/warnings/{warning_id}/links) are walked by the tables above."""
    for username in ("ps01_suozhang", "ps01_minjing", "danwei01", "wangge01"):
        assert api_as(username).get("/api/v1/links").status_code == 403
        assert client_as(username).get("/links").status_code == 403
