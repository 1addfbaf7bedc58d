"""Bulk scoring on Apache Spark (批量识别，Spark 引擎): `fanzha detect score --engine spark`.

The same shipped model and the same code as the local path (`scorefile`): Spark reads the input (CSV, JSONL or
Parquet), hands it to Python workers in Arrow batches (`mapInPandas`), each worker scores its batch with
`scorefile.score_texts` and formats every output row as the local path does (`scorefile._record`, the platform's CSV
writer, `json.dumps`); the driver writes the rows out in input order. So the output file is the local path's: the
same columns, in the same order, with the same formatting.

The model travels as bytes: the driver reads the model directory (meta.json, weights.npz, about 1.6 MB) and
broadcasts it once (`SparkContext.broadcast`); each executor fetches the broadcast once, and each Python worker
process loads the model from it once (a module-level cache keyed by the files' SHA-256) and keeps it for every
later task (Spark reuses its Python workers). Bytes rather than a path because an executor on another machine does
not see the driver's disk: a model given by FANZHA_DETECT_MODEL, or a different installed version, would otherwise
score differently without anyone noticing.

On well-formed input the two engines agree byte for byte; what differs on malformed input (a CSV row cut short,
cells beyond the header, undecodable bytes) is listed in docs/deploy.md, "Bulk scoring on Apache Spark".

PySpark is imported only here, and only when the Spark engine is asked for: the rest of the product never needs it
(`pip install 'fanzha[spark]'`; Spark 4 runs on Java 17).
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from fanzha.common import tabular
from fanzha.detect.scorefile import (
    CHUNK,
    OUT_COLS,
    InputError,
    Summary,
    _added,
    _record,
    open_output,
    score_texts,
    sniff_encoding,
    text_item,
)

DEFAULT_MASTER = "local[2]"
PIECE_BYTES = 8 << 20  # input per partition by default (see _default_partitions)
_JSONL_EXT = (".jsonl", ".ndjson", ".json")
_PARQUET_EXT = (".parquet", ".pq")
_ROW = "_fanzha_row"  # the input order, carried through Spark
_SPLIT = 33  # monotonically_increasing_id: the partition in the upper bits, the row within it in the lower 33
_MODELS: dict[str, object] = {}  # per Python worker process: the broadcast model, loaded once
_WORK_DIR: str | None = None


def formats(src: str, dst: str, fmt: str | None) -> tuple[str, str]:
    """Input format (csv, jsonl or parquet: the option, else the extension) and output format (csv or jsonl), decided
    as `scorefile.formats` decides them (extensions as written, not lowercased)."""
    fmt = fmt or ("jsonl" if src.endswith(_JSONL_EXT) else "parquet" if src.rstrip("/").endswith(_PARQUET_EXT)
                  else "csv")
    if fmt not in ("csv", "jsonl", "parquet"):
        raise InputError(f"不支持的输入格式“{fmt}”：Spark 引擎读 csv、jsonl 或 parquet")
    if dst == "-":
        return fmt, "jsonl" if fmt == "jsonl" else "csv"
    return fmt, "jsonl" if dst.endswith(_JSONL_EXT) else "csv"


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def _local_path(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


# ---------------------------------------------------------------- the driver: session, model, input


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("未安装 PySpark，无法使用 Spark 引擎。请安装：pip install 'fanzha[spark]'"
                         "（另需 Java 17），或改用 --engine local。") from None
    return SparkSession


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return
    if shutil.which("java") is None:
        raise InputError("找不到 Java，无法启动 Spark：Spark 4 需要 Java 17。Debian/Ubuntu 请安装 "
                         "openjdk-17-jre-headless（apt-get install openjdk-17-jre-headless），或设置 JAVA_HOME。")


_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
"""  # PySpark's first logger at the root's level: Spark then does not announce a "default log level" on start


def work_dir() -> str:
    """This process's scratch directory for Spark (the JVM's temporary files, shuffle and broadcast blocks), under
    the system's temporary directory (TMPDIR) and removed when the process ends. One per process, not per run: the
    JVM PySpark starts outlives a session and keeps the directory it was given."""
    global _WORK_DIR
    if _WORK_DIR is None or not os.path.isdir(_WORK_DIR):
        _WORK_DIR = tempfile.mkdtemp(prefix="fanzha-spark-")
        atexit.register(shutil.rmtree, _WORK_DIR, True)
    return _WORK_DIR


def start_session(master: str, conf: dict[str, str] | None = None):
    """A Spark session for one scoring run: quiet (errors only), no web UI, its scratch files under `work_dir()`, and
    nothing fetched from the network (no packages, no jars beyond PySpark's own). `conf`: further settings
    (executor memory, …), applied last."""
    SparkSession = _pyspark()
    _check_java()
    scratch = work_dir()
    log4j = Path(scratch) / "log4j2.properties"
    log4j.write_text(_LOG4J, encoding="utf-8")
    java_opts = f"-Dlog4j2.configurationFile=file:{log4j} -Djava.io.tmpdir={scratch}"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter (and its packages)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no warning about the host name
    builder = (SparkSession.builder.master(master).appName("fanzha detect score")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", java_opts)
               .config("spark.executor.extraJavaOptions", java_opts)
               .config("spark.local.dir", os.environ.get("SPARK_LOCAL_DIRS") or scratch)
               .config("spark.sql.warehouse.dir", str(Path(scratch) / "warehouse"))
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(CHUNK))
               .config("spark.python.worker.reuse", "true"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # the JVM did not start: usually Java older than 17
        raise InputError(f"Spark 启动失败（Spark 4 需要 Java 17 或更新版本）：{str(e).strip().splitlines()[0]}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def model_payload(path: str | os.PathLike | None = None) -> dict:
    """The model's files as bytes, with their SHA-256 (the executors' cache key): what is broadcast."""
    from fanzha.detect.service import MODEL_DIR

    d = Path(path or os.environ.get("FANZHA_DETECT_MODEL") or MODEL_DIR)
    files = {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(name.encode() + b"\0" + data)
    return {"key": digest.hexdigest(), "files": files}


def worker_model(payload: dict):
    """The broadcast model in this Python worker process: loaded from the bytes on first use, then kept."""
    model = _MODELS.get(payload["key"])
    if model is None:
        from fanzha.detect.service import load_model

        with tempfile.TemporaryDirectory(prefix="fanzha-model-") as d:
            for name, data in payload["files"].items():
                Path(d, name).write_bytes(data)
            model = load_model(d)  # read whole into memory: the directory can go
        load_model.cache_clear()  # keyed by the temporary path, which is gone
        _MODELS[payload["key"]] = model
    return model


def _csv_header(path: str) -> tuple[list[str], str]:
    """The header as the local path reads it (UTF-8 or GB18030, BOM and blanks stripped) and the encoding."""
    import csv

    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    enc = sniff_encoding(head)
    with open(path, encoding=enc, errors="replace", newline="") as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise InputError("输入文件是空的，没有表头") from None
    return [h.strip().lstrip("\ufeff") for h in header], enc


def _no_text_col(text_col: str, header: list[str]) -> InputError:
    return InputError(f"输入文件没有文本列“{text_col}”。现有的列：{'、'.join(header) or '（无）'}。"
                      f"请用 --text-col 指定存放短信/聊天文本的列名。")


def check_input(src: str, fmt: str, text_col: str) -> tuple[list[str], str]:
    """Before Spark starts (a file on this machine): the CSV header and encoding as the local path reads them, a
    text column that is not there, a JSONL file that is not UTF-8. ([], "utf-8") for a file elsewhere (hdfs://…)."""
    if not _is_local(src):
        return [], "utf-8"
    path = _local_path(src)
    if fmt == "jsonl":
        with open(path, "rb") as fh:
            if sniff_encoding(fh.read(1 << 16)) == "gb18030":
                raise InputError("Spark 引擎只读 UTF-8 编码的 JSONL：请先转为 UTF-8，或改用 --engine local")
        return [], "utf-8"
    if fmt == "parquet":
        if os.path.isdir(path):
            return [], "utf-8"
        import pyarrow.parquet as pq

        header = list(pq.read_schema(path).names)
    else:
        header, enc = _csv_header(path)
    if text_col not in header:
        raise _no_text_col(text_col, header)
    return header, "utf-8" if fmt == "parquet" else enc


def read_input(spark, src: str, fmt: str, text_col: str, header: list[str], enc: str):
    """(DataFrame, the input's columns in order, its integer columns). CSV columns are all text; JSONL is read as
    lines (parsed by the workers exactly as the local path parses them); Parquet keeps numbers and booleans, other
    types become text."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if fmt == "jsonl":
        return spark.read.text(src), [], frozenset()
    if fmt == "parquet":
        df = spark.read.parquet(src)
        header = list(df.columns)
        if text_col not in header:
            raise _no_text_col(text_col, header)
        keep = (T.StringType, T.BooleanType, T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType,
                T.DoubleType)
        df = df.select([F.col(f"`{f.name}`") if isinstance(f.dataType, keep)
                        else F.col(f"`{f.name}`").cast("string").alias(f.name) for f in df.schema.fields])
        ints = frozenset(f.name for f in df.schema.fields
                         if isinstance(f.dataType, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)))
        return df, header, ints
    reader = spark.read.options(header=True, multiLine=True, escape='"', mode="PERMISSIVE",
                                encoding="GB18030" if enc == "gb18030" else "UTF-8")
    if header:  # the header as read here (a BOM or blanks around a name do not reach Spark's)
        names = [f"c{i}" for i in range(len(header))]  # positions: Spark would refuse duplicate names
        df = reader.schema(T.StructType([T.StructField(n, T.StringType()) for n in names])).csv(src)
    else:
        df = reader.csv(src)
        header = [c.strip().lstrip("\ufeff") for c in df.columns]
    if text_col not in header:
        raise _no_text_col(text_col, header)
    return df, header, frozenset()


# ---------------------------------------------------------------- the workers: one Arrow batch at a time


def _jsonl_row(line: str, n: int, text_col: str) -> tuple[dict, str | None, str] | None:
    """(row, text or None, error) for line n of a JSONL file, as `scorefile.read_rows` gives it; None if blank."""
    if n == 1 and line.startswith("\ufeff"):
        line = line[1:]
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("不是 JSON 对象")
    except ValueError as e:
        return {"line": n, "raw": line.rstrip("\r\n")}, None, f"第{n}行无法读取：{e}"
    text = obj.get(text_col)
    if text is None:
        return obj, None, f"第{n}行缺少“{text_col}”字段"
    return text_item(obj, text, n, text_col)


def _plain(value, na):
    """A cell from Arrow/pandas as the local path would hold it: None for a null, Python numbers, text."""
    if value is None or value is na:  # pandas.NA: the null of a nullable column
        return None
    if isinstance(value, float) and value != value:  # NaN: pandas' null in a float column
        return None
    return value.item() if hasattr(value, "item") else value


def score_batches(batches, *, fmt: str, header: list[str], text_col: str, cols: list[str] | None, jsonl_out: bool,
                  payload_bc, offsets: dict[int, int], ints: frozenset[str] = frozenset()):
    """mapInPandas: for each batch of input rows, one output row each: (order, the formatted text of that row of
    the output file, its risk or "" when unreadable)."""
    import pandas as pd

    model = worker_model(payload_bc.value)
    buf = io.StringIO()
    for pdf in batches:
        order = pdf[_ROW].tolist()
        numbers = [offsets.get(r >> _SPLIT, 0) + (r & ((1 << _SPLIT) - 1)) for r in order]  # 0-based in the input
        chunk, kept = [], []
        if fmt == "jsonl":
            for r, n, line in zip(order, numbers, pdf["value"].tolist(), strict=False):
                item = _jsonl_row(line, n + 1, text_col)
                if item is not None:
                    chunk.append(item)
                    kept.append(r)
        else:
            data = [pdf[c].tolist() for c in pdf.columns if c != _ROW]
            for i, (r, n) in enumerate(zip(order, numbers, strict=False)):
                row = {}
                for h, values in zip(header, data, strict=False):
                    v = _plain(values[i], pd.NA)
                    if h in ints and isinstance(v, float):  # pandas holds an integer column with nulls as floats
                        v = int(v)
                    row[h] = ("" if v is None else v) if fmt == "csv" else v
                text = row.get(text_col)
                if fmt == "parquet" and text is None:
                    chunk.append((row, None, f"第{n + 1}行缺少“{text_col}”的值"))
                else:  # CSV: Spark reads an empty cell and a missing one alike, both as an empty text
                    line = n + 2 if fmt == "csv" else n + 1  # a CSV's first record is line 2, after its header
                    chunk.append(text_item(row, "" if text is None else text, line, text_col))
                kept.append(r)
        scored = iter(score_texts([t for _, t, err in chunk if not err], model, jsonl_out))
        lines, risks = [], []
        for row, _, err in chunk:
            rec = _record(row, _added(err, scored))
            risks.append(rec["risk"])
            if jsonl_out:
                lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                buf.seek(0)
                buf.truncate()
                tabular.CsvWriter(buf).writerow([rec.get(c, "") for c in cols])
                lines.append(buf.getvalue())
        yield pd.DataFrame({_ROW: pd.Series(kept, dtype="int64"), "line": pd.Series(lines, dtype=object),
                            "risk": pd.Series(risks, dtype=object)})


def _first_jsonl_keys(df, text_col: str) -> list[str] | None:
    """JSONL in, CSV out: the columns come from the first record, as in the local path (None when there is none)."""
    from pyspark.sql import functions as F

    for first in df.where(F.trim(F.col("value")) != "").select("value").limit(100).toLocalIterator():
        item = _jsonl_row(first["value"], 1, text_col)  # None: blank but for tabs and the like
        if item is not None:
            return [k for k in item[0] if k not in OUT_COLS]
    return None


def score_file_spark(src: str, dst: str, text_col: str = "text", fmt: str | None = None, master: str = DEFAULT_MASTER,
                     partitions: int | None = None, conf: dict[str, str] | None = None) -> Summary:
    """Score `src` into `dst` on Spark: the local path's output (columns, order, formatting), row for row."""
    if src == "-":
        raise InputError("Spark 引擎不读标准输入：请给出输入文件的路径")
    fmt, out_fmt = formats(src, dst, fmt)
    if _is_local(src) and not os.path.exists(_local_path(src)):
        raise FileNotFoundError(src)
    header, enc = check_input(src, fmt, text_col)
    spark = None
    try:
        spark = start_session(master, conf)
        df, header, ints = read_input(spark, src, fmt, text_col, header, enc)
        target = partitions or _default_partitions(src, spark.sparkContext.defaultParallelism,
                                                   df.rdd.getNumPartitions())
        spark.conf.set("spark.sql.shuffle.partitions", str(target))
        return _run(spark, df, header, ints, dst, fmt, out_fmt, text_col, target)
    finally:
        if spark is not None:
            spark.stop()


def _default_partitions(src: str, parallelism: int, read_as: int) -> int:
    """Enough pieces for every core, and small enough that one piece's scored rows (about 2.3 times its input)
    travel to the driver comfortably: about 8 MB of input each. A whole partition's result goes to the driver at
    once (two with prefetching), and half a million rows of it were lost from the driver's block manager (1 GB)."""
    if _is_local(src):
        path = Path(_local_path(src))
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    else:
        size = read_as * (128 << 20)  # Spark's input splits are at most 128 MB each by default
    return max(parallelism, -(-size // PIECE_BYTES))


def _run(spark, df, header, ints, dst, fmt, out_fmt, text_col, target) -> Summary:
    from pyspark.sql import functions as F

    jsonl_out = out_fmt == "jsonl"
    if jsonl_out:
        cols = None
    elif fmt == "jsonl":
        keys = _first_jsonl_keys(df, text_col)
        cols = None if keys is None else keys + ["_extra"] + OUT_COLS
    else:
        cols = [c for c in header if c not in OUT_COLS] + ["_extra"] + OUT_COLS
    df = df.withColumn(_ROW, F.monotonically_increasing_id())
    offsets = {0: 0}
    if df.rdd.getNumPartitions() > 1:  # the row numbers (for the error column) need each partition's start
        counts = sorted((r["p"], r["n"]) for r in df.groupBy(F.shiftright(_ROW, _SPLIT).alias("p"))
                        .agg(F.count(F.lit(1)).alias("n")).collect())
        at = 0
        for p, n in counts:
            offsets[p] = at
            at += n
    spread = df.rdd.getNumPartitions() < target
    if spread:  # over the workers in contiguous ranges of rows, each sorted back below
        df = df.repartitionByRange(target, _ROW)
    payload_bc = spark.sparkContext.broadcast(model_payload())
    header_names = list(header)

    def fn(batches):
        return score_batches(batches, fmt=fmt, header=header_names, text_col=text_col, cols=cols,
                             jsonl_out=jsonl_out, payload_bc=payload_bc, offsets=offsets, ints=ints)

    out = df.mapInPandas(fn, schema=f"{_ROW} long, line string, risk string")
    if spread:  # a shuffled partition's rows may arrive in any order; the partitions themselves are in order
        out = out.sortWithinPartitions(_ROW)
    summary = Summary()
    with open_output(dst, out_fmt) as fh:
        if cols is not None:
            buf = io.StringIO()
            tabular.CsvWriter(buf).writerow(cols)
            header_line = buf.getvalue()
        started = False
        for row in out.select("line", "risk").toLocalIterator(prefetchPartitions=True):
            if not started and cols is not None:
                fh.write(header_line)
            started = True
            fh.write(row["line"])
            summary.rows += 1
            if row["risk"]:
                summary.risks[row["risk"]] += 1
            else:
                summary.unreadable += 1
        if not started and cols is not None and fmt != "jsonl":  # no rows: the header alone (without _extra)
            tabular.CsvWriter(fh).writerow([c for c in header if c not in OUT_COLS] + OUT_COLS)
    payload_bc.unpersist()
    return summary
