"""Rules files (规则文件): the TOML files a centre edits, each read through one Pydantic model and one loader.

Every rules file has a model derived from `RulesModel` (unknown keys refused, values frozen once read) whose fields
each carry a description; `load_rules_file` reads the file and validates it, and every failure — a file that cannot
be read, a TOML syntax error, a key that is unknown, missing or of the wrong kind — becomes one `Invalid` whose
Chinese message names the file and the key (`研判规则文件 triage.toml：未知的键 rules.foo`).

Each domain registers its files with `register` beside its model (the name, the Chinese title, the model, the shipped
default files and the setting that replaces them); docs/rules.md, written by `python -m fanzha.cli.docgen`, lists every
registered file and every key from that registry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fanzha.common.errors import Invalid


class RulesModel(BaseModel):
    """A rules file, or one of its tables: unknown keys are refused and nothing changes once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RulesFileError(Invalid, ValueError):
    """A rules file is wrong; the message names the file and the key. Also a ValueError, as the loaders raised."""


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RulesFile:
    name: str  # short English name, the heading's anchor in docs/rules.md
    title: str  # what the centre calls it, in Chinese: the start of every message about it
    model: type[BaseModel]
    defaults: tuple[Path, ...]  # the shipped files
    setting: str = ""  # the FANZHA_… setting naming the centre's own file (or folder), if any
    summary: str = ""  # one English sentence: what the file decides
    parts: tuple[tuple[str, type[BaseModel]], ...] = ()  # tables checked apart (a scheme item's params per kind)


REGISTRY: dict[str, RulesFile] = {}


def register(name: str, title: str, model: type[BaseModel], *defaults: Path, setting: str = "",
             summary: str = "", parts: tuple[tuple[str, type[BaseModel]], ...] = ()) -> RulesFile:
    """Makes a rules file known to docs/rules.md and to the test that loads every shipped file."""
    entry = RulesFile(name, title, model, tuple(defaults), setting, summary, parts)
    REGISTRY[name] = entry
    return entry


def one_of(value: Any, allowed: Any) -> Any:
    """`value` when it is one of `allowed` (the keys of a dict, or any collection); else the error names them."""
    if value not in allowed:
        raise ValueError(f"{value!r} 不对，应为 {'、'.join(map(str, allowed))} 之一")
    return value


def all_of(values: Any, allowed: Any) -> Any:
    """`values` when each is one of `allowed`; else the error names the wrong ones and what is allowed."""
    if bad := [v for v in values if v not in allowed]:
        raise ValueError(f"{'、'.join(map(repr, bad))} 不对，应为 {'、'.join(map(str, allowed))} 中的")
    return values


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_END = "(at end of document)"
_QUOTED = re.compile(r"'([^']*)'")


def load_rules_file(model: type[M], path: Path | str, *, what: str) -> M:
    """The file at `path` read as TOML and validated by `model`; `what` is the file's Chinese title (研判规则文件)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RulesFileError(f"{what} {path}：无法读取（{reason}）") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(f"{what} {path.name}：{toml_error(exc)}") from exc
    return validate_rules(model, data, what=f"{what} {path.name}")


def validate_rules(model: type[M], data: dict[str, Any], *, what: str) -> M:
    """`data` (a parsed rules file) validated by `model`; `what` names the file in the message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [error_text(e) for e in exc.errors()]
        details = [{"loc": key_path(e["loc"]), "msg": text} for e, text in zip(exc.errors(), problems, strict=True)]
        raise RulesFileError(f"{what}：{'；'.join(problems)}", details=details) from exc


def toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """`第3行第5列：TOML 语法错误（Invalid value）`."""
    message = str(exc)
    if m := _AT.search(message):
        return f"第{m[1]}行第{m[2]}列：TOML 语法错误（{message[:m.start()]}）"
    if message.endswith(_END):
        return f"文件末尾：TOML 语法错误（{message[:-len(_END)].rstrip()}）"
    return f"TOML 语法错误（{message}）"


def key_path(loc: tuple[int | str, ...]) -> str:
    """Pydantic's location as the file's key: `deadlines.high.sign`, an array item as `raise.第9条.when` (from 1)."""
    return ".".join(f"第{part + 1}条" if isinstance(part, int) else str(part) for part in loc)


_EXPECTED = {
    "int_type": "整数", "int_parsing": "整数", "int_from_float": "整数",
    "float_type": "数字", "float_parsing": "数字", "decimal_type": "数字", "decimal_parsing": "数字",
    "bool_type": "true 或 false", "bool_parsing": "true 或 false",
    "string_type": "文字（加引号的字符串）",
    "list_type": "列表（[…]）", "tuple_type": "列表（[…]）", "set_type": "列表（[…]）", "frozen_set_type": "列表（[…]）",
    "dict_type": "表（[…] 下的键）", "model_type": "表（[…] 下的键）", "model_attributes_type": "表（[…] 下的键）",
}
_BOUNDS = {"greater_than": ("gt", "应大于"), "greater_than_equal": ("ge", "应不小于"),
           "less_than": ("lt", "应小于"), "less_than_equal": ("le", "应不大于")}


def error_text(error: Any) -> str:
    """One Pydantic error in Chinese, naming the key; an error of a type not translated keeps Pydantic's words."""
    kind, ctx = error["type"], error.get("ctx") or {}
    key = key_path(error["loc"])
    at = key or "文件"
    if kind == "extra_forbidden":
        return f"未知的键 {key}"
    if kind == "missing":
        return f"缺少键 {key}"
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        return f"{at} 应为{' ' if expected[0].isascii() else ''}{expected}"
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        bound = ctx.get(name)
        return f"{at} {words} {format(bound, 'g') if isinstance(bound, float) else bound}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        words = "、".join(_QUOTED.findall(expected)) or expected
        return f"{at} 应为 {words} 之一"
    if kind in ("string_too_short", "too_short"):
        return f"{at} 不能为空" if ctx.get("min_length") == 1 else f"{at} 至少应有 {ctx.get('min_length')} 个"
    if kind in ("string_too_long", "too_long"):
        return f"{at} 最多 {ctx.get('max_length')} 个"
    if kind == "string_pattern_mismatch":
        return f"{at} 的写法不对（应符合 {ctx.get('pattern')}）"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        reason = str(ctx["error"])
        return f"{key}：{reason}" if key else reason
    return f"{at}：{error['msg']}"
