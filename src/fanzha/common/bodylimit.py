"""Refusing request bodies over a limit before they are read (ASGI middleware shared by the platform and public app)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _platform_limit(content_type: str) -> int:
    from fanzha.config import get_settings

    settings = get_settings()
    return settings.max_upload_bytes if content_type.startswith("multipart/form-data") else settings.max_json_bytes


class BodyLimit:
    """Refuses bodies over the limit before they are read: JSON/forms small, file uploads large.

    `limit_for(content_type)` gives the limit in bytes; the default is the platform's two settings.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int] = _platform_limit):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(headers.get(b"content-type", b"").decode("latin-1"))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_413(scope, receive, send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _send_413(scope, receive, send, limit)


class _TooLarge(Exception):
    pass


async def _send_413(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse({"error": {"code": "too_large", "message": f"提交的内容超过 {limit // 1024} KB 上限",
                                       "details": []}}, status_code=413)
    await response(scope, receive, send)
