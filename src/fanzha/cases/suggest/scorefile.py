"""`fanzha cases suggest-type`: a fraud_type column for every row of a CSV (UTF-8 or GBK) or JSONL file, streamed.

Reading is the checker's (detect.scorefile.read_rows): the encoding is sniffed, `-` is stdin/stdout, and a row that
cannot be read, or whose text is empty, blank or has nothing left to read (emoji, markup), is written with its reason
in `error`, never dropped. A row with no suggestion gets an empty type.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fanzha.common import tabular
from fanzha.detect.scorefile import chunked, formats, open_output, read_rows, write_record

OUT_COLS = ["fraud_type", "error"]
CONF_COLS = ["fraud_type_confidence", "fraud_type_cues"]


@dataclass
class Summary:
    rows: int = 0
    unreadable: int = 0
    unsuggested: int = 0
    types: Counter = field(default_factory=Counter)


def suggest_file(src: str, dst: str, text_col: str = "text", with_confidence: bool = False, fmt: str | None = None,
                 model=None) -> Summary:
    from fanzha.cases.suggest import analyse_many

    fmt, out_fmt = formats(src, dst, fmt)
    added = OUT_COLS[:1] + (CONF_COLS if with_confidence else []) + OUT_COLS[1:]
    header, rows, _ = read_rows(src, text_col, fmt)
    summary = Summary()
    writer = None
    with open_output(dst, out_fmt) as out:
        for chunk in chunked(rows):
            results = iter(analyse_many([t for _, t, err in chunk if not err], model))
            for row, _, err in chunk:
                rec = dict(row)
                r = None if err else next(results)
                rec["fraud_type"] = r["fraud_type"] if r else ""
                if with_confidence:
                    rec["fraud_type_confidence"] = r["confidence"] if r else ""
                    names = [c["name"] for c in r["cues"] if c["fraud_type"] == r["fraud_type"]] if r else []
                    rec["fraud_type_cues"] = names if out_fmt == "jsonl" else "、".join(names)
                rec["error"] = err
                summary.rows += 1
                if err:
                    summary.unreadable += 1
                elif r:
                    summary.types[r["fraud_type"]] += 1
                else:
                    summary.unsuggested += 1
                writer = write_record(out, out_fmt, writer, header, rec, added)
        if out_fmt == "csv" and writer is None and header:
            tabular.DictWriter(out, fieldnames=[c for c in header if c not in added] + added).writeheader()
    return summary
