"""Comparing secrets (CSRF tokens, signatures) in constant time, whatever characters the sender put in them."""

from __future__ import annotations

import hmac


def same_token(a: str, b: str) -> bool:
    """hmac.compare_digest on the UTF-8 bytes: on str it raises TypeError for any non-ASCII character."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
