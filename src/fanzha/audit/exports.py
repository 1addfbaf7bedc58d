"""Personal-data exports (导出含个人信息的文件): who may download them and the audit entry each one writes.

A file that holds names, ID numbers or phones needs `export_personal` on top of the right to see the records, and
every download is recorded with the personal fields the file carries and its number of rows. Which files these are
is listed in docs/roles.md ("Personal-data exports").
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.common.errors import Forbidden
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

REFUSED = "您的角色不能导出含姓名、身份证号或手机号的文件（需要“导出个人信息”权限，由反诈中心或派出所所长导出）"


def require(scope: Scope, *, own_upload: bool = False) -> None:
    """Call before building the file: the role must hold export_personal. The rejected rows of a user's own upload
    are the exception: they hold only what that user sent (the download is still audited)."""
    if not own_upload and not scope.can(Perm.EXPORT_PERSONAL):
        raise Forbidden(REFUSED)


def record(session: Session, scope: Scope, entity: str, entity_id: object = "", *, fields: Sequence[str],
           rows: int, fmt: str, detail: dict | None = None, own_upload: bool = False) -> None:
    """The audit entry of one personal-data export: the fields the file carries, its rows and its format."""
    require(scope, own_upload=own_upload)
    audit.record(session, scope, "export", entity, entity_id, fields=list(fields),
                 detail={"rows": rows, "format": fmt, **(detail or {})})
