"""Streaming scoring of files (批量识别): CSV in UTF-8 or GBK, or JSONL, in and out; `-` is stdin/stdout.

Every input row comes out with its own columns plus risk, fraud_type, fraud_prob, reasons and error; a row that
cannot be read (bad bytes, broken JSON, no text) is written with the error filled in, never dropped.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fanzha.common import tabular
from fanzha.detect.normalise import readable

OUT_COLS = ["risk", "risk_label", "fraud_type", "fraud_type_label", "fraud_prob", "reasons", "error"]
CHUNK = 2048


class InputError(Exception):
    """A problem with the whole input (wrong column, unreadable file); the message is shown to the user as is."""


@dataclass
class Summary:
    rows: int = 0
    unreadable: int = 0
    risks: Counter = field(default_factory=Counter)


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK), whichever decodes the head with fewer errors."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    head = head[:-4] if len(head) >= 1 << 16 else head  # a character may be cut at the end of the window
    errors = {enc: head.decode(enc, errors="replace").count("\ufffd") for enc in ("utf-8", "gb18030")}
    return "utf-8" if errors["utf-8"] <= errors["gb18030"] else "gb18030"


def _open_in(path: str) -> tuple[io.BufferedReader, str]:
    raw = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115  (returned open, closed by the caller)
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    head = buffered.peek(1 << 16)[: 1 << 16]
    return buffered, sniff_encoding(head)


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes the decoder could not read, kept by surrogateescape


def _bad(value: str | None) -> bool:
    return value is not None and _UNDECODED.search(value) is not None


def text_item(row: dict, text, n: int, text_col: str) -> tuple[dict, str | None, str]:
    """(row, text, error) for line n whose text was read: an empty or blank text is not scored (it would read 正常 at
    P 0, as if a message had been checked) but written with the reason; so is a text with nothing left to read once
    emoji, invisible characters and markup are taken out (`normalise.readable`). Every reader, local and Spark, ends
    here."""
    text = str(text)
    if not text.strip():
        return row, None, f"第{n}行“{text_col}”为空，未检查"
    if not readable(text):
        return row, None, f"第{n}行“{text_col}”只有表情、不可见字符或网页标记，没有文字，未检查"
    return row, text, ""


def read_rows(path: str, text_col: str, fmt: str) -> tuple[list[str], Iterator[tuple[dict, str | None, str]], str]:
    """(columns, iterator of (row, text or None, error), encoding)."""
    buffered, enc = _open_in(path)
    stream = io.TextIOWrapper(buffered, encoding=enc, errors="surrogateescape", newline="")
    if fmt == "jsonl":
        def gen_jsonl():
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    if _bad(line):
                        raise ValueError("编码错误")
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise ValueError("不是 JSON 对象")
                except ValueError as e:
                    yield {"line": n, "raw": line.rstrip("\r\n").encode("utf-8", "surrogateescape").decode(
                        "utf-8", "replace")}, None, f"第{n}行无法读取：{e}"
                    continue
                text = obj.get(text_col)
                if text is None:
                    yield obj, None, f"第{n}行缺少“{text_col}”字段"
                else:
                    yield text_item(obj, text, n, text_col)
        return [], gen_jsonl(), enc

    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("输入文件是空的，没有表头") from None
    header = [h.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip().lstrip("\ufeff")
              for h in header]
    if text_col not in header:
        raise InputError(f"输入文件没有文本列“{text_col}”。现有的列：{'、'.join(header) or '（无）'}。"
                         f"请用 --text-col 指定存放短信/聊天文本的列名。")
    idx = header.index(text_col)

    def gen_csv():
        for n, values in enumerate(reader, 2):
            row = {h: (values[i] if i < len(values) else "") for i, h in enumerate(header)}
            if len(values) > len(header):
                row["_extra"] = ",".join(values[len(header):])
            if any(_bad(v) for v in values):
                row = {k: v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for k, v in row.items()}
                yield row, None, f"第{n}行含有无法按{enc}解码的字节"
            elif idx >= len(values):
                yield row, None, f"第{n}行缺少“{text_col}”列的值"
            else:
                yield text_item(row, values[idx], n, text_col)
    return header, gen_csv(), enc


@contextmanager
def open_output(dst: str, out_fmt: str):
    """The output stream: stdout for `-` (flushed, not closed), else a file in UTF-8 (with BOM for CSV, for Excel)."""
    out = sys.stdout if dst == "-" else open(dst, "w",  # noqa: SIM115  (closed below)
                                             encoding="utf-8-sig" if out_fmt == "csv" else "utf-8",
                                             newline="")
    try:
        yield out
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()


def chunked(items: Iterator, size: int = CHUNK) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def formats(src: str, dst: str, fmt: str | None) -> tuple[str, str]:
    """Input and output formats: csv or jsonl, from the option, else the file names (stdin/stdout follow the input)."""
    fmt = fmt or ("jsonl" if src.endswith((".jsonl", ".ndjson", ".json")) else "csv")
    return fmt, "jsonl" if dst.endswith((".jsonl", ".ndjson", ".json")) else fmt if dst == "-" else "csv"


def score_texts(texts: list[str], model=None, jsonl: bool = False) -> list[tuple]:
    """The output columns (risk … reasons) for each text of a chunk. A text repeated in the chunk (a bulk file of
    mass SMS repeats many) is scored once: its verdict does not depend on the other texts."""
    from fanzha.detect.service import score_many

    unique = list(dict.fromkeys(texts))
    cols = {}
    for text, v in zip(unique, score_many(unique, model=model), strict=False):
        reasons = [{"rule": r["rule"], "name": r["name"], "text": r["text"], "start": r["start"], "end": r["end"]}
                   for r in v.reasons]
        cols[text] = (v.risk, v.risk_label, v.fraud_type, v.fraud_type_label, v.fraud_prob,
                      reasons if jsonl else json.dumps(reasons, ensure_ascii=False) if reasons else "[]")
    return [cols[t] for t in texts]


def _added(err: str, scored) -> tuple:
    """The values of OUT_COLS for one row, in their order: the next text's columns from `scored` and no error, or
    empty columns and the error. The one place that knows the layout of the added columns."""
    return ("",) * (len(OUT_COLS) - 1) + (err,) if err else (*next(scored), "")


def _record(row: dict, added: tuple) -> dict:
    """An output record: the input row's columns, then OUT_COLS with the values `added` (from `_added`)."""
    return {**row, **dict(zip(OUT_COLS, added, strict=True))}


def format_chunk(chunk: list, model, cols: list[str] | None) -> tuple[str, Counter, int]:
    """Score a chunk of (row, text, error) and write its output text: CSV rows in `cols` order (neutralised cells,
    as tabular writes them), or JSON lines when `cols` is None; with the risks counted and the unreadable rows."""
    jsonl = cols is None
    scored = iter(score_texts([t for _, t, err in chunk if not err], model, jsonl))
    buf = io.StringIO()
    risks: Counter = Counter()
    bad = 0
    # CSV: the input's cells are neutralised; the added columns are ours and safe as they are (codes, Chinese labels, a
    # number, a JSON list, an error message in Chinese), so a row costs two cell checks, not nine.
    assert jsonl or cols[-len(OUT_COLS):] == OUT_COLS
    given, writer = (None, None) if jsonl else (cols[:-len(OUT_COLS)], tabular.CsvWriter(buf))
    for row, _, err in chunk:
        added = _added(err, scored)
        if err:
            bad += 1
        else:
            risks[added[0]] += 1
        if writer is None:
            buf.write(json.dumps(_record(row, added), ensure_ascii=False) + "\n")
        else:
            writer.writerow_own([row.get(c, "") for c in given], added)
    return buf.getvalue(), risks, bad


_WORKER_MODEL = None


def _worker_init(model) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model  # forked: the parent's loaded model, shared copy-on-write


def _worker_format(args) -> tuple[str, Counter, int]:
    chunk, cols = args
    return format_chunk(chunk, _WORKER_MODEL, cols)


def _formatted_chunks(chunks: Iterator[list], model, cols: list[str] | None,
                      workers: int) -> Iterator[tuple[list, tuple[str, Counter, int]]]:
    """(chunk, its output text, risks, unreadable rows) in input order: here, or in `workers` processes that score
    and write the text of whole chunks (this process only reads the input and writes their text out)."""
    if workers <= 1:
        for chunk in chunks:
            yield chunk, format_chunk(chunk, model, cols)
        return
    import multiprocessing as mp
    from collections import deque

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    if model is None:
        from fanzha.detect.service import load_model

        model = load_model()
    with ctx.Pool(workers, initializer=_worker_init, initargs=(model,)) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_worker_format, ((chunk, cols),))))
            while len(pending) > 2 * workers:
                done, res = pending.popleft()
                yield done, res.get()
        while pending:
            done, res = pending.popleft()
            yield done, res.get()


def score_file(src: str, dst: str, text_col: str = "text", fmt: str | None = None, out_fmt: str | None = None,
               model=None, workers: int = 1) -> Summary:
    """Score a file row by row into `dst`; `workers` > 1 scores and writes chunks in that many processes (the same
    output, byte for byte)."""
    fmt, default_out = formats(src, dst, fmt)
    out_fmt = out_fmt or default_out
    header, rows, _ = read_rows(src, text_col, fmt)
    summary = Summary()
    if out_fmt == "csv" and not header:  # JSONL in, CSV out: the columns come from the first record
        return _score_file_by_record(rows, dst, out_fmt, header, model, summary)
    cols = None if out_fmt == "jsonl" else [c for c in header if c not in OUT_COLS] + ["_extra"] + OUT_COLS
    started = False
    with open_output(dst, out_fmt) as out:
        for chunk, (text, risks, bad) in _formatted_chunks(chunked(rows), model, cols, workers):
            if cols is not None and not started:
                tabular.CsvWriter(out).writerow(cols)
            started = True
            out.write(text)
            summary.rows += len(chunk)
            summary.unreadable += bad
            summary.risks.update(risks)
        if cols is not None and not started:  # no rows: the header alone, as it always was (without _extra)
            tabular.DictWriter(out, fieldnames=[c for c in header if c not in OUT_COLS] + OUT_COLS).writeheader()
    return summary


def _score_file_by_record(rows, dst: str, out_fmt: str, header: list[str], model, summary: Summary) -> Summary:
    writer = None
    with open_output(dst, out_fmt) as out:
        for chunk in chunked(rows):
            scored = iter(score_texts([t for _, t, err in chunk if not err], model, False))
            for row, _, err in chunk:
                rec = _record(row, _added(err, scored))
                if err:
                    summary.unreadable += 1
                else:
                    summary.risks[rec["risk"]] += 1
                summary.rows += 1
                writer = write_record(out, out_fmt, writer, header, rec, OUT_COLS)
    return summary


def write_record(out, out_fmt: str, writer, header: list[str], rec: dict, added: list[str]):
    """One output record as a JSON line, or a CSV row (the header written first: the input's columns, _extra for
    cells beyond them, then the `added` columns). Returns the CSV writer to pass back in. CSV cells go through the
    platform's export writer: a message that starts like a formula (=, +, -, @) is neutralised for spreadsheets."""
    if out_fmt == "jsonl":
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return writer
    if writer is None:
        cols = header or [k for k in rec if k not in added]
        writer = tabular.DictWriter(out, fieldnames=[c for c in cols if c not in added] + ["_extra"] + added,
                                extrasaction="ignore")
        writer.writeheader()
    writer.writerow(rec)
    return writer
