"""People pages: the masked list and its export. A person's page (人员档案), with their warnings, follow-ups and family,
is dossiers.views: it reads the domains above people."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from fanzha.audit import exports
from fanzha.common import tabular
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people import service
from fanzha.web.deps import Db, require
from fanzha.web.render import render

router = APIRouter()
PAGE = 30


@router.get("/people")
def people(request: Request, db: Db, q: str = Query("", max_length=32), page: int = Query(1, ge=1, le=100_000),
           scope: Scope = Depends(require(Perm.READ_PEOPLE))) -> Response:
    rows, total = service.search(db, scope, q=q.strip(), limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "people/list.html", rows=[service.to_out(p) for p in rows], total=total, q=q, page=page,
                  pages=max(1, -(-total // PAGE)))


@router.get("/people.xlsx")
def people_export(db: Db, q: str = Query("", max_length=32), full: bool = False,
                  scope: Scope = Depends(require(Perm.READ_PEOPLE))) -> Response:
    """导出 Excel: the list with its search (the link carries it); masked unless `full`."""
    name, ascii_name = exports.file_names("人员", "people")
    return tabular.download(service.export(db, scope, q=q.strip(), full=full), name, ascii_name=ascii_name)
