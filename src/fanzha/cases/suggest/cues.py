"""Weighted cues per fraud type (cues.toml), matched on normalised narratives; what `explain` shows officers.

Narratives are written by police, so 民警/公安/报警/派出所/立案 stand in every kind of case as the reporter's frame.
`mask_frame` blanks those words (same length, so spans stay valid) unless the scammer played the officer (自称…民警,
“警官”, 转接到公安局, 接到…公安局的电话); cues and the model read the masked text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, create_model

from fanzha.cases.suggest.narratives import TYPES
from fanzha.common.rules import RulesModel, load_rules_file, register
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS

CUES = Path(__file__).with_name("cues.toml")


@dataclass(frozen=True)
class Cue:
    fraud_type: str
    name: str
    weight: int
    pattern: re.Pattern
    # Strings one of which every match contains (lower case), found from the pattern itself: a text holding none of
    # them cannot match, so the regular expression is not run (most cues match no given narrative). None: no such set.
    needs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CueHit:
    fraud_type: str
    name: str
    weight: int
    start: int
    end: int
    text: str

    def as_dict(self) -> dict:
        return {"fraud_type": self.fraud_type, "name": self.name, "weight": self.weight, "start": self.start,
                "end": self.end, "text": self.text}


MASK = "▢"  # what a frame word becomes: one per character, so the masked text has the original's length
_CLAUSE_END = ",。;:!?\n"
_WINDOW = 14  # characters before an officer word searched for 自称/冒充/“ … (within its clause)


@dataclass(frozen=True)
class Frame:
    officer: re.Pattern
    impersonation: re.Pattern
    phrases: re.Pattern
    called: re.Pattern  # 接到…公安局…的电话: the caller was the "officer"


class TypeCues(RulesModel):
    """A type's cues."""

    cues: list[tuple[str, str, int]] = Field(description="Each cue: [name shown to officers, regular expression, "
                                                         "weight] — 3 nearly decisive, 2 strong, 1 supporting.")


class CueContext(RulesModel):
    patterns: str = Field(description="A regular expression of words that make a text a fraud report at all "
                                      "(被骗, 转账 …).")


class CueFrame(RulesModel):
    """The reporting frame (mask_frame): the police's own words, blanked before cues are matched."""

    officer: str = Field(description="Officer words (民警, 公安 …), a regular expression.")
    impersonation: str = Field(description="Words before an officer word that make it the one the scammer played "
                                           "(自称, 冒充 …), a regular expression.")
    phrases: list[str] = Field(description="Filing phrases (该案涉嫌…, 予以立案), regular expressions.")


CuesFile = create_model(
    "CuesFile", __base__=RulesModel, __doc__="cues.toml: weighted cues (案情要素) per police fraud type.",
    context=(CueContext, Field(description="What makes a text a fraud report (上下文).")),
    frame=(CueFrame, Field(description="The reporting frame (报案用语).")),
    **{t: (TypeCues, Field(description=f"Cues of {FRAUD_TYPE_LABELS[t]} ({t}).")) for t in TYPES})  # type: ignore[call-overload]

FILE = register("suggest_cues", "案情要素文件", CuesFile, CUES,
                summary="The weighted cues per fraud type the case-type suggestion matches and shows "
                        "(retrain after editing: `fanzha cases train-suggest`).")


@lru_cache(maxsize=1)
def _toml() -> Any:
    return load_rules_file(CuesFile, CUES, what=FILE.title)


@lru_cache(maxsize=1)
def load() -> tuple[tuple[Cue, ...], re.Pattern]:
    d = _toml()
    cues = tuple(Cue(t, name, int(w), _compile(p), required_strings(p))
                 for t in TYPES for name, p, w in getattr(d, t).cues)
    return cues, re.compile(d.context.patterns)


def required_strings(pattern: str) -> tuple[str, ...] | None:
    """A set of strings at least one of which occurs in every match of `pattern` (lower-cased), or None when the
    pattern gives none (a branch that can match without a literal, a look-around only …)."""
    from re import _constants as C
    from re import _parser

    def seq(items) -> set[str] | None:
        cands, run = [], []
        for op, av in items:
            if op is C.LITERAL:
                run.append(chr(av))
                continue
            if run:
                cands.append({"".join(run)})
                run = []
            r = elem(op, av)
            if r:
                cands.append(r)
        if run:
            cands.append({"".join(run)})
        # the most selective candidate: longest shortest string, then the fewest strings
        return max(cands, key=lambda c: (min(map(len, c)), -len(c))) if cands else None

    def elem(op, av) -> set[str] | None:
        if op is C.SUBPATTERN:
            return seq(av[-1])
        if op is C.BRANCH:
            parts = [seq(b) for b in av[1]]
            return None if any(p is None for p in parts) else set().union(*parts)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, _, sub = av
            return seq(sub) if lo >= 1 else None
        if op is C.IN and av and all(o is C.LITERAL for o, _ in av):
            return {chr(v) for _, v in av}
        return None  # ANY, categories, ranges, negated sets, look-arounds, anchors

    found = seq(_parser.parse(pattern))
    return tuple(sorted({x.lower() for x in found})) if found else None


def _compile(pattern: str) -> re.Pattern:
    """Case-insensitive only where the pattern has Latin letters (qq, app, usdt): the flag slows every Chinese-only
    pattern by about a third and changes nothing for it."""
    letters = re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]", "", pattern))
    return re.compile(pattern, re.IGNORECASE if letters else 0)


@lru_cache(maxsize=1)
def frame() -> Frame:
    f = _toml().frame
    officer = f"(?:{f.officer})"
    phrases = re.compile("|".join(f"(?:{p})" for p in f.phrases))
    return Frame(re.compile(officer), re.compile(f.impersonation), phrases,
                 re.compile(rf"接到[^,。;]{{0,14}}{officer}[^,。;]{{0,8}}?(的)?(电话|来电|视频|短信)"))


def mask_frame(norm: str) -> str:
    """The text with the reporting frame blanked (same length): filing phrases (该案涉嫌…, 予以立案, 涉案金额) and
    every officer word that is not an impersonated officer."""
    f = frame()
    chars = list(norm)

    def blank(a: int, b: int) -> None:
        chars[a:b] = MASK * (b - a)

    played = [(m.start(), m.end()) for m in f.called.finditer(norm)]
    for m in f.officer.finditer(norm):
        a = m.start()
        start = a
        while start > 0 and a - start < _WINDOW and norm[start - 1] not in _CLAUSE_END:
            start -= 1
        if f.impersonation.search(norm, start, a) or any(x <= a < y for x, y in played):
            continue
        blank(a, m.end())
    for m in f.phrases.finditer(norm):
        blank(m.start(), m.end())
    return "".join(chars)


def find(masked: str, norm: str | None = None) -> list[CueHit]:
    """The first match of every cue in the (frame-masked) text, in cue order; `text` is taken from `norm` (the
    unmasked text of the same length) when given."""
    shown = norm if norm is not None and len(norm) == len(masked) else masked
    lower = masked.lower()
    hits = []
    for c in load()[0]:
        if c.needs is not None and not any(x in lower for x in c.needs):
            continue
        m = c.pattern.search(masked)
        if m:
            hits.append(CueHit(c.fraud_type, c.name, c.weight, m.start(), m.end(), shown[m.start():m.end()]))
    return hits


def has_context(norm: str) -> bool:
    """Whether the text speaks of a fraud or a loss at all (被骗, 转账, 报警 …)."""
    return load()[1].search(norm) is not None


def scores(hits_per_text: list[list[CueHit]]) -> np.ndarray:
    """Per text and type: the summed weights of the type's cues that matched, divided by 3 (a decisive cue = 1)."""
    index = {t: i for i, t in enumerate(TYPES)}
    out = np.zeros((len(hits_per_text), len(TYPES)), dtype=np.float32)
    for r, hits in enumerate(hits_per_text):
        for h in hits:
            out[r, index[h.fraud_type]] += h.weight / 3.0
    return out


def top_score(hits: list[CueHit]) -> float:
    """The highest per-type score (as in `scores`) among the types these hits name; 0 when there are none."""
    totals: dict[str, float] = {}
    for h in hits:
        totals[h.fraud_type] = totals.get(h.fraud_type, 0.0) + h.weight / 3.0
    return max(totals.values(), default=0.0)
