"""`fanzha detect score --engine spark`: the Spark path writes what the local path writes, row for row.

Messages are made here from the package's hand-written seed examples (seed_examples.tsv), varied with numbers,
links, chat layout, quotes, commas and formula-like starts; each file is scored through the CLI by both engines and
the outputs compared column by column (probabilities as printed), then byte for byte.

Spark does not depend on the database: these tests run once, in the PostgreSQL pass (postgres_pass), all in one
xdist group so one worker holds the one Spark JVM; Spark's scratch files go under the test's tmp_path.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fanzha.cli.main import app
from fanzha.detect import spark as spark_module

pytestmark = [pytest.mark.postgres_pass, pytest.mark.xdist_group("spark")]

SEEDS = Path(__file__).resolve().parents[2] / "src" / "fanzha" / "detect" / "seed_examples.tsv"
N_MESSAGES = 10_000  # in CI; 100,000 by hand (docs/benchmarks.md, "Bulk scoring on Apache Spark")
runner = CliRunner()


def seed_texts() -> list[str]:
    rows = [line.split("\t") for line in SEEDS.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return [r[2] for r in rows if len(r) == 3]


def messages(n: int, seed: int = 32) -> list[str]:
    """n messages varied from the seed examples (deterministic for a seed)."""
    base = seed_texts() + ["晚上回家吃饭吗", "全场五折，回T退订", "【顺丰速运】您的快件已到驿站，取件码 5-2-1033。", "好的，明天见"]
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        text = rnd.choice(base)
        kind = rnd.randrange(10)
        if kind == 0:
            text += f" 联系电话 1{rnd.randrange(3, 10)}{rnd.randrange(10**9):09d}"
        elif kind == 1:
            text += f" 详情点击 http://t{rnd.randrange(1000)}.cn/{rnd.randrange(10**6)}"
        elif kind == 2:
            text = f"A：{text}\nB：真的吗？\nA：{rnd.choice(base)}"
        elif kind == 3:
            text = f'"{text}", 他说'
        elif kind == 4:
            text = rnd.choice(["=", "+86 ", "-", "@"]) + text
        elif kind == 5:
            text = text[: rnd.randrange(1, len(text) + 1)]
        elif kind == 6:
            text = f"{text} 第{i}号"
        out.append(text)
    return out


def write_csv(path: Path, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "sender", "text", "note"])
        for i, t in enumerate(texts):
            w.writerow([i, f"1069{i % 977:04d}", t, "" if i % 3 else f"批次,{i // 1000}"])


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Spark's scratch directory (JVM temporary files, shuffle and broadcast blocks) under tmp_path."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmp_path


def score(src: Path, dst: Path, *args: str) -> str:
    res = runner.invoke(app, ["detect", "score", str(src), "-o", str(dst), *args])
    assert res.exit_code == 0, res.output
    return res.output


def assert_same_rows(local: Path, spark: Path) -> None:
    """Every row, every column equal (fraud_prob as printed); then the files byte for byte."""
    if local.suffix == ".csv":
        with open(local, encoding="utf-8-sig", newline="") as a, open(spark, encoding="utf-8-sig", newline="") as b:
            left, right = list(csv.reader(a)), list(csv.reader(b))
    else:
        left = [json.loads(x) for x in local.read_text(encoding="utf-8").splitlines()]
        right = [json.loads(x) for x in spark.read_text(encoding="utf-8").splitlines()]
    assert len(left) == len(right)
    for n, (x, y) in enumerate(zip(left, right, strict=False)):
        assert x == y, f"row {n} differs:\nlocal {x}\nspark {y}"
    assert local.read_bytes() == spark.read_bytes()


def test_spark_and_local_agree_row_by_row_on_a_csv(scratch, tmp_path, tmp_path_factory):
    texts = messages(N_MESSAGES)
    src = tmp_path / "messages.csv"
    write_csv(src, texts)
    score(src, tmp_path / "local.csv")
    said = score(src, tmp_path / "spark.csv", "--engine", "spark", "--spark-master", "local[2]", "--partitions", "4")
    assert f"已处理 {N_MESSAGES} 行" in said
    assert_same_rows(tmp_path / "local.csv", tmp_path / "spark.csv")
    with open(tmp_path / "spark.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [str(i) for i in range(N_MESSAGES)]  # input order kept
    assert {r["risk"] for r in rows} == {"fraud", "illicit", "spam", "normal"}
    assert any(r["text"].startswith("'=") for r in rows)  # neutralised for spreadsheets, as the local path does
    assert Path(spark_module.work_dir()).is_relative_to(tmp_path_factory.getbasetemp())  # scratch under pytest's


def test_jsonl_with_broken_lines_over_several_partitions(scratch, tmp_path):
    texts = messages(3000, seed=7)
    src = tmp_path / "messages.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": t, "meta": {"carrier": i % 3}}, ensure_ascii=False) + "\n")
            if i in (10, 1500, 2999):
                fh.write("\n{broken\n[1, 2]\n" + json.dumps({"id": i, "body": "没有文本字段"}) + "\n")
    # small input splits: the file is read as several partitions, so line numbers must add up across them
    conf = ["--spark-conf", "spark.sql.files.maxPartitionBytes=65536"]
    score(src, tmp_path / "local.jsonl")
    said = score(src, tmp_path / "spark.jsonl", "--engine", "spark", *conf)
    assert "未评分 9 行" in said
    assert_same_rows(tmp_path / "local.jsonl", tmp_path / "spark.jsonl")
    errors = [json.loads(x)["error"] for x in (tmp_path / "spark.jsonl").read_text(encoding="utf-8").splitlines()]
    # line numbers of the whole file: record 1500 is line 1505 (4 lines were added after record 10)
    assert "第1509行缺少“text”字段" in errors and "第3011行无法读取：不是 JSON 对象" in errors
    assert any(e.startswith("第3010行无法读取：") for e in errors)
    assert sum(1 for e in errors if e) == 9
    # JSONL in, CSV out: the columns come from the first record, as locally
    score(src, tmp_path / "local.csv")
    score(src, tmp_path / "spark.csv", "--engine", "spark", *conf)
    assert_same_rows(tmp_path / "local.csv", tmp_path / "spark.csv")


def test_parquet_scores_as_the_same_csv_does(scratch, tmp_path):
    import pandas as pd

    texts = messages(2000, seed=3)
    ids = list(range(len(texts)))
    pd.DataFrame({"id": ids, "text": texts}).to_parquet(tmp_path / "messages.parquet")
    with open(tmp_path / "messages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows(zip(ids, texts, strict=False))
    score(tmp_path / "messages.csv", tmp_path / "local.csv")
    score(tmp_path / "messages.parquet", tmp_path / "spark.csv", "--engine", "spark")
    assert_same_rows(tmp_path / "local.csv", tmp_path / "spark.csv")


def test_a_missing_text_column_is_named_in_chinese(tmp_path):
    src = tmp_path / "messages.csv"
    src.write_text("id,content\n1,你好\n", encoding="utf-8")
    res = runner.invoke(app, ["detect", "score", str(src), "-o", str(tmp_path / "out.csv"), "--engine", "spark"])
    assert res.exit_code == 2
    assert "输入文件没有文本列“text”" in res.output and "content" in res.output
    assert not (tmp_path / "out.csv").exists()


def test_without_pyspark_or_java_the_reason_is_given(tmp_path, monkeypatch):
    src = tmp_path / "messages.csv"
    src.write_text("id,text\n1,你好\n", encoding="utf-8")
    args = ["detect", "score", str(src), "-o", str(tmp_path / "out.csv"), "--engine", "spark"]
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "未安装 PySpark" in res.output and "fanzha[spark]" in res.output
    monkeypatch.undo()
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "找不到 Java" in res.output and "openjdk-17-jre-headless" in res.output
    assert not (tmp_path / "out.csv").exists()


def test_unknown_engine_and_parquet_without_spark(tmp_path):
    src = tmp_path / "messages.csv"
    src.write_text("id,text\n1,你好\n", encoding="utf-8")
    res = runner.invoke(app, ["detect", "score", str(src), "-o", str(tmp_path / "o.csv"), "--engine", "flink"])
    assert res.exit_code == 2 and "未知的评分引擎“flink”" in res.output
    res = runner.invoke(app, ["detect", "score", str(src), "-o", str(tmp_path / "o.csv"), "--format", "parquet"])
    assert res.exit_code == 2 and "--engine spark" in res.output


def test_empty_texts_are_reported_alike_by_spark_and_locally(scratch, tmp_path):
    """An empty or blank text is written with the reason (第n行“text”为空，未检查) by both engines, CSV and JSONL; so
    is one with nothing but emoji and invisible characters."""
    texts = messages(200, seed=11)
    for i in (0, 57, 199):
        texts[i] = ""
    texts[100] = "   "
    texts[150] = "😀😀\u200b"  # nothing left to read: reported too (normalise.readable)
    src = tmp_path / "messages.csv"
    write_csv(src, texts)
    score(src, tmp_path / "local.csv")
    said = score(src, tmp_path / "spark.csv", "--engine", "spark")
    assert "未评分 5 行" in said
    assert_same_rows(tmp_path / "local.csv", tmp_path / "spark.csv")
    with open(tmp_path / "spark.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["error"] for r in rows if r["error"]] == [
        f"第{i + 2}行“text”为空，未检查" if i != 150 else "第152行“text”只有表情、不可见字符或网页标记，没有文字，未检查"
        for i in (0, 57, 100, 150, 199)]
    src = tmp_path / "messages.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")
    score(src, tmp_path / "local.jsonl")
    score(src, tmp_path / "spark.jsonl", "--engine", "spark")
    assert_same_rows(tmp_path / "local.jsonl", tmp_path / "spark.jsonl")
