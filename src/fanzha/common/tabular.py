"""The one writer of every CSV and XLSX the platform produces: no cell of them opens as a formula.

A spreadsheet (Excel, WPS, LibreOffice) evaluates a cell that starts with = + - @ as a formula, so a person named
`=cmd|' /C calc'!A0` or a note `=1+2` would run when the file is opened. Every cell goes through `cell()`:

- text whose first non-blank character is = + - @, or that starts with a tab or a carriage return, gets a leading
  apostrophe (OWASP's advice for CSV injection); leading blanks do not hide the character, because some
  programs trim them before deciding what a cell is (` =1+2` is neutralised too);
- numbers (int, float, Decimal), booleans, dates and empty cells are written as they are, so a loss of -5 stays a
  number; a phone or an ID number is text and is only touched when it starts with one of those characters (+86…);
- full-width ＝ ＋ － ＠ are left alone: no spreadsheet reads them as a formula.

In XLSX every text cell is also stored as a string (never as a formula), and characters XML cannot hold (control
characters other than tab, line feed and carriage return) are dropped instead of failing the whole file.
CSV is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly.

Imports are the other way round: a cell is stored as typed, and neutralised only when it is written out again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from _typeshed import SupportsWrite
    from openpyxl.cell import WriteOnlyCell
    from starlette.responses import Response

    _DictWriterBase = csv.DictWriter[str]
else:  # not subscriptable at run time before Python 3.12
    _DictWriterBase = csv.DictWriter

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_PLAIN = (bool, int, float, Decimal, date, datetime, time)
_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to write


_RISKY_FIRST = frozenset("".join(FORMULA_STARTS + CONTROL_STARTS))


def cell(value: object) -> object:
    """The value as it may go into a spreadsheet cell: formula-looking text behind an apostrophe, numbers as numbers."""
    if type(value) is str and value and value[0] not in _RISKY_FIRST and not value[0].isspace():
        return value  # the common case, decided by its first character (bulk files write millions of cells)
    if value is None or isinstance(value, _PLAIN):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(CONTROL_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def row(values: Iterable[object]) -> list[object]:
    return [cell(v) for v in values]


class CsvWriter:
    """csv.writer with every cell neutralised, for files written row by row (streams, large files)."""

    def __init__(self, out: SupportsWrite[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, values: Iterable[object]) -> object:
        return self._writer.writerow(row(values))

    def writerow_own(self, values: Iterable[object], own: Iterable[object]) -> object:
        """`values` neutralised, then `own`: cells the caller made itself (codes, labels, numbers, JSON lists, its own
        messages) that cannot start a formula, written as they are (a bulk file writes millions of them)."""
        return self._writer.writerow([*row(values), *own])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for values in rows:
            self.writerow(values)


class DictWriter(_DictWriterBase):
    """csv.DictWriter with every cell neutralised, the header (column names from the input) included."""

    def writerow(self, rowdict: Mapping[str, object]) -> object:
        return super().writerow({k: cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, object]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)


def csv_bytes(header: Sequence[object], rows: Iterable[Iterable[object]]) -> bytes:
    """A whole CSV file: UTF-8 with BOM, the header first."""
    buf = io.StringIO()
    writer = CsvWriter(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def csv_chunks(header: Sequence[object], rows: Iterable[Iterable[object]], *, every: int = 1000) -> Iterator[bytes]:
    """The same file as `csv_bytes`, given out a few rows at a time (a long file streams instead of sitting in
    memory whole)."""
    buf = io.StringIO()
    writer = CsvWriter(buf)
    buf.write("\ufeff")
    writer.writerow(header)
    for n, values in enumerate(rows, start=1):
        writer.writerow(values)
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _xlsx_cell(ws: object, value: object) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    value = cell(value)
    if isinstance(value, str):
        c = WriteOnlyCell(ws, _NOT_IN_XML.sub("", value))
        c.data_type = "s"  # openpyxl would take a string starting with "=" for a formula
        return c
    return WriteOnlyCell(ws, value)


def xlsx_bytes(header: Sequence[object], rows: Iterable[Iterable[object]], *, sheet: str = "Sheet1",
               widths: dict[str, float] | None = None) -> bytes:
    """A whole XLSX file of one sheet, written streaming (write-only), the header first."""
    from openpyxl import Workbook  # not loaded by the checker's CSV scoring

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    for column, width in (widths or {}).items():
        ws.column_dimensions[column].width = width
    ws.append([_xlsx_cell(ws, v) for v in header])
    for values in rows:
        ws.append([_xlsx_cell(ws, v) for v in values])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write(fmt: str, header: Sequence[object], rows: Iterable[Iterable[object]], *, sheet: str = "Sheet1",
          widths: dict[str, float] | None = None) -> bytes:
    """The file in `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        return csv_bytes(header, rows)
    if fmt == "xlsx":
        return xlsx_bytes(header, rows, sheet=sheet, widths=widths)
    raise ValueError(f"unknown tabular format {fmt!r}")


def content_disposition(filename: str, ascii_name: str = "") -> str:
    """attachment; with an ASCII name for old clients and the real (Chinese) name as RFC 5987 filename*."""
    stem, dot, suffix = filename.rpartition(".")
    fallback = ascii_name or (_ASCII_NAME.sub("_", stem).strip("_") or "download") + dot + _ASCII_NAME.sub("", suffix)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(data: bytes | Iterable[bytes], filename: str, *, ascii_name: str = "") -> Response:
    """The response for a CSV or XLSX file made by this module; the format is the filename's suffix. Chunks
    (`csv_chunks`) are streamed."""
    from starlette.responses import Response, StreamingResponse

    fmt = filename.rpartition(".")[2].lower()
    headers = {"Content-Disposition": content_disposition(filename, ascii_name), "Cache-Control": "no-store"}
    if isinstance(data, bytes | bytearray):
        return Response(data, media_type=MEDIA_TYPES[fmt], headers=headers)
    return StreamingResponse(data, media_type=MEDIA_TYPES[fmt], headers=headers)
