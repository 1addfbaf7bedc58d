"""`POST /detect`: one text or up to 1,000, behind login (and CSRF for cookie sessions) like every other write."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fanzha.detect.api import router
from fanzha.web.deps import signed_in


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    app.include_router(router, prefix="/api/v1")
    app.dependency_overrides[signed_in] = lambda: object()
    with TestClient(app) as c:
        yield c


def test_route_requires_login():
    route = next(r for r in router.routes if r.path == "/detect")
    assert signed_in in {d.call for d in route.dependant.dependencies}


def test_one_text(client):
    r = client.post("/api/v1/detect", json={"text": "您好，我是公安局民警，您涉嫌洗钱，请把资金转到安全账户"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"]
    (v,) = body["results"]
    assert v["risk"] == "fraud" and v["fraud_type"] == "impersonate_authority"
    assert v["advice"] == "凡是自称公检法电话要求转账的不要相信。"
    assert any(x["rule"] == "safe_account" for x in v["reasons"])


def test_many_texts_keep_order(client):
    texts = ["晚上回家吃饭吗", "澳门娱乐城首充送彩金", "全场五折，回T退订"]
    r = client.post("/api/v1/detect", json={"texts": texts})
    assert r.status_code == 200, r.text
    assert [v["risk"] for v in r.json()["results"]] == ["normal", "illicit", "spam"]


def test_a_text_with_nothing_to_read_is_marked_not_judged(client):
    """Emoji or invisible characters alone come back as no_text (risk normal at P 0, as before, but marked), so a
    caller can tell "nothing to check" from an ordinary message."""
    r = client.post("/api/v1/detect", json={"texts": ["😀👍", "\u200b", "晚上回家吃饭吗😀"]})
    assert r.status_code == 200
    got = [(x["no_text"], x["risk"], x["fraud_prob"]) for x in r.json()["results"]]
    assert got[:2] == [(True, "normal", 0.0), (True, "normal", 0.0)] and got[2][:2] == (False, "normal")
    assert "没有可检查的文字" in r.json()["results"][0]["advice"]


@pytest.mark.parametrize("body", [
    {},
    {"text": "a", "texts": ["b"]},
    {"texts": ["x"] * 1001},
    {"text": "长" * 100_001},
    {"text": "你好", "extra": 1},
])
def test_bad_requests_are_refused(client, body):
    assert client.post("/api/v1/detect", json=body).status_code == 422
