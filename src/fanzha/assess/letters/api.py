"""JSON twins of the 三告 pages (assess/letters/service.py): draft a 函告, 通告 or 报告 and read it for review, preview it as
a PDF, issue it (number and date); the register and the issued files."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from fanzha.assess.letters import service as letters
from fanzha.common.text import FREE_TEXT, Id, check_plain
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.reports import service as reports
from fanzha.reports.models import IssuedDocument
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath

router = APIRouter(tags=["考核"], dependencies=[Depends(csrf_protect)])
# The reviewed text of a document: free text like a note, as long as the page's form takes.
BodyText = Annotated[str, StringConstraints(max_length=20000), AfterValidator(check_plain),
                     Field(json_schema_extra=FREE_TEXT)]


class LetterIn(Strict):
    # Named every time, never defaulted: issuing takes a number and cannot be withdrawn (the page asks to confirm).
    action: Literal["draft", "preview", "issue"] = Field(
        description="draft 起草（返回待审核的正文、可选的受函单位和将取的文号）· preview 预览 PDF（不编号）· "
                    "issue 签发（编号、登记、存档，不可撤回）")
    kind: Literal["letter", "notice", "report"] = Field(description="letter 函告 · notice 通告 · report 报告")
    case_id: Id | None = Field(None, description="函告：依据的案件")
    unit_id: Id | None = Field(None, description="函告：受函单位（不填为案件登记的受害人工作单位）")
    quarter: str = Field("", max_length=8, pattern=r"^[0-9Qq-]*$", description="通告：季度，写作 2026-Q3")
    run_id: Id | None = Field(None, description="报告：依据的年度考核")
    body: BodyText | None = Field(None, description="审核修改后的正文（一行一段）；不填为草稿原文")
    issued_on: date | None = Field(None, description="成文日期；不填为今天")


class UnitOut(BaseModel):
    id: int
    name: str


class DraftOut(BaseModel):
    kind: str
    title: str
    addressee: str
    body: str = Field(description="草稿正文（一行一段；[[table:…]] 为表格位置）")
    units: list[UnitOut] = Field(description="函告可发往的单位")
    number: str = Field(description="签发时将取的文号")
    issued_on: date


class LetterOut(BaseModel):
    id: int
    kind: str
    number: str
    title: str
    addressee: str
    period: str
    issued_on: date
    issued_at: datetime
    issued_by: str
    summary: dict[str, Any]
    links: dict[str, str] = Field(description="下载：docx、pdf")


def _out(d: IssuedDocument) -> LetterOut:
    return LetterOut(id=d.id, kind=d.kind, number=d.number, title=d.title, addressee=d.addressee or "",
                     period=d.period or "", issued_on=d.issued_on, issued_at=d.issued_at, issued_by=d.issued_by_name,
                     summary=d.summary or {},
                     links={fmt: f"/api/v1/assess/letters/{d.id}/{fmt}" for fmt in reports.FORMATS})


@router.post("/assess/letters", response_model=None, summary="三告：起草（draft）、预览（preview，PDF）或签发（issue，201，编号并登记）",
             responses={200: {"description": "draft：DraftOut；preview：application/pdf"},
                        201: {"model": LetterOut, "description": "issue：已签发的文书"}})
def letter(body: LetterIn, response: Response, db: Db,
           scope: Scope = Depends(require(Perm.ISSUE_LETTERS))) -> Response | DraftOut | LetterOut:
    draft = letters.draft(db, scope, body.kind, case_id=body.case_id, unit_id=body.unit_id, quarter=body.quarter,
                          run_id=body.run_id)
    if body.action == "preview":
        return Response(letters.preview(db, draft, body.body), media_type=reports.FORMATS["pdf"],
                        headers={"Content-Disposition": "inline; filename=preview.pdf", "Cache-Control": "no-store"})
    if body.action == "draft":
        return DraftOut(kind=draft.kind, title=draft.title, addressee=draft.addressee, body=draft.body,
                        units=[UnitOut(id=u.id, name=u.name) for u in draft.units],
                        number=letters.next_number(db, draft.kind, body.issued_on),
                        issued_on=body.issued_on or reports.local_today())
    doc = letters.issue(db, scope, draft, body.body, issued_on=body.issued_on)
    response.status_code = 201
    return _out(doc)


@router.get("/assess/letters", response_model=list[LetterOut], summary="三告发文登记（成员单位只见通告和发给本单位的函告）")
def register(db: Db, kind: Literal["", "letter", "notice", "report"] = Query(""),
             scope: Scope = Depends(current_scope)) -> list[LetterOut]:
    return [_out(d) for d in letters.register(db, scope, kind)]


@router.get("/assess/letters/{document_id}/{fmt}", summary="下载已签发的三告（docx 或 pdf；审计留痕）")
def download(document_id: IdPath, fmt: str, db: Db,
             scope: Scope = Depends(current_scope)) -> Response:
    doc = letters.issued_file(db, scope, document_id, fmt)
    name = f"{doc.number}{doc.title}.{fmt}"
    return Response(doc.docx if fmt == "docx" else doc.pdf, media_type=reports.FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                             "Cache-Control": "no-store"})
