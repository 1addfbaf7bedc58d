"""Push messages (短信/微信推送) of at most 70 characters, counted the way an SMS is billed.

A Chinese SMS is sent in UCS-2/UTF-16: 70 units fit in one message. A Chinese character, a digit, a letter or a
full-width punctuation mark is one unit; a character outside the Basic Multilingual Plane (most emoji, e.g. 😀
U+1F600, and rare CJK Extension B characters) is two units, as a surrogate pair. Joined emoji count every code
point they are made of: 👍🏻 is 4 units (two non-BMP code points), ❤️ is 2 (U+2764 and the variation selector
U+FE0F), 👨‍👩‍👧 is 8 (three non-BMP code points and two zero-width joiners). So the rule is: length = UTF-16 code
units, and a message is cut only between whole characters (never inside a surrogate pair or a joined emoji).
"""

from __future__ import annotations

LIMIT = 70
PREFIX = "【反诈提醒】"
HOTLINE = "如有疑问请拨打96110。"


def sms_units(text: str) -> int:
    """UTF-16 code units: 1 per BMP character, 2 per character beyond U+FFFF."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def fits(text: str, limit: int = LIMIT) -> bool:
    return sms_units(text) <= limit


def cut(text: str, limit: int = LIMIT) -> str:
    """The longest prefix within `limit` units that ends on a whole character (a joined emoji stays whole)."""
    out, used, i = [], 0, 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (text[j] in "\u200d\ufe0f" or "\U0001f3fb" <= text[j] <= "\U0001f3ff"
                                 or text[j - 1] == "\u200d"):
            j += 1
        chunk = text[i:j]
        if used + sms_units(chunk) > limit:
            break
        out.append(chunk)
        used += sms_units(chunk)
        i = j
    return "".join(out)


COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯", "尉迟", "长孙",
                     "宇文", "公孙", "端木", "申屠")


def salutation(name: str, gender: str) -> str:
    """张先生， / 欧阳女士，; the whole name when the gender is not known."""
    if not name:
        return ""
    title = "女士" if gender == "女" else "先生" if gender == "男" else ""
    surname = name[:2] if name.startswith(COMPOUND_SURNAMES) and len(name) > 2 else name[0]
    return f"{surname}{title}，" if title else f"{name}，"


def compose(advices: list[str], *, name: str = "", gender: str = "", prefix: str = PREFIX,
            limit: int = LIMIT) -> str:
    """Prefix, salutation, as many whole advice sentences as fit, then the hotline if it fits; never over `limit`."""
    head = prefix + salutation(name, gender)
    if advices and not fits(head + advices[0], limit):
        head = prefix  # the first sentence matters more than the name
    text = head
    for advice in advices:
        if fits(text + advice, limit):
            text += advice
    if text == head and advices:
        text = cut(head + advices[0], limit)
    if fits(text + HOTLINE, limit):
        text += HOTLINE
    return text
