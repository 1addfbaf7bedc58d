"""JSON API for the map, the wall screen and the register of issued documents."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from fanzha.org import service as org
from fanzha.org.scope import Scope
from fanzha.common import periods
from fanzha.reports import geo, screen, service
from fanzha.reports.views import MapPeriodQuery, download
from fanzha.web.deps import csrf_protect, current_scope, get_db
from fanzha.web.params import IdPath, IdQuery, Offset

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
def map_layer(area_id: IdQuery = None, period: str = MapPeriodQuery,
              level: str = Query("", pattern="^(|township|community)$"),
              db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    p = periods.parse(period) if period else periods.month(service.local_today())
    area = org.get_area(db, scope, area_id) if area_id else geo.default_parent(db, scope)
    return geo.layer(db, scope, area, p, level=level)


@router.get("/screen", summary="大屏数据：今日预警与劝阻、本月立案、损失、破案、抓获与同比、趋势、类型、排名、地图")
def screen_data(db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    return screen.figures(db, scope)


@router.get("/reports/documents", response_model=list[DocumentOut], summary="发文登记")
def documents(kind: str = Query("", pattern="^(|daily|weekly|monthly|quarterly)$"), year: int = Query(0, ge=0, le=2100),
              limit: int = Query(50, ge=1, le=1000), offset: Offset = 0,
              db: Session = Depends(get_db, scope="function"), scope: Scope = Depends(current_scope)):
    rows, _ = service.register(db, scope, kind=kind, year=year or None, limit=limit, offset=offset)
    return [DocumentOut(id=d.id, kind=d.kind, number=d.number, period=d.period, area=d.area.code if d.area else None,
                        title=d.title, issued_on=d.issued_on, issued_at=d.issued_at, issued_by=d.issued_by_name,
                        summary=d.summary or {}) for d in rows]


@router.get("/reports/documents/{document_id}/{fmt}", summary="下载已发通报（docx 或 pdf）")
def document_file(document_id: IdPath, fmt: str, db: Session = Depends(get_db, scope="function"),
                  scope: Scope = Depends(current_scope)):
    data, name = service.file_of(db, scope, document_id, fmt)
    return download(data, name, fmt)
