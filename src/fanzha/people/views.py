"""People pages: a masked list, a detail page (audited) and an audited reveal of full numbers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people import service
from fanzha.web.deps import csrf_protect, get_db, require
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()
PAGE = 30


@router.get("/people")
def people(request: Request, q: str = Query("", max_length=32), page: int = Query(1, ge=1, le=100_000),
           db: Session = Depends(get_db), scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    rows, total = service.search(db, scope, q=q.strip(), limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "people/list.html", rows=[service.to_out(p) for p in rows], total=total, q=q, page=page,
                  pages=max(1, -(-total // PAGE)))


@router.get("/people/{person_id}")
def person(person_id: IdPath, request: Request, db: Session = Depends(get_db),
           scope: Scope = Depends(require(Perm.READ_PEOPLE))):
    return render(request, "people/detail.html", person=service.to_out(service.get(db, scope, person_id)))


@router.post("/people/{person_id}/reveal", dependencies=[Depends(csrf_protect)])
def reveal(person_id: IdPath, request: Request, db: Session = Depends(get_db),
           scope: Scope = Depends(require(Perm.PII_FULL))):
    person = service.get(db, scope, person_id, reveal=True)
    return render(request, "people/detail.html", person=service.to_out(person, reveal=True))
