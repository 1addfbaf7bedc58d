"""The checker's route trusts a token verified in the database within the last `ttl` seconds (auth.RECENT), and
nothing longer: a revocation, a deactivation or a logout made through this process ends it at once, expiry is
checked on every request, a change made elsewhere is seen after the ttl, and cookie sessions still need CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from fanzha.auth import service as auth
from fanzha.auth.models import AuthSession
from fanzha.db import session_scope, utcnow
from fanzha.org.models import User
from support.web import DEMO_PASSWORD, csrf_of, make_client

SCAM = {"text": "兼职刷单，日结三百，先垫付后返佣金，加微信 jz_2048a 领任务"}


@pytest.fixture
def recent(monkeypatch):
    monkeypatch.setattr(auth.RECENT, "ttl", 3600.0)  # only this process's commits may end a held token
    auth.RECENT.clear()
    yield auth.RECENT
    auth.RECENT.clear()


def _token(api) -> str:
    return api.headers["Authorization"].split(" ", 1)[1]


def test_revoking_the_token_ends_it_at_once(api_as, recent):
    api = api_as("yanpan")
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200
    assert recent.get("api", _token(api)) is not None  # held
    assert api.delete("/api/v1/auth/token").status_code == 204
    assert recent.get("api", _token(api)) is None
    r = api.post("/api/v1/detect", json=SCAM)
    assert r.status_code == 401 and r.json()["error"]["code"] == "login_required"


def test_deactivating_the_user_ends_held_tokens(api_as, recent):
    api = api_as("ps01_quanzu")
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200
    with session_scope() as s:
        s.scalar(select(User).where(User.username == "ps01_quanzu")).is_active = False
    try:
        assert api.post("/api/v1/detect", json=SCAM).status_code == 401
    finally:
        with session_scope() as s:
            s.scalar(select(User).where(User.username == "ps01_quanzu")).is_active = True


def test_a_change_made_elsewhere_is_seen_after_the_ttl(api_as, recent, monkeypatch):
    api = api_as("yanpan")
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200
    digest = auth._token_hash(_token(api))
    with session_scope() as s:  # as another process would: no ORM object of this process changes
        s.execute(text("UPDATE auth_sessions SET revoked_at = :now WHERE token_hash = :h"),
                  {"now": utcnow(), "h": digest})
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200  # still within the ttl
    monkeypatch.setattr(recent, "ttl", 0.0)
    assert api.post("/api/v1/detect", json=SCAM).status_code == 401


def test_expiry_is_checked_on_every_request(api_as, recent, monkeypatch):
    api = api_as("yanpan")
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200
    with session_scope() as s:
        expires = s.scalar(select(AuthSession.expires_at).where(
            AuthSession.token_hash == auth._token_hash(_token(api))))
    monkeypatch.setattr(auth, "utcnow", lambda: expires + timedelta(seconds=1))
    assert recent.get("api", _token(api)) is None
    assert api.post("/api/v1/detect", json=SCAM).status_code == 401


def test_bad_tokens_are_refused_and_not_held(app, recent):
    client = make_client(app)
    r = client.post("/api/v1/detect", json=SCAM, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert recent.get("api", "not-a-token") is None
    assert client.post("/api/v1/detect", json=SCAM).status_code == 401  # no token, no cookie


def test_cookie_sessions_need_the_csrf_token(client_as, recent):
    web = client_as("yanpan")
    assert web.post("/api/v1/detect", json=SCAM).status_code == 403
    csrf = csrf_of(web)
    assert web.post("/api/v1/detect", json=SCAM, headers={"X-CSRF-Token": "x" + csrf}).status_code == 403
    r = web.post("/api/v1/detect", json=SCAM, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["results"][0]["risk"] == "fraud"


def test_requests_that_find_the_token_due_share_one_look_up(api_as, recent, monkeypatch):
    import asyncio

    from fanzha.web import deps

    api = api_as("yanpan")
    token = _token(api)
    calls: list[str] = []
    real = deps._verify

    def counted(token, kind):
        calls.append(kind)
        return real(token, kind)

    monkeypatch.setattr(deps, "_verify", counted)

    async def many():
        return await asyncio.gather(*(deps._verify_once(token, "api") for _ in range(20)),
                                    deps._verify_once("not-a-token", "api"))

    *found, bad = asyncio.run(many())
    assert len(calls) == 2  # one look-up for the 20 requests with the same token, one for the other token
    assert all(f is not None and f.username == "yanpan" for f in found) and bad is None


def test_logins_and_wrong_passwords_do_not_empty_the_held_tokens(app, api_as, recent):
    api = api_as("yanpan")
    assert api.post("/api/v1/detect", json=SCAM).status_code == 200
    other = make_client(app)
    assert other.post("/api/v1/auth/token", json={"username": "yanpan", "password": "wrong-1"}).status_code == 401
    assert other.post("/api/v1/auth/token", json={"username": "yanpan", "password": DEMO_PASSWORD}).status_code == 200
    assert recent.get("api", _token(api)) is not None  # a wrong password changes no user, a login only last_login_at
