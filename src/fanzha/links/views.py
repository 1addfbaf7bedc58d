"""The centre's 串并 list (/links): identifiers shared by cases and warnings, or blocklisted, with counts, losses and
areas; the panel on case and warning pages is rendered by those pages (links/_panel.html)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from fanzha.links import service
from fanzha.links.rules import KINDS
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.web.deps import Db, require
from fanzha.web.render import env, render

router = APIRouter()
env.globals.update(COUNTERPARTY_KINDS=KINDS)


@router.get("/links")
def board(request: Request, db: Db, kind: str = Query("", pattern="^(phone|account|url|app|social)?$"),
          scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))) -> Response:
    rows = service.board(db, scope, kind=kind)
    return render(request, "links/board.html", rows=rows, kind=kind, limit=service.BOARD_LIMIT)
