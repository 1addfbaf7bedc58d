"""`fanzha detect check|score`: the Chinese verdict for a person, and streaming scoring of GBK/UTF-8 CSV and JSONL."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from fanzha.cli.detect import app

runner = CliRunner()


def test_check_prints_a_chinese_verdict():
    r = runner.invoke(app, ["check", "您好，我是公安局民警，您涉嫌洗钱，请把钱转到安全账户"])
    assert r.exit_code == 0, r.output
    assert "结论：诈骗" in r.output and "冒充公检法" in r.output and "提醒：" in r.output
    assert "安全账户" in r.output
    assert "模型只读文字给出的诈骗概率" in r.output and "结论还依据下列风险特征" in r.output  # rule hits are named
    r = runner.invoke(app, ["check", "晚上回家吃饭吗"])
    assert "结论：正常" in r.output and "结论还依据" not in r.output


def test_check_json_and_stdin():
    r = runner.invoke(app, ["check", "-", "--json"], input="妈，我周五回家吃饭")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["risk"] == "normal" and set(d) >= {"risk", "fraud_type", "fraud_prob", "reasons", "advice"}


def _gbk_csv(path):
    rows = [("id", "号码", "text"),
            ("1", "13800000001", "兼职刷单，垫付后返还本金和佣金，日结三百"),
            ("2", "13800000002", "晚上回家吃饭吗？我做了红烧肉"),
            ("3", "13800000003", "澳门娱乐城首充送彩金，百家乐真人视讯")]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode("gbk") + b"4,13800000004,\xff\xfe bad bytes\r\n")


def test_score_gbk_csv_keeps_every_row_and_column(tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    _gbk_csv(src)
    r = runner.invoke(app, ["score", str(src), "-o", str(dst)])
    assert r.exit_code == 0, r.output
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        out = list(csv.DictReader(fh))
    assert [row["id"] for row in out] == ["1", "2", "3", "4"]
    assert out[0]["号码"] == "13800000001"
    assert [row["risk"] for row in out[:3]] == ["fraud", "normal", "illicit"]
    assert out[0]["fraud_type"] == "brushing" and json.loads(out[0]["reasons"])
    assert 0.5 <= float(out[0]["fraud_prob"]) <= 1
    assert out[3]["risk"] == "" and "无法" in out[3]["error"]  # reported, not dropped
    assert "未评分 1 行" in r.output


def test_score_neutralises_the_inputs_cells_and_writes_its_own_as_they_are(tmp_path):
    """A message or an id that starts like a formula comes out behind an apostrophe (the input's cells are the only
    ones that can); the added columns are written as the scorer made them."""
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,text\n+1,"=HYPERLINK(""http://x.top"",""领取"")"\n@2,-晚上回家吃饭吗\n3,\n', encoding="utf-8")
    r = runner.invoke(app, ["score", str(src), "-o", str(dst)])
    assert r.exit_code == 0, r.output
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        out = list(csv.DictReader(fh))
    assert [row["id"] for row in out] == ["'+1", "'@2", "3"]
    assert out[0]["text"].startswith("'=HYPERLINK") and out[1]["text"] == "'-晚上回家吃饭吗"
    assert all(row["risk"] in ("normal", "spam", "illicit", "fraud") for row in out[:2])
    assert (out[2]["risk"], out[2]["error"]) == ("", "第4行“text”为空，未检查")  # an empty text is not scored
    assert all(not row["reasons"].startswith("'") and not row["risk_label"].startswith("'") for row in out)


def test_an_empty_or_blank_text_is_reported_not_called_normal(tmp_path):
    """An empty message read 正常 at P 0, as if it had been checked: it is written with the reason instead, in CSV
    (an empty cell, spaces only; a row too short for the column keeps its own reason) and in JSONL ("" and spaces;
    a number is text)."""
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,text\n1,晚上回家吃饭吗\n2,\n3,\"  \"\n4\n", encoding="utf-8")
    r = runner.invoke(app, ["score", str(src), "-o", str(dst)])
    assert r.exit_code == 0, r.output
    assert "正常 1" in r.output and "未评分 3 行" in r.output
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        out = list(csv.DictReader(fh))
    assert [(row["risk"], row["error"]) for row in out] == [
        ("normal", ""), ("", "第3行“text”为空，未检查"), ("", "第4行“text”为空，未检查"), ("", "第5行缺少“text”列的值")]
    data = '{"id": 1, "text": ""}\n{"id": 2, "text": " \\n "}\n{"id": 3, "text": 12345}\n'
    r = runner.invoke(app, ["score", "-", "-o", "-", "--format", "jsonl"], input=data)
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [x["error"] for x in lines] == ["第1行“text”为空，未检查", "第2行“text”为空，未检查", ""]
    assert lines[2]["risk"] in ("normal", "spam") and lines[2]["text"] == 12345


def test_a_text_with_nothing_left_to_read_is_reported_not_called_normal(tmp_path):
    """Emoji alone, invisible characters alone, or web markup alone leave nothing to read once normalised: such a row
    read 正常 at P 0 in bulk as if a message had been checked. It is written with its reason; text around the same
    characters is scored as usual. `detect check` says it did not check and exits 2."""
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,text\n1,😀😀👍\n2,\u200b\u200d\ufeff\n3,<p><br></p>\n4,<b>晚上回家吃饭吗</b>😀\n5,&nbsp;\n",
                   encoding="utf-8")
    r = runner.invoke(app, ["score", str(src), "-o", str(dst)])
    assert r.exit_code == 0, r.output
    assert "未评分 4 行" in r.output
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        out = list(csv.DictReader(fh))
    nothing = "“text”只有表情、不可见字符或网页标记，没有文字，未检查"
    assert [(row["risk"], row["error"]) for row in out] == [
        ("", "第2行" + nothing), ("", "第3行" + nothing), ("", "第4行" + nothing), ("normal", ""), ("", "第6行" + nothing)]
    r = runner.invoke(app, ["check", "😀😀"])
    assert r.exit_code == 2 and r.output.startswith("未检查：没有可检查的文字") and "正常" not in r.output
    r = runner.invoke(app, ["check", "--json", "\u200b"])
    assert r.exit_code == 2 and json.loads(r.stdout)["no_text"] is True and json.loads(r.stdout)["risk_label"] == "未检查"
    r = runner.invoke(app, ["check", "--json", "晚上回家吃饭吗😀"])
    assert r.exit_code == 0 and json.loads(r.stdout)["no_text"] is False


def test_score_without_the_text_column_says_so_in_chinese(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,content\n1,你好\n", encoding="utf-8")
    r = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "out.csv")])
    assert r.exit_code == 2
    assert "没有文本列“text”" in r.output and "content" in r.output and "--text-col" in r.output
    r = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "out.csv"), "--text-col", "content"])
    assert r.exit_code == 0, r.output


def test_score_jsonl_stdin_to_stdout_reports_broken_lines():
    data = '{"id": 1, "msg": "您的校园贷需要注销，否则影响征信"}\n{broken\n{"id": 3}\n'
    r = runner.invoke(app, ["score", "-", "-o", "-", "--format", "jsonl", "--text-col", "msg"], input=data)
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 3
    assert lines[0]["risk"] == "fraud" and lines[0]["fraud_type"] == "credit_repair"
    assert lines[1]["error"] and lines[2]["error"]


def test_missing_input_file(tmp_path):
    r = runner.invoke(app, ["score", str(tmp_path / "nope.csv"), "-o", "-"])
    assert r.exit_code == 2 and "找不到输入文件" in r.output
