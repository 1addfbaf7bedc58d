"""Weighted cues per fraud type (cues.toml), matched on normalised narratives; what `explain` shows officers."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from fanzha.cases.suggest.narratives import TYPES

CUES = Path(__file__).with_name("cues.toml")


@dataclass(frozen=True)
class Cue:
    fraud_type: str
    name: str
    weight: int
    pattern: re.Pattern


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


@lru_cache(maxsize=1)
def load() -> tuple[tuple[Cue, ...], re.Pattern]:
    with open(CUES, "rb") as fh:
        d = tomllib.load(fh)
    missing = set(TYPES) - set(d)
    if missing:
        raise ValueError(f"cues.toml 缺少类型：{'、'.join(sorted(missing))}")
    cues = tuple(Cue(t, name, int(w), re.compile(p, re.IGNORECASE)) for t in TYPES for name, p, w in d[t]["cues"])
    return cues, re.compile(d["context"]["patterns"])


def find(norm: str) -> list[CueHit]:
    """The first match of every cue in the text, in cue order."""
    hits = []
    for c in load()[0]:
        m = c.pattern.search(norm)
        if m:
            hits.append(CueHit(c.fraud_type, c.name, c.weight, m.start(), m.end(), m.group(0)))
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
