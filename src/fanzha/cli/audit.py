"""`fanzha audit`: seal the audit log into its hash chain now, and verify the chain (docs/privacy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="审计日志：封存（哈希链）与防篡改核验。", **_plain)


@app.command("seal")
def seal() -> None:
    """立即封存已到期的审计记录（后台任务每分钟自动封存），并写入库外封存文件。"""
    from fanzha.audit import seals
    from fanzha.db import session_scope

    with session_scope() as session:
        made = seals.seal_all(session)
        rows = sum(s.rows for s in made)
    typer.echo(f"新封存 {len(made)} 个，共 {rows} 条审计记录" if made else "没有需要封存的审计记录")


@app.command("verify")
def verify(seal_file: Path = typer.Option(None, "--file", help="库外封存文件；默认取配置 FANZHA_AUDIT_SEAL_FILE"),
           as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """核验审计日志的哈希链：逐个封存重算摘要，并与库外封存文件比对；发现第一个断开或缺失的环节即报告（退出码 1）。"""
    from fanzha.audit import seals
    from fanzha.db import session_scope

    with session_scope() as session:
        v = seals.verify(session, path=seal_file)
    if as_json:
        typer.echo(json.dumps({"ok": v.ok, "seals": v.seals, "rows": v.rows, "unsealed": v.unsealed,
                               "problem": v.problem, "seal": v.seal_id, "notes": v.notes}, ensure_ascii=False))
    elif v.ok:
        typer.echo(f"审计日志完好：{v.seals} 个封存、{v.rows} 条记录核验一致；另有 {v.unsealed} 条尚未封存。")
        for note in v.notes:
            typer.echo(f"注意：{note}")
    else:
        typer.echo(f"审计日志被篡改：{v.problem}（此前 {v.seals} 个封存、{v.rows} 条记录核验一致）", err=True)
    if not v.ok:
        raise typer.Exit(1)
