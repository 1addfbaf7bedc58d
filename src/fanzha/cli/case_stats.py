"""`fanzha cases stats`: the 案件研判 figures of a node and period, as text or JSON; `--rebuild` recomputes the roll-up."""

from __future__ import annotations

import json

import typer


def stats(area: str = typer.Option("", "--area", help="辖区编码（任一条链的任一级）；不填为市（行政链的根）"),
          period: str = typer.Option("", "--period", help="时间段：2026-10、2026-Q3、2026、2026-W43、2026-10-05；不填为上个月"),
          date_from: str = typer.Option("", "--from", help="自定义开始日期，如 2025-12-15（含）"),
          date_to: str = typer.Option("", "--to", help="自定义结束日期，如 2026-01-14（含）"),
          chain: str = typer.Option("", "--chain", help="排名按哪条链的下一级：admin 行政 / police 公安；不填为同一条链"),
          rank_by: str = typer.Option("cases", "--rank-by", help="排名依据：cases 立案数 / loss 损失金额 / rate 万人发案率"),
          as_json: bool = typer.Option(False, "--json", help="输出 JSON（与 /api/v1/cases/stats 相同）"),
          rebuild: bool = typer.Option(False, "--rebuild", help="先按案件重算统计汇总表（更改时区后需要）")) -> None:
    """案件研判：立案、损失、追回、冻结、破案、抓获，同比、环比，万人发案率，下级排名，重点村社区和重点人群。

    与“案件研判”页面同一口径（docs/case-stats.md）。
    """
    from fanzha.cases.stats import rollup
    from fanzha.cases.stats.service import case_stats, resolve_area
    from fanzha.common import periods
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    if rebuild:  # maintenance: DDL on the roll-up table, so as the tables' owner
        from fanzha.db import make_engine
        from fanzha.migrate import owner_url

        engine = make_engine(owner_url())
        try:
            with engine.begin() as conn:
                cells = rollup.rebuild(conn)
        finally:
            engine.dispose()
        typer.echo(f"统计汇总表已重算：{cells} 个单元", err=as_json)
    try:
        with session_scope() as session:
            scope = Scope.system(session)
            st = case_stats(session, scope, area=resolve_area(session, scope, area),
                            period=periods.parse(period, date_from, date_to), child_chain=chain, rank_by=rank_by)
            data = st.as_dict()
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"{st.area_name} {st.period.label}（环比 {st.previous.label}，同比 {st.year_ago.label}）")
    for h in st.headline:
        value = f"{h.value:.2f}" if isinstance(h.value, float) else ("—" if h.value is None else f"{h.value:,}")
        typer.echo(f"  {h.label:<8} {value:>16} {h.unit:<5} 环比 {h.mom.text:<10} 同比 {h.yoy.text}")
    if st.children:
        typer.echo(f"{st.child_level}排名：")
        for r in st.children:
            rate = f"{r.rate:.2f}" if r.rate is not None else "—"
            typer.echo(f"  {r.rank:>3} {r.arrow} {r.name}  立案 {r.totals.cases}  万人发案率 {rate}  环比 {r.mom.text}")
    for title, items in (("重点村/社区", st.key_communities), ("重点人群", st.key_groups)):
        if items:
            typer.echo(f"{title}：")
            for k in items:
                typer.echo(f"  {k.label}：{'；'.join(k.reasons)}")
    typer.echo(f"口径：{st.basis}。")
