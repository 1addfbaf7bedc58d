"""Counterparty identifiers (对方电话/账号/网址/APP/社交账号): reading a cell, the one spelling each is stored and
compared under, and the rule that the victim's own phone or ID number is never a link. No database here.

Numbers, links and social ids are spelled as the blocklist spells them (detect.extract.canonical), so a record's
identifier and a blocklist entry meet on the same key. Plain ASCII cells — nearly all — skip the checker's
normalisation (and its OpenCC tables), which changes nothing an identifier keeps; any other text goes through it
(tests/links/test_links.py checks that both spell alike). Importing detect.extract does not load the checker's model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fanzha.common.identity import mask_phone
from fanzha.detect.extract import canonical as checker_canonical
from fanzha.detect.extract import canonical_of

# Identifier kinds in the order a page shows them; the Chinese name is the column of files and forms.
KINDS = {"phone": "对方电话", "account": "对方账号", "url": "对方网址", "app": "涉诈APP", "social": "对方社交账号"}
COLUMN_KIND = {column: kind for kind, column in KINDS.items()}
# Header variants files use for the columns other than 对方账号 (which warnings and cases name themselves).
COUNTERPARTY_COLUMNS = {
    "对方电话": ("对方号码", "嫌疑人电话", "诈骗电话", "涉诈电话号码", "对方手机号"),
    "对方网址": ("涉诈网址", "诈骗网址", "对方链接", "涉诈链接"),
    "涉诈APP": ("涉诈App", "诈骗App", "诈骗APP", "APP名称", "App名称", "涉诈应用"),
    "对方社交账号": ("对方QQ", "对方微信", "对方社交帐号", "涉诈社交账号", "对方QQ/微信"),
}
# What a kind of the blocklist (detect.extract.ENTITY_KINDS) is called here: a key of that kind on the blocklist
# makes a record's identifier of this kind 黑名单.
BLOCKLIST_KINDS = {"phone": ("phone",), "account": ("bank_card",), "url": ("url",), "social": ("qq", "wechat"),
                   "app": ()}
LIST_SEPARATORS = re.compile(r"[、，,;；\n]+")
MAX_PER_CELL = 20
_DIGITS = re.compile(r"\D")
# "QQ 123456", "QQ号:123456", "微信：abc123", "wechat: abc123" name the kind before the id ("wxid_…" is an id).
_SOCIAL_PREFIX = re.compile(r"^(?:微信号?\s*[:：]?|qq号?\s*[:：]?(?=\s*\d)|(?:wechat|wx)\s*[:：]|(?:wechat|wx)\s+)\s*",
                            re.IGNORECASE)
_ACCOUNT = re.compile(r"[a-z0-9][a-z0-9_.@\-]{3,63}")  # a payment account that is not a number: e-mail, login id


@dataclass(frozen=True)
class Identifier:
    """One counterparty identifier: its kind, the value as written and its canonical key."""

    kind: str
    value: str
    key: str


class BadIdentifier(ValueError):
    """A cell holds a value that is not an identifier of its kind; `column` names the cell."""

    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


def _normalised(text: str) -> str:
    """The checker's normalisation (full-width forms, look-alike characters, spacing tricks) for text that needs it;
    a plain ASCII cell as it is (the keys drop what it would change there: spaces inside numbers)."""
    if text.isascii():
        return text.strip()
    from fanzha.detect.normalise import normalise

    return normalise(text).strip()


def canonical(kind: str, text: str) -> str:
    """detect.extract.canonical: plain ASCII text needs no normalising, so it skips the checker's normalisation."""
    return canonical_of(kind, text.strip()) if text.isascii() else checker_canonical(kind, text)


def key_of(kind: str, value: str) -> str:
    """The spelling `value` is stored and compared under, "" when it is not an identifier of `kind`."""
    text = _normalised(str(value or ""))
    if kind == "phone":  # letters or words in a number cell are a mistake, not separators to skip
        return "" if re.search(r"[A-Za-z\u4e00-\u9fff]", text) else canonical("phone", text)
    if kind == "account":
        compact = re.sub(r"[\s\-]", "", text.lower())
        if compact.isdigit():
            return compact if 5 <= len(compact) <= 19 else ""
        return compact if _ACCOUNT.fullmatch(compact) else ""
    if kind == "url":
        return canonical("url", text)
    if kind == "social":
        compact = _SOCIAL_PREFIX.sub("", text).strip()
        return canonical("qq", compact) if compact.isdigit() else canonical("wechat", compact)
    if kind == "app":
        name = re.sub(r"\s+", "", text.lower())
        return name if 1 <= len(name) <= 40 else ""
    return ""


_HINTS = {"phone": "应为手机号或座机号", "account": "应为银行卡号或支付账号（5—19位数字，或字母数字账号）",
          "url": "应为网址，如 example.com", "app": "应为APP名称（40字以内）",
          "social": "应为QQ号（5—11位数字）或微信号（字母开头6—20位）"}


def parse_cell(kind: str, cell: object, *, column: str | None = None) -> list[Identifier]:
    """Every identifier of one cell (several separated by 、，,;； or spaces); BadIdentifier names the first value
    that is not one."""
    column = column or KINDS[kind]
    text = str(cell or "").strip()
    if not text:
        return []
    parts = []
    for part in (p.strip() for p in LIST_SEPARATORS.split(text)):
        # "+86 170 1234 5678" is one phone, "13800000000 13900000000" two: a part is split at spaces only when it
        # is not one identifier as a whole (an app name keeps its spaces).
        if not part:
            continue
        if kind == "app" or key_of(kind, part) or not all(key_of(kind, p) for p in part.split()):
            parts.append(part)  # one identifier, or a bad one named as written
        else:
            parts += part.split()
    if len(parts) > MAX_PER_CELL:
        raise BadIdentifier(column, f"{column} 最多填{MAX_PER_CELL}个")
    out: list[Identifier] = []
    for part in parts:
        part = part.strip()
        key = key_of(kind, part)
        if not key:
            raise BadIdentifier(column, f"{column} “{part[:40]}”格式不对：{_HINTS[kind]}")
        if all(i.key != key for i in out):
            out.append(Identifier(kind, part[:200], key))
    return out


def from_row(row: Mapping[str, object], *, victim_phone: str | None = None,
             victim_id_number: str | None = None) -> list[Identifier]:
    """The identifiers of a row keyed by the Chinese columns, without the victim's own phone or ID number."""
    found: list[Identifier] = []
    for kind, column in KINDS.items():
        cell = row.get(column)
        if cell is not None and cell != "":  # most rows leave most cells empty: an import reads millions
            found += parse_cell(kind, cell, column=column)
    return not_the_victim(found, victim_phone, victim_id_number) if found else found


def not_the_victim(items: list[Identifier], phone: str | None, id_number: str | None) -> list[Identifier]:
    """The victim's own phone or ID number is never a link (a victim who wrote their own number in the wrong cell
    would otherwise join every record about them)."""
    own = ({_DIGITS.sub("", v) for v in (phone, id_number) if v} | {(id_number or "").lower()}) - {""}
    return [i for i in items if i.kind in ("url", "app") or not ({i.key, _DIGITS.sub("", i.key)} & own)]


def joined(items: list[Identifier], kind: str) -> str:
    """The values of one kind as a form cell shows them."""
    return "、".join(i.value for i in items if i.kind == kind)


def masked(kind: str, value: str) -> str:
    """An identifier as lists show it: account numbers and phones as the request queue shows them (6222****1234),
    links, apps and social ids as written."""
    if kind not in ("account", "phone") or not value:
        return value
    text = re.sub(r"[\s\-]", "", value)
    return text[:4] + "****" + text[-4:] if len(text) >= 12 else mask_phone(text)
