"""The feedback file's pages (/warnings/feedback-export): a look at the file, and the file to send up, which marks
its warnings as reported (上报). The metrics page links to both."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Query

from fanzha.common import tabular
from fanzha.dissuasion.feedback import service as feedback
from fanzha.org import service as org
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import metrics
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdForm, IdQuery

router = APIRouter()


@router.get("/warnings/feedback-export")
def feedback_preview(db: Db, area_id: IdQuery = None, since: str = Query("", max_length=10),
                     until: str = Query("", max_length=10), fmt: str = Query("xlsx", pattern="^(xlsx|csv)$"),
                     only_new: bool = False, scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """Downloads the feedback file without marking anything (a look before sending)."""
    return _feedback_file(db, scope, area_id, since, until, fmt, only_new, mark=False)


@router.post("/warnings/feedback-export", dependencies=[Depends(csrf_protect)])
def feedback_send(db: Db, area_id: IdForm = 0, since: str = Form("", max_length=10), until: str = Form("", max_length=10),
                  fmt: str = Form("xlsx", pattern="^(xlsx|csv)$"), only_new: str = Form("", max_length=5),
                  scope: Scope = Depends(require(Perm.INTAKE_WARNINGS))):
    """The file to send up: the warnings in it are marked as reported (上报)."""
    return _feedback_file(db, scope, area_id or None, since, until, fmt, only_new == "true", mark=True)


def _feedback_file(db, scope, area_id, since, until, fmt, only_new, *, mark):
    start, end = metrics.period(since, until)
    area = org.get_area(db, scope, area_id) if area_id else None
    selected = feedback.fed_back_in(db, scope, area, start, end, only_new=only_new)
    data = feedback.export(db, scope, selected, fmt=fmt, mark=mark)
    days = f"{start.date()}-{(end - timedelta(days=1)).date()}"
    return tabular.download(data, f"反馈表-{days}.{fmt}", ascii_name=f"feedback-{days}.{fmt}")
