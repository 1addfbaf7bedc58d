"""Scripts the Content-Security-Policy allows: no inline event handlers, inline scripts or javascript: links.

The platform sends `script-src 'self'`: a browser runs only script files served by the platform. An `onclick=`
attribute or a `<script>` with a body is silently refused (the registry print page's 打印 once did nothing). This
test reads every template, so a new page is checked without editing it.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "fanzha" / "web" / "templates"
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
# A data block (type="application/json") is not run; the pages hand chart data to their scripts that way.
_INLINE_SCRIPT = re.compile(r"""<script(?![^>]*\s(src=|type=["']application/json))[^>]*>\s*\S""", re.IGNORECASE)
_JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def test_no_template_has_inline_script():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in ((_HANDLER, "inline event handler"), (_INLINE_SCRIPT, "inline <script>"),
                              (_JS_URL, "javascript: URL")):
            for m in pattern.finditer(text):
                line = text[:m.start()].count("\n") + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}: {m.group(0)[:60]}")
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_looks_for():
    assert _HANDLER.search('<button type="button" onclick="window.print()">打印</button>')
    assert _HANDLER.search("<body onload='x()'>")
    assert not _HANDLER.search('<button data-print>打印</button>')
    assert _INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not _INLINE_SCRIPT.search('<script src="/static/app/app.js" defer></script>')
    assert not _INLINE_SCRIPT.search('<script type="application/json" id="trend-data">{"a": 1}</script>')
    assert _JS_URL.search('<a href="javascript:void(0)">')


def test_pages_send_a_policy_that_refuses_inline_scripts(client_as):
    page = client_as("ps01_quanzu").get("/tasks")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
