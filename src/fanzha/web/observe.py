"""Each request's request id (X-Request-ID), latency histogram and, with JSON logs, its log line: one plain ASGI
middleware, innermost, so the router's matched route is in the scope it sees (docs/operations.md)."""

from __future__ import annotations

import logging
import time

from fanzha.common import logs
from fanzha.config import get_settings
from fanzha.web.metrics import observe

log = logging.getLogger("fanzha.requests")
UNMATCHED = "(unmatched)"  # no route: one label for every unknown address, so scans cannot grow the series


class Observe:
    def __init__(self, app):
        self.app = app
        self.log_requests = get_settings().log_format == "json"
        self.templates = _full_paths()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = logs.request_id_from(given.decode("latin-1"))
        token = logs.CURRENT.set({"request_id": request_id})
        status = 500
        started = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = UNMATCHED if route is None else self.templates.get(id(route)) or getattr(route, "path", UNMATCHED)
            observe(template, scope["method"], status, seconds)
            if self.log_requests:
                user = (scope.get("state") or {}).get("user")
                log.info("%s %s %s", scope["method"], template, status, extra={
                    "method": scope["method"], "route": template, "status": status,
                    "duration_ms": round(seconds * 1000, 1), "user_id": getattr(user, "id", None)})
            logs.CURRENT.reset(token)


def _full_paths() -> dict[int, str]:
    """The router puts the route as its own router declared it in the scope (/warnings/{warning_id}); the label
    wants the address template as mounted (/api/v1/warnings/{warning_id})."""
    from fanzha.api import API_PREFIX, API_ROUTERS
    from fanzha.web.views import PAGE_ROUTERS

    return {id(route): prefix + route.path for prefix, routers in ((API_PREFIX, API_ROUTERS), ("", PAGE_ROUTERS))
            for router in routers for route in router.routes}
