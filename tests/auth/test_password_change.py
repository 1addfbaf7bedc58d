"""修改密码 as people use it: the browser that changes it stays signed in, every other browser and API token of the
user is signed out; an admin's reset signs out all of them; guessing the old password from an open session is
throttled like the login."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from fanzha.auth.models import Throttle
from fanzha.db import session_scope
from fanzha.org.models import User
from support.forms import default_values, parse
from support.web import login, make_client

PASSWORD = "Jiangzhou#2026a"


def _user(username: str) -> int:
    """A station officer of ps01 with PASSWORD, its counters cleared (made once per worker database)."""
    from fanzha.auth import users
    from fanzha.auth.passwords import hash_password
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            station = s.scalar(select(User).where(User.username == "ps01_minjing")).area_id
            user = users.create_user(s, Scope.system(s), UserIn(
                username=username, display_name="王某", password=PASSWORD, role="station_officer", area_id=station))
        user.password_hash = hash_password(PASSWORD)
        s.execute(delete(Throttle))
        return user.id


def _signed_in(app, username: str, password: str = PASSWORD):
    client = make_client(app)
    assert login(client, username, password).status_code == 303
    return client


def _form(client) -> dict:
    page = client.get("/account/password")
    return next(f for f in parse(page.text).forms if f["method"] == "post" and "old_password" in dict(f["fields"]))


def _change(client, old: str, new: str):
    data = {k: v for k, v in default_values(_form(client))}
    data.update(old_password=old, new_password=new)
    return client.post("/account/password", data=data)


def test_a_changed_password_signs_out_the_other_browser_and_the_token(app):
    _user("pw_change1")
    here, there = _signed_in(app, "pw_change1"), _signed_in(app, "pw_change1")
    token = make_client(app).post("/api/v1/auth/token", json={"username": "pw_change1", "password": PASSWORD})
    api = make_client(app)
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    assert there.get("/warnings", follow_redirects=False).status_code == 200
    assert api.get("/api/v1/me").status_code == 200

    done = _change(here, PASSWORD, "Xinmima#2027b")
    assert done.status_code == 200 and "密码已修改" in done.text
    assert "已退出您在其他浏览器或设备上的 2 处登录" in done.text
    assert here.get("/warnings", follow_redirects=False).status_code == 200  # this browser stays
    gone = there.get("/warnings", follow_redirects=False)
    assert gone.status_code in (302, 303) and "/login" in gone.headers["location"]
    assert api.get("/api/v1/me").status_code == 401
    assert login(make_client(app), "pw_change1", PASSWORD).status_code == 401  # the old password is gone
    assert login(make_client(app), "pw_change1", "Xinmima#2027b").status_code == 303
    with session_scope() as s:
        from fanzha.trail.models import AuditEntry

        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "user")
                         .order_by(AuditEntry.id.desc()).limit(1))
        assert entry.detail == {"changed": ["password"], "sessions_ended": 2}


def test_an_admins_reset_signs_out_every_session(app, client_as):
    user_id = _user("pw_change2")
    theirs = _signed_in(app, "pw_change2")
    admin = client_as("admin")
    page = admin.get(f"/admin/users/{user_id}")
    form = next(f for f in parse(page.text).forms if f["method"] == "post" and "password" in f["inputs"])
    data = dict(default_values(form))
    data["password"] = "Chongzhi#2027c"
    r = admin.post(form["action"] or f"/admin/users/{user_id}", data=data, follow_redirects=False)
    assert r.status_code in (200, 303), r.text
    gone = theirs.get("/warnings", follow_redirects=False)
    assert gone.status_code in (302, 303) and "/login" in gone.headers["location"]


def test_guessing_the_old_password_is_throttled_like_the_login(app):
    from fanzha.config import get_settings

    _user("pw_change3")
    client = _signed_in(app, "pw_change3")
    free = get_settings().login_free_attempts
    for _ in range(free):
        wrong = _change(client, "guess-1234a", "Xinmima#2027d")
        assert wrong.status_code == 422 and "原密码不正确" in wrong.text
    held = _change(client, PASSWORD, "Xinmima#2027d")  # even the right one waits now
    assert held.status_code == 429 and "尝试过于频繁" in held.text and int(held.headers["retry-after"]) >= 1
    assert login(make_client(app), "pw_change3", PASSWORD).status_code == 303  # the password did not change
    assert re.search(r'name="old_password"', client.get("/account/password").text)
