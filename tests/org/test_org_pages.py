"""Admin pages for the hierarchies, units and users, used as the centre admin would."""

from __future__ import annotations

from sqlalchemy import select

from fanzha.org.models import Area, Unit, User
from support.web import csrf_of


def test_admin_adds_a_village_and_corrects_its_population(client_as, db):
    page = client_as("admin")
    township = db.scalar(select(Area).where(Area.level == "township").order_by(Area.id))
    station = db.scalar(select(Area).where(Area.level == "station").order_by(Area.id))
    csrf = csrf_of(page)
    r = page.post("/org/areas", data={"csrf_token": csrf, "name": "新建村", "code": "PAGE_V1", "level": "community",
                                      "kind_label": "村", "parent_id": township.id, "police_area_id": station.id,
                                      "population": "1234", "households": "456"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    db.expire_all()
    village = db.scalar(select(Area).where(Area.code == "PAGE_V1"))
    assert village.path == f"{township.path}{village.id}/" and village.police_path == station.path
    r = page.post(f"/org/areas/{village.id}", data={"csrf_token": csrf, "name": "新建村", "population": "1300"},
                  follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Area, village.id).population == 1300


def test_area_form_errors_are_shown_in_chinese(client_as, db):
    page = client_as("admin")
    township = db.scalar(select(Area).where(Area.level == "township").order_by(Area.id))
    r = page.post("/org/areas", data={"csrf_token": csrf_of(page), "name": "缺派出所村", "code": "PAGE_V2",
                                      "level": "community", "parent_id": township.id})
    assert r.status_code == 422 and "必须指定所属派出所" in r.text
    db.expire_all()
    assert db.scalar(select(Area).where(Area.code == "PAGE_V2")) is None


def test_station_officer_cannot_edit_areas(client_as, db):
    page = client_as("ps01_minjing")
    own = db.scalar(select(User).where(User.username == "ps01_minjing")).area_id
    r = page.post(f"/org/areas/{own}", data={"csrf_token": csrf_of(page), "name": "改名"})
    assert r.status_code == 403


def test_joint_office_adds_a_member_unit(client_as, db):
    page = client_as("lianxiban")
    city = db.scalar(select(Area).where(Area.level == "city"))
    r = page.post("/org/units", data={"csrf_token": csrf_of(page), "name": "江州市文化广电旅游局", "code": "U_PAGE1",
                                      "kind": "government", "area_id": city.id, "duty_groups": ["elderly"]},
                  follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    db.expire_all()
    unit = db.scalar(select(Unit).where(Unit.code == "U_PAGE1"))
    assert unit.duty_groups == ["elderly"]


def test_admin_creates_a_dissuader_and_the_dissuader_logs_in(client_as, db, app):
    from support.web import login, make_client

    page = client_as("admin")
    station = db.scalar(select(Area).where(Area.level == "station").order_by(Area.id.desc()))
    r = page.post("/admin/users/new", data={"csrf_token": csrf_of(page), "username": "new_quanzu",
                                            "display_name": "王某", "password": "Quanzu2026x", "role": "dissuader",
                                            "area_id": station.id, "unit_id": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    r = page.post("/admin/users/new", data={"csrf_token": csrf_of(page), "username": "wrong_level",
                                            "display_name": "李某", "password": "Quanzu2026x", "role": "dissuader",
                                            "area_id": station.parent_id, "unit_id": ""})
    assert r.status_code == 422 and "不能设在该层级" in r.text
    assert login(make_client(app), "new_quanzu", "Quanzu2026x").status_code == 303
    assert page.get("/admin/roles").status_code == 200
