"""The activity ledger (活动台账) as an XLSX file: the list's rows with its filters, through the one export writer.

Activities hold no protected person's data (an organiser is an officer, a grid worker or a member unit), so the file
needs no export_personal: whoever reads the list may download it, and every download is audited all the same.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fanzha.audit import exports
from fanzha.org.scope import Scope
from fanzha.prevention import service
from fanzha.prevention.enums import ACTIVITY_KINDS, METRICS

HEADER = ("日期", "类型", "主题", "村/社区", "地点", "组织", *METRICS.values(), "来源", "计入专项行动", "状态")
SOURCES = {"form": "表单", "import": "导入", "api": "接口"}


def activities(session: Session, scope: Scope, *, campaign_id: int | None = None) -> bytes:
    """The activities the list shows (same scope and filter, newest first), at most exports.ROW_CAP rows."""
    found, _ = service.list_activities(session, scope, campaign_id=campaign_id, limit=exports.ROW_CAP + 1)
    rows = [[a.held_on, ACTIVITY_KINDS.get(a.kind, a.kind), a.title, a.community.label, a.address,
             a.organiser or (a.unit.name if a.unit else ""), *(getattr(a, m) or 0 for m in METRICS),
             SOURCES.get(a.source, a.source), "、".join(c.name for c in a.campaigns),
             "已撤回" if a.withdrawn_at else ""] for a in found]
    return exports.list_file(session, scope, "activity", header=HEADER, rows=rows, sheet="宣传活动", fields=[],
                             personal=False, detail={"filters": {"campaign_id": campaign_id} if campaign_id else {}})
