"""What a browser's form sends, made into what the routes declare: one place for pages and the API alike.

A GET form sends every field, left as it is: `?station_id=&grade=&q=`. An empty value of an optional id, date,
number or choice means "not given", so empty query values are dropped before routing (`EmptyQueryValues`) and each
parameter takes its declared default (None, "", the default choice); a route never accepts `str` to parse it
itself. A submitted POST form becomes a Pydantic model with errors a page can show beside the fields.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ValidationError


def drop_empty(query: bytes) -> bytes:
    """`a=&b=1&c=` → `b=1`; values that are not empty are kept in order, repeated keys included."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if v.strip() != ""]).encode("latin-1")


class EmptyQueryValues:
    """ASGI middleware: drops the empty values of the query string (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("query_string"):
            scope = {**scope, "query_string": drop_empty(scope["query_string"])}
        await self.app(scope, receive, send)


def parse_form(model: type[BaseModel], data: dict) -> tuple[BaseModel | None, dict[str, str]]:
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            ctx = err.get("ctx") or {}
            msg = str(ctx["error"]) if isinstance(ctx.get("error"), ValueError) else _MESSAGES.get(err["type"], "填写有误")
            errors.setdefault(field, msg)
        return None, errors


_MESSAGES = {
    "missing": "必填",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不对",
    "int_parsing": "应为整数",
    "enum": "不是允许的取值",
    "greater_than_equal": "不能小于允许的最小值",
    "less_than_equal": "超出允许的最大值",
}


def blank_to_none(data: dict, *keys: str) -> dict:
    return {k: (None if k in keys and v in ("", None) else v) for k, v in data.items()}


def form_fields(form, keys, limit: int) -> dict[str, str]:
    """The named fields of a submitted form as text, each cut to `limit` characters (absent: "")."""
    return {k: str(form.get(k, ""))[:limit] for k in keys}
