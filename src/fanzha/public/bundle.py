"""Signed bundles (数据包) that carry reports inward and the blocklist outward between the public and the main app.

A bundle is UTF-8 JSON lines: a header line, one line per record, and a last line holding an HMAC-SHA256 of every
byte before it, keyed with the secret both sides share (FANZHA_BUNDLE_KEY). Nothing in the file is trusted until the
signature checks; a changed byte or another key fails with a Chinese message and the reader writes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fanzha.common.tokens import same_token

FORMAT = "fanzha-bundle"
VERSION = 1
KINDS = {"reports": "举报包", "blocklist": "黑名单包"}
MAX_BYTES = 64 * 1024 * 1024


class BundleError(ValueError):
    """A bundle that cannot be trusted or read; the message is for people."""


@dataclass
class Bundle:
    kind: str
    bundle_id: str
    created_at: str
    records: list[dict]
    digest: str  # SHA-256 of the whole file, for the record of what was imported


def _key(key: str) -> bytes:
    if not key:
        raise BundleError("未配置数据包签名密钥（FANZHA_BUNDLE_KEY）：公众端和平台须配置同一把密钥")
    return key.encode("utf-8")


def fingerprint(key: str) -> str:
    """Eight hex digits that tell two keys apart without revealing either."""
    return hashlib.sha256(b"fanzha-bundle-key:" + _key(key)).hexdigest()[:8]


# Line breaks other than "\n" that json.dumps(ensure_ascii=False) leaves as they are: written escaped, so that a
# record is always one line whatever text it carries.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True).translate(_LINE_BREAKS)


def write(kind: str, records: list[dict], key: str, *, bundle_id: str | None = None,
          created_at: datetime | None = None) -> bytes:
    if kind not in KINDS:
        raise ValueError(kind)
    header = {"format": FORMAT, "version": VERSION, "kind": kind, "bundle_id": bundle_id or uuid.uuid4().hex,
              "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"), "count": len(records),
              "key": fingerprint(key)}
    body = "".join(_line(r) + "\n" for r in [header, *records]).encode("utf-8")
    signature = hmac.new(_key(key), body, hashlib.sha256).hexdigest()
    return body + json.dumps({"signature": "hmac-sha256:" + signature}).encode("utf-8") + b"\n"


def read(data: bytes, key: str, *, kind: str) -> Bundle:
    """The verified records of a bundle of `kind`, or BundleError saying what is wrong with it."""
    name = KINDS[kind]
    if len(data) > MAX_BYTES:
        raise BundleError(f"{name}超过 {MAX_BYTES // (1024 * 1024)} MB 上限")
    body, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    try:
        signed = json.loads(last.decode("utf-8"))["signature"]
        header = json.loads(body.split(b"\n", 1)[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise BundleError(f"不是有效的{name}：文件格式不对或不完整") from None
    if not sep or not isinstance(header, dict) or header.get("format") != FORMAT or not str(signed).startswith(
            "hmac-sha256:"):
        raise BundleError(f"不是有效的{name}：文件格式不对或不完整")
    if header.get("kind") != kind:
        raise BundleError(f"这是{KINDS.get(str(header.get('kind')), '其他数据包')}，不是{name}")
    body += b"\n"
    expected = hmac.new(_key(key), body, hashlib.sha256).hexdigest()
    if not same_token(expected, str(signed)[len("hmac-sha256:"):]):
        if header.get("key") != fingerprint(key):
            raise BundleError(f"{name}签名无效：它由另一把密钥签名（密钥指纹 {str(header.get('key'))[:8]}，本机为 "
                              f"{fingerprint(key)}），请核对两端的 FANZHA_BUNDLE_KEY；未导入任何内容")
        raise BundleError(f"{name}签名无效：文件在导出后被改动过或已损坏；未导入任何内容")
    try:
        lines = body.decode("utf-8").split("\n")[:-1]  # "\n" only: bundles from before may hold U+2028 unescaped
        records = [json.loads(line) for line in lines[1:]]
    except ValueError:
        raise BundleError(f"{name}内容无法读取") from None
    if header.get("version") != VERSION or len(records) != header.get("count") or not all(
            isinstance(r, dict) for r in records):
        raise BundleError(f"{name}版本或条数不符，请用同一版本的系统导出")
    return Bundle(kind=kind, bundle_id=str(header.get("bundle_id", ""))[:64], created_at=str(header.get("created_at")),
                  records=records, digest=hashlib.sha256(data).hexdigest())
