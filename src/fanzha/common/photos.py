"""Photos kept as evidence (见面 contacts, 宣防 activities): checked by their first bytes, at most 10 MB, stored
under the data directory with a random name. Serving them is each domain's business, always within scope.

Check every photo of a request (check_photo) before writing any; store_photo given the session removes the files it
wrote if that session's transaction rolls back, so a refused or failed save leaves no file without a record."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from fanzha.common.errors import Invalid, NotFound
from fanzha.config import get_settings

if TYPE_CHECKING:
    from fastapi.responses import FileResponse

PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"RIFF": ".webp"}
MAX_PHOTO = 10 * 1024 * 1024
_WRITTEN = "fanzha_photos_written"  # session.info key: files written in the open transaction


def check_photo(data: bytes) -> str:
    """The file suffix of an acceptable photo, or Invalid saying what is wrong with it."""
    if len(data) > MAX_PHOTO:
        raise Invalid("照片超过10MB", details=[{"loc": ["photo"], "msg": "太大"}])
    suffix = next((ext for magic, ext in PHOTO_TYPES.items() if data.startswith(magic)), None)
    if suffix is None:
        raise Invalid("照片应为 JPG、PNG 或 WEBP 图片", details=[{"loc": ["photo"], "msg": "不是图片"}])
    return suffix


def check_evidence(data: bytes, filename: str) -> str:
    """A photo, a PDF, or a Word/Excel file (考核佐证): the suffix to store it under, or Invalid."""
    if data.startswith(b"%PDF"):
        suffix = ".pdf"
    elif data.startswith(b"PK\x03\x04") and Path(filename).suffix.lower() in (".docx", ".xlsx"):
        suffix = Path(filename).suffix.lower()
    else:
        try:
            suffix = check_photo(data)
        except Invalid:
            raise Invalid("佐证应为图片、PDF、Word（docx）或 Excel（xlsx）文件",
                          details=[{"loc": ["evidence"], "msg": "文件类型不支持"}]) from None
    if len(data) > MAX_PHOTO:
        raise Invalid("佐证文件超过10MB", details=[{"loc": ["evidence"], "msg": "太大"}])
    return suffix


def store_photo(folder: str, owner_id: int, data: bytes, *, session: Session | None = None,
                suffix: str | None = None) -> str:
    """Writes the photo (or an already checked file of `suffix`) under <data_dir>/<folder>/<owner_id>/ and returns
    its path relative to the data directory. With `session`, the file is removed again if the session's transaction
    rolls back."""
    suffix = suffix or check_photo(data)
    root = get_settings().data_dir
    target = root / folder / str(owner_id)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{secrets.token_hex(12)}{suffix}"
    path.write_bytes(data)
    if session is not None:
        _remove_on_rollback(session, path)
    return str(path.relative_to(root))


def serve_stored(relative: str, *, filename: str | None = None) -> FileResponse:
    """The response for a stored file, never cached. A record whose file is no longer on disk (restored from a
    backup without the data directory, removed by hand) answers 404 saying so, and the gap is logged for the
    administrator, rather than failing with a server error."""
    from fastapi.responses import FileResponse

    root = get_settings().data_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        logging.getLogger(__name__).warning("stored file missing: %s", relative)
        raise NotFound("文件已不在存储中，请联系管理员从备份恢复数据目录")
    return FileResponse(path, headers={"Cache-Control": "no-store"}, filename=filename)


def _remove_on_rollback(session: Session, path: Path) -> None:
    if _WRITTEN not in session.info:
        event.listen(session, "after_commit", _forget)
        event.listen(session, "after_rollback", _remove)
        session.info[_WRITTEN] = []
    session.info[_WRITTEN].append(path)


def _forget(session: Session) -> None:
    session.info.get(_WRITTEN, []).clear()


def _remove(session: Session) -> None:
    written = session.info.get(_WRITTEN, [])
    for path in written:
        path.unlink(missing_ok=True)
    written.clear()
