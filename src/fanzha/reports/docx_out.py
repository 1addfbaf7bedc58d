"""An OfficialDocument as DOCX (python-docx), laid out after GB/T 9704 with the official font names, so that it opens
as a normal 公文 in Word or WPS and can be finished there."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from fanzha.reports.document import OfficialDocument, Table
from fanzha.reports.fonts import (
    BODY_PT,
    BOTTOM,
    CHAR_SPACING_PT,
    FONTS,
    LATIN,
    LEFT,
    LINE_PT,
    PAGE_H,
    PAGE_NO_PT,
    PAGE_W,
    RED,
    RIGHT,
    TITLE_PT,
    TOP,
)


def _font(run, role: str, size: float, *, color: str | None = None, bold: bool = False) -> None:
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), FONTS[role][0])
    rfonts.set(qn("w:hint"), "eastAsia")
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _para(doc, text: str = "", role: str = "body", size: float = BODY_PT, *, align=None, indent_chars: float = 0,
          color: str | None = None, exact: bool = True):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT)
    if align is not None:
        p.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(BODY_PT * indent_chars)
    if text:
        _font(p.add_run(text), role, size, color=color)
    return p


def _bottom_rule(paragraph, color: str, size_eighths: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", str(size_eighths)), ("w:space", "1"), ("w:color", color)):
        bottom.set(qn(k), v)
    borders.append(bottom)
    ppr.append(borders)


def _page_number(footer, align) -> None:
    p = footer.paragraphs[0]
    p.alignment = align
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = Pt(PAGE_NO_PT)  # 单页码居右空一字，双页码居左空一字
    _font(p.add_run("— "), "song", PAGE_NO_PT)
    run = p.add_run()
    _font(run, "song", PAGE_NO_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    _font(p.add_run(" —"), "song", PAGE_NO_PT)


def _table(doc, table: Table) -> None:
    t = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    widths = table.widths or [1] * len(table.headers)
    total = sum(widths)
    for column, w in zip(t.columns, widths, strict=False):  # the grid LibreOffice lays out by; Word reads the cell widths
        column.width = Mm(150 * w / total)
    # Row by row: Table.cell(i, j) walks the whole grid each time (quadratic in the table's size).
    for i, (values, row) in enumerate(zip([table.headers, *table.rows], t.rows, strict=False)):
        for j, (value, cell) in enumerate(zip(values, row.cells, strict=False)):
            cell.width = Mm(150 * widths[j] / total)
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(value), "hei" if i == 0 else "body", 12)
    _para(doc, "", exact=True)


def render_docx(document: OfficialDocument) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(BOTTOM - 7 - 5)  # the page number's line starts 7 mm below the 版心
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["body"][0])
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(round(CHAR_SPACING_PT * 20)))
    rpr.append(spacing)
    doc.core_properties.title = document.title
    doc.core_properties.author = document.signature

    # 版头: 发文机关标志 (red 小标宋), 发文字号 two lines below, red rule under it.
    mark_size = min(36, round(150 * 72 / 25.4 / max(len(document.mark), 1)))
    head = _para(doc, document.mark, "title", mark_size, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, exact=False)
    head.paragraph_format.space_before = Pt(0)
    head.paragraph_format.space_after = Pt(LINE_PT)
    _para(doc)
    number = _para(doc, document.number, "body", BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    _bottom_rule(number, RED, 12)
    _para(doc)
    title = _para(doc, document.title, "title", TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    title.paragraph_format.line_spacing = Pt(TITLE_PT * 1.5)
    _para(doc)
    _para(doc, document.addressee)

    for block in document.blocks:
        if block.kind == "h1":
            _para(doc, block.text, "hei", indent_chars=2)
        elif block.kind == "h2":
            p = _para(doc, "", indent_chars=2)
            _font(p.add_run(block.lead), "kai", BODY_PT)
            if block.text:
                _font(p.add_run(block.text), "body", BODY_PT)
        elif block.kind == "p":
            _para(doc, block.text, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        elif block.kind == "table" and block.table:
            _table(doc, block.table)
        elif block.kind == "chart" and block.image:
            p = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
            p.add_run().add_picture(io.BytesIO(block.image), width=Mm(140))
            _para(doc, block.caption, "kai", 14, align=WD_ALIGN_PARAGRAPH.CENTER)

    # 落款: two blank lines, the issuer and the date right-aligned, the date 右空四字.
    _para(doc)
    _para(doc)
    sig = _para(doc, document.signature, align=WD_ALIGN_PARAGRAPH.RIGHT)
    sig.paragraph_format.right_indent = Pt(BODY_PT * 2)
    when = _para(doc, document.date_text, align=WD_ALIGN_PARAGRAPH.RIGHT)
    when.paragraph_format.right_indent = Pt(BODY_PT * 4)

    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
