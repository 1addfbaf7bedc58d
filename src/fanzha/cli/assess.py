"""`fanzha assess`: score a scheme over a period and print the standings (考核)."""

from __future__ import annotations

import json

import typer

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
assess_app = typer.Typer(help="考核：按考核方案为成员单位、乡镇（办事处）计分和排名。", **_plain)


@assess_app.command("schemes")
def assess_schemes() -> None:
    """列出可用的考核方案（内置滨州、江油，及 FANZHA_ASSESS_SCHEME_DIR 中的方案）。"""
    from fanzha.assess.service import schemes

    for key, s in schemes().items():
        typer.echo(f"{key}\t{s.label()}\t每{ {'year': '年', 'quarter': '季度', 'month': '月'}[s.period] }\t满分 {s.total}")


@assess_app.command("score")
def assess_score(period: str = typer.Option(..., "--period", help="考核期：2026（年）、2026-Q3（季度）、2026-10（月）"),
                 scheme: str = typer.Option("binzhou", "--scheme", help="考核方案，见 fanzha assess schemes"),
                 area: str = typer.Option("", "--area", help="行政区划编码（市或区县）；不填为最上一级"),
                 as_json: bool = typer.Option(False, "--json", help="输出 JSON：[{unit, total, items: [{name, points, max, basis}]}]")) -> None:
    """计算（或重新计算）一期考核并输出得分。已有的同期考核沿用其人工评分；已锁定的只输出不重算。"""
    from sqlalchemy import select

    from fanzha.assess import service
    from fanzha.assess.models import AssessmentRun
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.enums import Chain
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.org.tree import top_area

    with session_scope() as session:
        scope = Scope.system(session)
        node = (session.scalar(select(Area).where(Area.chain == Chain.ADMIN, Area.code == area)) if area
                else top_area(session, Chain.ADMIN))
        if node is None:
            typer.echo(f"行政区划编码 {area} 不存在" if area else "还没有行政区划", err=True)
            raise typer.Exit(2)
        try:
            label = service.parse_label(period)
            run = session.scalar(select(AssessmentRun).where(AssessmentRun.scheme_key == scheme,
                                                             AssessmentRun.period == label,
                                                             AssessmentRun.area_id == node.id))
            if run is None:
                run = service.create_run(session, scope, scheme_key=scheme, period=period, area_id=node.id)
            elif run.status != "locked":
                service.score(session, scope, run.id)
            data = service.as_json(session, scope, run.id)
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from exc
        status = run.status
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"{node.label} {label} {scheme}（{'已锁定' if status == 'locked' else '草稿'}）")
    for row in data:
        mark = "" if row["complete"] else "（有未评分项）"
        typer.echo(f"  {row['place']:>2}. [{row['pool']}] {row['unit']}  {row['total']:g}{mark}")
