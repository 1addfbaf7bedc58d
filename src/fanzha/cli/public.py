"""`fanzha public` (the public checker's store) and `fanzha blocklist` (review queue and blocklist in the platform)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
public_app = typer.Typer(help="公众端（识诈公众版）：导出举报包、导入黑名单包。在公众端服务器上运行，不需要平台数据库。",
                         **_plain)
blocklist_app = typer.Typer(help="举报审核与黑名单（平台）：导入举报包、导出黑名单包、批量导入导出黑名单。", **_plain)


def _write(data: bytes, output: str) -> None:
    """The whole file on disk (written beside it, flushed to disk, then renamed into place) or on standard output."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    part = path.with_name(path.name + ".part")
    try:
        with part.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _read(file: Path) -> bytes:
    if not file.is_file():
        typer.echo(f"找不到文件：{file}", err=True)
        raise typer.Exit(2)
    return file.read_bytes()


@public_app.command("export-reports")
def export_reports(output: str = typer.Option(..., "-o", "--output", help="举报包文件（.jsonl）；- 为标准输出"),
                   everything: bool = typer.Option(False, "--all", help="连同以前导出过的举报一起导出"),
                   purge: bool = typer.Option(False, "--purge", help="导出后从公众端删除这些举报（不再留存）")) -> None:
    """把尚未导出的举报写成签名举报包，带入平台后用 fanzha blocklist import-reports 导入审核队列。"""
    from fanzha.config import get_settings
    from fanzha.public.bundle import BundleError
    from fanzha.public.store import PublicStore

    settings = get_settings()
    try:
        result = PublicStore(settings.resolved_public_store()).export_reports(
            settings.bundle_key, everything=everything, purge=purge, deliver=lambda data: _write(data, output))
    except BundleError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"举报包写入失败（{exc.strerror or exc}）：{output}；举报仍留在公众端，未标记为已导出", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已导出 {result.count} 条举报" + ("，并已从公众端删除" if purge else ""), err=True)


@public_app.command("import-blocklist")
def import_blocklist(file: Path = typer.Argument(..., help="平台导出的签名黑名单包（.jsonl）")) -> None:
    """用平台导出的签名黑名单包替换公众端的黑名单副本；签名不符或比现有名单旧则拒绝。"""
    from fanzha.config import get_settings
    from fanzha.public.bundle import BundleError
    from fanzha.public.store import PublicStore

    settings = get_settings()
    try:
        result = PublicStore(settings.resolved_public_store()).import_blocklist(_read(file), settings.bundle_key)
    except BundleError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"黑名单已更新：{result['entries']} 条（导出于 {result['created_at']}）")


@public_app.command("status")
def public_status() -> None:
    """公众端存储的情况：举报条数（未导出条数）、黑名单条数与更新时间。"""
    from fanzha.config import get_settings
    from fanzha.public.store import PublicStore

    store = PublicStore(get_settings().resolved_public_store())
    typer.echo(json.dumps({"reports": store.report_counts(), "blocklist": store.blocklist_info()}, ensure_ascii=False))


@blocklist_app.command("import-reports")
def import_reports(file: Path = typer.Argument(..., help="公众端导出的签名举报包（.jsonl）")) -> None:
    """把举报包导入审核队列，输出一行 JSON 汇总；签名不符则拒绝且不写入，同一个包导入两次不会重复。"""
    from fanzha.blocklist import service
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    data = _read(file)
    try:
        with session_scope() as session:
            summary = service.import_reports(session, Scope.system(session), data, file.name)
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))


@blocklist_app.command("export-bundle")
def export_bundle(output: str = typer.Option(..., "-o", "--output", help="黑名单包文件（.jsonl）；- 为标准输出")) -> None:
    """把整个黑名单写成签名黑名单包，带到公众端用 fanzha public import-blocklist 导入。"""
    from fanzha.blocklist import service
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    try:
        with session_scope() as session:
            data = service.export_bundle(session, Scope.system(session))
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    _write(data, output)


@blocklist_app.command("import")
def import_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".xlsx 或 .csv 文件")) -> None:
    """批量导入黑名单（列：号码/网址/账号、类型、来源），输出一行 JSON 汇总；错误行写入批次。"""
    from fanzha.cli.main import _import_file

    _import_file("blocklist", file)


@blocklist_app.command("export")
def export_file(output: Path = typer.Option(..., "-o", "--output", help="输出文件：.xlsx 或 .csv")) -> None:
    """导出黑名单为 Excel 或 CSV（列与导入相同，可原样导回）。"""
    from fanzha.blocklist import service
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        typer.echo("输出文件应以 .xlsx 或 .csv 结尾", err=True)
        raise typer.Exit(2)
    with session_scope() as session:
        output.write_bytes(service.export_file(session, Scope.system(session), fmt))
