"""A crawl of every page as every demo role: no server error, and no English text a user would read."""

from __future__ import annotations

import re
from collections import deque

import pytest
from sqlalchemy import select

from fanzha.org.models import User
from fanzha.org.roles import Role
from fanzha.web.app import all_routes
from support.english import english_words

MAX_PAGES_PER_ROLE = 80
SKIP = ("/logout", ".csv", "/static/")


def _roles_users(db) -> dict[str, str]:
    users = {}
    for user in db.scalars(select(User).order_by(User.id)):
        users.setdefault(user.role, user.username)
    return users


def test_demo_has_every_role(db):
    assert set(_roles_users(db)) == {r.value for r in Role}


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_crawl_every_page_as_role(role, client_as, db):
    username = _roles_users(db)[role]
    client = client_as(username)
    start = [p for p, methods, _ in all_routes() if "GET" in methods and not p.startswith("/api/") and "{" not in p
             and not p.endswith(".csv")]
    queue = deque(start)
    seen: set[str] = set()
    problems = []
    status: dict[str, int] = {}
    shown: dict[str, str] = {}  # a link → the page that offered it
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        base = url.split("#")[0]
        if base in seen or any(s in base for s in SKIP) or not base.startswith("/"):
            continue
        seen.add(base)
        r = client.get(base)
        status[base] = r.status_code
        if r.status_code >= 500:
            problems.append(f"{base} → {r.status_code}")
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        words, links = english_words(r.text)
        if words:
            problems.append(f"{base}: English text {sorted(words)[:8]}")
        # Follow one link of each path shape, so every detail page is visited without walking all rows.
        for link in links:
            shown.setdefault(link.split("#")[0], base)
            shape = re.sub(r"\d+", "N", link.split("?")[0])
            if shape not in {re.sub(r"\d+", "N", s.split("?")[0]) for s in seen | set(queue)}:
                queue.append(link)
    # A page offers only what the role may open: no link to a page that refuses it.
    problems += [f"{page} links to {link} → {status[link]}" for link, page in shown.items()
                 if status.get(link) in (403, 404)]
    assert not problems, "\n".join(problems)
    assert len(seen) >= 5
