"""`fanzha report`: bulletins (通报) as DOCX/PDF with a number from the register, the register, map boundaries."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="通报（公文）、发文登记与地图边界。", **_plain)


def _area(session, code: str):
    from sqlalchemy import select

    from fanzha.org.models import Area

    if not code:
        return None
    node = session.scalar(select(Area).where(Area.code == code))
    if node is None:
        typer.echo(f"辖区编码 {code} 不存在", err=True)
        raise typer.Exit(2)
    return node


@app.command("bulletin")
def bulletin(period: str = typer.Option(..., "--period",
                                        help="期间：2026-10-05（日）、2026-W41（周）、2026-10（月）、2026-Q3（季度）"),
             area: str = typer.Option("", "--area", help="辖区编码（任一条链的任一级）；不填为全辖区"),
             output: Path = typer.Option(..., "-o", "--output", help="输出文件，.docx 或 .pdf（按扩展名决定格式）"),
             draft: bool = typer.Option(False, "--draft", help="只生成草稿：不编号、不登记"),
             issued_on: str = typer.Option("", "--date", help="成文日期，如 2026-11-03；默认今天"),
             revision: str = typer.Option("", "--revision",
                                          help="修订说明：本期已发出时，作为修订再次发出（代替最近一次发出的文号）")) -> None:
    """生成通报并写入文件。默认取发文字号并登记（发文登记可在“通报”页面下载）；--draft 只出草稿。
    同一期间、同一辖区只发出一次；再次发出须用 --revision 写明修订说明，登记为修订版。"""
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope
    from fanzha.reports import bulletin as bulletins
    from fanzha.reports import service

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in service.FORMATS:
        typer.echo("输出文件的扩展名应为 .docx 或 .pdf", err=True)
        raise typer.Exit(2)
    try:
        when = date.fromisoformat(issued_on) if issued_on else None
        p = bulletins.parse_period(period)
        with session_scope() as session:
            scope = Scope.system(session)
            node = _area(session, area)
            if draft:
                out = service.render(session, scope, p, node, issued_on=when, formats=(fmt,))
                data, number = (out.docx if fmt == "docx" else out.pdf), "（草稿，未编号）"
            else:
                doc = service.issue_bulletin(session, scope, p, node, issued_on=when,
                                             revision_note=revision or None)
                data, number = (doc.docx if fmt == "docx" else doc.pdf), doc.number
    except ValueError as exc:
        typer.echo("成文日期格式应为 2026-11-03", err=True)
        raise typer.Exit(2) from exc
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    output.write_bytes(data)
    typer.echo(f"{number} → {output}（{len(data)} 字节）")


@app.command("register")
def register(year: int = typer.Option(0, help="年份；0 为全部"), kind: str = typer.Option("", help="种类，如 monthly"),
             as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """列出发文登记：发文字号、种类、期间、标题、成文日期、发文人。"""
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope
    from fanzha.reports import service

    with session_scope() as session:
        rows, _ = service.register(session, Scope.system(session), kind=kind, year=year or None, limit=10_000)
        items = [{"id": d.id, "number": d.number, "kind": d.kind, "period": d.period, "title": d.title,
                  "issued_on": d.issued_on.isoformat(), "issued_by": d.issued_by_name} for d in rows]
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False))
        return
    for it in items:
        typer.echo(f"{it['number']}\t{it['period']}\t{it['title']}\t{it['issued_on']}\t{it['issued_by']}")


@app.command("geo-import")
def geo_import(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                           help="GeoJSON FeatureCollection（UTF-8）；每个要素的 properties.code 为辖区编码")) -> None:
    """导入辖区边界（Polygon/MultiPolygon）或中心点（Point）。任一要素有错则整份不导入，并列出错误。"""
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope
    from fanzha.reports import geo

    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        typer.echo(f"不是有效的 GeoJSON（UTF-8 JSON）：{exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        with session_scope() as session:
            result = geo.import_geojson(session, Scope.system(session), data, source=file.name)
            if result.errors:
                session.rollback()
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    if result.errors:
        for e in result.errors:
            typer.echo(f"第 {e['feature']} 个要素 {e['code']}：{e['reason']}", err=True)
        typer.echo("有错误，未导入任何数据", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps({"boundaries": result.boundaries, "centroids": result.centroids}, ensure_ascii=False))
