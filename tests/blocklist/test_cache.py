"""The checker reads the blocklist from memory: emptied when an approval, import or removal commits in this process,
re-checked against the table at most every `ttl` seconds for changes made by other processes; a detect request
costs one query (the bearer token) and writes nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from fanzha.blocklist import service
from fanzha.blocklist.models import BlocklistEntry
from fanzha.db import get_engine, session_scope
from fanzha.org.scope import Scope

PHONE_A, PHONE_B, PHONE_C = "16612340001", "16612340002", "16612340003"


def _says_listed(api, phone: str) -> bool:
    r = api.post("/api/v1/detect", json={"text": f"明天上午十点到小区门口取快递，有事打 {phone}"})
    assert r.status_code == 200, r.text
    return any(x["rule"] == "blocklist" for x in r.json()["results"][0]["reasons"])


def _add(phone: str) -> None:
    with session_scope() as s:
        assert service._add_entry(s, Scope.system(s), "phone", phone, phone, "测试")


def _remove(phone: str) -> None:
    with session_scope() as s:
        entry = s.scalar(select(BlocklistEntry).where(BlocklistEntry.key == phone))
        service.remove(s, Scope.system(s), entry.id)


@contextmanager
def _statements():
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def cache(monkeypatch):
    monkeypatch.setattr(service.CACHE, "ttl", 3600.0)  # only commits in this process refresh it during a test
    service.CACHE.invalidate()
    yield service.CACHE
    service.CACHE.invalidate()


def test_approval_import_and_removal_reach_the_checker_at_once(api_as, cache):
    api = api_as("yanpan")
    assert not _says_listed(api, PHONE_A)
    loads = cache.loads
    assert not _says_listed(api, PHONE_A)
    assert cache.loads == loads  # held in memory: not read again

    _add(PHONE_A)  # as an approval or an import row does
    assert _says_listed(api, PHONE_A)
    assert cache.loads == loads + 1
    _remove(PHONE_A)
    assert not _says_listed(api, PHONE_A)


def test_a_rolled_back_change_is_not_listed(api_as, cache):
    api = api_as("yanpan")
    assert not _says_listed(api, PHONE_B)
    with pytest.raises(RuntimeError), session_scope() as s:
        service._add_entry(s, Scope.system(s), "phone", PHONE_B, PHONE_B, "测试")
        s.flush()
        raise RuntimeError("import failed")
    assert not _says_listed(api, PHONE_B)


def test_changes_by_another_process_are_seen_after_the_ttl(api_as, cache, monkeypatch):
    api = api_as("yanpan")
    assert not _says_listed(api, PHONE_C)
    with get_engine().begin() as conn:  # another process: no commit hook of ours runs
        conn.execute(text("INSERT INTO blocklist (kind, value, key, source, approved_at) "
                          "VALUES ('phone', :v, :v, '其他进程', CURRENT_TIMESTAMP)"), {"v": PHONE_C})
    try:
        assert not _says_listed(api, PHONE_C)  # within the ttl the memory copy answers
        monkeypatch.setattr(cache, "ttl", 0.0)
        assert _says_listed(api, PHONE_C)  # past it, the (count, max id, latest approval) check sees the change
        loads = cache.loads
        assert _says_listed(api, PHONE_C) and cache.loads == loads  # unchanged table: checked, not reloaded
    finally:
        with get_engine().begin() as conn:
            conn.execute(text("DELETE FROM blocklist WHERE key = :v"), {"v": PHONE_C})


def test_a_list_too_long_to_hold_is_queried_per_check(api_as, cache, monkeypatch):
    api = api_as("yanpan")
    monkeypatch.setattr(cache, "max_keys", 0)
    _add(PHONE_A)
    try:
        with _statements() as seen:
            assert _says_listed(api, PHONE_A)
        assert any("FROM blocklist" in s and "IN" in s.upper() for s in seen)
        assert cache._keys is None  # nothing held
    finally:
        _remove(PHONE_A)


def test_a_detect_request_reads_the_token_at_most_and_nothing_else(api_as, cache, monkeypatch):
    from fanzha.auth import service as auth

    api = api_as("yanpan")
    _says_listed(api, PHONE_A)  # loads the model and the blocklist
    monkeypatch.setattr(auth.RECENT, "ttl", 0.0)  # every request verifies its token in the database
    with _statements() as seen:
        _says_listed(api, PHONE_A)
        api.post("/api/v1/detect", json={"texts": ["加微信 jz_2048a 领任务", "晚上回家吃饭吗"]})
    queries = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]
    assert len(queries) == 2 and all("auth_sessions" in q for q in queries), queries
    monkeypatch.setattr(auth.RECENT, "ttl", 3600.0)  # verified within the ttl: no query at all
    _says_listed(api, PHONE_A)
    with _statements() as seen:
        _says_listed(api, PHONE_A)
    assert not [s for s in seen if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))], seen
