"""Entity extraction (要素提取): phone numbers, links, bank cards, QQ and WeChat ids, amounts — from normalised text."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

_PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)|(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)|(?<!\d)((?:400|800)\d{7})(?!\d)|"
                    r"(?<!\d)(9\d{4}|12\d{3})(?!\d)(?=.{0,4}(客服|热线|电话|致电|拨打))")
_URL = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？、,]+|(?<![A-Za-z0-9@/.])[A-Za-z0-9-]{2,}(?:\.[A-Za-z0-9-]{2,})*"
                  r"\.(?:com|cn|net|org|top|vip|xyz|cc|me|io|ly|info|co|app|site|shop|club|link|tk|ink)\b(?:/[^\s\u4e00-\u9fff，。！？,]*)?",
                  re.IGNORECASE)
_CARD = re.compile(r"(?<!\d)((?:62|4\d|5[1-5]|3[47])\d{14,17})(?!\d)")
_QQ = re.compile(r"(?:QQ|qq)(?:号|群)?\s*[:：是为]?\s*(\d{5,11})(?!\d)")
_WECHAT = re.compile(r"(?:微信|wechat)(?:号)?\s*[:：是为]?\s*([A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])", re.IGNORECASE)
_AMOUNT = re.compile(r"(?<![\dA-Za-z])((?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)\s*(?:万|千|百)?\s*(?:元|块|rmb|人民币|美元|USDT|u(?![a-z])))"
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
        return asdict(self)


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
