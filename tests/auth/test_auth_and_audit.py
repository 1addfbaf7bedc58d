"""Login, sessions, CSRF, masking and the audit trail, as a station and its dissuader meet them (the back-off
after wrong passwords is in auth/test_login_throttle.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from fanzha.org.models import User
from fanzha.people.models import Person
from fanzha.trail.models import AuditEntry
from support.web import csrf_of, login, make_client


def _audit_count(db, **where) -> int:
    db.expire_all()
    q = select(func.count()).select_from(AuditEntry)
    for k, v in where.items():
        q = q.where(getattr(AuditEntry, k) == v)
    return db.scalar(q)


def test_passwords_are_argon2id(db):
    user = db.scalar(select(User).where(User.username == "ps01_quanzu"))
    assert user.password_hash.startswith("$argon2id$")
    assert "Fanzha@2026" not in user.password_hash


def test_session_cookie_is_httponly_and_samesite(app):
    client = make_client(app)
    r = login(client, "ps01_quanzu")
    cookie = r.headers["set-cookie"]
    assert "fanzha_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_login_form_needs_its_csrf_token(app):
    client = make_client(app)
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": "Fanzha@2026", "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/login", data={"username": "admin", "password": "Fanzha@2026", "csrf_token": "é"},
                    follow_redirects=False)
    assert r.status_code == 403


def test_a_non_ascii_csrf_token_is_refused_not_an_error(client_as):
    page = client_as("admin")
    r = page.post("/logout", data={"csrf_token": "é"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text


def test_page_posts_without_csrf_token_are_refused(client_as, db):
    page = client_as("admin")
    before = db.scalar(select(func.count()).select_from(User))
    r = page.post("/admin/users/new", data={"username": "csrf_victim", "display_name": "某某", "password": "Abcdefg123",
                                            "role": "grid_worker", "area_id": "1"})
    assert r.status_code == 403 and "CSRF" in r.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(User)) == before


def test_logout_ends_the_session(client_as):
    page = client_as("ps01_quanzu")
    cookie = page.cookies.get("fanzha_session")
    r = page.post("/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    page.cookies.set("fanzha_session", cookie)
    assert page.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_bad_bearer_token_is_401(app):
    client = make_client(app)
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "login_required"


def test_numbers_are_masked_by_default_and_views_audited(api_as, db):
    api = api_as("ps01_quanzu")
    people = api.get("/api/v1/people?limit=5").json()
    assert people
    for p in people:
        assert "*" in p["id_number"] and (not p["phone"] or "*" in p["phone"])
        assert p["masked"] is True
    person_id = people[0]["id"]
    before = _audit_count(db, username="ps01_quanzu", action="view")
    one = api.get(f"/api/v1/people/{person_id}").json()
    assert "*" in one["id_number"]
    assert _audit_count(db, username="ps01_quanzu", action="view") == before + 1


def test_reveal_shows_full_numbers_and_is_audited(client_as, db):
    page = client_as("ps01_quanzu")
    person = db.get(Person, _own_people(db, "ps01_quanzu")[0])
    r = page.post(f"/people/{person.id}/reveal", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 200 and person.id_number in r.text
    db.expire_all()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.username == "ps01_quanzu", AuditEntry.action == "reveal",
                                               AuditEntry.entity_id == str(person.id)))
    # Everything the revealed page shows of the person is listed, the birth date with the full number.
    assert entry is not None and entry.ip
    assert set(entry.fields) == {"name", "id_number", "phone", "gender", "birth_date", "address"}


def _own_people(db, username):
    from fanzha.org.scope import Scope

    user = db.scalar(select(User).where(User.username == username))
    scope = Scope.for_user(user)
    return list(db.scalars(select(Person.id).where(scope.community_clause(Person.community_id)).limit(3)))


def test_grid_worker_may_not_reveal(client_as, db):
    page = client_as("wangge01")
    person_id = _own_people(db, "wangge01")[0]
    detail = page.get(f"/people/{person_id}")
    assert detail.status_code == 200 and "显示完整号码" not in detail.text
    assert page.post(f"/people/{person_id}/reveal", data={"csrf_token": csrf_of(page)}).status_code == 403


def test_auditor_reads_but_cannot_change(api_as, db):
    api = api_as("shenji")
    assert api.get("/api/v1/audit?limit=5").status_code == 200
    community = db.scalar(select(Person.community_id).limit(1))
    r = api.post("/api/v1/people", json={"name": "李某某", "phone": "13800000000", "community_id": community})
    assert r.status_code == 403
    assert api_as("ps01_quanzu").get("/api/v1/audit").status_code == 403


def test_changes_are_audited_with_who_and_where(api_as, db):
    api = api_as("admin")
    person_id = db.scalar(select(Person.id).order_by(Person.id))
    r = api.patch(f"/api/v1/people/{person_id}", json={"phone": "+86 139 0000 1111"})
    assert r.status_code == 200
    db.expire_all()
    assert db.get(Person, person_id).phone == "13900001111"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "person",
                                               AuditEntry.entity_id == str(person_id)).order_by(AuditEntry.id.desc()))
    assert entry.username == "admin" and entry.fields == ["phone"] and entry.ip


def test_audit_log_is_append_only_in_the_database(db):
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE audit_log SET username = 'x'"))
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM audit_log"))
    db.rollback()


def test_audit_page_search(client_as):
    page = client_as("shenji")
    r = page.get("/admin/audit", params={"action": "login"})
    assert r.status_code == 200 and "登录" in r.text
    assert re.search(r"共 [\d,]+ 条", r.text)
