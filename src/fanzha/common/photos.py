"""Photos kept as evidence (见面 contacts, 宣防 activities): checked by their first bytes, at most 10 MB, stored
under the data directory with a random name. Serving them is each domain's business, always within scope."""

from __future__ import annotations

import secrets

from fanzha.common.errors import Invalid
from fanzha.config import get_settings

PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"RIFF": ".webp"}
MAX_PHOTO = 10 * 1024 * 1024


def store_photo(folder: str, owner_id: int, data: bytes) -> str:
    """Writes the photo under <data_dir>/<folder>/<owner_id>/ and returns its path relative to the data directory."""
    if len(data) > MAX_PHOTO:
        raise Invalid("照片超过10MB", details=[{"loc": ["photo"], "msg": "太大"}])
    suffix = next((ext for magic, ext in PHOTO_TYPES.items() if data.startswith(magic)), None)
    if suffix is None:
        raise Invalid("照片应为 JPG、PNG 或 WEBP 图片", details=[{"loc": ["photo"], "msg": "不是图片"}])
    root = get_settings().data_dir
    target = root / folder / str(owner_id)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{secrets.token_hex(12)}{suffix}"
    path.write_bytes(data)
    return str(path.relative_to(root))
