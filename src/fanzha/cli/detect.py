"""`fanzha detect`: is this message a scam? Check one text, score a file, rebuild or evaluate the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="识诈：判断短信/聊天是否为诈骗、违法推广或营销广告（离线模型，无需数据库）。", **_plain)


def _explain(v) -> str:
    if v.no_text:
        return f"未检查：{v.advice}"
    also = "；结论还依据下列风险特征" if v.rests_on_flags else ""
    lines = [f"结论：{v.risk_label}（模型只读文字给出的诈骗概率 {v.fraud_prob:.0%}{also}）"]
    if v.fraud_type:
        lines.append(f"诈骗类型：{v.fraud_type_label}")
    if v.reasons:
        lines.append("风险特征：" if v.rests_on_flags else "判断依据：")
        lines += [f"  · {r['name']}：“{r['text']}”" for r in v.reasons]
    found = {"phones": "电话", "urls": "网址", "bank_cards": "银行卡", "qq": "QQ", "wechat": "微信", "amounts": "金额"}
    named = [f"{label} {'、'.join(v.entities[k])}" for k, label in found.items() if v.entities.get(k)]
    if named:
        lines.append("涉及：" + "；".join(named))
    if v.truncated:
        lines.append("（文本超过 100,000 字，只检查了前 100,000 字）")
    lines.append(f"提醒：{v.advice}")
    return "\n".join(lines)


def run_file_job(job, input: str):
    """Run a file command; a missing file or an unusable input (no text column …) exits 2 with the reason."""
    from fanzha.detect.scorefile import InputError

    try:
        return job()
    except FileNotFoundError:
        typer.echo(f"找不到输入文件：{input}", err=True)
        raise typer.Exit(2) from None
    except InputError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


@app.command("check")
def check_cmd(text: str = typer.Argument(..., help="要检查的文本；写 - 从标准输入读取"),
              as_json: bool = typer.Option(False, "--json", help="输出 JSON 而不是中文说明")) -> None:
    """检查一条短信或一段聊天，给出结论、诈骗类型、风险特征和一句话提醒。

    内容只有表情、不可见字符或网页标记（没有文字）时不作判断，说明原因并以状态 2 退出。"""
    from fanzha.detect import check

    if text == "-":
        text = sys.stdin.read()
    v = check(text)
    typer.echo(json.dumps(v.as_dict(), ensure_ascii=False, indent=2) if as_json else _explain(v))
    if v.no_text:
        raise typer.Exit(2)


@app.command("score")
def score_cmd(input: str = typer.Argument(..., help="输入文件（CSV：UTF-8 或 GBK；或 JSONL；Spark 引擎另可读 Parquet）；- 为标准输入"),
              output: str = typer.Option(..., "-o", "--output", help="输出文件（.csv 或 .jsonl）；- 为标准输出"),
              text_col: str = typer.Option("text", "--text-col", help="文本所在的列（JSONL 为字段名）"),
              fmt: str = typer.Option("", "--format", help="输入格式 csv、jsonl 或 parquet（parquet 仅 Spark 引擎；"
                                                           "默认按扩展名，标准输入默认 csv）"),
              workers: int = typer.Option(1, "--workers", min=1, max=64,
                                          help="评分进程数（大文件可设为 CPU 核数；结果与单进程相同）"),
              engine: str = typer.Option("local", "--engine",
                                         help="评分引擎：local（本机进程）或 spark（Apache Spark，需 pip install "
                                              "'fanzha[spark]' 和 Java 17；结果与 local 逐行相同）"),
              spark_master: str = typer.Option("local[2]", "--spark-master",
                                               help="Spark 引擎的 master（local[N]、spark://主机:7077、yarn 等）"),
              partitions: int = typer.Option(0, "--partitions", min=0, max=100_000,
                                             help="Spark 引擎把输入分成的份数（0：按集群的并行度）"),
              spark_conf: list[str] = typer.Option([], "--spark-conf",
                                                   help="Spark 设置 KEY=VALUE（可重复，如 spark.executor.memory=4g）")) -> None:
    """批量评分：逐行写出原有各列，加上 risk、fraud_type、fraud_prob、reasons；读不出、文本为空或没有文字的行不评分，在 error 列说明原因。"""
    if engine == "local":
        from fanzha.detect.scorefile import score_file

        if fmt == "parquet":
            typer.echo("Parquet 输入需要 Spark 引擎：请加 --engine spark", err=True)
            raise typer.Exit(2)

        def job():
            return score_file(input, output, text_col=text_col, fmt=fmt or None, workers=workers)
    elif engine == "spark":
        from fanzha.detect.spark import score_file_spark

        conf = dict(item.split("=", 1) for item in spark_conf if "=" in item)
        if len(conf) != len(spark_conf):
            typer.echo("--spark-conf 的格式是 KEY=VALUE，例如 spark.executor.memory=4g", err=True)
            raise typer.Exit(2)

        def job():
            return score_file_spark(input, output, text_col=text_col, fmt=fmt or None, master=spark_master,
                                    partitions=partitions or None, conf=conf)
    else:
        typer.echo(f"未知的评分引擎“{engine}”：可选 local 或 spark", err=True)
        raise typer.Exit(2)
    s = run_file_job(job, input)
    names = {"fraud": "诈骗", "illicit": "违法推广", "spam": "营销广告", "normal": "正常"}
    parts = "，".join(f"{names[k]} {s.risks.get(k, 0)}" for k in names)
    msg = f"已处理 {s.rows} 行：{parts}"
    if s.unreadable:
        msg += f"；未评分 {s.unreadable} 行（读不出、文本为空或没有文字，原样写出，原因见 error 列）"
    typer.echo(msg, err=True)


@app.command("train")
def train_cmd(data: Path = typer.Option(None, "--data", help="语料目录（默认 ../shared/data）"),
              out: Path = typer.Option(None, "--out", help="模型输出目录（默认覆盖随包发布的模型）")) -> None:
    """用公开语料重新训练模型（可复现：同样的数据得到同样的模型），并写出各来源的留出评估。"""
    from fanzha.detect.train import train

    try:
        meta = train(root=data, out=out, log=lambda m: typer.echo(m, err=True))
    except FileNotFoundError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"模型版本 {meta['version']}")


@app.command("eval")
def eval_cmd(data: Path = typer.Option(None, "--data", help="语料目录（默认 ../shared/data）"),
             json_out: Path = typer.Option(None, "--json-out", help="把各来源指标写入此 JSON 文件")) -> None:
    """留一来源交叉验证：每次留出一个语料来源，用其余来源训练，报告 macro-F1、诈骗精确率/召回率、混淆矩阵和 ECE。"""
    from fanzha.detect import data as corpora
    from fanzha.detect import evaluate

    try:
        examples = corpora.load_all(data)
    except FileNotFoundError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    res = evaluate.loso(examples, log=lambda m: typer.echo(m, err=True))
    typer.echo(evaluate.format_table(res["per_source"]))
    if json_out:
        json_out.write_text(json.dumps(res["per_source"], ensure_ascii=False, indent=2), encoding="utf-8")
