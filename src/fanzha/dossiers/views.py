"""The person page (人员档案): the person (masked, or revealed with an audit), with their warnings, contacts, follow-ups
and family members to call, and adding a family member. It reads warnings, dissuasion and cases, so it sits above them;
the list of people and its export stay in people.views."""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.cases.models import Case
from fanzha.common.errors import DomainError
from fanzha.dissuasion import service as dissuasion
from fanzha.dissuasion.followups import service as follow_ups
from fanzha.dissuasion.models import Contact, FamilyContact, FollowUp
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.people import service
from fanzha.warnings.models import Warning
from fanzha.warnings.service import visible
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()


class History(TypedDict):
    warnings: list[Warning]
    contacts: list[Contact]
    follow_ups: list[FollowUp]
    family: list[FamilyContact]


def _history(db: Session, scope: Scope, person_id: int) -> History:
    """Everything that happened to the person: warnings, contacts, follow-ups, family members to call."""
    if not scope.can(Perm.READ_WARNINGS):
        return {"warnings": [], "contacts": [], "follow_ups": [], "family": []}
    warnings = list(db.scalars(select(Warning).where(Warning.person_id == person_id, visible(scope))
                               .order_by(Warning.warned_at.desc())))
    ids = [w.id for w in warnings]
    family = list(db.scalars(select(FamilyContact).where(FamilyContact.person_id == person_id)))
    if family and scope.can(Perm.PII_FULL):
        audit.record(db, scope, "view", "family_contact", person_id, fields=["name", "phone"],
                     detail={"ids": [f.id for f in family]})
    return {
        "warnings": warnings,
        "contacts": list(db.scalars(select(Contact).where(Contact.warning_id.in_(ids)).order_by(Contact.at.desc()))),
        "follow_ups": list(db.scalars(select(FollowUp).where(
            follow_ups.visible(scope), or_(FollowUp.warning_id.in_(ids), FollowUp.case_id.in_(
                select(Case.id).where(Case.person_id == person_id)))).order_by(FollowUp.due_at))),
        "family": family,
    }


@router.get("/people/{person_id}")
def person(person_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.READ_PEOPLE))) -> Response:
    out = service.to_out(service.get(db, scope, person_id))
    return render(request, "people/detail.html", person=out, **_history(db, scope, person_id),
                  error=request.query_params.get("error", "")[:200])


@router.post("/people/{person_id}/family", dependencies=[Depends(csrf_protect)])
def add_family(person_id: IdPath, db: Db, name: str = Form("", max_length=32), relation: str = Form("", max_length=16),
               phone: str = Form("", max_length=24),
               scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))) -> Response:
    try:
        dissuasion.add_family(db, scope, person_id, name=name, relation=relation, phone=phone)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return RedirectResponse(f"/people/{person_id}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/reveal", dependencies=[Depends(csrf_protect)])
def reveal(person_id: IdPath, request: Request, db: Db,
           scope: Scope = Depends(require(Perm.PII_FULL))) -> Response:
    person = service.get(db, scope, person_id, reveal=True)
    return render(request, "people/detail.html", person=service.to_out(person, reveal=True),
                  **_history(db, scope, person_id), error="")
