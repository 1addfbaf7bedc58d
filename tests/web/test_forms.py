"""Every GET form as a browser submits it, as every role: defaults left as they are, then each choice once, then
下一页. Forms are found by parsing the pages, so a new page or filter is covered without editing this test."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from fanzha.org.roles import Role
from fanzha.web.app import all_routes
from support.forms import default_values, parse, roles_users, with_each_choice

MAX_PAGES_PER_ROLE = 60
SKIP = ("/logout", ".csv", ".xlsx", ".docx", ".pdf", "/static/", "/print")


def test_the_parser_reads_a_filter_form_as_a_browser_sends_it():
    page = parse("""<form method="get"><select name="station_id"><option value="">全部派出所</option>
        <option value="7">中山东派出所</option></select><input name="q" value=""><input type="checkbox" name="mine">
        <select name="grade"><option value="">全部</option><option value="high" selected>高</option></select>
        <button>查询</button></form><a href="?page=2&amp;q=">下一页</a>""")
    form = page.forms[0]
    assert default_values(form) == [("q", ""), ("station_id", ""), ("grade", "high")]
    assert list(with_each_choice(form)) == [[("q", ""), ("station_id", "7"), ("grade", "high")],
                                            [("q", ""), ("station_id", ""), ("grade", "")]]
    assert page.links == [("?page=2&q=", "下一页")]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_get_form_and_next_page_as_role(role, client_as, db):
    client = client_as(roles_users(db)[role])
    start = [p for p, methods, _ in all_routes() if "GET" in methods and not p.startswith("/api/") and "{" not in p
             and not p.endswith((".csv", ".xlsx"))]
    queue, seen, problems, submitted = deque(start), set(), [], 0
    shapes: set[str] = set()
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        if url in seen or any(s in url for s in SKIP) or not url.startswith("/"):
            continue
        seen.add(url)
        r = client.get(url)
        if r.status_code >= 400 or "text/html" not in r.headers.get("content-type", ""):
            if r.status_code >= 500:
                problems.append(f"{url} → {r.status_code}")
            continue
        page = parse(r.text)
        for form in page.forms:
            if form["method"] != "get":
                continue
            action = urljoin(url, form["action"] or urlsplit(url).path)
            if form["blocked"]:
                continue
            for values in [default_values(form), *with_each_choice(form)]:
                if any(k in form["required"] and not v for k, v in values):
                    continue  # the browser refuses to send it: the field says 必填
                target = f"{action.split('?')[0]}?{urlencode(values)}"
                answer = client.get(target)
                submitted += 1
                if answer.status_code >= 400:
                    problems.append(f"{url}: form → {target} → {answer.status_code} {answer.text[:120]!r}")
                    continue
                for href, text in parse(answer.text).links:
                    if text == "下一页":
                        nxt = client.get(urljoin(target, href))
                        if nxt.status_code >= 400:
                            problems.append(f"{target}: 下一页 {href} → {nxt.status_code}")
                        kept = set(parse_qsl(urlsplit(urljoin(target, href)).query))
                        lost = [(k, v) for k, v in values if v and k != "page" and (k, v) not in kept]
                        if lost:
                            problems.append(f"{target}: 下一页 {href} loses the filter {lost}")
        for href, text in page.links:
            link = urljoin(url, href).split("#")[0]
            parts = urlsplit(link)
            if parts.netloc not in ("", "testserver"):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if text == "下一页":
                nxt = client.get(link)
                if nxt.status_code >= 400:
                    problems.append(f"{url}: 下一页 {link} → {nxt.status_code}")
                continue
            shape = re.sub(r"\d+", "N", parts.path)
            if shape not in shapes:
                shapes.add(shape)
                queue.append(link)
    assert not problems, "\n".join(problems[:40])
    assert len(seen) >= 3
