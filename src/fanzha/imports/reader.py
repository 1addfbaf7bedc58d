"""Streaming CSV (UTF-8 or GBK) and XLSX rows under canonical column names.

Files come from provincial platforms and office spreadsheets: header names vary, a title
row may sit above the header, header cells may be merged or blank, and CSVs are often GBK.
Rows are yielded one by one so a million-row file never sits in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

from fanzha.common import tabular
from fanzha.imports.values import clean

HEADER_SCAN_ROWS = 10
RAW_CELL_CHARS = 500  # what a rejected row keeps of each cell, for the error file (the reason names the cell)
RowError = tuple[int, str, str, dict[str, object]]  # a refused row: its number, the column, the reason, its cells


@dataclass(frozen=True)
class Limits:
    """What one import file may hold (settings `import_*`, docs/configuration.md)."""

    unzipped_bytes: int  # an XLSX's parts, uncompressed, together
    rows: int  # data rows; the rest of a longer file is refused in one error row
    cell_chars: int  # one cell; a longer one refuses its row with a reason

    @classmethod
    def configured(cls) -> Limits:
        from fanzha.config import get_settings

        s = get_settings()
        return cls(s.import_max_unzipped_mb * 1024 * 1024, s.import_max_rows, s.import_max_cell_chars)


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


def _check_unzipped(path: Path, limit: int) -> None:
    """An XLSX is a zip: refuse one whose parts expand past the limit (a zip bomb) before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem("无法打开 Excel 文件，请确认是 .xlsx 格式且未损坏") from exc
    if total > limit:
        raise FileProblem(f"Excel 文件解压后达 {total // (1024 * 1024):,} MB，超过上限 {limit // (1024 * 1024):,} MB"
                          "（异常压缩的文件或过大的表），未导入；请检查文件或拆分后再导入")


def _raw_rows(path: Path, limits: Limits | None = None) -> Iterator[list[object]]:
    limits = limits or Limits.configured()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        _check_unzipped(path, limits.unzipped_bytes)
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
            # The csv module's own cap (128 K characters) would fail the whole file on one long cell; the cell
            # limit below refuses that cell's row instead. The upload limit bounds what one cell can be.
            csv.field_size_limit(max(csv.field_size_limit(), limits.cell_chars * 4, 1 << 26))
            yield from csv.reader(fh, dialect)
    elif suffix == ".xls":
        raise FileProblem("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入")
    else:
        raise FileProblem(f"不支持的文件类型 {suffix or '(无扩展名)'}，请上传 .xlsx 或 .csv")


@dataclass
class RowStream:
    """The data rows of a file as (row number, row) pairs, and what the reader itself refused: a row with a cell
    over the limit (its reason, its cells cut to RAW_CELL_CHARS), and the rows past the row limit (one entry)."""

    rows: Iterator[tuple[int, dict[str, object]]]
    rejected: list[RowError] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        return self.rows


def raw_cells(row: dict[str, object]) -> dict[str, object]:
    """A row as kept with its error: each text cell cut to RAW_CELL_CHARS (the reason says what was wrong)."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if value is not None and not isinstance(value, int | float | str | bool):
            value = str(value)
        if isinstance(value, str) and len(value) > RAW_CELL_CHARS:
            value = value[:RAW_CELL_CHARS] + f"…（共 {len(value):,} 字，已截断）"
        out[key] = value
    return out


def read_rows(path: Path, columns: Columns, limits: Limits | None = None) -> tuple[dict[str, str], RowStream]:
    """Finds the header row and returns (canonical → header as written, the data rows). Rows past `limits.rows`
    and rows holding a cell longer than `limits.cell_chars` are not given out: they are in `rejected`."""
    limits = limits or Limits.configured()
    rows = _raw_rows(Path(path), limits)
    scanned: list[list[object]] = []
    header_index = None
    mapping: dict[int, str] = {}
    for index, row in enumerate(rows):
        scanned.append(row)
        named = {i: columns.canonical(str(cell)[:200]) for i, cell in enumerate(row) if cell not in (None, "")}
        found = {i: c for i, c in named.items() if c}
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
    stream = RowStream(iter(()))

    def generate() -> Iterator[tuple[int, dict[str, object]]]:
        number = header_index + 1
        given = 0
        for row in rows:
            number += 1
            if all(cell in (None, "") or (isinstance(cell, str) and not cell.strip()) for cell in row):
                continue
            values = {c: (row[i] if i < len(row) else None) for i, c in mapping.items()}
            if given >= limits.rows:
                stream.rejected.append((number, "", f"超过单次导入上限 {limits.rows:,} 行：第 {number:,} 行起均未导入，"
                                                    "请拆分文件后导入其余部分", {}))
                return
            too_long = next(((c, v) for c, v in values.items() if isinstance(v, str) and len(v) > limits.cell_chars),
                            None)
            if too_long is not None:
                long, text = too_long
                stream.rejected.append((number, long, f"{long}过长（{len(text):,} 字，上限 "
                                                      f"{limits.cell_chars:,} 字），本行未导入", raw_cells(values)))
                continue
            given += 1
            yield number, values

    stream.rows = generate()
    return written, stream


def error_file_csv(rows: Iterable[RowError], keys: list[str] | None = None) -> Iterator[bytes]:
    """行号, 列, 原因 and the original values: the file a user downloads to fix and re-send, given out in chunks.
    The values are echoed as they came in (cut to RAW_CELL_CHARS when stored), through the one export writer (a
    cell that would open as a formula is neutralised). `keys`: the value columns; without them, those of the rows."""
    if keys is None:
        rows = list(rows)
        keys = []
        for *_, raw in rows:
            for k in raw:
                if k not in keys:
                    keys.append(k)
    return tabular.csv_chunks(["行号", "列", "原因", *keys],
                              ([number, column, reason, *[raw.get(k, "") for k in keys]]
                               for number, column, reason, raw in rows))
