"""The registry's API twins of its page actions: 待落地 placing, the door-to-door print, a list turned into a campaign
and the 三包 run. Each does what the page does (same records, same audit), refuses a role without the permission
(403), a record outside the caller's areas (404) and a bad body with a Chinese message naming the field (422)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from fanzha.common.identity import id_check_digit
from fanzha.org.models import Area, User
from fanzha.people.models import Person
from fanzha.registry.models import Duty, RegistryEntry, RegistryUnplaced, TargetList, TargetMember
from fanzha.trail.models import AuditEntry
from support.web import csrf_of


def _id_number(birth: date, seq: int) -> str:
    first17 = f"439998{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def _refused(r, status: int, field: str | None = None) -> dict:
    """A refusal in the API's one error shape, in Chinese; a 422 names the field in its message or details."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    if field is not None:
        named = field in error["message"] or any(field in d.get("loc", []) for d in error["details"])
        assert named, error
    return error


def _last_audit(db, entity: str, entity_id: object = "", action: str | None = None) -> AuditEntry | None:
    db.expire_all()
    stmt = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.scalar(stmt.order_by(AuditEntry.id.desc()).limit(1))


def _station(db, username: str) -> Area:
    return db.get(Area, db.scalar(select(User.area_id).where(User.username == username)))


def _own_community(db, username: str) -> Area:
    station = _station(db, username)
    return db.scalar(select(Area).where(Area.level == "community", Area.police_path.startswith(station.path))
                     .order_by(Area.id).limit(1))


def _hold(api, db, rows: list[tuple[str, str, str]]) -> list[RegistryUnplaced]:
    """Imports a list whose addresses match no standard address: its people wait to be placed (待落地)."""
    body = "姓名,身份证号,手机号,人群类别,住址\n" + "".join(f"{n},{i},{p},老年人,城南菜市场附近\n" for n, i, p in rows)
    r = api.post("/api/v1/imports/registry", files={"file": ("held.csv", io.BytesIO(body.encode()), "text/csv")})
    assert r.status_code == 202, r.text[:300]
    db.expire_all()
    held = [db.scalar(select(RegistryUnplaced).where(RegistryUnplaced.id_number == i)) for _, i, _ in rows]
    assert all(h is not None and h.person_id is None for h in held)
    return held


def test_place_unplaced_through_the_api_does_what_the_page_does(client_as, api_as, db):
    head_api, page = api_as("ps01_suozhang"), client_as("ps01_suozhang")
    first, second = _id_number(date(1951, 2, 1), 41), _id_number(date(1951, 2, 2), 42)
    on_page, on_api = _hold(head_api, db, [("孙某某", first, "14500000041"), ("赵某某", second, "14500000042")])
    community = _own_community(db, "ps01_suozhang")

    listed = head_api.get("/api/v1/registry/unplaced")
    assert listed.status_code == 200
    rows = {r["id"]: r for r in listed.json()}
    assert {on_page.id, on_api.id} <= set(rows)
    assert rows[on_api.id]["phone"] == "145****0042"  # masked as on the page
    assert rows[on_api.id]["name"] == "赵某某" and rows[on_api.id]["groups"] == ["elderly"]
    assert _last_audit(db, "registry_unplaced", action="view") is not None

    r = page.post("/registry/unplaced/place", data={"csrf_token": csrf_of(page), "unplaced_id": on_page.id,
                                                     "community_id": community.id}, follow_redirects=False)
    assert r.status_code == 303
    r = head_api.post(f"/api/v1/registry/unplaced/{on_api.id}/place", json={"community_id": community.id})
    assert r.status_code == 200, r.text
    db.expire_all()
    placed = {i: db.scalar(select(Person).where(Person.id_number == i)) for i in (first, second)}
    assert r.json() == {"unplaced_id": on_api.id, "person_id": placed[second].id, "community_id": community.id,
                        "groups": ["elderly"]}
    for held, person in ((on_page, placed[first]), (on_api, placed[second])):
        db.refresh(held)
        assert person.community_id == community.id and person.groups == ["elderly"]
        assert held.person_id == person.id and held.placed_at is not None
        entry = db.scalar(select(RegistryEntry).where(RegistryEntry.person_id == person.id))
        assert entry.note == f"人工落地到{community.label}"
        audit = _last_audit(db, "registry_unplaced", held.id, "update")
        assert audit.username == "ps01_suozhang" and audit.detail == {"community": community.id,
                                                                       "person": person.id}
    # Once placed it is gone from the list, and placing it again is not found.
    assert on_api.id not in {r["id"] for r in head_api.get("/api/v1/registry/unplaced").json()}
    _refused(head_api.post(f"/api/v1/registry/unplaced/{on_api.id}/place", json={"community_id": community.id}), 404)


def test_place_refuses_without_permission_outside_scope_and_bad_bodies(api_as, db):
    head_api = api_as("ps01_suozhang")
    (held,) = _hold(head_api, db, [("钱某某", _id_number(date(1951, 3, 1), 43), "14500000043")])
    own = _own_community(db, "ps01_suozhang")
    theirs = _own_community(db, "ps02_suozhang")
    url = f"/api/v1/registry/unplaced/{held.id}/place"

    officer = api_as("ps01_minjing")  # a station officer works people, not the registry's lists
    _refused(officer.get("/api/v1/registry/unplaced"), 403)
    _refused(officer.post(url, json={"community_id": own.id}), 403)
    other_head = api_as("ps02_suozhang")  # held by station 1: another station does not see it
    assert held.id not in {r["id"] for r in other_head.get("/api/v1/registry/unplaced").json()}
    _refused(other_head.post(url, json={"community_id": theirs.id}), 404)
    # A community of another station, a missing field, an unknown one, a wrong type: 422 naming the field.
    assert "村/社区" in _refused(head_api.post(url, json={"community_id": theirs.id}), 422, "community_id")["message"]
    _refused(head_api.post(url, json={}), 422, "community_id")
    _refused(head_api.post(url, json={"community_id": own.id, "note": "x"}), 422, "note")
    _refused(head_api.post(url, json={"community_id": "东村"}), 422, "community_id")
    db.expire_all()
    assert db.get(RegistryUnplaced, held.id).person_id is None


def _station_list(api, name: str) -> int:
    r = api.post("/api/v1/registry/target-lists", json={"group": "elderly", "top_n": 2, "name": name})
    assert r.status_code == 201, r.text
    assert r.json()["members"], "the station should have elderly people to list"
    return r.json()["id"]


def test_print_through_the_api_reveals_what_the_page_prints(client_as, api_as, db):
    head_api, page = api_as("ps01_suozhang"), client_as("ps01_suozhang")
    list_id = _station_list(head_api, "入户打印接口测试")
    community_id = db.scalar(select(TargetMember.community_id).where(TargetMember.list_id == list_id)
                             .order_by(TargetMember.score.desc(), TargetMember.id).limit(1))

    html = page.post(f"/registry/lists/{list_id}/print", params={"community_id": community_id},
                     data={"csrf_token": csrf_of(page)})
    assert html.status_code == 200
    r = head_api.post(f"/api/v1/registry/target-lists/{list_id}/print", params={"community_id": community_id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["list_id"] == list_id and body["community_id"] == community_id
    assert [c["community_id"] for c in body["communities"]] == [community_id]
    lines = body["communities"][0]["members"]
    members = sorted(db.scalars(select(TargetMember).where(TargetMember.list_id == list_id,
                                                           TargetMember.community_id == community_id)),
                     key=lambda m: (-m.score, m.id))
    assert [m["person_id"] for m in lines] == [m.person_id for m in members]
    for line in lines:
        person = db.get(Person, line["person_id"])
        assert line["phone"] == (person.phone or "") and "*" not in line["phone"]
        if person.phone:
            assert person.phone in html.text  # the page shows the same full number
    audit = _last_audit(db, "target_list", list_id, "reveal")
    assert audit.username == "ps01_suozhang" and "phone" in audit.fields
    assert audit.detail["ids"] == [m.person_id for m in members] and audit.detail["community"] == community_id

    whole = head_api.post(f"/api/v1/registry/target-lists/{list_id}/print").json()
    assert sum(len(c["members"]) for c in whole["communities"]) == db.scalar(
        select(func.count()).select_from(TargetMember).where(TargetMember.list_id == list_id))


def test_print_refuses_without_permission_outside_scope_and_bad_input(api_as, db):
    head_api = api_as("ps01_suozhang")
    list_id = _station_list(head_api, "入户打印拒绝测试")
    url = f"/api/v1/registry/target-lists/{list_id}/print"
    _refused(api_as("wangge01").post(url), 403)  # a grid worker prints masked numbers only (the GET page)
    _refused(api_as("ps02_suozhang").post(url), 404)  # made for station 1
    theirs = _own_community(db, "ps02_suozhang")
    _refused(head_api.post(url, params={"community_id": theirs.id}), 404)  # nobody of the list there
    _refused(head_api.post(url, params={"community_id": 0}), 422, "community_id")


def test_list_to_campaign_through_the_api_sets_the_same_quotas_as_the_page(client_as, api_as, db):
    from fanzha.prevention.models import Campaign, Quota

    head_api, page = api_as("ps01_suozhang"), client_as("ps01_suozhang")
    by_page, by_api = _station_list(head_api, "行动页面测试"), _station_list(head_api, "行动接口测试")
    start = date(2026, 12, 1)
    dates = {"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}
    r = page.post(f"/registry/lists/{by_page}/campaign", data={"csrf_token": csrf_of(page), **dates},
                  follow_redirects=False)
    assert r.status_code == 303
    r = head_api.post(f"/api/v1/registry/target-lists/{by_api}/campaign", json=dates)
    assert r.status_code == 201, r.text
    body = r.json()
    db.expire_all()
    expected: dict[int, int] = {}
    for (community_id,) in db.execute(select(TargetMember.community_id).where(TargetMember.list_id == by_api)):
        expected[community_id] = expected.get(community_id, 0) + 1
    assert {int(k): v for k, v in body["quotas"].items()} == expected
    campaigns = {lid: db.get(TargetList, lid).campaign_id for lid in (by_page, by_api)}
    assert campaigns[by_api] == body["id"] and campaigns[by_page] not in (None, body["id"])
    for lid, cid in campaigns.items():
        c = db.get(Campaign, cid)
        assert (c.kind, c.starts_on, c.ends_on) == ("special", start, start + timedelta(days=14))
        assert c.name == f"{db.get(TargetList, lid).name}·入户宣防"
        quotas = {q.area_id: q.target for q in db.scalars(select(Quota).where(Quota.campaign_id == cid))}
        assert quotas == expected  # the same people on both lists: the same 入户 tasks
        assert _last_audit(db, "target_list", lid, "update").detail == {"campaign": cid}
    # A list makes one campaign only.
    again = _refused(head_api.post(f"/api/v1/registry/target-lists/{by_api}/campaign", json=dates), 422, "campaign")
    assert "已生成专项行动" in again["message"]


def test_list_to_campaign_refuses_without_permission_outside_scope_and_bad_dates(api_as, db):
    head_api = api_as("ps01_suozhang")
    list_id = _station_list(head_api, "行动拒绝测试")
    url = f"/api/v1/registry/target-lists/{list_id}/campaign"
    dates = {"starts_on": "2026-12-01", "ends_on": "2026-12-15"}
    _refused(api_as("ps01_minjing").post(url, json=dates), 403)
    _refused(api_as("ps02_suozhang").post(url, json=dates), 404)
    _refused(head_api.post(url, json={**dates, "ends_on": "2026-11-30"}), 422, "ends_on")
    _refused(head_api.post(url, json={**dates, "starts_on": "2026-13-01"}), 422, "starts_on")
    _refused(head_api.post(url, json={"starts_on": "2026-12-01"}), 422, "ends_on")
    db.expire_all()
    assert db.get(TargetList, list_id).campaign_id is None


def test_duties_run_through_the_api_allocates_as_the_page_does(client_as, api_as, db):
    """The page run then the API run on the same data: the same owner for every item (hand-made assignments kept),
    and the API answers the balance the page shows."""
    from fanzha.registry import duties

    page = client_as("admin")
    assert page.post("/registry/duties/run", data={"csrf_token": csrf_of(page)},
                     follow_redirects=False).status_code == 303
    db.expire_all()
    after_page = dict(db.execute(select(Duty.item_key, Duty.user_id)).all())
    r = api_as("yanpan").post("/api/v1/registry/duties:run")
    assert r.status_code == 200, r.text
    db.expire_all()
    assert dict(db.execute(select(Duty.item_key, Duty.user_id)).all()) == after_page
    summary = duties.summarise(db)
    body = r.json()
    assert body["items"] == summary["items"] == len(after_page) and body["staff"] == summary["staff"]
    assert abs(body["ratio"] - summary["ratio"]) < 1e-9 and body["max"] >= body["min"] > 0
    audit = _last_audit(db, "duty", "", "update")
    assert audit.username == "yanpan" and audit.detail["items"] == body["items"]
    html = page.get("/registry/duties").text
    assert f'<dd id="balance-ratio">{body["ratio"]:.3f}</dd>' in html


def test_duties_run_refuses_roles_that_do_not_allocate(api_as, db):
    before = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "duty"))
    for username in ("ps01_suozhang", "lianxiban", "wangge01"):
        _refused(api_as(username).post("/api/v1/registry/duties:run"), 403)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "duty")) == before
