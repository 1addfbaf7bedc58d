"""Streaming CSV (UTF-8 or GBK) and XLSX rows under canonical column names.

Files come from provincial platforms and office spreadsheets: header names vary, a title
row may sit above the header, header cells may be merged or blank, and CSVs are often GBK.
Rows are yielded one by one so a million-row file never sits in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from fanzha.common import tabular
from fanzha.imports.values import clean

HEADER_SCAN_ROWS = 10


class FileProblem(ValueError):
    """The file as a whole cannot be read (wrong type, no header row, a required column missing)."""


@dataclass
class Columns:
    """Canonical column name → the header variants accepted for it."""

    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()

    def canonical(self, header: str) -> str | None:
        key = _header_key(header)
        for name, variants in self.aliases.items():
            if key == _header_key(name) or key in (_header_key(v) for v in variants):
                return name
        return None


def _header_key(text: str) -> str:
    text = clean(text)
    text = re.sub(r"[\s*＊:：_\-]", "", text)
    return re.sub(r"[(（].*?[)）]", "", text)


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3:
            return "utf-8"
        return "gb18030"


def _raw_rows(path: Path) -> Iterator[list[object]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise FileProblem("无法打开 Excel 文件，请确认是 .xlsx 格式且未损坏") from exc
        try:
            ws = wb.worksheets[0]
            for row in ws.iter_rows(values_only=True):
                yield list(row)
        finally:
            wb.close()
    elif suffix in (".csv", ".txt"):
        with path.open("rb") as fh:
            encoding = detect_encoding(fh.read(65536))
        with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
            sample = fh.read(8192)
            fh.seek(0)
            # Blank lines (and a last line cut by the sample) would make the delimiter look inconsistent.
            lines = [line for line in sample.splitlines() if line.strip()]
            if len(sample) == 8192 and len(lines) > 1:
                lines.pop()
            try:
                dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|")
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(fh, dialect)
    elif suffix == ".xls":
        raise FileProblem("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入")
    else:
        raise FileProblem(f"不支持的文件类型 {suffix or '(无扩展名)'}，请上传 .xlsx 或 .csv")


def read_rows(path: Path, columns: Columns) -> tuple[dict[str, str], Iterator[tuple[int, dict[str, object]]]]:
    """Finds the header row and returns (canonical → header as written, iterator of (row number, row))."""
    rows = _raw_rows(Path(path))
    scanned: list[list[object]] = []
    header_index = None
    mapping: dict[int, str] = {}
    for index, row in enumerate(rows):
        scanned.append(row)
        found = {i: columns.canonical(str(cell)) for i, cell in enumerate(row) if cell not in (None, "")}
        found = {i: c for i, c in found.items() if c}
        if len(set(found.values())) >= min(2, len(columns.aliases)):
            header_index, mapping = index, found
            break
        if index + 1 >= HEADER_SCAN_ROWS:
            break
    if header_index is None:
        raise FileProblem("找不到表头行：前10行中没有可识别的列名，请使用导入模板")
    header_row = scanned[header_index]
    written = {c: clean(header_row[i]) for i, c in mapping.items()}
    missing = [c for c in columns.required if c not in written]
    if missing:
        raise FileProblem(f"缺少必需的列：{'、'.join(missing)}")
    seen: dict[str, int] = {}
    for i, c in list(mapping.items()):
        if c in seen:  # the same column twice: keep the first, as a person reading it would
            del mapping[i]
        seen.setdefault(c, i)

    def generate() -> Iterator[tuple[int, dict[str, object]]]:
        number = header_index + 1
        for row in rows:
            number += 1
            if all(cell in (None, "") or (isinstance(cell, str) and not cell.strip()) for cell in row):
                continue
            yield number, {c: (row[i] if i < len(row) else None) for i, c in mapping.items()}

    return written, generate()


def error_file_csv(rows: list[tuple[int, str, str, dict]]) -> bytes:
    """行号, 列, 原因 and the original values: the file a user downloads to fix and re-send. The values are echoed
    as they came in, through the one export writer (a cell that would open as a formula is neutralised)."""
    keys: list[str] = []
    for *_, raw in rows:
        for k in raw:
            if k not in keys:
                keys.append(k)
    return tabular.csv_bytes(["行号", "列", "原因", *keys],
                             ([number, column, reason, *[raw.get(k, "") for k in keys]]
                              for number, column, reason, raw in rows))
