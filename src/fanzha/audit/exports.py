"""Personal-data exports (导出含个人信息的文件): who may download them and the audit entry each one writes.

A file that holds names, ID numbers or phones needs `export_personal` on top of the right to see the records, and
every download is recorded with the personal fields the file carries and its number of rows. Which files these are
is listed in docs/roles.md ("Personal-data exports").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common import tabular
from fanzha.common.errors import Forbidden
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

# The most rows a list's export (导出 Excel: warnings, cases, activities, people) carries: past it the file holds the
# first ROW_CAP rows in the list's order and a last line saying so (docs/roles.md).
ROW_CAP = 10_000
CUT_NOTE = "（仅导出前 {cap:,} 行：符合条件的记录超过 {cap:,} 条，请缩小筛选范围后分批导出）"

REFUSED = "您的角色不能导出含姓名、身份证号或手机号的文件（需要“导出个人信息”权限，由反诈中心或派出所所长导出）"


def require(scope: Scope, *, own_upload: bool = False) -> None:
    """Call before building the file: the role must hold export_personal. The rejected rows of a user's own upload
    are the exception: they hold only what that user sent (the download is still audited)."""
    if not own_upload and not scope.can(Perm.EXPORT_PERSONAL):
        raise Forbidden(REFUSED)


def record(session: Session, scope: Scope, entity: str, entity_id: object = "", *, fields: Sequence[str],
           rows: int, fmt: str, detail: dict[str, Any] | None = None, own_upload: bool = False) -> None:
    """The audit entry of one personal-data export: the fields the file carries, its rows and its format."""
    require(scope, own_upload=own_upload)
    audit.record(session, scope, "export", entity, entity_id, fields=list(fields),
                 detail={"rows": rows, "format": fmt, **(detail or {})})


def list_file(session: Session, scope: Scope, entity: str, *, header: Sequence[str], rows: Iterable[Sequence[object]],
              fields: Sequence[str], sheet: str, personal: bool = True, detail: dict[str, Any] | None = None) -> bytes:
    """A list as an XLSX file through the one writer: at most ROW_CAP rows (give up to ROW_CAP + 1 to learn whether
    the list was longer; then a last line says the file was cut), audited with the fields, rows and filters. A file
    of people (`personal`) needs export_personal; the others are audited all the same."""
    if personal:
        require(scope)
    rows = list(rows)
    cut = len(rows) > ROW_CAP
    rows = rows[:ROW_CAP]
    data = tabular.write("xlsx", header, [*rows, *([[CUT_NOTE.format(cap=ROW_CAP)]] if cut else [])], sheet=sheet)
    detail = {**(detail or {}), "cut": cut}
    if personal:
        record(session, scope, entity, fields=fields, rows=len(rows), fmt="xlsx", detail=detail)
    else:
        audit.record(session, scope, "export", entity, "", fields=list(fields),
                     detail={"rows": len(rows), "format": "xlsx", **detail})
    return data


def file_names(stem: str, ascii_stem: str) -> tuple[str, str]:
    """A list export's file name, Chinese and ASCII, stamped with the local minute (预警指令-20260305-0930.xlsx)."""
    from fanzha.common.timefmt import local
    from fanzha.db import utcnow

    stamp = f"{local(utcnow()):%Y%m%d-%H%M}"
    return f"{stem}-{stamp}.xlsx", f"{ascii_stem}-{stamp}.xlsx"
