"""Login back-off (登录限速) as a station meets it: wrong passwords make the next attempt wait longer, guesses made at
the same moment are all counted, a stranger cannot keep the admin out, an unknown user looks like a known one, an
admin lifts the hold, and the client address comes from the trusted proxy only.

The clock the login service reads is frozen (`clock`), so no assertion depends on how fast the machine is. Every
test starts and ends with no counters in the database.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fanzha.auth import backoff, throttle
from fanzha.auth.models import Throttle
from fanzha.common.errors import TooManyRequests, Unauthorized
from fanzha.db import session_scope, utcnow
from fanzha.org.models import Area, User
from fanzha.trail.models import AuditEntry
from support.db import pg_available, pg_create, pg_drop
from support.web import csrf_of, login

PASSWORD = "Zhang2026x"


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    import fanzha.auth.service
    import fanzha.auth.users_views

    frozen = Clock()
    monkeypatch.setattr(fanzha.auth.service, "utcnow", frozen)
    monkeypatch.setattr(fanzha.auth.users_views, "utcnow", frozen)
    return frozen


@pytest.fixture(autouse=True)
def no_counters(database):
    with session_scope() as s:
        s.execute(delete(Throttle))
    yield
    with session_scope() as s:
        s.execute(delete(Throttle))


def _officer(username: str, *, active: bool = True) -> int:
    """A station officer of ps01 with PASSWORD (made once per worker database)."""
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            station = s.scalar(select(User).where(User.username == "ps01_minjing")).area_id
            user = users.create_user(s, Scope.system(s), UserIn(username=username, display_name="张某",
                                                                   password=PASSWORD, role="station_officer",
                                                                   area_id=station))
        user.is_active = active
        return user.id


def _browser(app, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def _alert(response) -> str:
    found = re.search(r'<p class="alert" role="alert">([^<]*)</p>', response.text)
    return found.group(1) if found else ""


def _count(bucket: str, key: str) -> int:
    with session_scope() as s:
        row = throttle.find(s, bucket, key)
        return row.count if row else 0


@pytest.fixture
def verifications(monkeypatch):
    """The password hashes the login service checks, in order (argon2 work is counted, not timed)."""
    import fanzha.auth.service as service

    checked: list[str] = []
    real = service.verify_password

    def counted(password_hash, password):
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counted)
    return checked


# -- the same answer for every account -------------------------------------------------------------------------

def test_unknown_user_wrong_password_and_a_deactivated_account_get_the_same_answer(app, clock):
    _officer("thr_known")
    _officer("thr_gone", active=False)
    answers = set()
    for n, username in enumerate(["thr_known", "thr_nobody", "thr_gone"]):
        r = login(_browser(app, f"192.0.2.{n + 1}"), username, "wrong-pass-1")
        answers.add((r.status_code, _alert(r)))
        r = _browser(app, f"192.0.2.{n + 11}").post("/api/v1/auth/token",
                                                      json={"username": username, "password": "wrong-pass-1"})
        answers.add((r.status_code, r.json()["error"]["message"]))
    assert answers == {(401, "用户名或密码错误")}


def test_an_unknown_user_costs_the_same_argon2_check_as_a_known_one(app, clock, verifications):
    from fanzha.auth import service
    from fanzha.auth.passwords import needs_rehash

    _officer("thr_known")
    user_hash = _stored_hash("thr_known")
    for username in ("thr_known", "thr_nobody"):
        with session_scope() as s, pytest.raises(Unauthorized):
            service.login(s, username, "wrong-pass-1", ip="192.0.2.40")
    assert len(verifications) == 2 and verifications[0] == user_hash
    dummy = verifications[1]
    assert dummy == service._DUMMY_HASH and dummy.startswith("$argon2id$") and not needs_rehash(dummy)
    assert _params(dummy) == _params(user_hash)  # the same memory and time costs as a real account's hash


def _stored_hash(username: str) -> str:
    with session_scope() as s:
        return s.scalar(select(User.password_hash).where(User.username == username))


def _params(argon2_hash: str) -> str:
    return argon2_hash.split("$")[3]  # m=…,t=…,p=…


def test_a_held_attempt_gets_the_same_answer_for_a_known_and_an_unknown_user(app, clock):
    _officer("thr_known")
    answers = []
    for n, username in enumerate(["thr_known", "thr_nobody"]):
        browser = _browser(app, f"192.0.2.{50 + n}")
        for _ in range(5):
            assert login(browser, username, "wrong-pass-1").status_code == 401
        r = login(browser, username, PASSWORD)
        answers.append((r.status_code, _alert(r), r.headers.get("retry-after")))
    assert answers[0] == answers[1] == (429, "尝试过于频繁，请2秒后再试", "2")


# -- waiting, not locking --------------------------------------------------------------------------------------

def test_after_five_failures_each_attempt_waits_longer_and_is_refused_unchecked(app, clock, verifications):
    _officer("thr_wait")
    browser = _browser(app, "192.0.2.60")
    for _ in range(5):
        assert login(browser, "thr_wait", "wrong-pass-1").status_code == 401
    assert len(verifications) == 5
    waits = []
    for _ in range(5):  # 16 attempts in all from this address, below its own limit of 20
        r = login(browser, "thr_wait", PASSWORD)  # too early: refused whatever the password
        assert r.status_code == 429
        waits.append(int(r.headers["retry-after"]))
        clock.advance(waits[-1])
        assert login(browser, "thr_wait", "wrong-pass-1").status_code == 401  # on time: checked (and wrong)
    assert len(verifications) == 5 + 5  # the refused attempts cost no argon2 check
    # The delay doubles per attempt counted, refused ones included: here fourfold per round, up to the cap.
    assert waits == [2, 8, 32, 128, 300]
    r = login(browser, "thr_wait", PASSWORD)
    assert r.status_code == 429 and _alert(r) == "尝试过于频繁，请5分钟后再试"
    clock.advance(300)
    assert login(browser, "thr_wait", PASSWORD).status_code == 303  # no lock: the right password, on time, works
    assert _count(backoff.ACCOUNT, "thr_wait") == 0 and _count(backoff.ACCOUNT_ADDRESS, "thr_wait|192.0.2.60") == 0


def test_delays_double_from_the_first_and_stop_at_the_cap():
    assert [backoff.delay(n, 5).total_seconds() for n in range(1, 14)] == \
        [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert backoff.delay(10_000, 5).total_seconds() == 300


def test_refused_and_failed_attempts_are_audited_with_their_reason_never_the_password(app, clock, db):
    _officer("thr_audit")
    browser = _browser(app, "192.0.2.70")
    for _ in range(6):
        login(browser, "thr_audit", "secret-guess-77")
    db.expire_all()
    entries = db.scalars(select(AuditEntry).where(AuditEntry.username == "thr_audit",
                                                  AuditEntry.action == "login_failed").order_by(AuditEntry.id)).all()
    assert [e.detail["reason"] for e in entries] == ["bad_password"] * 5 + ["throttled"]
    assert entries[-1].detail["wait"] == 2 and entries[-1].ip == "192.0.2.70"
    assert not any("secret-guess-77" in str(e.detail) for e in entries)


# -- a stranger cannot keep the admin out ----------------------------------------------------------------------

def test_a_strangers_guesses_do_not_keep_the_admin_out_of_their_usual_browser(app, clock):
    admin_browser = _browser(app, "10.20.1.5")
    assert login(admin_browser, "admin").status_code == 303  # the admin's usual browser: it gets a device cookie
    assert admin_browser.cookies.get("fanzha_device")

    stranger = _browser(app, "203.0.113.66")
    answers = {login(stranger, "admin", f"guess-{n}").status_code for n in range(50)}
    assert answers == {401, 429}
    # The stranger's own counters took the weight: their address stopped 30 guesses, the account at their address
    # 15 more, and only the first five reached the account's counter.
    assert _count(backoff.ADDRESS, "203.0.113.66") == 50
    assert _count(backoff.ACCOUNT_ADDRESS, "admin|203.0.113.66") == 20
    assert _count(backoff.ACCOUNT, "admin") == 5
    # 50 more from 50 addresses (a botnet) hold the account for browsers it never logged in from ...
    for n in range(50):
        login(_browser(app, f"198.51.100.{n + 1}"), "admin", f"guess-{n}")
    assert login(_browser(app, "10.20.1.99"), "admin").status_code == 429
    # ... but not the admin's usual browser.
    admin_browser.cookies.delete("fanzha_session")
    assert login(admin_browser, "admin").status_code == 303


def test_a_trusted_browser_is_held_by_its_own_failures(app, clock):
    _officer("thr_device")
    browser = _browser(app, "10.20.1.6")
    assert login(browser, "thr_device", PASSWORD).status_code == 303
    for _ in range(5):
        assert login(browser, "thr_device", "wrong-pass-1").status_code == 401
    assert login(browser, "thr_device", PASSWORD).status_code == 429
    assert _count(backoff.ACCOUNT, "thr_device") == 0  # the account's counter for other browsers never moved
    assert login(_browser(app, "10.20.1.7"), "thr_device", PASSWORD).status_code == 303


def test_a_device_cookie_is_worth_nothing_for_another_account_or_altered():
    cookie = backoff.device_cookie("", "ps01_minjing")
    device = cookie.split(".")[0]
    assert backoff.trusted_device(cookie, "ps01_minjing") == device
    assert backoff.trusted_device(cookie, "admin") == ""
    assert backoff.trusted_device(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), "ps01_minjing") == ""
    assert backoff.trusted_device("not-a-cookie", "ps01_minjing") == ""
    shared = cookie
    for n in range(12):  # a shared station PC keeps the last eight accounts, one browser id
        shared = backoff.device_cookie(shared, f"ps01_user{n}")
    assert shared.split(".")[0] == device
    assert [backoff.trusted_device(shared, f"ps01_user{n}") == device for n in range(12)] == [False] * 4 + [True] * 8


# -- an admin lifts the hold -----------------------------------------------------------------------------------

def _hold(app, username: str, address: str) -> None:
    browser = _browser(app, address)
    for _ in range(6):
        login(browser, username, "wrong-pass-1")
    assert login(browser, username, PASSWORD).status_code == 429


def test_an_admin_sees_the_hold_and_lifts_it_on_the_user_page(app, clock, client_as, db):
    user_id = _officer("thr_unlock")
    _hold(app, "thr_unlock", "192.0.2.80")
    page = client_as("admin")
    assert "登录受限" in page.get("/admin/users", params={"q": "thr_unlock"}).text
    detail = page.get(f"/admin/users/{user_id}")
    assert "登录受限" in detail.text and 'name="unlock"' in detail.text
    area = db.scalar(select(User.area_id).where(User.id == user_id))
    r = page.post(f"/admin/users/{user_id}", data={"csrf_token": csrf_of(page), "display_name": "张某",
                                                   "role": "station_officer", "area_id": str(area),
                                                   "is_active": "on", "unlock": "on"}, follow_redirects=False)
    assert r.status_code == 303
    assert "登录受限" not in page.get(f"/admin/users/{user_id}").text
    assert login(_browser(app, "192.0.2.80"), "thr_unlock", PASSWORD).status_code == 303
    db.expire_all()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "user",
                                               AuditEntry.entity_id == str(user_id)).order_by(AuditEntry.id.desc()))
    assert entry.username == "admin" and "unlock" in entry.detail["changed"]


def test_an_admin_lifts_the_hold_through_the_api(app, clock, api_as):
    user_id = _officer("thr_unlock_api")
    _hold(app, "thr_unlock_api", "192.0.2.81")
    assert _count(backoff.ACCOUNT_ADDRESS, "thr_unlock_api|192.0.2.81") == 7
    r = api_as("admin").patch(f"/api/v1/users/{user_id}", json={"unlock": True})
    assert r.status_code == 200 and "locked_until" not in r.json()
    assert _count(backoff.ACCOUNT_ADDRESS, "thr_unlock_api|192.0.2.81") == 0
    assert _count(backoff.ACCOUNT, "thr_unlock_api") == 0
    assert _count(backoff.ADDRESS, "192.0.2.81") == 7  # the address keeps its failures


# -- the client address ----------------------------------------------------------------------------------------

def _address(peer: str, forwarded: list[str]) -> str:
    from starlette.requests import Request

    from fanzha.web.deps import client_ip

    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return client_ip(Request({"type": "http", "client": (peer, 1234), "headers": headers}))


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(monkeypatch):
    from fanzha.config import get_settings

    monkeypatch.setattr(get_settings(), "trusted_proxies", "")
    assert _address("203.0.113.9", ["10.9.9.9"]) == "203.0.113.9"  # nobody trusted: the header is ignored
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.5, 10.1.0.0/16")
    assert _address("203.0.113.9", ["10.9.9.9"]) == "203.0.113.9"  # not from the proxy: ignored
    assert _address("10.0.0.5", ["198.51.100.7"]) == "198.51.100.7"
    # The right-most address that is not a trusted proxy; what the client wrote left of it does not count.
    assert _address("10.0.0.5", ["1.2.3.4, 198.51.100.7, 10.1.2.3"]) == "198.51.100.7"
    assert _address("10.0.0.5", ["1.2.3.4", "198.51.100.7, 10.1.2.3"]) == "198.51.100.7"
    assert _address("10.0.0.5", ["junk, 10.1.2.3"]) == "10.1.2.3"  # stops at what is not an address
    assert _address("10.0.0.5", []) == "10.0.0.5"
    assert _address("10.0.0.5", ["2001:DB8::1"]) == "2001:db8::1"


def test_logins_are_counted_and_audited_by_the_address_the_proxy_saw(app, clock, monkeypatch, db):
    from fanzha.config import get_settings

    _officer("thr_proxy")
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.5")
    proxy = _browser(app, "10.0.0.5")
    proxy.headers["X-Forwarded-For"] = "6.6.6.6, 198.51.100.23"
    assert login(proxy, "thr_proxy", "wrong-pass-1").status_code == 401
    assert _count(backoff.ADDRESS, "198.51.100.23") == 1 and _count(backoff.ADDRESS, "10.0.0.5") == 0
    monkeypatch.setattr(get_settings(), "trusted_proxies", "")
    assert login(proxy, "thr_proxy", "wrong-pass-1").status_code == 401
    assert _count(backoff.ADDRESS, "10.0.0.5") == 1 and _count(backoff.ADDRESS, "6.6.6.6") == 0
    db.expire_all()
    ips = db.scalars(select(AuditEntry.ip).where(AuditEntry.username == "thr_proxy").order_by(AuditEntry.id)).all()
    assert ips[-2:] == ["198.51.100.23", "10.0.0.5"]


def test_the_platform_server_leaves_forwarded_headers_to_the_platform(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from fanzha.cli.main import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert calls[0]["proxy_headers"] is False
    refused = CliRunner().invoke(cli, ["serve", "--forwarded-allow-ips", "10.0.0.5"])
    assert refused.exit_code == 2 and "FANZHA_TRUSTED_PROXIES" in refused.output and len(calls) == 1


# -- guesses at the same moment, on a fresh database of each kind ----------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def race_db(request, tmp_path_factory):
    """An engine on a fresh, migrated database with one station officer (thr_race_a, thr_race_b)."""
    from fanzha.auth.passwords import hash_password
    from fanzha.db import make_engine
    from fanzha.migrate import upgrade

    name = f"fanzha_login_race_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    if request.param == "postgres":
        if not pg_available():
            pytest.skip("PostgreSQL 不可用：登录并发测试需要 PostgreSQL（FANZHA_TEST_POSTGRES_URL）")
        url = pg_create(name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
    engine = None
    try:
        upgrade(url=url)
        engine = make_engine(url)
        with Session(engine) as s:
            station = Area(chain="police", level="station", name="城关派出所", code="RACE-PS01", path="")
            s.add(station)
            s.flush()
            s.add_all([User(username=u, display_name="张某", password_hash=hash_password(PASSWORD),
                            role="station_officer", area_id=station.id) for u in ("thr_race_a", "thr_race_b")])
            s.commit()
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        if request.param == "postgres":
            pg_drop(name)


def _at_once(engine, count: int, work) -> None:
    """Runs work(i, session) in `count` threads, each with its own session and connection, all released at once."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    barrier = threading.Barrier(count, timeout=60)

    def one(i: int) -> None:
        with factory() as session:
            session.connection()  # its own connection, taken before the start signal
            barrier.wait()
            work(i, session)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def _race(engine, attempts: list[tuple[str, str, str]]) -> list[str]:
    """service.login for each (username, password, address) at the same moment: "in", "wrong" or "wait" each."""
    from fanzha.auth import service

    outcomes = ["not run"] * len(attempts)

    def attempt(i: int, session: Session) -> None:
        username, password, address = attempts[i]
        try:
            service.login(session, username, password, ip=address)
            outcomes[i] = "in"
        except Unauthorized:
            outcomes[i] = "wrong"
        except TooManyRequests:
            outcomes[i] = "wait"
        except Exception as exc:  # noqa: BLE001  (reported by the caller's assertion, not swallowed)
            session.rollback()
            outcomes[i] = f"error: {exc!r}"
            return
        session.commit()

    _at_once(engine, len(attempts), attempt)
    return outcomes


def _counted(engine, bucket: str, key: str) -> int:
    with Session(engine) as s:
        return s.scalar(select(Throttle.count).where(Throttle.bucket == bucket, Throttle.key == key)) or 0


def test_twenty_simultaneous_wrong_guesses_are_all_counted(race_db, clock, verifications):
    # From 20 addresses at once: the account's counter holds all 20, five were checked, fifteen refused unchecked.
    outcomes = _race(race_db, [("thr_race_a", f"guess-{n}", f"198.51.100.{n + 1}") for n in range(20)])
    assert sorted(outcomes) == ["wait"] * 15 + ["wrong"] * 5, outcomes
    assert _counted(race_db, backoff.ACCOUNT, "thr_race_a") == 20 and len(verifications) == 5
    assert _race(race_db, [("thr_race_a", PASSWORD, "198.51.100.99")]) == ["wait"]
    clock.advance(2)
    assert _race(race_db, [("thr_race_a", PASSWORD, "198.51.100.99")]) == ["in"]


def test_three_waves_of_twenty_from_one_address_do_not_get_in(race_db, clock, verifications):
    for _ in range(3):
        outcomes = _race(race_db, [("thr_race_b", f"guess-{n}", "203.0.113.77") for n in range(20)])
        assert "in" not in outcomes and not [o for o in outcomes if o.startswith(("error", "not run"))], outcomes
    assert len(verifications) == 5
    assert _counted(race_db, backoff.ACCOUNT_ADDRESS, "thr_race_b|203.0.113.77") == 20  # the rest stopped before it
    assert _counted(race_db, backoff.ADDRESS, "203.0.113.77") == 60
    assert _race(race_db, [("thr_race_b", PASSWORD, "203.0.113.77")]) == ["wait"]


def test_a_counter_counts_every_one_of_twenty_simultaneous_hits(race_db):
    counts: list[int] = []

    def one(_i: int, session: Session) -> None:
        counts.append(throttle.hit(session, "lookup", "42", window=timedelta(days=1)))
        session.commit()

    _at_once(race_db, 20, one)
    assert sorted(counts) == list(range(1, 21))
    with Session(race_db) as session:
        assert throttle.hit(session, "lookup", "42", window=timedelta(days=1)) == 21
        assert throttle.hit(session, "lookup", "42", window=timedelta(days=1), now=utcnow() + timedelta(days=2)) == 1
        assert throttle.clear(session, "lookup", "42") == 1 and throttle.find(session, "lookup", "42") is None
        session.commit()


def test_old_counters_are_purged_and_held_ones_kept(race_db):
    with Session(race_db) as s:
        now = utcnow()
        throttle.hit(s, backoff.ACCOUNT, "thr_old", window=timedelta(hours=1), now=now - timedelta(hours=3))
        throttle.hit(s, backoff.ACCOUNT, "thr_held", window=timedelta(hours=1), now=now - timedelta(hours=3))
        throttle.hold(s, backoff.ACCOUNT, "thr_held", until=now + timedelta(minutes=1), now=now - timedelta(hours=3))
        throttle.hit(s, backoff.ACCOUNT, "thr_new", window=timedelta(hours=1), now=now)
        assert backoff.purge(s, now=now) >= 1
        left = set(s.scalars(select(Throttle.key).where(Throttle.bucket == backoff.ACCOUNT)))
        assert {"thr_held", "thr_new"} <= left and "thr_old" not in left
        s.rollback()
