"""Entity extraction (要素提取): phone numbers, links, bank cards, QQ and WeChat ids, amounts — from normalised text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)|(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)|(?<!\d)((?:400|800)\d{7})(?!\d)|"
                    r"(?<!\d)(9\d{4}|12\d{3})(?!\d)(?=.{0,4}(客服|热线|电话|致电|拨打))")
_URL = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？、,]+|(?<![A-Za-z0-9@/.])[A-Za-z0-9-]{2,}(?:\.[A-Za-z0-9-]{2,})*"
                  r"\.(?:com|cn|net|org|top|vip|xyz|cc|me|io|ly|info|co|app|site|shop|club|link|tk|ink)\b(?:/[^\s\u4e00-\u9fff，。！？,]*)?",
                  re.IGNORECASE)
_CARD = re.compile(r"(?<!\d)((?:62|4\d|5[1-5]|3[47])\d{14,17})(?!\d)")
_QQ = re.compile(r"(?:QQ|qq)(?:号|群)?\s*[:：是为]?\s*(\d{5,11})(?!\d)")
_WECHAT = re.compile(r"(?:微信|wechat)(?:号)?\s*[:：是为]?\s*([A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])", re.IGNORECASE)
_AMOUNT = re.compile(r"(?<![\dA-Za-z,.\-~～])((?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[\-~～]\d+(?:\.\d+)?)?|[一二两三四五六七八九十百千万]+)\s*(?:万|千|百)?\s*(?:元|块|rmb|人民币|美元|USDT|u(?![a-z])))"
                     r"|[¥￥]\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass
class Entities:
    phones: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    bank_cards: list[str] = field(default_factory=list)
    qq: list[str] = field(default_factory=list)
    wechat: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"phones": list(self.phones), "urls": list(self.urls), "bank_cards": list(self.bank_cards),
                "qq": list(self.qq), "wechat": list(self.wechat), "amounts": list(self.amounts)}


def _uniq(items) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def extract(norm: str) -> Entities:
    """Entities found in normalised text (run `normalise` first: it joins digits split by spaces, dashes or emoji)."""
    urls = _uniq(m.group(0).rstrip(".") for m in _URL.finditer(norm))
    cards = _uniq(m.group(1) for m in _CARD.finditer(norm))
    qq = _uniq(m.group(1) for m in _QQ.finditer(norm))
    phones = _uniq(next(g for g in m.groups() if g) for m in _PHONE.finditer(norm))
    phones = [p for p in phones if p not in qq]
    return Entities(phones=phones, urls=urls, bank_cards=cards, qq=qq,
                    wechat=_uniq(m.group(1) for m in _WECHAT.finditer(norm)),
                    amounts=_uniq(m.group(0).replace(" ", "") for m in _AMOUNT.finditer(norm)))


# --- blocklist keys (黑名单) ----------------------------------------------------------------------------------------
# Kinds an approved report entity or a blocklist row may have; the Chinese names are what people read.
ENTITY_KINDS = {"phone": "电话号码", "url": "网址", "bank_card": "银行卡/账户", "qq": "QQ号", "wechat": "微信号"}
_FIELD_KIND = {"phones": "phone", "urls": "url", "bank_cards": "bank_card", "qq": "qq", "wechat": "wechat"}
_NOT_DIGIT = re.compile(r"\D")


def canonical(kind: str, value: str) -> str:
    """The one spelling a blocklist stores and looks up: digits only for numbers (no +86), lower-case links without
    scheme, "www." or trailing slash, lower-case WeChat ids. Empty when the value is not of that kind."""
    from fanzha.detect.normalise import normalise

    return canonical_of(kind, normalise(str(value or "")).strip())


def canonical_of(kind: str, text: str) -> str:
    """`canonical` of text already normalised and stripped (plain ASCII needs no normalising: links/rules.py)."""
    if kind in ("phone", "bank_card", "qq"):
        digits = _NOT_DIGIT.sub("", text)
        if kind == "phone":
            if len(digits) == 13 and digits.startswith("861"):
                digits = digits[2:]
            return digits if 5 <= len(digits) <= 12 else ""
        if kind == "bank_card":
            return digits if 12 <= len(digits) <= 19 else ""
        return digits if 5 <= len(digits) <= 11 else ""
    if kind == "url":
        url = re.sub(r"^[a-z]+://", "", text.lower())
        url = re.sub(r"^www\.", "", url).rstrip("/")
        return url if "." in url and not re.search(r"\s", url) else ""
    if kind == "wechat":
        wid = text.lower()
        return wid if re.fullmatch(r"[a-z][-_a-z0-9]{5,19}", wid) else ""
    return ""


def guess_kind(value: str) -> str:
    """The kind a bare value most likely is (for a lookup box or a spreadsheet row without 类型)."""
    from fanzha.detect.normalise import normalise

    text = normalise(str(value or "")).strip()
    digits = _NOT_DIGIT.sub("", text)
    if digits and not re.search(r"[A-Za-z\u4e00-\u9fff]", text):
        if len(digits) in (11, 13) and (digits.startswith("1") or digits.startswith("861")):
            return "phone"
        if len(digits) >= 15:
            return "bank_card"
        if digits.startswith("0") or digits.startswith(("400", "800")) or len(digits) == 5:
            return "phone"
        return "qq"
    if re.search(r"\.[a-z]{2,}", text.lower()):
        return "url"
    if re.fullmatch(r"[A-Za-z][-_A-Za-z0-9]{5,19}", text):
        return "wechat"
    return ""


def lookup_keys(value: str) -> list[str]:
    """Blocklist keys a looked-up value may be stored under: its canonical form, and for a link its bare host too."""
    kind = guess_kind(value)
    keys = []
    for k in ([kind] if kind else []) + ["phone", "qq", "bank_card", "url", "wechat"]:
        key = canonical(k, value)
        if key and key not in keys:
            keys.append(key)
            if k == "url" and "/" in key:
                keys.append(key.split("/", 1)[0])
        if keys:
            break
    return keys


def blocklist_items(norm: str, ents: Entities | None = None) -> list[tuple[str, str, str]]:
    """(kind, value as written, canonical key) of every phone, link, card, QQ and WeChat id in normalised text."""
    ents = ents or extract(norm)
    out: list[tuple[str, str, str]] = []
    for field_name, kind in _FIELD_KIND.items():
        for value in getattr(ents, field_name):
            key = canonical(kind, value)
            if key and all(key != k for _, _, k in out):
                out.append((kind, value, key))
    return out
