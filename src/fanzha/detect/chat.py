"""Chat mode (聊天模式): is a text a chat log (speakers, times, group headers, system lines), and what of it the model
reads.

A pasted or OCR'd chat differs from an SMS in layout, not only in words: a group header with its member count, times
on lines of their own, "X 邀请 Y 加入了群聊", [图片], names above each message. The model should read what people
say, so `body` drops the layout lines; `is_chat` decides which thresholds apply (`decision.decide`) and sets the
model's chat column (`cues`).
"""

from __future__ import annotations

import re

_TIME_LINE = re.compile(r"^\s*(?:(?:昨天|前天|今天|星期[一二三四五六日天]|周[一二三四五六日天]|上午|下午|晚上|凌晨|中午)\s*)?"
                        r"(?:\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?\s*|\d{1,2}月\d{1,2}日\s*)?\d{1,2}:\d{2}(?::\d{2})?\s*$",
                        re.MULTILINE)
_SYSTEM = re.compile(r"邀请.{1,30}加入了?群聊|加入了群聊|撤回了一条消息|拍了拍|发了一个红包|领取了.{0,12}的红包|"
                     r"^\s*\[(?:图片|语音|表情|动画表情|视频|文件|链接|位置|名片|红包|转账|聊天记录)\][^\n]{0,10}$|"
                     r"^\s*接龙[:：]|以下为新消息|^\s*-{2,}.{0,10}-{2,}\s*$", re.MULTILINE)
_HEADER = re.compile(r"^[^\n]{1,30}[（(]\d{1,4}人?[)）]\s*$", re.MULTILINE)  # 家长群（48）, 业主群(312人)
_SPEAKER_LINE = re.compile(r"^[ \t]*[^\n:：,，。！？!?]{1,12}[:：]", re.MULTILINE)
# a turn copied with its time, "name 21:20：text": two such lines are a chat whoever speaks
_TIMED_TURN = re.compile(r"^[ \t]*[^\n:：,，。！？!?\d][^\n:：,，。！？!?]{0,11}?[ \t]*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?[ \t]*[:：]",
                         re.MULTILINE)
_SHORT_LINE = re.compile(r"^[^\s，。！？,.!?:：]{1,8}$", re.MULTILINE)


def is_chat(norm: str) -> bool:
    """Three lines or more with chat layout: speaker turns ("name：") where someone speaks twice, two turns copied with
    their times ("name 21:20："), a time line, a group header or a system line, or (an OCR'd screen) name-like short lines where a name comes back."""
    if norm.count("\n") < 2:
        return False
    head = norm[:6000]
    if _repeats(_SPEAKER_LINE.findall(head)) or len(_TIMED_TURN.findall(head)) >= 2:
        return True
    if _TIME_LINE.search(head) or _HEADER.search(head) or _SYSTEM.search(head):
        return True
    return _repeats(_SHORT_LINE.findall(head))


def _repeats(names: list[str]) -> bool:
    """Three turns or more and someone speaks twice: a letter's "姓名：… 电话：… 邮箱：…" fields never repeat."""
    return len(names) >= 3 and len(set(n.strip() for n in names)) < len(names)


_MEMBERS = re.compile(r"[（(]\d{1,4}人?[)）]\s*$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{2,}")


def body(norm: str) -> str:
    """The chat without its layout: time lines, system lines and member counts dropped (speakers: model_text)."""
    text = _TIME_LINE.sub("", norm)
    text = _SYSTEM.sub("", text)
    text = _MEMBERS.sub("", text)
    return _BLANK_LINES.sub("\n", text).strip()


# --- speakers: who says what ----------------------------------------------------------------------------------------
# A scam chat is mostly the victim's small talk and questions, with the scammer's lines among them; read as one text
# the scam is diluted (a window of six turns where one is the pitch reads as ordinary). What each speaker says, read
# alone, is scored as a message (`FraudClassifier.speaker_raw`), and the decision takes the most suspicious speaker.
# "name：text", or "name 21:20：text" as copied from a chat app: the time of a turn is not part of its speaker's name
_TURN = re.compile(r"^[ \t]*([^\n:：,，。！？!?]{1,12}?)(?:[ \t]*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?[ \t]*[:：][ \t]*(\S.*)$")
_NAME_LINE = re.compile(r"^[^\s，。！？,.!?:：;；、()（）\[\]]{1,10}$")
SPEAKER_MIN_CHARS = 20  # a speaker who said less is not read alone (a line like "能交现金吗" says too little)


def speakers(norm: str) -> dict[str, str]:
    """What each speaker of a chat says, {name: their lines}, in order of first turn; {} when fewer than two speakers
    can be told apart (a chat pasted without names). Two layouts: "name：text" turns where someone speaks twice (a
    line without a name continues the turn before), and an OCR'd screen where a short name line stands above the message and some name comes back
    (a short line is a name when it comes back or stands above a longer line; when every line is short, who says what
    cannot be told and the chat is read as a whole)."""
    lines = [ln.strip() for ln in body(norm).split("\n") if ln.strip()]
    said: dict[str, list[str]] = {}
    who, turns = None, 0
    for ln in lines:
        m = _TURN.match(ln)
        if m:
            who, turns = m.group(1).strip(), turns + 1
            said.setdefault(who, []).append(m.group(2))
        elif who is not None:
            said[who].append(ln)
    if turns <= len(said) or len(said) < 2:  # nobody speaks twice: a letter's "姓名：… 电话：…" fields
        names = [ln for ln in lines if _NAME_LINE.match(ln)]
        back = {n for n in names if names.count(n) > 1}
        if not back:  # no name comes back: not a screen of turns
            return {}
        said, who = {}, None
        for i, ln in enumerate(lines):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if _NAME_LINE.match(ln) and nxt and (ln in back or not _NAME_LINE.match(nxt)):
                who = ln
                said.setdefault(who, [])
            elif who is not None:
                said[who].append(ln)
        said = {k: v for k, v in said.items() if v}
    return {k: "\n".join(v) for k, v in said.items()} if len(said) >= 2 else {}


# What a scam is for: money or a way in (pay, transfer, top up, invest, a platform or an app to install, a link, a code,
# an account or a card, a fee or a deposit). A speaker who asks for none of it (a restaurant confirming an order, a
# clinic's reminder, a driver at the gate) is not called a scammer on the register of their words alone: `decision`
# gives a speaker who says any of these the bar `speaker_ask_min` and every other speaker the higher `speaker_min`.
ASKS = re.compile(r"转账|汇款|打款|转钱|打钱|汇钱|借钱|转到|转给|转入|付款|支付|收款码|扫码|充值|入金|提现|下载|注册|链接|验证码|屏幕共享|"
                  r"保证金|手续费|投资|收益|回报|平台|返利|佣金|贷款|额度|银行卡|卡号|密码|解冻|冻结|押金|定金|代理|会员费|理财|赚")


def asks(said: str) -> bool:
    """Whether what a speaker says names money or a way in (`ASKS`)."""
    return ASKS.search(said) is not None
