"""English words a user would read on a page: visible text only, leaving out scripts, styles and user data."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Technical terms a Chinese user reads as they are.
ALLOWED = {"API", "APP", "ID", "CSV", "XLSX", "xlsx", "csv", "Excel", "JSON", "PDF", "DOCX", "Word", "UTF", "GBK",
           "LED", "IP", "QQ", "CSRF", "KB", "MB", "GB", "htmx", "ECharts"}


class _Text(HTMLParser):
    """Visible text, leaving out scripts, styles and anything marked translate="no" (user data: codes, names)."""

    def __init__(self):
        super().__init__()
        self.skip_depth = 0
        self.stack: list[bool] = []
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("placeholder", "title", "aria-label", "alt"):
            if attrs.get(key) and not self.skip_depth:
                self.parts.append(attrs[key])
        if tag in ("input",) and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag in ("br", "input", "meta", "link", "img", "hr"):
            return
        hidden = tag in ("script", "style") or attrs.get("translate") == "no"
        self.stack.append(hidden)
        if hidden:
            self.skip_depth += 1

    def handle_endtag(self, tag):
        if tag in ("br", "input", "meta", "link", "img", "hr") or not self.stack:
            return
        if self.stack.pop():
            self.skip_depth -= 1

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)


def english_words(html: str) -> tuple[set[str], list[str]]:
    parser = _Text()
    parser.feed(html)
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(parser.parts)))
    return {w for w in words if w not in ALLOWED}, parser.links
