"""Rendering pages: the shared context (user, navigation, CSRF token) and Jinja filters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from fanzha.addresses.models import ADDRESS_KINDS
from fanzha.audit.exports import ROW_CAP
from fanzha.audit.service import ACTION_LABELS, ENTITY_LABELS, FIELD_LABELS
from fanzha.common.assets import asset_url
from fanzha.common.identity import mask_id_number, mask_phone
from fanzha.common.timefmt import fmt_minute
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org.enums import CHAIN_LABELS, GROUPS, LEVEL_LABELS, UNIT_KINDS
from fanzha.org.roles import ROLE_LABELS, Perm, has_perm
from fanzha.warnings.enums import warning_label

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
env = templates.env
env.filters["minute"] = fmt_minute
env.filters["mask_id"] = mask_id_number
env.filters["mask_phone"] = mask_phone
env.filters["thousands"] = lambda n: f"{int(n or 0):,}"


_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*")


def codes_as_data(text: object) -> Markup:
    """Composed text (a notification's body) escaped, with the codes in it — 预警编号 YJ2026…, account numbers —
    marked translate="no": they are data, not words to translate."""
    escaped = str(escape("" if text is None else text))
    return Markup(_CODE.sub(lambda m: f'<span translate="no">{m.group(0)}</span>', escaped))


env.filters["codes"] = codes_as_data


def page_link(request: Request, page: int) -> str:
    """The same list at another page: every filter of the current request kept, only `page` changed."""
    from urllib.parse import urlencode

    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v != ""]
    return "?" + urlencode([*kept, ("page", page)])


def export_link(request: Request, *, full: bool = False) -> str:
    """A list's 导出 Excel: `<list path>.xlsx` with every filter of the current request but the page."""
    from urllib.parse import urlencode

    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "full") and v != ""]
    query = urlencode([*kept, *([("full", "true")] if full else [])])
    return f"{request.url.path.rstrip('/')}.xlsx" + (f"?{query}" if query else "")


env.globals["page_link"] = page_link
env.globals["export_link"] = export_link
env.globals["export_cap"] = ROW_CAP
env.globals["asset_url"] = asset_url
env.globals["warning_label"] = warning_label


def entity_labels() -> dict[str, str]:
    """What the audit log calls each kind of record: `ENTITY_LABELS`, and an import (whose entry names the importer's
    kind, e.g. registry) by the importer's own name (易受骗群体名单导入)."""
    from fanzha.imports.service import IMPORTERS

    return {**ENTITY_LABELS, **{kind: f"{imp.label}导入" for kind, imp in IMPORTERS.items() if kind not in ENTITY_LABELS}}


env.globals["entity_labels"] = entity_labels
env.globals.update(ROLE_LABELS=ROLE_LABELS, LEVEL_LABELS=LEVEL_LABELS, CHAIN_LABELS=CHAIN_LABELS, GROUPS=GROUPS,
                   UNIT_KINDS=UNIT_KINDS, ADDRESS_KINDS=ADDRESS_KINDS, ACTION_LABELS=ACTION_LABELS, ENTITY_LABELS=ENTITY_LABELS,
                   FIELD_LABELS=FIELD_LABELS, FRAUD_TYPES=FRAUD_TYPE_LABELS, Perm=Perm)

# (label, path, permission needed or None) — what a role does not hold is not shown.
NAV = [
    ("首页", "/", None),
    ("我的任务", "/tasks", Perm.CLAIM_WARNINGS),
    ("回访", "/follow-ups", Perm.READ_WARNINGS),
    ("预警", "/warnings", Perm.READ_WARNINGS),
    ("待分配", "/warnings/unplaced", Perm.INTAKE_WARNINGS),
    ("查询止付", "/requests", Perm.INTAKE_WARNINGS),
    ("串并案", "/links", Perm.INTAKE_WARNINGS),
    ("指标", "/metrics", Perm.READ_WARNINGS),
    ("案件", "/cases", Perm.READ_CASES),
    ("案件研判", "/cases/stats", Perm.READ_CASES),
    ("通报", "/reports", Perm.READ_CASES),
    ("发案地图", "/map", Perm.READ_CASES),
    ("大屏", "/screen", Perm.READ_CASES),
    ("本单位工作", "/unit-work", Perm.READ_OWN_ASSESSMENT),  # a member unit's liaison only
    ("宣防", "/prevention", Perm.READ_PREVENTION),
    ("值班", "/warnings/roster", Perm.MANAGE_ROSTER),
    ("举报审核", "/blocklist/reports", Perm.REVIEW_REPORTS),
    ("人员", "/people", Perm.READ_PEOPLE),
    ("群体库", "/registry", Perm.READ_PEOPLE),
    ("考核", "/assess", Perm.READ_ASSESSMENT),
    ("本单位考核", "/assess", Perm.READ_OWN_ASSESSMENT),
    ("辖区", "/org/areas", Perm.READ_ORG),
    ("成员单位", "/org/units", Perm.READ_ORG),
    ("标准地址", "/addresses", Perm.READ_ORG),
    ("用户管理", "/admin/users", Perm.MANAGE_USERS),
    ("审计日志", "/admin/audit", Perm.READ_AUDIT),
]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    csrf = getattr(request.state, "csrf_token", "")
    nav = [(label, path) for label, path, perm in NAV if user and (perm is None or has_perm(user.role, perm))]
    nav = [(label, path) for n, (label, path) in enumerate(nav) if path not in {p for _, p in nav[:n]}]  # first wins
    here = request.url.path
    matches = [path for _, path in nav if here == path or (path != "/" and here.startswith(path + "/"))
               or (path != "/" and here == path)]
    context.update(unread=getattr(request.state, "unread", 0),
                   replica_note=getattr(request.state, "replica_note", ""))  # web/replica.py: read from a lagging copy
    context.update(request=request, user=user, nav=nav, nav_active=max(matches, key=len, default=""), csrf_token=csrf,
                   can=(lambda perm: bool(user) and has_perm(user.role, perm)))
    return templates.TemplateResponse(request, name, context, status_code=status_code)
