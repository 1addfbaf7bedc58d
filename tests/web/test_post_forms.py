"""Every POST form as a browser submits it, as every role, on a throwaway database.

Each form is sent with its defaults (hidden fields, selected options, checked boxes; required fields filled as a
user would, since a browser refuses to send the form otherwise; a file input with nothing chosen as an empty part,
a tiny file of its type where one is required), and once more with every field the user can empty left empty. The
answer is a success (a redirect, a page, a file) or a rendered Chinese message: never a server error, a JSON body,
a field named by its code ("填写的内容有误：community_id") or English words. A form accepted with its defaults is
accepted emptied too: an empty optional value means "not given" (docs/web.md), and a field the server needs says
`required`, so the browser asks for it.

Forms are found by crawling, by links and GET forms, the pages each role may open, so a new form is covered without
editing this test. The submissions change the county (claims, locks, deletions, a logout), so the module makes a
database of its own and puts the shared one back afterwards; the roles run in two groups, each on one worker
(xdist_group; ./dev runs --dist loadgroup). After a round of submissions the pages that had forms, and those the
answers led to, are read again, so forms that appear only once a record moved on (a placed warning's contacts) are
sent too. The password and logout forms go last."""

from __future__ import annotations

import io
import itertools
import os
import re
from collections import deque
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from fanzha.org.roles import Role
from fanzha.web.app import all_routes
from support.db import DB_KIND, pg_create, pg_drop
from support.english import english_words
from support.forms import default_values, multipart, parse, roles_users
from support.web import DEMO_PASSWORD, DEMO_SEED, login, make_client

MAX_PAGES_PER_ROLE = 100
PER_SHAPE = 4
ROUNDS = 3
SKIP = ("/logout", ".csv", ".xlsx", ".docx", ".pdf", "/static/", "/draft", "fmt=", "/photos/", "/evidence")
LAST = ("/account/password", "/logout")  # sent after every other form: they may end the session
RAW_422 = re.compile(r"填写的内容有误：\s*[A-Za-z_][\w.]*")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
_COUNTER = itertools.count(1)  # unique codes and usernames across the module
# Rules across fields, which no single field's `required` can say: a form emptied of them is refused with this message.
ACROSS_FIELDS = {
    "/cases/N/edit": "发案地址无法匹配",  # a station's case is placed by its address or by its person: one is needed
}


@pytest.fixture(scope="module")
def throwaway_app(database, tmp_path_factory):
    """An app on a database of its own with a small demo county (150 people); the shared one is back afterwards."""
    from fanzha.db import reset_caches, session_scope
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade
    from fanzha.web.app import create_app

    saved = {k: os.environ[k] for k in ("FANZHA_DATABASE_URL", "FANZHA_DATA_DIR")}
    folder = tmp_path_factory.mktemp("post-forms")
    name = f"fanzha_post_forms_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = pg_create(name) if DB_KIND == "postgres" else f"sqlite:///{folder / 'fanzha.db'}"
    os.environ.update(FANZHA_DATABASE_URL=url, FANZHA_DATA_DIR=str(folder))
    reset_caches()
    try:
        upgrade()
        with session_scope() as session:
            generate(session, seed=DEMO_SEED, people=150, password=DEMO_PASSWORD)
        yield create_app()
    finally:
        os.environ.update(saved)
        reset_caches()
        if DB_KIND == "postgres":
            pg_drop(name)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _file_for(accept: str) -> tuple[str, bytes, str]:
    """A tiny valid file of the type a required file input accepts."""
    if "image" in accept or ".png" in accept:
        return "现场.png", _png(), "image/png"
    if ".csv" in accept:
        # A person every list import reads and none can place: the registry holds him as 待落地.
        return "名单.csv", "姓名,手机号,人群类别,住址\n张某,13800000001,老年人,无名小区\n".encode(), "text/csv"
    if ".jsonl" in accept:
        return "举报.jsonl", b"{}\n", "application/octet-stream"
    if ".pdf" in accept:
        return "佐证.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"
    return "文件.txt", "测试\n".encode(), "text/plain"


def _plausible(field: dict) -> str:
    """What a user types into an empty required field: by the input's type, then its name, then the example its
    placeholder gives ("如：女儿" → 女儿, "2026、2026-Q3 或 2026-10" → 2026)."""
    kind, name, mode = field.get("type", "text").lower(), field.get("name", ""), field.get("inputmode", "")
    now = datetime.now()
    if kind == "date":
        return now.strftime("%Y-%m-%d")
    if kind == "datetime-local":
        return now.strftime("%Y-%m-%dT%H:%M")
    if kind == "month":
        return now.strftime("%Y-%m")
    if kind == "number" or mode in ("decimal", "numeric"):
        return field.get("min") or "1"
    if kind == "password":
        return DEMO_PASSWORD
    if kind == "tel" or mode == "tel" or "phone" in name:
        return "13800000000"
    if name in ("code", "username"):
        return f"t{next(_COUNTER):04d}"
    if name.endswith("_at"):  # 值班 starts_at / ends_at: an eight-hour shift from now
        return (now + timedelta(hours=8 if name.startswith("end") else 0)).strftime("%Y-%m-%d %H:%M")
    example = re.split(r"、| 或 | / |，", field.get("placeholder", "").removeprefix("如：").removeprefix("如 "))[0]
    return example.strip() or "测试"


class Submission(NamedTuple):
    action: str
    data: list[tuple[str, str]]
    files: list[tuple[str, tuple[str, bytes, str]]]
    as_multipart: bool
    button: tuple[str, str]
    variant: str


def clearable(form: dict) -> set[str]:
    """The fields a user can empty and still send the form: visible, optional text, number and date inputs and
    textareas, and optional choices that offer an empty option (—, 全辖区, 自动)."""
    names = {name for name, a in form["inputs"].items()
             if name not in form["required"] and "readonly" not in a
             and a.get("type", "text").lower() not in ("hidden", "checkbox", "radio", "submit", "file")}
    names |= {s["name"] for s in form["selects"]
              if s["name"] not in form["required"] and any(o["value"] == "" for o in s["options"])}
    return names


def submissions(form: dict, cleared: bool = False):
    """What a browser sends for each submit button of the form, with its defaults or (cleared) with every field
    the user can empty left empty; nothing when the browser refuses to send the form (a required choice with
    nothing to choose) or when clearing changes nothing."""
    empty = clearable(form) if cleared else set()
    if cleared and not any(v.strip() for k, v in default_values(form) if k in empty):
        return
    data = []
    for k, v in default_values(form):
        if k in empty:
            v = ""
        elif k in form["required"] and not v.strip():
            select = next((s for s in form["selects"] if s["name"] == k), None)
            if select is not None:
                v = next((o["value"] for o in select["options"] if o["value"]), "")
                if not v:
                    return
            else:
                v = _plausible(form["inputs"].get(k, {"name": k}))
        data.append((k, v))
    files = [(f["name"], _file_for(f["accept"]) if f["required"] else ("", b"", "application/octet-stream"))
             for f in form["files"]]
    for button in form["buttons"] or [{"name": "", "value": "", "formaction": None}]:
        sent = data + ([(button["name"], button["value"])] if button["name"] else [])
        yield Submission(button["formaction"] or form["action"], sent, files, form["enctype"].startswith("multipart/"),
                         (button["name"], button["value"]), "cleared" if cleared else "defaults")


def send(client, target: str, sub: Submission):
    if sub.as_multipart or sub.files:
        body, kind = multipart(sub.data, sub.files)
        return client.post(target, content=body, headers={"Content-Type": kind}, follow_redirects=False)
    return client.post(target, data=_as_dict(sub.data), follow_redirects=False)


def _as_dict(pairs):
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def shown_message(html: str) -> str:
    """The message a refused submission shows: the form's alert and field notes, or the error page's heading."""
    found = re.findall(r'<(?:p|div) class="alert"[^>]*>(.*?)</(?:p|div)>|<em class="err">(.*?)</em>'
                       r'|<h1>(\d{3} · .*?)</h1>|<ul class="errors">(.*?)</ul>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", "".join(parts)).strip() for parts in found).strip()


def judge(answer) -> str | None:
    """Why the answer is not what a browser user should see, or None."""
    kind = answer.headers.get("content-type", "")
    if answer.status_code >= 500:
        return f"{answer.status_code} {answer.text[:160]!r}"
    if "json" in kind:
        return f"{answer.status_code} JSON {answer.text[:160]!r}"
    if answer.status_code < 400:
        return None
    if "text/html" not in kind:
        return f"{answer.status_code} {kind}"
    message = shown_message(answer.text)
    if raw := RAW_422.search(message):
        return f"{answer.status_code} names the field by its code: {raw.group(0)}"
    if not CHINESE.search(message):
        return f"{answer.status_code} shows no message {message[:80]!r}"
    if english := english_words(message)[0]:
        return f"{answer.status_code} message has English words {sorted(english)}: {message[:120]!r}"
    if answer.status_code == 403:
        return f"403: the page offers a form the role may not send: {message[:120]!r}"
    return None


def crawl(client, start: dict[str, int], problems: list[str]) -> list[tuple[str, dict]]:
    """(page, form) of every POST form on the pages reachable from `start` (page → how many links deep to go on) by
    links and GET forms: one page of each path shape, and up to PER_SHAPE pages of a shape whose first page had a
    POST form (records in other states offer other forms). A page that fails joins `problems`."""
    queue, seen, found = deque(start.items()), set(), []
    shapes: dict[str, int] = {}  # path shape → pages of it queued
    with_forms: set[str] = set()
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url, depth = queue.popleft()
        if url in seen or any(s in url for s in SKIP) or not url.startswith("/"):
            continue
        seen.add(url)
        r = client.get(url)
        if r.status_code >= 500:
            problems.append(f"{url} → {r.status_code}")
        if r.status_code >= 400 or "text/html" not in r.headers.get("content-type", ""):
            continue
        page = parse(r.text)
        posts = [form for form in page.forms if form["method"] == "post" and not form["blocked"]]
        if posts:
            with_forms.add(re.sub(r"\d+", "N", urlsplit(url).path))
        found += [(url, form) for form in posts]
        # A GET form leads on as a link does (a letter is drafted from a form on the letters page).
        opened = [f"{(sub.action or urlsplit(url).path).split('?')[0]}?{urlencode(sub.data)}"
                  for form in page.forms if form["method"] == "get" and not form["blocked"]
                  for sub in itertools.islice(submissions(form), 1)]
        for href in [h for h, _ in page.links] + opened if depth else ():
            parts = urlsplit(urljoin(url, href).split("#")[0])
            if parts.netloc not in ("", "testserver"):
                continue
            shape = re.sub(r"\d+", "N", parts.path)
            if shapes.get(shape, 0) < (PER_SHAPE if shape in with_forms else 1):
                shapes[shape] = shapes.get(shape, 0) + 1
                queue.append((parts.path + (f"?{parts.query}" if parts.query else ""), depth - 1))
    return found


def test_the_parser_sends_what_a_browser_sends():
    page = parse("""<form method="post" enctype="multipart/form-data" action="/x/7">
        <input type="hidden" name="csrf_token" value="t"><select name="community_id" required>
        <option value="">请选择</option><option value="12">新华社区</option></select>
        <input type="date" name="held_on" required><textarea name="note">原有内容</textarea>
        <input type="checkbox" name="notify" checked><input type="file" name="photo" accept="image/*">
        <button name="action" value="preview">预览</button><button name="action" value="issue">签发</button></form>""")
    sent = list(submissions(page.forms[0]))
    today = datetime.now().strftime("%Y-%m-%d")
    base = [("csrf_token", "t"), ("held_on", today), ("note", "原有内容"), ("notify", "on"), ("community_id", "12")]
    empty_file = [("photo", ("", b"", "application/octet-stream"))]
    assert sent == [("/x/7", base + [("action", "preview")], empty_file, True, ("action", "preview"), "defaults"),
                    ("/x/7", base + [("action", "issue")], empty_file, True, ("action", "issue"), "defaults")]
    emptied = [*base[:2], ("note", ""), *base[3:]]
    assert [s.data for s in submissions(page.forms[0], cleared=True)] == [emptied + [("action", "preview")],
                                                                          emptied + [("action", "issue")]]
    assert _plausible({"name": "relation", "placeholder": "如：女儿"}) == "女儿"
    assert _plausible({"name": "period", "placeholder": "2026、2026-Q3 或 2026-10"}) == "2026"
    body, _ = multipart(base[:1], empty_file)
    assert b'name="photo"; filename=""' in body


# Two groups of roles, each kept on one worker with a throwaway database of its own (./dev runs --dist loadgroup).
@pytest.mark.parametrize("role", [pytest.param(r.value, marks=pytest.mark.xdist_group(f"post_forms_{i % 2}"))
                                  for i, r in enumerate(Role)])
def test_every_post_form_as_role(role, throwaway_app):
    from sqlalchemy.orm import Session

    from fanzha.db import get_engine

    with Session(get_engine()) as session:
        username = roles_users(session)[role]
    client = make_client(throwaway_app)
    assert login(client, username).status_code == 303
    start = [p for p, methods, _ in all_routes() if "GET" in methods and not p.startswith("/api/") and "{" not in p
             and not any(s in p for s in SKIP)]
    sent: set[tuple] = set()
    problems, last, pages = [], [], dict.fromkeys(start, MAX_PAGES_PER_ROLE)
    for _ in range(ROUNDS):
        todo = []  # (page, target, [cleared, defaults] of one button)
        for page, form in crawl(client, pages, problems):
            cleared = {s.button: s for s in submissions(form, cleared=True)}
            for sub in submissions(form):
                target = urljoin(page, sub.action or urlsplit(page).path)
                shape = (re.sub(r"\d+", "N", urlsplit(target).path), tuple(sorted({k for k, _ in sub.data})),
                         sub.button)
                if shape not in sent:
                    sent.add(shape)
                    both = [s for s in (cleared.get(sub.button), sub) if s]
                    (last if urlsplit(target).path.endswith(LAST) else todo).append((page, target, both))
        # The next round reads again the pages that had forms and those the answers led to: a placed warning now
        # offers its contacts, a new campaign its quotas.
        pages = dict.fromkeys((page for page, _, _ in todo), 0)
        for page, target, subs in todo:
            # Emptied first: sent after the defaults it would often meet a record that has moved on.
            answers = [(sub, send(client, target, sub)) for sub in subs]
            for sub, answer in answers:
                if why := judge(answer):
                    problems.append(f"{page}: POST {target} ({sub.variant}) → {why}")
                elif answer.status_code in (302, 303):  # the next round opens where it led
                    location = urlsplit(answer.headers["location"])
                    pages[location.path + (f"?{location.query}" if location.query else "")] = 1
            across = ACROSS_FIELDS.get(re.sub(r"\d+", "N", urlsplit(target).path), "\0")
            if len(answers) == 2 and answers[0][1].status_code >= 400 > answers[1][1].status_code \
                    and across not in shown_message(answers[0][1].text):
                emptied = sorted(clearable_of(answers[0][0], answers[1][0]))
                problems.append(f"{page}: POST {target} accepts its defaults but refuses {emptied} left empty: "
                                f"{shown_message(answers[0][1].text)[:120]!r} (an empty optional value means not "
                                f"given; a field the server needs is marked required)")
        if not todo:
            break
    else:
        crawl(client, pages, problems)  # where the last answers led
    for page, target, subs in last:
        if why := judge(send(client, target, subs[-1])):
            problems.append(f"{page}: POST {target} → {why}")
    client.close()
    assert not problems, f"{len(problems)} problem(s) in {len(sent)} forms:\n" + "\n".join(problems[:60])
    assert len(sent) >= 3


def clearable_of(cleared: Submission, defaults: Submission) -> set[str]:
    before = dict(defaults.data)
    return {k for k, v in cleared.data if v == "" and before.get(k)}
