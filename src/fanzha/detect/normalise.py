"""Text normalisation (文本归一化) that undoes the usual evasions before rules and the model look at a message.

`normalise` gives readable canonical text (rules, extraction and the reasons shown to people work on it);
`model_text` then masks numbers, links and corpus placeholders so that the model sees the same thing whether the
digits were real, masked as x (80w corpus) or replaced by DIGIT/PHONE/URL (fbs_sms).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\u180e]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_HTML_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>\n]{1,200}>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"&(nbsp|amp|lt|gt|quot|#\d+);")
# Emoji and pictographs (kept out of the text, but a heart standing for 信 is read first).
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF\u25A0-\u25FF\u3030\u303D"
                    "\u3297\u3299\uFE0F\u20E3]")
# Bumped whenever what the classifier reads changes (a model trained on another version refuses to load): 2 kept
# decimal points and ranges of amounts (268.00元, 200-500元) instead of joining their digits; 3 keeps them only in
# numbers of two groups, so a dashed phone number followed by a unit (138-1234-5678 人工客服) is joined again;
# 4 reads 菠菜 as 博彩 only beside a gambling word (蒜蓉菠菜 is spinach); 5 splits fused corpus placeholders
# (CELLPHONEWECHAT, NAMEBANK), reads BANK as an account number and reads a chat without its layout lines (chat.body).
VERSION = 5
_HEART = "[❤♥♡❣💕💗💖💓💞💘💝]\ufe0f?"
_CJK = "\u4e00-\u9fff"
# Single characters spaced or punctuated apart: 加 微 信, 刷.单.返.利, 加-V-信
_SPACED = re.compile(rf"(?:[{_CJK}][ \t\u3000\.\-_·•*、|/\\~～'\"“”]+){{2,}}[{_CJK}]")
_SEPS = re.compile(r"[ \t\u3000\.\-_·•*、|/\\~～'\"“”]+")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
# Separators inside a number (138-1234-5678, 6222 0202 …, 1❤3❤8 after emoji removal becomes 1 3 8) are removed —
# but a number of two groups that reads as a decimal (268.00元, 12345.67) or as a range of amounts followed by its
# unit (日赚200-500元, 5~20单) is kept: joined, those would become other numbers. Three groups or more are always
# joined (138-1234-5678 人工客服, 138-1234-56.78).
_GAP_CHAR = r"[ \t\u3000\-_·•*.~～、]"
_GAP = _GAP_CHAR + "{1,3}"
_NUMBER_RUN = re.compile(rf"\d+(?:{_GAP}\d+)+")
_GAP_RE = re.compile(_GAP)
_DECIMAL = re.compile(r"\d+\.\d{1,2}")
_RANGE = re.compile(r"\d{1,6}(?:\.\d{1,2})?[\-~～]\d{1,6}(?:\.\d{1,2})?")
_UNIT_AFTER = re.compile(r"\s*(?:元|块|万|千|百|%|个|单|次|天|小时|分钟|岁|人|件|笔|倍|折)")


def _join_number(m: re.Match) -> str:
    run = m.group(0)
    if _DECIMAL.fullmatch(run):
        return run
    if _RANGE.fullmatch(run) and _UNIT_AFTER.match(m.string, m.end()):
        return run
    return _GAP_RE.sub("", run)


_MULTISPACE = re.compile(r"[ \t\u3000]+")

# Look-alike and homophone spellings → the standard word (order matters: longer first).
_ALIASES: list[tuple[str, str]] = [
    (rf"(?:[VvＶｖ威微薇维徽]|危)\s*{_HEART}", "微信"),
    (r"(?<![A-Za-z])(?:[Vv][Xx]|[Ww][Xx]|[Vv]信|[Vv]亻言|威信|薇信|徽信|维信|微亻言|徾信|薇❤|嶶信|溦信|[Ww]ei[Xx]in|weixin)(?![A-Za-z])", "微信"),
    (r"(?<![A-Za-z])[Vv](?=\s*[:：]\s*[A-Za-z0-9_-]{5,})|(?:(?<=加)|(?<=加 ))[Vv](?![A-Za-z])", "微信"),
    (r"扣扣|抠抠|蔻蔻|口口(?=号|群|[:：]?\s*\d)|企鹅号|[QqＱｑ]\s*[QqＱｑ]", "QQ"),
    (r"(?:(?<=加)|(?<=加 ))[QqＱｑ](?![A-Za-z])|(?:(?<=[加联])|(?<=[加联] ))扣(?=[:：]?\s*\d)", "QQ"),
    # 菠菜 is also spinach (蒜蓉菠菜): read as 博彩 only when a gambling word follows or 玩 comes before it (not 玩菠菜叶);
    # 博采众长 is a saying
    (r"菠菜(?=\s?(?:平台|网站|网址|娱乐|注册|充值|下注|彩金|返水|导师))|(?<=玩)菠菜(?!叶)"
     r"|bc(?=平台|网站|娱乐)|博采(?!众|各家|之长)|搏彩", "博彩"),
    (r"返拥|反佣|反拥", "返佣"),
    (r"刷dan|刷d(?=[^a-z])|shua单|刷単", "刷单"),
    (r"日jie|日洁|日结(?:算)?", "日结"),
    (r"兼值|兼只|兼耳只", "兼职"),
    (r"贷kuan|dai款|带款|代款(?=[^a-z])", "贷款"),
    (r"银hang|银航(?=卡)", "银行"),
    (r"转zhang|转帐", "转账"),
    (r"帐户|账戶", "账户"),
    (r"帐号", "账号"),
    (r"cha询|查洵", "查询"),
    (r"征xin|正信(?=记录|报告|修复)", "征信"),
    (r"赚qian|賺錢", "赚钱"),
    (r"佣jin|拥金", "佣金"),
    (r"yin行卡|银彳亍卡", "银行卡"),
    (r"裸liao|裸聊", "裸聊"),
    (r"验证马|验证吗(?=[^？?])|yzm", "验证码"),
    (r"屏幕分享|共享屏幕|分享屏幕|屏幕共亨", "屏幕共享"),
    (r"公j法|公检fa", "公检法"),
]
_HEART_RE = re.compile(_ALIASES[0][0])
_HEART_HINT = re.compile(_HEART)  # _HEART_RE needs a heart
_BLANK = re.compile(r"[ \t\u3000]")  # _CJK_GAP and _MULTISPACE need one of these
_DIGIT_GAP_HINT = re.compile(r"\d" + _GAP_CHAR)  # _NUMBER_RUN needs a digit and a separator after it


def _class_chars(items) -> set | None:
    """The characters a parsed character class ([abc], [a-f]) matches, or None when that is not a small known set."""
    from re import _constants as c

    chars: set = set()
    for op, av in items:
        if op is c.LITERAL:
            chars.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < 64:
            chars |= {chr(i) for i in range(av[0], av[1] + 1)}
        else:
            return None
    return chars


def first_chars(pattern: re.Pattern) -> frozenset | None:
    """The characters a match can start with, or None when that is not a small known set (then always search).

    Python's regex engine has no fast scan for patterns that open with a group, so each rule (and each look-alike
    spelling) first checks that one of its possible first characters occurs in the text at all.
    """
    from re import _constants as c
    from re import _parser

    def first(items) -> tuple[set | None, bool]:  # (chars, whether the sequence can match empty)
        out: set = set()
        for op, av in items:
            if op is c.LITERAL:
                return out | {chr(av)}, False
            if op is c.IN:
                chars = _class_chars(av)
                return (None if chars is None else out | chars), False
            if op is c.SUBPATTERN:
                sub, empty = first(av[3])
            elif op is c.BRANCH:
                sub, empty = set(), False
                for branch in av[1]:
                    b, e = first(branch)
                    if b is None:
                        return None, False
                    sub |= b
                    empty = empty or e
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                sub, empty = first(av[2])
                empty = empty or av[0] == 0
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            else:
                return None, False
            if sub is None:
                return None, False
            out |= sub
            if not empty:
                return out, False
        return out, True

    chars, empty = first(_parser.parse(pattern.pattern, pattern.flags))
    if chars is None or empty:
        return None
    if pattern.flags & re.IGNORECASE:
        chars |= {ch.swapcase() for ch in chars}
    return frozenset(chars)


def required_literals(pattern: re.Pattern) -> frozenset | None:
    """Strings one of which every match of `pattern` contains (its trigger strings), or None when they are unknown:
    a pattern can only match a text holding one of them, so a substring test can rule it out before the search."""
    from re import _constants as c
    from re import _parser

    def lead(items) -> str:  # the literal characters every match of `items` starts with
        out = ""
        for op, av in items:
            if op is not c.LITERAL:
                break
            out += chr(av)
        return out

    def lits(items) -> set | None:
        cands, run = [], ""
        for op, av in items:
            if op is c.LITERAL:
                run += chr(av)
                continue
            if op is c.BRANCH and run and all(lead(b) for b in av[1]):
                # the parser takes a common first piece out of an alternation (日jie|日洁 → 日(?:jie|洁)): rejoin it
                cands.append({run + lead(b) for b in av[1]})
                run = ""
                continue
            if run:
                cands.append({run})
                run = ""
            sub = None
            if op is c.SUBPATTERN:
                sub = lits(av[3])
            elif op is c.BRANCH:
                subs = [lits(b) for b in av[1]]
                sub = None if any(x is None for x in subs) else set().union(*subs)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                sub = lits(av[2]) if av[0] >= 1 else None
            elif op is c.IN:
                sub = _class_chars(av)
            if sub is not None:
                cands.append(sub)
        if run:
            cands.append({run})
        # the most selective piece: the longest shortest string, then the fewest strings
        return max(cands, key=lambda s: (min(len(x) for x in s), -len(s))) if cands else None

    found = lits(_parser.parse(pattern.pattern, pattern.flags))
    return None if found is None else frozenset(found)


_ALIAS_RES = [(rx, rep, first_chars(rx)) for rx, rep in ((re.compile(p), r) for p, r in _ALIASES[1:])]
# Which look-alike spellings can start with each character (one set intersection per text instead of a test per
# spelling); spellings whose first characters are unknown are always tried.
_ALIAS_NEEDS = tuple(required_literals(rx) for rx, _, _ in _ALIAS_RES)  # and the strings it needs
_ALIAS_ALWAYS = tuple(i for i, (_, _, first) in enumerate(_ALIAS_RES) if first is None)
_ALIAS_BY_CHAR: dict[str, set[int]] = {}
for _i, (_, _, _first) in enumerate(_ALIAS_RES):
    for _ch in _first or ():
        _ALIAS_BY_CHAR.setdefault(_ch, set()).add(_i)


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    # Taiwan phrases → mainland phrases (軟體→软件, 簡訊→短信, 螢幕→屏幕) as well as characters.
    return opencc.OpenCC("tw2sp.json")


def to_simplified(text: str) -> str:
    return _opencc().convert(text)


def _join_spaced(m: re.Match) -> str:
    s = m.group(0)
    # Keep real sentences: only collapse when every piece between separators is one character.
    pieces = [p for p in _SEPS.split(s) if p]
    if all(len(p) == 1 for p in pieces):
        return "".join(pieces)
    return s


def normalise(text: str) -> str:
    """Canonical simplified, half-width text with spaced/punctuated-apart words and look-alike spellings undone."""
    if not text:
        return ""
    # Each pattern is only tried when a character it needs is in the text (same result, less scanning).
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: {"nbsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": '"'}.get(m.group(1), " "),
                           text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # full-width → half-width, circled/compat forms → plain
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROL.sub(" ", text)
    if not text.isascii():
        text = to_simplified(text)
    if _HEART_HINT.search(text):
        text = _HEART_RE.sub("微信", text)  # hearts standing for 信 before the emoji go
    text = _EMOJI.sub(" ", text)
    if _SEPS.search(text):
        text = _SPACED.sub(_join_spaced, text)
    if _BLANK.search(text):
        text = _CJK_GAP.sub("", text)
    if _DIGIT_GAP_HINT.search(text):
        text = _NUMBER_RUN.sub(_join_number, text)
    todo = set(_ALIAS_ALWAYS)
    for ch in _ALIAS_BY_CHAR.keys() & set(text):
        todo |= _ALIAS_BY_CHAR[ch]
    for i in sorted(todo):  # in list order: longer spellings first
        rx, rep, _ = _ALIAS_RES[i]
        need = _ALIAS_NEEDS[i]
        if need is None or any(lit in text for lit in need):  # the text as it is now, after the spellings before
            text = rx.sub(rep, text)
    if _BLANK.search(text):
        text = _MULTISPACE.sub(" ", text)
    return text.strip()


MAX_CHARS = 100_000  # the checker reads the first 100,000 characters of a text; a verdict on a longer one says so
_SURELY_KEPT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")


def readable(text: str) -> bool:
    """Whether `normalise(text)` leaves any text: emoji, zero-width and control characters, spaces and markup alone
    leave none, and such a message cannot be checked. Cheap for the common message: a letter, digit or Chinese
    character outside markup and entities always stays. Like the checker, it reads the first `MAX_CHARS` characters."""
    text = text[:MAX_CHARS]
    if "<" not in text and "&" not in text and _SURELY_KEPT.search(text):
        return True
    return bool(normalise(text))


# --- model view -------------------------------------------------------------------------------------------------
URL_TOKEN, PHONE_TOKEN, CARD_TOKEN, NUM_TOKEN, ANON_TOKEN = "Ⓤ", "Ⓟ", "Ⓑ", "0", "Ⓝ"
_PLACEHOLDER_WORD = r"(?:CELLPHONE|TELEPHONE|HOTLINE|PHONE|URL|DIGIT|Digit|NAME|PLACE|BANK|QQ|WECHAT|EMAIL|ADDRESS|NUMBER|ACCOUNT)"
# A run of placeholders is one match, fused (CELLPHONEWECHAT, NAMEBANK: a corpus whose spaces were all removed) or
# spaced (DIGIT DIGIT), and each is mapped on its own, so a fused and a segmented copy of a text read the same.
_PLACEHOLDER = re.compile(rf"(?<![A-Za-z]){_PLACEHOLDER_WORD}(?:[ ]?{_PLACEHOLDER_WORD})*(?![A-Za-z])|"
                          r"(?<![A-Za-z])URL(?=[A-Za-z])")
_PLACEHOLDER_ONE = re.compile(_PLACEHOLDER_WORD)
_PLACEHOLDER_MAP = {"CELLPHONE": PHONE_TOKEN, "PHONE": PHONE_TOKEN, "HOTLINE": PHONE_TOKEN, "TELEPHONE": PHONE_TOKEN,
                    "URL": URL_TOKEN, "DIGIT": NUM_TOKEN, "Digit": NUM_TOKEN, "QQ": "QQ", "WECHAT": "微信",
                    "EMAIL": URL_TOKEN, "ACCOUNT": CARD_TOKEN, "BANK": CARD_TOKEN}  # BANK stands for an account number
_URL = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？、]+|(?<![A-Za-z0-9@])[A-Za-z0-9-]{2,}(?:\.[A-Za-z0-9-]{2,})*"
                  r"\.(?:com|cn|net|org|top|vip|xyz|cc|me|io|ly|info|co|app|site|shop|club|link|tk|ink)(?:/[^\s\u4e00-\u9fff，。！？]*)?",
                  re.IGNORECASE)
_XMASK = re.compile(r"(?<![A-Za-z])[xX]+(?![A-Za-z])")
_DIGITS = re.compile(r"\d+")
_SPACE_NOT_BETWEEN_WORDS = re.compile(r"(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])")


def _digits(m: re.Match) -> str:
    n = len(m.group(0))
    return CARD_TOKEN if n >= 15 else PHONE_TOKEN if n >= 7 else NUM_TOKEN


_SPEAKER = re.compile(r"^[ \t]*[^\n:：,，。！？!?]{1,12}[:：][ \t]*", re.MULTILINE)


def strip_speakers(text: str) -> str:
    """Chat logs: drop the "name:" at the start of each turn, so who speaks (骗子/受害人/来电方 in the corpora,
    real names in real logs) cannot stand in for what is said. Only for texts of two or more such lines."""
    if "\n" in text and len(_SPEAKER.findall(text, 0, 4000)) >= 2:
        return _SPEAKER.sub("", text)
    return text


_PLACEHOLDER_HINT = re.compile(r"[A-Z]{2}|Digit")


def _placeholders(m: re.Match) -> str:
    return "".join(_PLACEHOLDER_MAP.get(w, ANON_TOKEN) for w in _PLACEHOLDER_ONE.findall(m.group(0)))


def model_text(norm: str) -> str:
    """What the classifier reads: normalised text with links, numbers and corpus placeholders masked alike."""
    text = strip_speakers(norm)
    if "." in text:  # every link form _URL knows has a dot
        text = _URL.sub(URL_TOKEN, text)
    # NAME, PLACE, BANK …: an anonymised name or place (real texts carry the name itself, which is not a cue either)
    if _PLACEHOLDER_HINT.search(text):
        text = _PLACEHOLDER.sub(_placeholders, text)
    if "x" in text or "X" in text:
        text = _XMASK.sub(lambda m: "0" * len(m.group(0)), text)
    text = _DIGITS.sub(_digits, text)
    text = _SPACE_NOT_BETWEEN_WORDS.sub("", text)  # segmented corpora and real text read alike
    return text.lower()
