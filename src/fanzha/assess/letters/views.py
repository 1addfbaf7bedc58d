"""三告 pages: draft a 函告 from a case, a quarter's 通告 or a year's 报告; review and edit the text; preview the PDF;
issue it (number and date); the register of what went to whom and when, with the files."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fanzha.assess import service
from fanzha.assess.letters import service as letters
from fanzha.common.errors import DomainError, Invalid
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.reports import service as reports
from fanzha.reports.service import FORMATS
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath, IdQuery, OptionalIdForm
from fanzha.web.render import render

router = APIRouter()


@router.get("/assess/letters")
def register_page(request: Request, db: Db, kind: str = Query("", max_length=8),
                  scope: Scope = Depends(current_scope)) -> Response:
    docs = letters.register(db, scope, kind if kind in letters.KINDS else "")
    runs = [r for r in service.list_runs(db, scope) if r.period.isdigit()] if scope.can(Perm.ISSUE_LETTERS) else []
    issued = request.query_params.get("issued", "")
    just = next((d for d in docs if str(d.id) == issued), None)
    return render(request, "assess/letters.html", docs=docs, kind=kind, KINDS=letters.KINDS, runs=runs, just=just)


@router.get("/assess/letters/new")
def new(request: Request, db: Db, kind: str = Query("letter", max_length=8), case_id: IdQuery = None, unit_id: IdQuery = None,
        quarter: str = Query("", max_length=8), run_id: IdQuery = None,
        scope: Scope = Depends(require(Perm.ISSUE_LETTERS))) -> Response:
    try:
        draft = letters.draft(db, scope, kind, case_id=case_id, unit_id=unit_id, quarter=quarter, run_id=run_id)
    except DomainError as exc:
        return render(request, "assess/letter_draft.html", status_code=exc.status_code, draft=None, error=exc.message,
                      kind=kind, params={}, KINDS=letters.KINDS)
    return render(request, "assess/letter_draft.html", draft=draft, error="", kind=kind, KINDS=letters.KINDS,
                  params={"case_id": case_id or "", "unit_id": unit_id or "", "quarter": quarter, "run_id": run_id or ""},
                  units=draft.units)


@router.post("/assess/letters", dependencies=[Depends(csrf_protect)])
def issue(request: Request, db: Db, kind: str = Form("", max_length=8), case_id: OptionalIdForm = None,
          unit_id: OptionalIdForm = None, quarter: str = Form("", max_length=8), run_id: OptionalIdForm = None,
          body: str = Form("", max_length=20000),
          issued_on: str = Form("", max_length=10), action: str = Form("issue", max_length=8),
          confirm: str = Form("", max_length=5),
          scope: Scope = Depends(require(Perm.ISSUE_LETTERS))) -> Response:
    """Preview the PDF, or 签发: the first press shows what will go out (number, addressee, date), the
    confirmation's press numbers, registers and says what went out."""
    params = {"case_id": case_id or "", "unit_id": unit_id or "", "quarter": quarter, "run_id": run_id or ""}
    draft = None
    try:
        draft = letters.draft(db, scope, kind, case_id=case_id, unit_id=unit_id, quarter=quarter, run_id=run_id)
        if action == "preview":
            return Response(letters.preview(db, draft, body), media_type=FORMATS["pdf"],
                            headers={"Content-Disposition": "inline; filename=preview.pdf", "Cache-Control": "no-store"})
        try:
            day = date.fromisoformat(issued_on) if issued_on else None
        except ValueError:
            raise Invalid("成文日期格式应为 2026-03-05") from None
        if not body.strip():
            raise Invalid("正文不能为空")
        if confirm != "true":
            edited = " ".join(body.split()) != " ".join(draft.body.split())  # a browser sends CRLF line ends
            confirmation = {"number": letters.next_number(db, kind, day), "issued_on": day or reports.local_today(),
                            "edited": edited}
            return render(request, "assess/letter_draft.html", draft=draft, error="", kind=kind, KINDS=letters.KINDS,
                          params=params, units=draft.units, body=body, issued_on=issued_on, confirm=confirmation)
        doc = letters.issue(db, scope, draft, body, issued_on=day)
    except DomainError as exc:
        db.rollback()
        return render(request, "assess/letter_draft.html", status_code=exc.status_code, draft=draft, error=exc.message,
                      kind=kind, params=params, KINDS=letters.KINDS, units=draft.units if draft else [], body=body,
                      issued_on=issued_on)
    return RedirectResponse(f"/assess/letters?kind={doc.kind}&issued={doc.id}", status_code=303)


@router.get("/assess/letters/{document_id}.{fmt}")
def download(document_id: IdPath, fmt: str, db: Db,
             scope: Scope = Depends(current_scope)) -> Response:
    doc = letters.issued_file(db, scope, document_id, fmt)
    name = f"{doc.number}{doc.title}.{fmt}"
    return Response(doc.docx if fmt == "docx" else doc.pdf, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                             "Cache-Control": "no-store"})
