"""Holes a review found, each kept closed by a test."""

from __future__ import annotations

from sqlalchemy import func, select

from fanzha.db import session_scope, utcnow
from fanzha.org.models import Area, User
from fanzha.trail.models import AuditEntry
from fanzha.warnings.models import Warning
from support.web import csrf_of


def _make_branch_admin():
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    with session_scope() as s:
        if s.scalar(select(User.id).where(User.username == "branch_admin")):
            return
        branch = s.scalar(select(Area).where(Area.level == "branch").order_by(Area.id))
        users.create_user(s, Scope.system(s), UserIn(username="branch_admin", display_name="分局管理员",
                                                       password="Fanzha@2026", role="centre_admin", area_id=branch.id))


def test_a_branch_admin_cannot_climb_above_the_branch(api_as, db):
    _make_branch_admin()
    api = api_as("branch_admin")
    me = db.scalar(select(User).where(User.username == "branch_admin"))
    bureau = db.scalar(select(Area).where(Area.level == "bureau"))
    city = db.scalar(select(Area).where(Area.level == "city"))
    assert api.patch(f"/api/v1/users/{me.id}", json={"area_id": bureau.id}).status_code == 404
    assert api.post("/api/v1/users", json={"username": "sneaky", "display_name": "某某", "password": "Abcdefg123",
                                           "role": "auditor", "area_id": city.id}).status_code == 404
    assert api.patch(f"/api/v1/areas/{bureau.id}", json={"name": "改名"}).status_code == 404
    assert api.get(f"/api/v1/areas/{bureau.id}").status_code == 200  # reading the node above is fine


def test_api_login_failures_are_kept_and_hold_the_account(app, db, monkeypatch):
    from fastapi.testclient import TestClient

    import fanzha.auth.service
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    now = utcnow()
    monkeypatch.setattr(fanzha.auth.service, "utcnow", lambda: now)  # the 2-second wait cannot run out mid-test
    with session_scope() as s:
        station = s.scalar(select(Area).where(Area.level == "station").order_by(Area.id))
        users.create_user(s, Scope.system(s), UserIn(username="api_lock", display_name="测试", password="Right123x",
                                                       role="station_officer", area_id=station.id))
    client = TestClient(app, raise_server_exceptions=False, client=("192.0.2.200", 50000))
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "api_lock", "password": "wrong-1x"}).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "api_lock", "password": "Right123x"})
    assert r.status_code == 429 and r.headers["retry-after"] == "2" and r.json()["error"]["code"] == "throttled"
    db.expire_all()
    reasons = db.scalars(select(AuditEntry.detail).where(AuditEntry.username == "api_lock",
                                                         AuditEntry.action == "login_failed")
                         .order_by(AuditEntry.id)).all()  # in the order written: PostgreSQL promises no other
    assert [d["reason"] for d in reasons] == ["bad_password"] * 5 + ["throttled"]


def test_a_get_never_marks_feedback_as_sent(client_as, db):
    page = client_as("ps01_suozhang")  # may export personal data, may not send feedback up (intake_warnings)
    before = db.scalar(select(func.count()).select_from(Warning).where(Warning.feedback_exported_at.is_not(None)))
    r = page.get("/warnings/feedback-export?fmt=csv&since=2020-01-01")
    assert r.status_code == 200 and r.text.startswith("\ufeff预警编号")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Warning).where(Warning.feedback_exported_at.is_not(None))) == before
    assert page.post("/warnings/feedback-export", data={"csrf_token": csrf_of(page)}).status_code == 403


def test_a_case_does_not_reveal_where_someone_of_another_station_lives(api_as, db):
    from fanzha.org.scope import Scope
    from fanzha.people.models import Person

    officer = db.scalar(select(User).where(User.username == "ps01_minjing"))
    scope = Scope.for_user(officer)
    stranger = db.scalar(select(Person).where(~scope.community_clause(Person.community_id),
                                              Person.id_number.is_not(None)).limit(1))
    r = api_as("ps01_minjing").post("/api/v1/cases", json={"case_number": "REV-C1", "filed_at": "2026-03-05 16:00",
                                                           "id_number": stranger.id_number, "loss_amount": "95.5万"})
    assert r.status_code == 422  # no place in the officer's area: not silently placed at the stranger's home
    assert "person_id" not in r.text


def test_error_files_mask_numbers_for_readers_without_full_view(client_as, tmp_path):
    from fanzha.imports import service as imports
    from fanzha.org.scope import Scope

    path = tmp_path / "w.csv"
    path.write_text("预警编号,预警类型,预警时间,身份证号,手机号\nREV-E1,资金预警,2026-03-05 09:00,110105194912310020,13912345678\n",
                    encoding="utf-8")
    with session_scope() as s:
        yanpan = s.scalar(select(User).where(User.username == "yanpan"))
        batch = imports.create_batch(s, Scope.for_user(yanpan), "warning", path.name, path)
        batch_id = batch.id
    imports.run_batch(batch_id, lambda s, b: Scope.for_user(s.get(User, b.created_by)))
    full = client_as("yanpan").get(f"/imports/{batch_id}/errors.csv").text
    assert "110105194912310020" in full and "校验位错误" in full
    assert client_as("shenji").get(f"/imports/{batch_id}/errors.csv").status_code == 404


def test_absurd_inputs_get_4xx_not_500(client_as, api_as, db):
    page = client_as("yanpan")
    assert page.get("/metrics?until=9999-12-31").status_code == 422
    assert page.get("/warnings?metric=sign_rate&part=num&until=9999-12-31").status_code == 422
    api = api_as("yanpan")
    assert api.get("/api/v1/warnings?since=2026-03-01T00:00:00").status_code == 200
    r = api.post("/api/v1/warnings", json={"external_id": "REV-Y1", "kind": "资金预警", "warned_at": "0001-01-01 00:00",
                                           "phone": "13800000000"})
    assert r.status_code == 422 and "预警时间" in r.json()["error"]["message"]
    r = api.post("/api/v1/warnings", json={"external_id": "REV-N1", "kind": "资金预警", "warned_at": "2026-03-01 09:00",
                                           "phone": "13800000000", "amount": "NaN"})
    assert r.status_code == 422
    w = db.scalar(select(Warning).where(Warning.station_id.is_not(None), Warning.feedback_at.is_(None)).limit(1))
    r = page.post(f"/warnings/{w.id}/place", data={"csrf_token": csrf_of(page), "community_id": "9" * 30})
    assert r.status_code == 422
