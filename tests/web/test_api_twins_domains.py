"""API twins of page actions (account, family contacts, 拨打, notifications, blocklist, 无诈社区, knowledge tests,
通报, 三告): each /api/v1 route does what its page's form does, through the same service, with the same permission,
scoping and audit entries, and answers bad input with a 422 in Chinese that names the field."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from fanzha.db import session_scope
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Role
from fanzha.org.scope import Scope
from fanzha.trail.models import AuditEntry
from support.dissuasion import fresh_warning
from support.web import csrf_of, login, make_client

PASSWORD = "Jiangzhou#2026t"
_n = itertools.count(1)


_since = {"id": 0}


@pytest.fixture(autouse=True)
def _audit_from_here(db):
    """Entries are read from this test's start: a record id the database reused (SQLite hands out a deleted row's
    id again) may carry another test's entries."""
    _since["id"] = db.scalar(select(func.max(AuditEntry.id))) or 0


def _audit(db, action: str, entity: str, entity_id) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.id > _since["id"], AuditEntry.action == action,
                                                    AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
                           .order_by(AuditEntry.id)))


def _chinese_naming(r, field: str) -> None:
    """A 422 whose message is Chinese and whose details name `field`."""
    assert r.status_code == 422, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert any(field in d.get("loc", []) for d in error["details"]), error


def _user(username: str, role: Role, area_id: int, password: str = PASSWORD) -> int:
    """A user of this test (made once per worker database), its password and throttle counters reset."""
    from fanzha.auth import users
    from fanzha.auth.models import Throttle
    from fanzha.auth.passwords import hash_password
    from fanzha.org.schemas import UserIn

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = users.create_user(s, Scope.system(s), UserIn(username=username, display_name="王某",
                                                                   password=password, role=role, area_id=area_id))
        user.password_hash = hash_password(password)
        s.execute(delete(Throttle))
        return user.id


def _api(app, username: str, password: str = PASSWORD):
    client = make_client(app)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _area_of(db, username: str) -> Area:
    return db.get(Area, db.scalar(select(User.area_id).where(User.username == username)))


# -- 修改密码 ---------------------------------------------------------------------------------------------------------

def test_changing_ones_password_through_the_api_is_the_pages_change(app, db):
    station = _area_of(db, "ps01_minjing")
    user_id = _user("twin_pw1", Role.STATION_OFFICER, station.id)
    browser = make_client(app)
    assert login(browser, "twin_pw1", PASSWORD).status_code == 303
    api = _api(app, "twin_pw1")

    wrong = api.post("/api/v1/account/password", json={"old_password": "guess-1234a", "new_password": "Xinmima2027"})
    _chinese_naming(wrong, "old_password")
    assert wrong.json()["error"]["message"] == "原密码不正确"
    failed = _audit(db, "password_failed", "user", user_id)
    assert [e.detail for e in failed] == [{"reason": "bad_password"}]  # kept although the request failed
    weak = api.post("/api/v1/account/password", json={"old_password": PASSWORD, "new_password": "12345678"})
    _chinese_naming(weak, "new_password")
    _chinese_naming(api.post("/api/v1/account/password", json={"old_password": PASSWORD}), "new_password")
    _chinese_naming(api.post("/api/v1/account/password", json={"old_password": PASSWORD, "new_password": "x",
                                                               "again": "x"}), "again")

    done = api.post("/api/v1/account/password", json={"old_password": PASSWORD, "new_password": "Xinmima#2027t"})
    assert done.status_code == 200 and done.json() == {"sessions_ended": 1}  # the browser; this token stays
    assert api.get("/api/v1/me").json()["username"] == "twin_pw1"
    gone = browser.get("/warnings", follow_redirects=False)
    assert gone.status_code in (302, 303) and "/login" in gone.headers["location"]
    assert login(make_client(app), "twin_pw1", PASSWORD).status_code == 401
    assert login(make_client(app), "twin_pw1", "Xinmima#2027t").status_code == 303
    [entry] = _audit(db, "update", "user", user_id)
    assert entry.detail == {"changed": ["password"], "sessions_ended": 1} and entry.username == "twin_pw1"
    # Signed in by cookie, the route wants the page's CSRF token like every write.
    assert make_client(app).post("/api/v1/account/password", json={}).status_code == 401
    cookie = make_client(app)
    assert login(cookie, "twin_pw1", "Xinmima#2027t").status_code == 303
    r = cookie.post("/api/v1/account/password", json={"old_password": "Xinmima#2027t", "new_password": "Abcdefg123"})
    assert r.status_code == 403


def test_guessing_through_the_api_is_throttled_like_the_page(app):
    from fanzha.config import get_settings

    with session_scope() as s:
        station = s.scalar(select(User.area_id).where(User.username == "ps01_minjing"))
    _user("twin_pw2", Role.STATION_OFFICER, station)
    api = _api(app, "twin_pw2")
    for _ in range(get_settings().login_free_attempts):
        assert api.post("/api/v1/account/password",
                        json={"old_password": "guess-1234a", "new_password": "Xinmima2027"}).status_code == 422
    held = api.post("/api/v1/account/password", json={"old_password": PASSWORD, "new_password": "Xinmima2027"})
    assert held.status_code == 429 and "尝试过于频繁" in held.json()["error"]["message"]
    assert int(held.headers["retry-after"]) >= 1
    assert login(make_client(app), "twin_pw2", PASSWORD).status_code == 303  # unchanged


# -- 家属联系人 and 拨打 ------------------------------------------------------------------------------------------------

@pytest.fixture
def warned(app):
    """A fresh warning for 张某某 held by ps01_quanzu, with the person it was matched to, and one of station ps02."""
    with session_scope() as s:
        own = fresh_warning(s, tag="TWA")
        other = fresh_warning(s, station_user="ps02_quanzu", tag="TWB")
        assert own.person_id and other.person_id
        return {"id": own.id, "phone": own.phone, "person_id": own.person_id,
                "other_id": other.id, "other_person_id": other.person_id}


def test_a_family_contact_added_through_the_api_is_the_pages(warned, api_as, client_as, db):
    from fanzha.dissuasion.models import FamilyContact

    pid = warned["person_id"]
    api = api_as("ps01_quanzu")
    r = api.post(f"/api/v1/people/{pid}/family", json={"name": "张小明", "relation": "儿子", "phone": "139-0000-1234"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out == {"id": out["id"], "person_id": pid, "name": "张小明", "relation": "儿子",
                   "phone_masked": "139****1234"}
    db.expire_all()
    row = db.get(FamilyContact, out["id"])
    assert (row.person_id, row.name, row.relation, row.phone) == (pid, "张小明", "儿子", "13900001234")
    [entry] = _audit(db, "create", "family_contact", out["id"])
    assert entry.username == "ps01_quanzu" and entry.fields == ["name", "phone"]
    # The page's form writes the same row through the same service.
    page = client_as("ps01_quanzu")
    sent = page.post(f"/people/{pid}/family", data={"name": "张小红", "relation": "女儿", "phone": "13900005678",
                                                    "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert sent.status_code == 303
    db.expire_all()
    assert {(f.name, f.phone) for f in db.scalars(select(FamilyContact).where(FamilyContact.person_id == pid))} \
        == {("张小明", "13900001234"), ("张小红", "13900005678")}

    db.expire_all()
    before = db.scalar(select(func.count()).select_from(FamilyContact))
    blank = api.post(f"/api/v1/people/{pid}/family", json={"name": "  ", "relation": "女儿", "phone": "13900005678"})
    _chinese_naming(blank, "name")
    assert blank.json()["error"]["message"] == "请填写家属姓名和关系"
    _chinese_naming(api.post(f"/api/v1/people/{pid}/family", json={"name": "张某", "phone": "13900005678"}),
                    "relation")
    _chinese_naming(api.post(f"/api/v1/people/{pid}/family", json={"name": "张某", "relation": "女儿",
                                                                   "phone": "12345"}), "phone")
    # Another station's person is not there; a grid worker may not register family members.
    assert api.post(f"/api/v1/people/{warned['other_person_id']}/family",
                    json={"name": "李某", "relation": "妻子", "phone": "13900001111"}).status_code == 404
    assert api_as("wangge01").post(f"/api/v1/people/{pid}/family",
                                   json={"name": "李某", "relation": "妻子", "phone": "13900001111"}).status_code == 403
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(FamilyContact)) == before


def test_calling_through_the_api_reveals_one_number_audited(warned, api_as, db):
    from fanzha.dissuasion.models import FamilyContact

    wid = warned["id"]
    api = api_as("ps01_quanzu")
    r = api.post(f"/api/v1/warnings/{wid}/call", json={})
    assert r.status_code == 200 and r.json() == {"tel": warned["phone"], "label": "预警对象"}
    assert r.headers["cache-control"] == "no-store"
    reveals = _audit(db, "reveal", "warning", wid)
    assert [(e.username, e.fields, e.detail) for e in reveals] == [("ps01_quanzu", ["phone"], {"purpose": "call"})]
    # A family member of the person: that number, audited against the family contact.
    with session_scope() as s:
        f = FamilyContact(person_id=warned["person_id"], name="张大明", relation="父亲", phone="13700001234")
        s.add(f)
        s.flush()
        fid = f.id
        stranger = FamilyContact(person_id=warned["other_person_id"], name="李某", relation="妻子",
                                 phone="13700005678")
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id
    r = api.post(f"/api/v1/warnings/{wid}/call", json={"family_contact_id": fid})
    assert r.json() == {"tel": "13700001234", "label": "父亲 张大明"}
    [entry] = _audit(db, "reveal", "family_contact", fid)
    assert entry.detail == {"warning": wid, "purpose": "call"} and entry.fields == ["phone"]
    # Someone else's family member, another station's warning, a role without full numbers, a bad body.
    assert api.post(f"/api/v1/warnings/{wid}/call", json={"family_contact_id": stranger_id}).status_code == 404
    assert api.post(f"/api/v1/warnings/{warned['other_id']}/call", json={}).status_code == 404
    assert api_as("wangge01").post(f"/api/v1/warnings/{wid}/call", json={}).status_code == 403
    _chinese_naming(api.post(f"/api/v1/warnings/{wid}/call", json={"family_contact_id": "父亲"}), "family_contact_id")
    assert _audit(db, "reveal", "family_contact", stranger_id) == []
    assert len(_audit(db, "reveal", "warning", wid)) == 1


# -- 通知 -------------------------------------------------------------------------------------------------------------

def test_marking_notifications_read_through_the_api(api_as, client_as, db):
    from fanzha.notify import service as notify
    from fanzha.notify.models import Notification

    with session_scope() as s:
        me = s.scalar(select(User.id).where(User.username == "ps02_quanzu"))
        other = s.scalar(select(User.id).where(User.username == "ps02_suozhang"))
        notify.notify(s, [me, other], "测试通知：新预警", outward=False)
        notify.notify(s, [me], "测试通知：超时提醒", outward=False)
    api = api_as("ps02_quanzu")
    assert api.get("/api/v1/notifications").json()["unread"] >= 2
    r = api.post("/api/v1/notifications/read")
    assert r.status_code == 200 and r.json() == {"unread": 0}
    assert api.get("/api/v1/notifications").json()["unread"] == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == me, Notification.read_at.is_(None))) == 0
    assert db.scalar(select(func.count()).select_from(Notification).where(  # only one's own bell
        Notification.user_id == other, Notification.title == "测试通知：新预警", Notification.read_at.is_(None))) == 1
    page = client_as("ps02_suozhang")
    assert page.post("/api/v1/notifications/read").status_code == 403  # cookie without the CSRF token


# -- 黑名单 -----------------------------------------------------------------------------------------------------------

def test_deleting_a_blocklist_entry_through_the_api(api_as, db):
    from fanzha.blocklist.models import BlocklistEntry

    with session_scope() as s:
        e = BlocklistEntry(kind="phone", value="13700009901", key="13700009901", source="测试")
        s.add(e)
        s.flush()
        entry_id = e.id
    assert api_as("ps01_suozhang").delete(f"/api/v1/blocklist/{entry_id}").status_code == 403
    api = api_as("yanpan")
    r = api.delete(f"/api/v1/blocklist/{entry_id}")
    assert r.status_code == 204 and r.content == b""
    db.expire_all()
    assert db.get(BlocklistEntry, entry_id) is None
    [entry] = _audit(db, "delete", "blocklist", entry_id)
    assert entry.username == "yanpan" and entry.detail == {"kind": "phone", "value": "13700009901"}
    assert api.get("/api/v1/lookup", params={"value": "13700009901"}).json()["listed"] is False
    gone = api.delete(f"/api/v1/blocklist/{entry_id}")
    assert gone.status_code == 404 and gone.json()["error"]["message"] == "黑名单条目不存在"
    assert api.delete("/api/v1/blocklist/0").status_code == 422


# -- 无诈社区 ---------------------------------------------------------------------------------------------------------

def test_recomputing_fraud_free_communities_through_the_api(api_as, db):
    from fanzha.prevention.models import FraudFreeStatus

    assert api_as("wangge01").post("/api/v1/prevention/fraud-free/recompute").status_code == 403
    r = api_as("ps01_suozhang").post("/api/v1/prevention/fraud-free/recompute")
    assert r.status_code == 200, r.text
    out = r.json()
    db.expire_all()
    communities = db.scalar(select(func.count()).select_from(Area).where(Area.level == Level.COMMUNITY))
    assert out["communities"] == communities == db.scalar(select(func.count()).select_from(FraudFreeStatus))
    assert out["fraud_free"] == db.scalar(select(func.count()).select_from(FraudFreeStatus)
                                          .where(FraudFreeStatus.fraud_free.is_(True)))
    entries = _audit(db, "update", "fraud_free", "")
    assert entries[-1].username == "ps01_suozhang" and entries[-1].detail == out
    again = api_as("ps01_suozhang").post("/api/v1/prevention/fraud-free/recompute").json()
    assert (again["gained"], again["lost"]) == (0, 0)  # nothing changed since


# -- 知识测试 ---------------------------------------------------------------------------------------------------------

def test_assigning_and_taking_a_knowledge_test_through_the_api(api_as, db):
    from fanzha.common.localtime import local_day
    from fanzha.db import utcnow
    from fanzha.prevention.models import Quiz, QuizAttempt
    from fanzha.prevention.quiz import service as quiz

    today = local_day(utcnow())
    office = api_as("lianxiban")
    title = f"劝阻员测试{next(_n)}"
    r = office.post("/api/v1/prevention/quizzes", json={
        "title": title, "roles": ["dissuader"], "fraud_types": ["brushing"], "opens_on": str(today),
        "closes_on": str(today + timedelta(days=7))})
    assert r.status_code == 201, r.text
    made = r.json()
    bank = quiz.staff_bank()
    codes = [c for c, q in bank.items() if q.fraud_type == "brushing"]
    assert made["questions"] == len(codes) >= 2 and made["roles"] == ["dissuader"] and made["open_now"] is True
    assert [i["code"] for i in made["items"]] == codes and all(i["answer"] is None for i in made["items"])
    [entry] = _audit(db, "create", "quiz", made["id"])
    assert entry.username == "lianxiban" and entry.detail == {"roles": ["dissuader"], "questions": len(codes)}

    taker = api_as("ps01_quanzu")
    listed = {q["id"]: q for q in taker.get("/api/v1/prevention/quizzes").json()}
    assert listed[made["id"]]["mine"] is None
    shown = taker.get(f"/api/v1/prevention/quizzes/{made['id']}").json()
    assert all(i["answer"] is None and i["explain"] is None for i in shown["items"])  # nothing given away
    assert shown["units"] == [] and shown["attempts"] == []
    # The first question right, the second wrong, the rest not answered: 1 of len(codes).
    first, second = bank[codes[0]], bank[codes[1]]
    answers = {first.code: first.answer, second.code: (second.answer + 1) % len(second.options)}
    done = taker.post(f"/api/v1/prevention/quizzes/{made['id']}", json={"answers": answers})
    assert done.status_code == 200, done.text
    out = done.json()
    assert (out["mine"]["score"], out["mine"]["total"]) == (1, len(codes))
    items = {i["code"]: i for i in out["items"]}
    assert items[first.code]["answer"] == first.answer and items[second.code]["chosen"] == answers[second.code]
    assert items[first.code]["explain"] == first.explain
    db.expire_all()
    attempt = db.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == made["id"]))
    assert (attempt.score, attempt.answers) == (1, answers)
    assert [e.detail for e in _audit(db, "create", "quiz_attempt", attempt.id)] == [{"quiz": made["id"], "score": 1}]
    again = taker.post(f"/api/v1/prevention/quizzes/{made['id']}", json={"answers": answers})
    assert again.status_code == 409 and again.json()["error"]["message"] == "您已提交过此测试"
    scores = office.get(f"/api/v1/prevention/quizzes/{made['id']}").json()
    assert [(a["name"], a["score"]) for a in scores["attempts"]] == [(attempt.user.display_name, 1)]

    # Roles without the right: a dissuader may not assign; a grid worker was not assigned this test.
    assert taker.post("/api/v1/prevention/quizzes", json={
        "title": "x", "roles": ["dissuader"], "opens_on": str(today), "closes_on": str(today)}).status_code == 403
    assert api_as("wangge01").get(f"/api/v1/prevention/quizzes/{made['id']}").status_code == 404
    # A test set at another station is not there for this station's dissuader.
    with session_scope() as s:
        ps02 = s.scalar(select(User.area_id).where(User.username == "ps02_quanzu"))
        theirs = Quiz(title="二所测试", area_id=ps02, roles=["dissuader"], questions=codes, opens_on=today,
                      closes_on=today + timedelta(days=7))
        s.add(theirs)
        s.flush()
        theirs_id = theirs.id
    assert taker.get(f"/api/v1/prevention/quizzes/{theirs_id}").status_code == 404
    assert taker.post(f"/api/v1/prevention/quizzes/{theirs_id}", json={"answers": {}}).status_code == 404
    assert api_as("ps02_quanzu").get(f"/api/v1/prevention/quizzes/{theirs_id}").status_code == 200
    # Bad bodies name the field.
    db.expire_all()
    before = db.scalar(select(func.count()).select_from(Quiz))
    _chinese_naming(office.post("/api/v1/prevention/quizzes", json={
        "title": "倒序", "roles": ["dissuader"], "opens_on": str(today), "closes_on": str(today - timedelta(days=1))}),
        "closes_on")
    _chinese_naming(office.post("/api/v1/prevention/quizzes", json={
        "title": "无角色", "roles": ["auditor"], "opens_on": str(today), "closes_on": str(today)}), "roles")
    _chinese_naming(office.post("/api/v1/prevention/quizzes", json={
        "roles": ["dissuader"], "opens_on": str(today), "closes_on": str(today)}), "title")
    _chinese_naming(taker.post(f"/api/v1/prevention/quizzes/{theirs_id}", json={"answers": {first.code: "甲"}}),
                    "answers")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Quiz)) == before


# -- 通报 -------------------------------------------------------------------------------------------------------------

def test_issuing_a_bulletin_through_the_api(app, api_as, db):
    from fanzha.reports.models import IssuedDocument

    yanpan = api_as("yanpan")
    r = yanpan.post("/api/v1/reports/bulletins", json={"period": "2019-11"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["period"] == "2019-11" and doc["kind"] == "monthly" and doc["edition"] == 0 and not doc["repeated"]
    assert doc["links"] == {"docx": f"/api/v1/reports/documents/{doc['id']}/docx",
                            "pdf": f"/api/v1/reports/documents/{doc['id']}/pdf"}
    assert yanpan.get(doc["links"]["docx"]).content[:2] == b"PK"
    assert yanpan.get(doc["links"]["pdf"]).content[:4] == b"%PDF"
    [entry] = _audit(db, "create", "document", doc["id"])
    assert entry.username == "yanpan" and entry.detail["number"] == doc["number"] and entry.detail["period"] == "2019-11"
    listed = yanpan.get("/api/v1/reports/documents", params={"year": doc["issued_on"][:4], "kind": "monthly"}).json()
    assert doc["id"] in [d["id"] for d in listed]
    # The same click again lands on it; another issuer is told it is out, and a revision needs its note.
    again = yanpan.post("/api/v1/reports/bulletins", json={"period": "2019-11"})
    assert again.status_code == 200 and again.json()["id"] == doc["id"] and again.json()["repeated"] is True
    admin = api_as("admin")
    out = admin.post("/api/v1/reports/bulletins", json={"period": "2019-11"})
    assert out.status_code == 409 and doc["number"] in out.json()["error"]["message"]
    _chinese_naming(admin.post("/api/v1/reports/bulletins", json={"period": "2019-11", "revision_note": "x" * 301}),
                    "revision_note")
    revised = admin.post("/api/v1/reports/bulletins", json={"period": "2019-11", "revision_note": "更正损失金额"})
    assert revised.status_code == 201 and revised.json()["edition"] == 1 and revised.json()["revises_id"] == doc["id"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(IssuedDocument).where(IssuedDocument.period == "2019-11")) == 2

    # Without the right to issue; an area outside a branch analyst's; bad periods.
    assert api_as("ps01_suozhang").post("/api/v1/reports/bulletins", json={"period": "2019-10"}).status_code == 403
    branches = list(db.scalars(select(Area).where(Area.level == Level.BRANCH).order_by(Area.code)))
    _user("twin_branch_analyst", Role.CENTRE_ANALYST, branches[0].id)
    other = db.scalar(select(Area).where(~Area.path.startswith(branches[0].path), Area.level == Level.STATION)
                      .order_by(Area.id))  # a station of another branch (other tests add branches without any)
    branch = _api(app, "twin_branch_analyst")
    assert branch.post("/api/v1/reports/bulletins", json={"period": "2019-10", "area_id": other.id}).status_code == 404
    _chinese_naming(yanpan.post("/api/v1/reports/bulletins", json={"period": "2019-13"}), "period")
    _chinese_naming(yanpan.post("/api/v1/reports/bulletins", json={"period": "二〇一九年"}), "period")
    _chinese_naming(yanpan.post("/api/v1/reports/bulletins", json={}), "period")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(IssuedDocument).where(IssuedDocument.period == "2019-10")) == 0


# -- 三告 -------------------------------------------------------------------------------------------------------------

def test_drafting_reviewing_and_issuing_a_notice_through_the_api(api_as, db):
    from fanzha.reports.service import local_today

    office = api_as("lianxiban")
    base = {"kind": "notice", "quarter": "2019-Q3"}
    draft = office.post("/api/v1/assess/letters", json={**base, "action": "draft"})
    assert draft.status_code == 200, draft.text
    d = draft.json()
    assert "2019年第3季度" in d["title"] and d["addressee"].startswith("各成员单位") and "[[table:unit]]" in d["body"]
    assert d["units"] == [] and d["issued_on"] == str(local_today())
    preview = office.post("/api/v1/assess/letters", json={**base, "action": "preview"})
    assert preview.status_code == 200 and preview.content[:4] == b"%PDF"
    assert preview.headers["content-type"] == "application/pdf"
    body = d["body"] + "\n请各单位对照检查。"
    _chinese_naming(office.post("/api/v1/assess/letters", json={**base, "body": body}), "action")  # never implied
    r = office.post("/api/v1/assess/letters", json={**base, "body": body, "action": "issue"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["number"] == d["number"] and doc["kind"] == "notice" and doc["title"] == d["title"]
    assert doc["links"] == {"docx": f"/api/v1/assess/letters/{doc['id']}/docx",
                            "pdf": f"/api/v1/assess/letters/{doc['id']}/pdf"}
    [entry] = _audit(db, "create", "document", doc["id"])
    assert entry.username == "lianxiban" and entry.detail == {"number": doc["number"], "kind": "notice"}
    assert office.get(doc["links"]["docx"]).content[:2] == b"PK"
    assert len(_audit(db, "view", "document", doc["id"])) == 1
    assert doc["id"] in [x["id"] for x in office.get("/api/v1/assess/letters?kind=notice").json()]
    # A member unit's liaison reads every 通告 too; a station has no part in 三告.
    assert api_as("danwei01").get(doc["links"]["pdf"]).content[:4] == b"%PDF"
    assert api_as("ps01_suozhang").post("/api/v1/assess/letters", json={**base, "action": "draft"}).status_code == 403
    assert api_as("ps01_suozhang").get("/api/v1/assess/letters").status_code == 403
    issue = {**base, "action": "issue"}
    _chinese_naming(office.post("/api/v1/assess/letters", json={**issue, "quarter": "2019-13"}), "quarter")
    _chinese_naming(office.post("/api/v1/assess/letters", json={**issue, "quarter": "2019"}), "quarter")
    _chinese_naming(office.post("/api/v1/assess/letters", json={**base, "action": "send"}), "action")
    _chinese_naming(office.post("/api/v1/assess/letters", json={"kind": "letter", "action": "draft"}), "case_id")
    empty = office.post("/api/v1/assess/letters", json={**issue, "body": "   "})
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "正文不能为空"


def test_a_letter_about_a_case_outside_ones_county_is_not_there(app, db):
    from fanzha.cases.models import Case

    counties = list(db.scalars(select(Area).where(Area.level == Level.COUNTY).order_by(Area.code)))
    _user("twin_county_office", Role.JOINT_OFFICE, counties[0].id)
    # any case outside that county (other tests add counties of their own, without cases)
    elsewhere = db.scalar(select(Case.id).join(Area, Case.community_id == Area.id)
                          .where(~Area.path.startswith(counties[0].path)).order_by(Case.id))
    assert elsewhere is not None
    api = _api(app, "twin_county_office")
    r = api.post("/api/v1/assess/letters", json={"kind": "letter", "case_id": elsewhere, "action": "draft"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "案件不存在或不在您的管辖范围内"
