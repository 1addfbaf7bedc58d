"""An official document (公文) as blocks, read from a Jinja2 text template, before it becomes DOCX or PDF.

The template is plain text, one paragraph a line, so a centre can edit it without knowing either format:
a line starting 一、 is a first-level heading (黑体), （一） a second-level one (楷体; the words up to the first 。),
[[table:NAME]] and [[chart:NAME]] put a table or chart there, anything else is a body paragraph (仿宋, indented two
characters). Blank lines are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import jinja2
from pydantic import Field

from fanzha.common.rules import RulesModel, load_rules_file, register
from fanzha.config import get_settings

PACKAGED = Path(__file__).parent
_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十]+）")
_DIRECTIVE = re.compile(r"^\[\[(table|chart):([a-z_]+)\]\]$")


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None  # relative column widths


@dataclass
class Block:
    kind: str  # h1 / h2 / p / table / chart
    text: str = ""
    lead: str = ""  # h2: the heading words (楷体); text is what follows in the same paragraph
    table: Table | None = None
    image: bytes | None = None  # chart: PNG
    caption: str = ""


@dataclass
class OfficialDocument:
    mark: str  # 发文机关标志
    number: str  # 发文字号, "" for a draft
    title: str
    addressee: str
    signature: str
    date: date
    blocks: list[Block] = field(default_factory=list)

    @property
    def date_text(self) -> str:
        return f"{self.date.year}年{self.date.month}月{self.date.day}日"

    def text(self) -> str:
        """Everything a reader sees, as plain text (for checks and search)."""
        parts = [self.mark, self.number, self.title, self.addressee]
        for b in self.blocks:
            if b.kind == "table" and b.table:
                parts += ["\t".join(b.table.headers)] + ["\t".join(r) for r in b.table.rows]
            elif b.kind == "chart":
                parts.append(b.caption)
            else:
                parts.append(b.lead + b.text)
        return "\n".join(parts + [self.signature, self.date_text])


def parse_blocks(text: str, tables: dict[str, Table], charts: dict[str, tuple[bytes, str]]) -> list[Block]:
    blocks = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _DIRECTIVE.match(line):
            kind, name = m.groups()
            if kind == "table" and name in tables:
                if tables[name].rows:
                    blocks.append(Block("table", table=tables[name]))
            elif kind == "chart" and name in charts and charts[name][0]:
                blocks.append(Block("chart", image=charts[name][0], caption=charts[name][1]))
            continue
        if _H1.match(line):
            blocks.append(Block("h1", text=line))
        elif _H2.match(line):
            head, sep, rest = line.partition("。")
            blocks.append(Block("h2", lead=head + sep, text=rest))
        else:
            blocks.append(Block("p", text=line))
    return blocks


def _dirs() -> list[Path]:
    custom = get_settings().reports_dir
    return ([custom] if custom else []) + [PACKAGED / "templates", PACKAGED]


@lru_cache(maxsize=4)
def _environment(key: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(list(key)), undefined=jinja2.StrictUndefined,
                             lstrip_blocks=True, autoescape=False)
    from fanzha.reports import wording

    env.filters.update(wording.FILTERS)
    return env


def template_env() -> jinja2.Environment:
    return _environment(tuple(str(d) for d in _dirs()))


class Issuer(RulesModel):
    """Who issues the documents, unless a kind says otherwise. Placeholders: {city} the top administrative area,
    {abbr} its short form, {area} the document's area, {period} its period in words, {year} the number's year."""

    abbr: str = Field("", description="Short form of the city in 发文字号; empty = its first character.")
    mark: str = Field("", description="发文机关标志 (issuing authority's mark), with `mark_suffix` after it.")
    mark_suffix: str = Field("", description="Words after the mark (通报, 文件).")
    signature: str = Field("", description="落款 (the signature above the date).")
    addressee: str = Field("", description="主送机关 (the addressees).")


class DocumentKind(RulesModel):
    """One kind of document: its register label, number prefix and title, and any of the issuer's words it
    overrides (the 三告 go out as the joint office's letters)."""

    label: str = Field(description="The kind's name in the register of issued documents (月通报).")
    prefix: str = Field(description="发文字号 before 〔year〕 (numbers run per kind per year): {abbr}反诈.")
    title: str = Field(description="The document's title; unused for kinds whose documents bring their own.")
    mark: str | None = Field(None, description="发文机关标志 in place of the issuer's.")
    mark_suffix: str | None = Field(None, description="Words after the mark in place of the issuer's.")
    signature: str | None = Field(None, description="落款 in place of the issuer's.")
    addressee: str | None = Field(None, description="主送机关 in place of the issuer's.")


class Layout(RulesModel):
    """layout.toml: 版头、发文字号与落款 of bulletins and the 三告 (GB/T 9704)."""

    issuer: Issuer = Field(Issuer(), description="The issuing authority's words (发文机关).")
    kinds: dict[str, DocumentKind] = Field(default_factory=dict, description="One table per document kind: daily, "
                                                                             "weekly, monthly, quarterly, letter, "
                                                                             "notice, report.")

    def words(self, kind: str, key: str) -> str:
        """The kind's own `key` (mark, mark_suffix, signature, addressee), else the issuer's."""
        own = getattr(self.kinds[kind], key)
        return own if own is not None else getattr(self.issuer, key)


FILE = register("layout", "通报版头文件", Layout, PACKAGED / "layout.toml", setting="FANZHA_REPORTS_DIR",
                summary="The 版头, 发文字号 and 落款 of bulletins (通报) and the 三告; the centre's own `layout.toml` "
                        "in FANZHA_REPORTS_DIR replaces it.")


def layout() -> Layout:
    """layout.toml from FANZHA_REPORTS_DIR when it has one, else the packaged one."""
    for d in _dirs():
        path = d / "layout.toml"
        if path.is_file():
            return load_rules_file(Layout, path, what=FILE.title)
    raise FileNotFoundError("layout.toml")
