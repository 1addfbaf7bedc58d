"""The forms of a page read as a browser reads them, for the crawls that submit every form (web/test_forms.py for GET
forms, web/test_post_forms.py for POST forms)."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from sqlalchemy import select

from fanzha.org.models import User


class Forms(HTMLParser):
    """The forms of a page with what a browser would send for each field, and its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: list | None = None
        self._a: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""),
                          "enctype": a.get("enctype", "application/x-www-form-urlencoded").lower(), "fields": [],
                          "selects": [], "files": [], "buttons": [], "required": set(), "inputs": {},
                          "blocked": False}
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self._a = [a["href"], ""]
        elif self._form is not None and tag in ("button", "input") and "disabled" in a \
                and a.get("type", "submit") == "submit":
            self._form["blocked"] = True  # its only way to be sent is disabled
        elif self._form is None or "disabled" in a:
            return
        elif tag in ("button", "input") and a.get("type", "submit" if tag == "button" else "text") == "submit":
            # The pressed button sends its own name=value and may send the form elsewhere (formaction).
            self._form["buttons"].append({"name": a.get("name", ""), "value": a.get("value", ""),
                                          "formaction": a.get("formaction")})
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if "required" in a:
                self._form["required"].add(a["name"])
            self._form["inputs"][a["name"]] = a
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((a["name"], a.get("value", "on")))
            elif kind == "file":
                self._form["files"].append({"name": a["name"], "accept": a.get("accept", ""),
                                            "required": "required" in a})
            elif kind not in ("button", "image", "reset"):
                self._form["fields"].append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            if "required" in a:
                self._form["required"].add(a["name"])
            self._form["inputs"][a["name"]] = {**a, "type": "textarea"}
            self._textarea = [a["name"], ""]
            self._form["fields"].append(self._textarea)
        elif tag == "select" and a.get("name"):
            if "required" in a:
                self._form["required"].add(a["name"])
            self._select = {"name": a["name"], "options": [], "selected": None}
            self._form["selects"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": ""}
            self._select["options"].append(self._option)
            if "selected" in a:
                self._select["selected"] = self._option

    def handle_data(self, data):
        if self._option is not None and self._option["value"] is None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea[1] += data
        if self._a is not None:
            self._a[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            if self._form is not None:  # a textarea's text is known only at its end
                self._form["fields"] = [tuple(f) for f in self._form["fields"]]
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            if self._option is not None and self._option["value"] is None:
                self._option["value"] = self._option["text"].strip()
            self._option = None
        elif tag == "a" and self._a is not None:
            self.links.append((self._a[0], self._a[1].strip()))
            self._a = None


def default_values(form: dict) -> list[tuple[str, str]]:
    """What the browser sends when the user presses the button without touching anything."""
    values = [tuple(f) for f in form["fields"]]
    for s in form["selects"]:
        chosen = s["selected"] or (s["options"][0] if s["options"] else None)
        if chosen is not None:
            values.append((s["name"], chosen["value"]))
    return values


def with_each_choice(form: dict):
    """The defaults with one select set to another of its options (the first option that is not the default)."""
    base = default_values(form)
    for s in form["selects"]:
        current = (s["selected"] or (s["options"][0] if s["options"] else {})).get("value")
        other = next((o for o in s["options"] if o["value"] != current), None)
        if other is not None:
            yield [(k, v) if k != s["name"] else (k, other["value"]) for k, v in base]


def parse(html: str) -> Forms:
    parser = Forms()
    parser.feed(html)
    return parser


def multipart(data: list[tuple[str, str]], files: list[tuple[str, tuple[str, bytes, str]]]) -> tuple[bytes, str]:
    """The body a browser sends for a multipart form: a file input with nothing chosen is a part with filename=""
    (httpx leaves the filename out, which a server reads as a text field)."""
    boundary = "----FanzhaFormBoundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in data:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, kind) in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def roles_users(db) -> dict[str, str]:
    """One demo user of each role: role → username."""
    users = {}
    for user in db.scalars(select(User).order_by(User.id)):
        users.setdefault(user.role, user.username)
    return users


def form_to(page_html: str, action_end: str) -> dict:
    """The first form of the page whose action ends with `action_end`."""
    return next(f for f in parse(page_html).forms if f["action"].endswith(action_end))


def post_pairs(client, action: str, pairs, **kw):
    """Posts form fields as the browser sends them (a name may repeat)."""
    data: dict[str, list[str]] = {}
    for k, v in pairs:
        data.setdefault(k, []).append(v)
    return client.post(action, data=data, **kw)
