"""Domain errors; the web layer turns each into its status code and a Chinese message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class TooManyRequests(DomainError):
    """Too many attempts: try again after `retry_after` seconds (sent as the Retry-After header)."""

    status_code = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def not_here(what: str) -> str:
    """The refusal for a record that may already exist outside the user's areas: it never says whether it does,
    so a form cannot be used to find out where a person or a case is registered."""
    return f"{what}不能在此登记（请联系反诈中心）"
