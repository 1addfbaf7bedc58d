"""The library's front door: `check(text) -> Verdict` for one message, `score_many(texts)` for a batch (识诈)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from fanzha.detect import rules
from fanzha.detect.advice import NO_TEXT_ADVICE, NO_TEXT_LABEL, advice_for
from fanzha.detect.decision import decide
from fanzha.detect.extract import blocklist_items, extract
from fanzha.detect.model import FRAUD, FraudClassifier, calibrated_fraud, evidence, hits_for, prepare
from fanzha.detect.normalise import MAX_CHARS
from fanzha.detect.taxonomy import FRAUD_TYPE_NAMES, RISK_NAMES, RISKS

MODEL_DIR = Path(__file__).with_name("model")
NORMAL = RISKS.index("normal")
NORMAL_LABEL, NORMAL_ADVICE = RISK_NAMES["normal"], advice_for("normal", "")
BATCH = 2048
_lock = threading.Lock()


@dataclass
class Verdict:
    risk: str  # fraud / illicit / spam / normal
    risk_label: str  # 诈骗 / 违法推广 / 营销广告 / 正常
    fraud_type: str  # "" unless risk == fraud
    fraud_type_label: str
    fraud_prob: float  # calibrated probability that the message is fraud
    reasons: list[dict] = field(default_factory=list)  # red-flag rules with the matched span (on the normalised text)
    advice: str = ""
    entities: dict = field(default_factory=dict)
    truncated: bool = False
    # nothing was left to read once emoji, invisible characters, spaces and markup were taken out (the text normalises
    # to nothing, which `normalise.readable` tells without normalising where it can): no verdict, so risk stays
    # "normal" at P 0 for callers that read the code, risk_label reads 未检查, and a page asks for the words instead
    no_text: bool = False

    @property
    def rests_on_flags(self) -> bool:
        """Whether the verdict rests on red flags besides the model's reading of the words (`fraud_prob`): a flagged
        verdict with reasons. A page or a printout says so beside the probability, which alone can read 0 % for a
        verdict a rule made."""
        return bool(self.reasons) and self.risk != "normal"

    def as_dict(self) -> dict:
        """A plain copy (what `dataclasses.asdict` gives, without its generic deep copy)."""
        return {"risk": self.risk, "risk_label": self.risk_label, "fraud_type": self.fraud_type,
                "fraud_type_label": self.fraud_type_label, "fraud_prob": self.fraud_prob,
                "reasons": [dict(r) for r in self.reasons], "advice": self.advice,
                "entities": {k: list(v) for k, v in self.entities.items()}, "truncated": self.truncated,
                "no_text": self.no_text}


class Blocklist(Protocol):
    """Where approved numbers, links and accounts live (黑名单): the main app's table, the public app's copy, a set.

    `matching` gets canonical keys (`extract.canonical`) and returns those on the list: one call per batch, so a
    database-backed list answers with one query.
    """

    def matching(self, keys: Iterable[str]) -> set[str]: ...


BLOCKLIST_RULE, BLOCKLIST_NAMES = "blocklist", {"phone": "黑名单号码", "url": "黑名单网址", "bank_card": "黑名单账户",
                                                "qq": "黑名单QQ号", "wechat": "黑名单微信号"}


def _keys(key: str, kind: str) -> list[str]:
    return [key, key.split("/", 1)[0]] if kind == "url" and "/" in key else [key]


def _blocklist_reasons(norm: str, items: list[tuple[str, str, str]], listed: set[str]) -> list[dict]:
    out = []
    for kind, value, key in items:
        if any(k in listed for k in _keys(key, kind)):
            start = max(norm.find(value), 0)
            out.append({"rule": BLOCKLIST_RULE, "name": BLOCKLIST_NAMES[kind], "start": start,
                        "end": start + len(value), "text": value})
    return out


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> FraudClassifier:
    """The shipped model (package data), or another directory given by path / FANZHA_DETECT_MODEL."""
    with _lock:
        model = FraudClassifier.load(path or os.environ.get("FANZHA_DETECT_MODEL") or MODEL_DIR)
    # Scoring computes X @ coef_.T; scipy copies a transposed C-ordered matrix into contiguous form on every call
    # (~10 ms a request for the 178,593-column weights). Holding the weights column-major makes coef_.T contiguous:
    # same numbers, one copy at load instead of one per request.
    for name in ("coef_", "type_coef_"):
        setattr(model, name, np.asfortranarray(getattr(model, name)))
    return model


def _clean(text) -> tuple[str, bool]:
    if text is None:
        return "", False
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = str(text)
    return (text[:MAX_CHARS], True) if len(text) > MAX_CHARS else (text, False)


def _pick_type(type_proba: np.ndarray, hits: list[rules.Hit], types: list[str]) -> str:
    """The model's type, unless a type-specific rule fired: then the likeliest of the types the rules point to
    (`types`: the model's type names in column order, as Python strings)."""
    pointed = {h.fraud_type for h in hits if h.fraud_type and h.risk == "fraud"}
    if pointed:
        return max(sorted(pointed), key=lambda t: type_proba[types.index(t)])
    return types[int(type_proba.argmax())]


def _speaker_hit(norm: str, name: str, said: str) -> rules.Hit:
    """The reason shown for a chat called 诈骗 because of what one speaker says: that speaker's longest line."""
    first = max(said.split("\n"), key=len)
    start = norm.find(first)
    span = (start, start + len(first)) if start >= 0 else (0, 0)
    return rules.Hit("speaker", f"聊天中“{name}”的发言单独读来像诈骗", "fraud", "", *span, first[:40])


def score_many(texts, model: FraudClassifier | None = None, with_entities: bool = False,
               blocklist: Blocklist | None = None) -> list[Verdict]:
    """Verdicts for many texts, vectorised in batches of 2,048 (None, bytes and over-long texts are accepted).

    With a `blocklist`, a text naming a listed phone, link, account, QQ or WeChat id gets the reason 黑名单号码 (…网址,
    …账户) and is called fraud (type 其他 unless the model or a rule names one) even when the words alone look
    ordinary or like an advertisement; so is a text matching a decisive rule (`rules.DECISIVE`, e.g. 刷单 with 先垫付),
    with that rule's type. `fraud_prob` stays the model's reading of the words in both cases. A text the model calls
    advertising that reads as a signed transactional notice asking nothing of its reader (`rules.notice`: 动账, 验证码,
    取件, 账单, 行程; no link, number, id or red flag) is ordinary.
    A chat whose speakers can be told apart is also read speaker by speaker (`decision.decide`); it is called
    诈骗 with the reason naming the speaker whose words decided, and its `fraud_prob` is the higher of the whole chat's
    and its most suspicious speaker's (the whole chat's alone when that reads as surely ordinary).
    """
    model = model or load_model()
    th = model.thresholds()
    types = [str(t) for t in model.types_]
    classes = [str(c) for c in model.classes_]
    out: list[Verdict] = []
    texts = list(texts)
    for start in range(0, len(texts), BATCH):
        cleaned = [_clean(t) for t in texts[start:start + BATCH]]
        norms, mtexts = prepare([t for t, _ in cleaned])
        hits = [hits_for(n, m) for n, m in zip(norms, mtexts, strict=False)]
        X = model._finish(model.hashed(mtexts), model.rule_matrix_from_hits(hits))
        plains: list = []
        is_chat, sure, plain, red_flag, illicit, account = evidence(norms, hits, plains)
        proba = model.predict_proba(X=X)
        items = [blocklist_items(n) if blocklist is not None and n else [] for n in norms]
        listed = blocklist.matching({k for its in items for kind, _, key in its for k in _keys(key, kind)}) \
            if any(items) else set()
        flagged = [_blocklist_reasons(n, items[i], listed) if listed else [] for i, n in enumerate(norms)]
        speaker = asking = np.full(len(norms), np.nan)
        spk = None
        if is_chat.any():  # a chat is read speaker by speaker too (`decision.decide`)
            spk = model.speaker_raw(norms, is_chat)
            speaker = calibrated_fraud(spk.raw, model.calibration_)
            asking = calibrated_fraud(spk.raw_asking, model.calibration_)
        decided = decide(proba, is_chat, sure | np.array([bool(f) for f in flagged], dtype=bool), plain, red_flag,
                         illicit, account, th=th, speaker=speaker, speaker_asking=asking)
        tproba = np.zeros((len(norms), len(types)))  # the type is read for the texts called fraud only
        called = np.flatnonzero(decided == FRAUD)
        if len(called):
            tproba[called] = model.type_proba(X=X[called])
        decided = decided.tolist()
        # a chat read speaker by speaker reports its most suspicious reading (the whole or one speaker alone), unless
        # the whole reads as surely ordinary: then no speaker counts (`decision.decide`), nor is one reported
        counted = np.where(proba[:, FRAUD] >= th.speaker_whole_min, speaker, np.nan)
        fraud_prob = np.round(np.fmax(proba[:, FRAUD], counted), 4).tolist()
        for i, norm in enumerate(norms):
            if not norm or (decided[i] == NORMAL and not hits[i] and not plain[i] and not flagged[i]
                            and not with_entities):
                # the common case, an ordinary text with no red flag and no cue: nothing to explain (nor in a text
                # with nothing left to read)
                out.append(Verdict(risk="normal", risk_label=NORMAL_LABEL if norm else NO_TEXT_LABEL, fraud_type="",
                                   fraud_type_label="",
                                   fraud_prob=fraud_prob[i] if norm else 0.0, reasons=[],
                                   advice=NORMAL_ADVICE if norm else NO_TEXT_ADVICE,
                                   entities=extract(norm).as_dict() if with_entities else {},
                                   truncated=cleaned[i][1], no_text=not norm))
                continue
            found = extract(norm) if with_entities else None
            risk = classes[decided[i]]
            shown_hits = [h for h in hits[i] if h.risk]  # cues such as "chat" are not reasons
            if sure[i]:
                shown_hits = rules.decisive(norm) + shown_hits
            if risk == "fraud" and spk is not None:  # the speaker whose words decided, when one did
                j = -1 if proba[i, FRAUD] < th.speaker_whole_min else spk.which[i] if speaker[i] >= th.speaker_min \
                    else spk.which_asking[i] if asking[i] >= th.speaker_ask_min else -1
                if j >= 0:
                    shown_hits = [_speaker_hit(norm, spk.names[j], spk.texts[j])] + shown_hits
            if risk == "normal" and plain[i]:
                shown_hits = [plains[i]]
            ftype = _pick_type(tproba[i], shown_hits, types) if risk == "fraud" else ""
            if flagged[i] and ftype and not any(h.risk == "fraud" for h in shown_hits) and proba[i, FRAUD] < 0.5:
                ftype = "other"  # the list, not the words, made it fraud: the model's type guess would be noise
            # a flagged message shows every scam or illicit red flag it carries (an advert for 代办驾照 is still one)
            shown = [h for h in shown_hits if h.risk == risk or (risk != "normal" and h.risk in ("fraud", "illicit"))]
            out.append(Verdict(
                risk=risk, risk_label=RISK_NAMES[risk], fraud_type=ftype, fraud_type_label=FRAUD_TYPE_NAMES.get(ftype, ""),
                fraud_prob=fraud_prob[i],
                reasons=flagged[i] + [h.as_dict() for h in shown],
                advice=advice_for(risk, ftype, next((h.fraud_type for h in shown if h.risk == "fraud"), ""),
                                  leaning=proba[i, FRAUD] >= th.fraud_min,
                                  link=any(h.code in rules.LINK_LURES for h in shown)),
                entities=found.as_dict() if with_entities else {}, truncated=cleaned[i][1]))
    return out


def check(text, model: FraudClassifier | None = None, blocklist: Blocklist | None = None) -> Verdict:
    """The verdict on one message, with the entities (phones, links, cards, QQ/WeChat ids, amounts) it names."""
    return score_many([text], model=model, with_entities=True, blocklist=blocklist)[0]
