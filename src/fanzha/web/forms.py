"""Turning a submitted form into a Pydantic model, with errors a page can show beside the fields."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError


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
