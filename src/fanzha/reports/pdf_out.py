"""An OfficialDocument as PDF: HTML and CSS paged media laid out after GB/T 9704, set by WeasyPrint (Pango) with
the free fonts of fonts.py embedded (subset)."""

from __future__ import annotations

import base64
from functools import lru_cache
from types import SimpleNamespace

import jinja2

from fanzha.reports import fonts
from fanzha.reports.document import PACKAGED, OfficialDocument


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PACKAGED / "templates")), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["b64"] = lambda data: base64.b64encode(data).decode()
    return env.get_template("official.html.j2")


def render_html(document: OfficialDocument) -> str:
    g = SimpleNamespace(**{k: getattr(fonts, k) for k in dir(fonts) if k.isupper()})
    mark_pt = min(36, round(150 * fonts.MM / max(len(document.mark), 1)))
    return _template().render(doc=document, g=g, mark_pt=mark_pt, title=fonts.css_chain("title"),
                              body=fonts.css_chain("body"), hei=fonts.css_chain("hei"), kai=fonts.css_chain("kai"),
                              song=fonts.css_chain("song"))


def render_pdf(document: OfficialDocument) -> bytes:
    import weasyprint

    html = weasyprint.HTML(string=render_html(document))
    return html.write_pdf(pdf_identifier=False, uncompressed_pdf=False)
