"""`fanzha dispatch`: replay a day of warnings against a roster under a dispatch policy (docs/dispatch.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="调度：用历史预警和排班回放调度策略，比较首次联系用时。", **_plain)

GRADE_LABELS = {"high": "高", "medium": "中", "low": "低"}
HEADER = ("级别", "条数", "中位数", "P90", "P95", "时限内联系", "未联系")
WIDTHS = (4, 9, 10, 10, 10, 12, 8)


def run(warnings: Path, staff: Path, *, policy: str = "ours", seed: int = 0, match_addresses: bool = False):
    """The command's work without its output: read both files, replay, return the Result (bench/ calls this)."""
    from fanzha.dispatch.replay_inputs import read_siblings
    from fanzha.dispatch.simulate import read_staff, read_warnings, simulate

    if match_addresses:
        from fanzha.db import session_scope

        with session_scope() as session:
            rows = read_warnings(warnings, session)
    else:
        rows = read_warnings(warnings)
    return simulate(rows, read_staff(staff), policy=policy, seed=seed, siblings=read_siblings(staff))


def _minutes(x: float) -> str:
    if math.isnan(x):
        return "—"
    return "未联系" if math.isinf(x) else f"{x:,.1f}"


def _cell(text: str, width: int) -> str:
    """Right-aligned in `width` terminal columns (a Chinese character takes two)."""
    from unicodedata import east_asian_width

    used = sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
    return " " * max(0, width - used) + text


def render(result) -> str:
    from fanzha.common.localtime import zone
    from fanzha.dispatch.policy import POLICY_LABELS

    tz = zone()
    lines = [f"调度回放：{POLICY_LABELS.get(result.policy, result.policy)}",
             f"预警 {result.warnings:,} 条；回放 {result.start.astimezone(tz):%Y-%m-%d %H:%M} 至 "
             f"{result.end.astimezone(tz):%Y-%m-%d %H:%M}（最后一条预警后 24 小时）",
             "首次联系用时（分钟，从预警时间起；P90 即 90% 的预警在此之内）：",
             "".join(_cell(t, w) for t, w in zip(HEADER, WIDTHS, strict=True))]
    for grade, f in result.by_grade.items():
        share = "—" if f.in_time is None else f"{f.in_time:.1%}"
        cells = (GRADE_LABELS[grade], f"{f.n:,}", _minutes(f.p50), _minutes(f.p90), _minutes(f.p95), share,
                 f"{f.unreached:,}")
        lines.append("".join(_cell(t, w) for t, w in zip(cells, WIDTHS, strict=True)))
    lines.append(f"跨所协助首次联系（呼叫尝试）{result.helped:,} 次；自动短信首次联系 {result.sms:,} 条")
    if result.utilisation:
        values = sorted(result.utilisation.values())
        lines.append(f"劝阻员 {len(values)} 人，在岗时间利用率：平均 {sum(values) / len(values):.0%}，"
                     f"最低 {values[0]:.0%}，最高 {values[-1]:.0%}（--json 给出每人的数字）")
    return "\n".join(lines)


@app.command("simulate")
def simulate_cmd(
        warnings: Path = typer.Option(..., "--warnings", help="预警文件（CSV：UTF-8 或 GBK；或 XLSX）：预警编号、预警时间、"
                                      "预警级别（空则按研判规则）、预警类型、派出所（派出所代码），可有拟转账金额等省厅导出列"),
        staff: Path = typer.Option(..., "--staff", help="排班文件：派出所、劝阻员、上班、下班（HH:MM，下班不晚于上班即跨午夜）；"
                                   "可选“分局”列：同一分局的派出所之间可协助首次联系，无此列则不协助"),
        policy: str = typer.Option("ours", "--policy", help="fifo：先到先办（现行做法）；ours：平台调度策略（默认）"),
        seed: int = typer.Option(0, "--seed", help="随机种子：处置用时的抽样（同一种子下两种策略抽到相同的用时）"),
        as_json: bool = typer.Option(False, "--json", help="输出 JSON（未联系到的百分位为 null）"),
        match_addresses: bool = typer.Option(False, "--match-addresses",
                                             help="预警文件无派出所列时，用已配置的平台数据库按现住址/户籍地址匹配派出所")) -> None:
    """回放预警与排班：按所选调度策略模拟劝阻员的处置，给出各级别首次联系用时（中位数、P90、P95）、时限内联系比例、
    未联系数和每名劝阻员的利用率。处置用时取调度策略文件（FANZHA_DISPATCH_RULES）[handling] 的默认值。"""
    from fanzha.common.rules import RulesFileError
    from fanzha.dispatch.policy import POLICIES
    from fanzha.dispatch.replay_inputs import ReplayInputError

    if policy not in POLICIES:
        typer.echo(f"未知的调度策略：{policy}（应为 {'、'.join(POLICIES)}）", err=True)
        raise typer.Exit(2)
    for path in (warnings, staff):
        if not path.is_file():
            typer.echo(f"找不到文件：{path}", err=True)
            raise typer.Exit(2)
    try:
        result = run(warnings, staff, policy=policy, seed=seed, match_addresses=match_addresses)
    except (ReplayInputError, RulesFileError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(render(result))
    from fanzha.dispatch.replay_inputs import read_siblings

    if policy == "ours" and read_siblings(staff) is None:
        typer.echo("（排班文件没有“分局”列：本次回放不跨所协助）")
