"""The 案件研判 page and the list of cases behind any of its figures."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from fanzha.cases.stats import definitions
from fanzha.cases.stats.api import Drill, Where, drill, where
from fanzha.cases.stats.service import (
    DIMENSIONS,
    MEASURES,
    RANK_BY,
    case_stats,
    cases_behind,
    resolve_area,
    value_label,
)
from fanzha.common.errors import DomainError
from fanzha.common.identity import mask_name
from fanzha.org import service as org
from fanzha.org.enums import CHAIN_LABELS, LEVEL_LABELS, Level
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import require
from fanzha.web.render import render
from fanzha.web.replica import ReadDb

router = APIRouter()
PAGE = 50


@router.get("/cases/stats")
def stats_page(request: Request, db: ReadDb, w: Where = Depends(where), chain: str = Query("", pattern="^(|admin|police)$"),
               rank_by: str = Query("cases", pattern="^(cases|loss|rate)$"),
               scope: Scope = Depends(require(Perm.READ_CASES))):
    areas = [a for a in org.list_areas(db, scope, limit=5000) if a.level != Level.COMMUNITY]
    try:
        node, p = w.resolve(db, scope)
        st = case_stats(db, scope, area=node, period=p, child_chain=chain, rank_by=rank_by)
    except DomainError as exc:
        return render(request, "cases/stats.html", status_code=exc.status_code, error=exc.message, st=None,
                      areas=areas, form={"area": w.area, "period": w.period, "from": w.date_from, "to": w.date_to,
                                         "chain": chain, "rank_by": rank_by})
    base = f"area={st.area_code}&period={p.spec}" if p.kind != "custom" else \
        f"area={st.area_code}&from={p.start}&to={p.end}"
    chart = {"types": [{"name": r.label, "value": r.totals.cases} for r in st.breakdowns["type"].rows
                       if r.totals.cases]}
    notes = {"amounts": definitions.AMOUNTS_NOTE, "rate": definitions.RATE_NOTE}
    return render(request, "cases/stats.html", error="", st=st, areas=areas, base=base, DIMENSIONS=DIMENSIONS,
                  MEASURES=MEASURES, RANK_BY=RANK_BY, CHAIN_LABELS=CHAIN_LABELS, LEVEL_LABELS=LEVEL_LABELS, notes=notes,
                  chart=json.dumps(chart, ensure_ascii=False),
                  form={"area": st.area_code, "period": w.period or (p.spec if p.kind != "custom" else ""),
                        "from": w.date_from, "to": w.date_to, "chain": chain, "rank_by": rank_by})


@router.get("/cases/stats/cases")
def behind_page(request: Request, db: ReadDb, w: Where = Depends(where), d: Drill = Depends(drill),
                page: int = Query(1, ge=1, le=100_000),
                scope: Scope = Depends(require(Perm.READ_CASES))):
    node, p = w.resolve(db, scope)
    measure, dim, value = d.measure, d.dim, d.value
    sub_area = resolve_area(db, scope, d.sub) if d.sub else None
    rows, total = cases_behind(db, scope, area=node, period=p, measure=measure, dim=dim, value=value, sub=sub_area,
                               limit=PAGE, offset=(page - 1) * PAGE)
    what = [node.label, p.label, definitions.MEASURES[measure].basis]
    if dim and dim != "all":
        what.append(f"{DIMENSIONS[dim][0]}：{value_label(dim, value)}")
    if sub_area is not None:
        what.append(sub_area.label)
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"]) + "&"
    return render(request, "cases/stats_cases.html", rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PAGE)), what=" · ".join(what), query=query, measure=measure,
                  value_label=value_label, mask_name=mask_name)
