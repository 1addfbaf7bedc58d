"""`fanzha backup` and `fanzha restore`: the database, the files it points to, the audit seal file (docs/deploy.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError


def _unreachable(exc: Exception) -> typer.Exit:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    typer.echo(f"无法连接数据库：{reason}", err=True)
    return typer.Exit(1)


def _where() -> tuple[str, Path, Path]:
    from fanzha.audit.seals import seal_file
    from fanzha.config import get_settings
    from fanzha.migrate import owner_url

    return owner_url(), get_settings().data_dir, seal_file()


def backup(to: Path = typer.Option(..., "--to", file_okay=False, help="备份目录（新的或空的目录）"),
           keep: int = typer.Option(0, "--keep", min=0,
                                    help="备份后只保留 --to 的上级目录中最新的这么多个备份（按目录名排序，只删含 "
                                         "manifest.json 的目录）；0 为不删")) -> None:
    """备份数据库（SQLite 在线备份 / PostgreSQL pg_dump 自定义格式）、数据目录中记录指向的文件（见面与宣传活动照片、
    考核佐证、导入文件）、库外审计封存文件和签名密钥，并写 manifest.json（版本、迁移版本、每张表的行数、文件的
    SHA-256）。平台运行时也可备份。--to 中可用 {date}（如 /srv/backup/fanzha-{date}）。"""
    from fanzha.ops import backup as ops

    url, data_dir, seals = _where()
    target = Path(str(to).replace("{date}", datetime.now().strftime("%Y%m%d-%H%M%S")))
    try:
        manifest = ops.backup(target, url=url, data_dir=data_dir, seal_file=seals,
                              log=lambda m: typer.echo(f"==> {m}"))
    except ops.BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except OperationalError as exc:
        raise _unreachable(exc) from exc
    rows = sum(manifest["tables"].values())
    typer.echo(f"已备份到 {target}：{manifest['database']} 数据库（版本 {manifest['alembic_revision']}），"
               f"{len(manifest['tables'])} 张表 {rows} 行，{len(manifest['files'])} 个文件"
               + ("，含审计封存文件" if "audit_seal_file" in manifest else "，没有库外审计封存文件"))
    missing = manifest["missing_files"]
    if missing:
        typer.echo(f"注意：{len(missing)} 个记录指向的文件不在数据目录中，未能备份（清单 missing_files）："
                   + "、".join(missing[:5]) + (" 等" if len(missing) > 5 else ""), err=True)
    if keep:
        for old in ops.prune(target.parent, keep):
            typer.echo(f"已删除旧备份 {old}")


def restore(source: Path = typer.Option(..., "--from", exists=True, file_okay=False, help="fanzha backup 生成的备份目录"),
            force: bool = typer.Option(False, "--force", help="目标数据库不是空的、或数据目录已有不同的同名文件时仍然覆盖")
            ) -> None:
    """把备份恢复到空数据库（FANZHA_DATABASE_OWNER_URL 或 FANZHA_DATABASE_URL）和数据目录：先核对清单和每个文件的
    SHA-256，恢复后比对每张表的行数和文件，并核验审计哈希链。备份的迁移版本比程序旧时，恢复后请运行
    fanzha db upgrade；比程序新则拒绝。"""
    from fanzha.config import get_settings
    from fanzha.migrate import grant_application
    from fanzha.ops import backup as ops

    url, data_dir, seals = _where()
    try:
        result = ops.restore(source, url=url, data_dir=data_dir, seal_file=seals, force=force,
                             log=lambda m: typer.echo(f"==> {m}"))
    except ops.BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except OperationalError as exc:
        raise _unreachable(exc) from exc
    role = grant_application(url, get_settings().resolved_database_url())
    if role:
        typer.echo(f"已授予应用角色 {role} 读写权限（同 fanzha db upgrade）")
    typer.echo(f"已恢复：{result.tables} 张表 {result.rows} 行，{result.files} 个文件")
    if result.seal_file:
        typer.echo(f"审计封存文件已恢复到 {result.seal_file}")
    for problem in result.mismatches:
        typer.echo(f"与备份不符：{problem}", err=True)
    if not result.mismatches:
        typer.echo("每张表的行数、每个文件的 SHA-256 均与备份清单一致")
    if result.upgrade_needed:
        typer.echo(f"备份的数据库版本 {result.revision} 比程序旧：请运行 fanzha db upgrade，再运行 fanzha audit verify")
    elif result.audit_ok:
        typer.echo(result.audit_message)
    else:
        typer.echo(result.audit_message, err=True)
    if not result.ok:
        raise typer.Exit(1)
