"""The web side of the tests: the demo county's password and seed, a test client, logging in and the CSRF token."""

from __future__ import annotations

import re

DEMO_PASSWORD = "Fanzha@2026"
DEMO_SEED = 7


def make_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


def login(client, username: str, password: str = DEMO_PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                           "next": "/"}, follow_redirects=False)
    return response


def csrf_of(client) -> str:
    page = client.get("/account/password")
    return re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)
