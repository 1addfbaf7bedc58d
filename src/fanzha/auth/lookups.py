"""Exact look-ups of a person by full phone or ID number: rate-limited per user and audited, hit or miss.

A search that matches a full number confirms it. Behind one masked phone (138****1234) lie 10,000 numbers; without a
limit a user could try them all in half an hour and learn the hidden digits. Every search box that matches numbers
exactly (people, warnings, cases) calls `check` first.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session

from fanzha.audit import service as audit
from fanzha.auth import throttle
from fanzha.common.errors import TooManyRequests
from fanzha.common.identity import mask_id_number, mask_phone
from fanzha.config import get_settings
from fanzha.db import writer_of
from fanzha.org.scope import Scope

BUCKET = "lookup"
WINDOW = timedelta(hours=1)
_PHONE = re.compile(r"^\+?\d{7,15}$")
_ID = re.compile(r"^\d{15}$|^\d{17}[\dXx]$")


def kind_of(q: str) -> str:
    """'id_number', 'phone' or '' (not a look-up by number: a name, a code, nothing)."""
    q = q.strip()
    if _ID.match(q):
        return "id_number"
    if _PHONE.match(q):
        return "phone"
    return ""


def masked(q: str) -> str:
    """The query as the audit log keeps it: a number masked like any shown number."""
    kind = kind_of(q)
    if kind == "id_number":
        return mask_id_number(q.strip().upper())
    if kind == "phone":
        return mask_phone(q.strip())
    return q[:64]


def check(session: Session, scope: Scope, q: str, *, where: str) -> None:
    """Counts and audits one exact look-up by number; refuses past the hourly limit. A name or code passes free.
    The count and its entry go to the primary even when the search reads a replica (`writer_of`)."""
    kind = kind_of(q)
    if not kind or scope.is_system:
        return
    session = writer_of(session)
    count = throttle.hit(session, BUCKET, str(scope.user_id), window=WINDOW)
    limit = get_settings().lookup_limit_per_hour
    audit.record(session, scope, "lookup", where, "", fields=[kind],
                 detail={"query": masked(q), "count": count, "refused": count > limit})
    if count > limit:
        session.commit()  # the refusal is counted and audited even though the request fails
        raise TooManyRequests(f"按完整号码查询过于频繁（每小时最多{limit}次），请稍后再试", retry_after=600)
