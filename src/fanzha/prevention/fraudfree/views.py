"""无诈社区 pages: each community's status and 立即重新评定."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.prevention.fraudfree import service as fraudfree
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.render import render

router = APIRouter()


@router.get("/prevention/fraud-free")
def fraud_free(request: Request, db: Db,
               scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows = fraudfree.statuses(db, scope)
    return render(request, "prevention/fraud_free.html", rows=rows, history=fraudfree.history(db, scope),
                  rules=fraudfree.load_rules(), good=sum(r.fraud_free for r in rows))


@router.post("/prevention/fraud-free/recompute", dependencies=[Depends(csrf_protect)])
def fraud_free_recompute(db: Db,
                         scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    fraudfree.recompute_as(db, scope, now=utcnow())
    return RedirectResponse("/prevention/fraud-free", status_code=303)


# -- knowledge tests -----------------------------------------------------------------------------------------------
