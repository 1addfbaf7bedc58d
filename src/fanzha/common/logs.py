"""Log lines as text or one JSON object per line, and the request id (请求编号) that ties a request's lines to the
lines of the worker tasks it queued (docs/operations.md)."""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The request (or task) being served: {"request_id": …, "user_id": …}. A dict rather than two variables because the
# user is known only inside a dependency that runs in the thread pool, whose copy of the context cannot hand a new
# value back; the dict it finds is the middleware's own, so what it writes there is seen by the request's last line.
CURRENT: ContextVar[dict[str, Any] | None] = ContextVar("fanzha_request", default=None)
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else passed in `extra=` is a field of the JSON line.
# uvicorn's color_message repeats the message with terminal colours.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName",
                                                                          "color_message"}


# A new id is this process's random prefix and a counter: unique across processes and restarts like a UUID, without
# a call for random bytes on every request (uuid4 was the costliest step of the request middleware).
_PREFIX = secrets.token_hex(6)
_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_counter):08x}"


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is safe to echo and log (≤ 64 of A-Z a-z 0-9 . _ -), else a new one."""
    if header and _SAFE_ID.fullmatch(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    found = CURRENT.get()
    return found.get("request_id") if found else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the fields given in `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None) or current_request_id()}
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def use_json_logs() -> None:
    """Every handler of the root logger and of uvicorn's loggers writes JSON lines from now on; uvicorn's access log
    is silenced, since the platform logs each request itself with its route, duration and request id."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    logging.getLogger("fanzha").setLevel(logging.INFO)  # the request lines; other libraries keep their levels
    loggers = [root] + [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error")]
    for logger in loggers:
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())
    logging.getLogger("uvicorn.access").disabled = True
