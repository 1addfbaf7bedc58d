"""JSON API for the map, the wall screen, the register of issued documents and issuing a numbered 通报."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from fanzha.common import periods
from fanzha.common.text import Id, NoteText
from fanzha.org import service as org
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.reports import bulletin, geo, screen, service
from fanzha.reports.models import IssuedDocument
from fanzha.reports.views import MapPeriodQuery, _area, download
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath, IdQuery, Offset
from fanzha.web.replica import ReadDb

router = APIRouter(tags=["通报与地图"], dependencies=[Depends(csrf_protect)])


class DocumentOut(BaseModel):
    id: int
    kind: str
    number: str
    period: str
    area: str | None
    title: str
    issued_on: date
    issued_at: datetime
    issued_by: str
    summary: dict


@router.get("/map", summary="发案地图数据：各乡镇（或村社区）的立案、损失、破案、抓获（口径同案件研判）、万人发案率，"
                              "边界（GeoJSON）与中心点")
def map_layer(db: ReadDb, area_id: IdQuery = None, period: str = MapPeriodQuery,
              level: str = Query("", pattern="^(|township|community)$"),
              scope: Scope = Depends(current_scope)):
    p = periods.parse(period) if period else periods.month(service.local_today())
    area = org.get_area(db, scope, area_id) if area_id else geo.default_parent(db, scope)
    return geo.layer(db, scope, area, p, level=level)


@router.get("/screen", summary="大屏数据：今日预警与劝阻、本月立案、损失、破案、抓获与同比、趋势、类型、排名、地图")
def screen_data(db: ReadDb, scope: Scope = Depends(current_scope)):
    return screen.figures(db, scope)


@router.get("/reports/documents", response_model=list[DocumentOut], summary="发文登记")
def documents(db: Db, kind: str = Query("", pattern="^(|daily|weekly|monthly|quarterly)$"), year: int = Query(0, ge=0, le=2100),
              limit: int = Query(50, ge=1, le=1000), offset: Offset = 0,
              scope: Scope = Depends(current_scope)):
    rows, _ = service.register(db, scope, kind=kind, year=year or None, limit=limit, offset=offset)
    return [DocumentOut(id=d.id, kind=d.kind, number=d.number, period=d.period, area=d.area.code if d.area else None,
                        title=d.title, issued_on=d.issued_on, issued_at=d.issued_at, issued_by=d.issued_by_name,
                        summary=d.summary or {}) for d in rows]


@router.get("/reports/documents/{document_id}/{fmt}", summary="下载已发通报（docx 或 pdf）")
def document_file(document_id: IdPath, fmt: str, db: Db,
                  scope: Scope = Depends(current_scope)):
    data, name = service.file_of(db, scope, document_id, fmt)
    return download(data, name, fmt)


class BulletinIn(Strict):
    period: str = Field(min_length=1, max_length=10, pattern=r"^[0-9QqWw-]+$",
                        description="通报期间：2026-10-05（日报）、2026-W41（周报）、2026-10（月报）、2026-Q3（季报）")
    area_id: Id | None = Field(None, description="通报的辖区；不填：市局为全市，其他人为本级")
    revision_note: NoteText | None = Field(None, max_length=300, description="修订说明：本期已发出时必填，作为修订再发；"
                                                                            "未发出时不填")


class IssuedOut(DocumentOut):
    edition: int = Field(description="0 为原发，1 起为第几次修订")
    revises_id: int | None = Field(description="所修订的那一份")
    repeated: bool = Field(description="同一人两分钟内重复提交：答的是刚才发出的那一份，不另编号")
    links: dict[str, str] = Field(description="下载：docx、pdf")


def _issued(d: IssuedDocument, *, repeated: bool = False) -> IssuedOut:
    return IssuedOut(id=d.id, kind=d.kind, number=d.number, period=d.period, area=d.area.code if d.area else None,
                     title=d.title, issued_on=d.issued_on, issued_at=d.issued_at, issued_by=d.issued_by_name,
                     summary=d.summary or {}, edition=d.edition, revises_id=d.revises_id, repeated=repeated,
                     links={fmt: f"/api/v1/reports/documents/{d.id}/{fmt}" for fmt in service.FORMATS})


@router.post("/reports/bulletins", response_model=IssuedOut, status_code=201,
             summary="编号发出并存档一期通报（同页面：已发出的期间只能作为修订再发，须写修订说明）")
def issue_bulletin(body: BulletinIn, response: Response, db: Db,
                   scope: Scope = Depends(require(Perm.ISSUE_DOCUMENTS))):
    p = bulletin.parse_period(body.period)
    area = _area(db, scope, body.area_id)
    try:
        doc = service.issue_bulletin(db, scope, p, area, revision_note=body.revision_note)
    except service.AlreadyIssued as exc:
        if not service.just_issued_by(exc.doc, scope):
            raise
        db.rollback()
        response.status_code = 200
        return _issued(db.get(IssuedDocument, exc.doc.id), repeated=True)
    db.flush()
    db.refresh(doc)
    return _issued(doc)
