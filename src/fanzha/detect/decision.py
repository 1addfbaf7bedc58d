"""The one decision (研判规则) from calibrated probabilities and evidence to a risk: 诈骗 needs evidence.

Pure: numbers and flags in, risk indices out; no model, no text, no I/O. `service.score_many`, the evaluation
(`evaluate.metrics`) and the model's own `predict` all decide through `decide`, so what is measured is what is shipped.

- 诈骗 only when a decisive rule fired (`rules.DECISIVE`, a blocklisted number or link) or the calibrated P(fraud)
  clears the named threshold: `fraud_min` for a message with a scam red flag (a rule or a cue of risk fraud: a
  phrase, an account-number or bare-link fragment), `unflagged_fraud_min` for a message on the model's reading of
  its words alone, `fraud_min_chat` for a chat, and `plain_fraud_min` for a
  plain message (a signed transactional notice or a short personal message with no red flag and no request,
  `rules.notice`, `rules.personal`, or a signed message with no channel to a stranger, `rules.signed`; one with
  an advert's words only has the higher bar).
- A chat whose speakers can be told apart (`chat.speakers`) is read speaker by speaker: it is 诈骗 by probability
  only when what one speaker says, read alone as a message, reaches `speaker_ask_min` and asks for money or a way in
  (`chat.asks`: pay, transfer, top up, invest, a platform, an app, a link, a code, a card …), or reaches `speaker_min`
  without asking (`speaker`, `speaker_asking`), unless the whole chat reads as surely ordinary (`speaker_whole_min`:
  a speaker's lines out of their context do not overrule a reading of the whole that is sure); the reading of the
  whole chat, where the victim's lines dilute the scammer's, then decides only when it is near certain
  (`whole_chat_fraud_min`).
- Otherwise the next class: the likeliest of 正常/营销广告/违法推广, where 营销广告 with an illicit red flag (a rule of
  risk illicit fired: 赌博, 办证, 招嫖 …) is 违法推广, and 营销广告 for a text that is little more than a bank account
  (`account_only`: the `fragment_account` cue, "农行 6228… 户主 李某") is 诈骗: an advert names something to buy, a bare
  account is the tail of a "transfer to this card" scam. Only the model's own reading counts: a bare account read as
  ordinary, even weakly (then 营销广告 by the normal bar), or carrying an illicit red flag keeps its verdict. For a message 正常 needs P(normal) ≥
  `normal_min` (else the likelier of 营销广告 and 违法推广, so a harmful message that missed the fraud bar stays
  flagged), except that a notice (not read as 违法推广) is 正常. For a chat 营销广告 needs P(spam) ≥ `spam_min_chat` (a chat is an
  advert only when it reads as one); otherwise the chat is 正常 unless 违法推广 is likelier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

RISKS = ("normal", "spam", "illicit", "fraud")
NORMAL, SPAM, ILLICIT, FRAUD = range(4)
PERSONAL, NOTICE = 1, 2  # kinds of plain message (`plain`)


@dataclass(frozen=True)
class Thresholds:
    fraud_min: float = 0.5  # a message is 诈骗 when calibrated P(fraud) ≥ this
    fraud_min_chat: float = 0.4  # a chat is 诈骗 when P(fraud) ≥ this
    plain_fraud_min: float = 0.97  # a plain message (notice / personal, nothing asked, no red flag) needs this
    unflagged_fraud_min: float = 0.7  # a message with no scam red flag (no rule or cue pointing to fraud) needs this
    normal_min: float = 0.75  # a message is 正常 only when P(normal) ≥ this (unless plain)
    spam_min_chat: float = 0.5  # a chat is 营销广告 only when P(spam) ≥ this
    whole_chat_fraud_min: float = 0.9  # a chat read speaker by speaker is still 诈骗 when the whole reads ≥ this
    speaker_min: float = 0.7  # a chat is 诈骗 when one speaker's words, read alone, reach this
    speaker_ask_min: float = 0.3  # … or this, for a speaker who asks for money or a way in (`chat.asks`)
    speaker_whole_min: float = 0.02  # … and only when the whole chat reads at least this (not surely ordinary)

    def as_dict(self) -> dict:
        return asdict(self)


def decide(proba: np.ndarray, chat=None, decisive=None, plain=None, red_flag=None, illicit_flag=None,
           account_only=None, th: Thresholds | None = None, speaker=None, speaker_asking=None) -> np.ndarray:
    """Risk index (0 normal, 1 spam, 2 illicit, 3 fraud) of each row of calibrated probabilities `proba` (n × 4, in
    RISKS order). `chat`, `decisive`, `red_flag`, `illicit_flag`: boolean arrays of n; `plain`: 0, PERSONAL or
    NOTICE for each row (None: all False / 0; `red_flag` None: every row has one). A 营销广告 verdict with an illicit
    red flag (`illicit_flag`: a rule of risk illicit fired) is 违法推广; one for a text that is only an account
    (`account_only`: the `fragment_account` cue) is 诈骗. A message with no scam red flag needs
    `unflagged_fraud_min` to be 诈骗, a plain message `plain_fraud_min`; a notice is also 正常 whenever it is not 诈骗 or
    违法推广 (the model reads signed notices with amounts as advertising). A personal message otherwise follows the
    message rule: adverts written like a friend's message are common in the spam corpora, and a weak 正常 made
    营销广告 keeps a harmful message flagged. `speaker`: for each chat the calibrated P(fraud) of its most suspicious
    speaker's words read alone, NaN where the speakers cannot be told apart (None: all NaN); `speaker_asking` the same
    for its most suspicious speaker who asks for money or a way in (NaN where nobody does). Where the speakers are
    known, a speaker at `speaker_min`, or an asking speaker at `speaker_ask_min`, decides 诈骗 instead of the whole
    chat's P(fraud) and `fraud_min_chat` (the whole chat then needs `whole_chat_fraud_min`), unless the whole chat
    reads as surely ordinary (P(fraud) below `speaker_whole_min`)."""
    th = th or Thresholds()
    proba = np.asarray(proba, dtype=float)
    n = len(proba)
    chat = np.zeros(n, bool) if chat is None else np.asarray(chat, bool)
    decisive = np.zeros(n, bool) if decisive is None else np.asarray(decisive, bool)
    plain = np.zeros(n, np.int8) if plain is None else np.where(chat, 0, np.asarray(plain, dtype=np.int8))
    bar = np.where(chat, th.fraud_min_chat, th.fraud_min)
    if red_flag is not None:  # a message on the model's word alone needs a surer reading (chats: their speakers)
        bar = np.where(~chat & ~np.asarray(red_flag, bool), np.maximum(bar, th.unflagged_fraud_min), bar)
    bar = np.where(plain > 0, np.maximum(bar, th.plain_fraud_min), bar)
    pf = proba[:, FRAUD]
    if speaker is not None:
        speaker = np.asarray(speaker, dtype=float)
        known = chat & ~np.isnan(speaker)
        by_speaker = known & (np.nan_to_num(speaker, nan=-1.0) >= th.speaker_min)
        if speaker_asking is not None:
            by_speaker |= known & (np.nan_to_num(np.asarray(speaker_asking, dtype=float), nan=-1.0) >= th.speaker_ask_min)
        by_speaker &= proba[:, FRAUD] >= th.speaker_whole_min  # the whole chat read as surely ordinary: no speaker decides
        bar = np.where(known, th.whole_chat_fraud_min, bar)
    else:
        by_speaker = np.zeros(n, bool)
    fraud = decisive | by_speaker | (pf >= bar)
    rest = proba[:, :FRAUD]
    idx = rest.argmax(axis=1)
    read_as_advert = idx == SPAM  # the model's own next class, before a weak 正常 is made 营销广告 below
    # a message: 正常 only when sure enough (or plain), else the likelier of spam and illicit
    weak = ~chat & (idx == NORMAL) & (proba[:, NORMAL] < th.normal_min) & (plain != NOTICE)
    idx = np.where(weak, np.where(proba[:, SPAM] >= proba[:, ILLICIT], SPAM, ILLICIT), idx)
    idx = np.where((plain == NOTICE) & (idx == SPAM), NORMAL, idx)
    # a chat: 营销广告 only when it reads as an advert
    idx = np.where(chat & (idx == SPAM) & (proba[:, SPAM] < th.spam_min_chat), NORMAL, idx)
    # an advertisement that carries an illicit red flag (赌博, 办证, 招嫖 …) is an illicit one
    if illicit_flag is not None:
        idx = np.where(np.asarray(illicit_flag, bool) & (idx == SPAM), ILLICIT, idx)
    # a bare account is not an advertisement: nothing is offered, a card to pay into is (the model's own reading
    # must be 营销广告: a weak 正常 stays 营销广告, and an illicit flag keeps 违法推广)
    if account_only is not None:
        fraud = fraud | (np.asarray(account_only, bool) & ~chat & read_as_advert & (idx == SPAM))
    return np.where(fraud, FRAUD, idx)
