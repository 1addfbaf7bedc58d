"""Training narratives for case-type suggestion: template narratives per type, and corpus texts rewritten as 案情.

Case narratives are third person and past tense ("报警人…报警称：其接到…，被骗…元"); the public corpora are the scam
messages and call scripts themselves. Two ways bring them closer: `generate` combines the pieces in templates.toml
into narratives for every type (the only text for the thin types), and `rewrap` puts a corpus text into a narrative
frame, turning the speaker's "你/我" into "其/对方" so the type's words (刷单, 安全账户, 解冻金 …) stand in a report.
Everything is seeded: the same seed gives the same narratives.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, create_model

from fanzha.common.rules import RulesModel, load_rules_file, register
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS as _ALL_TYPES

TYPES = tuple(t for t in _ALL_TYPES if t != "other")  # the twelve police types
TEMPLATES = Path(__file__).with_name("templates.toml")


class FramePieces(RulesModel):
    """Pieces any type's narrative may use; {name}, {sex}, {age}, {job}, {place}, {time}, {unit}, {date}, {amount}
    and {k} are filled in at random."""

    opening: list[str] = Field(min_length=1, description="Openings: who reported, often in the police's own frame "
                                                         "(某派出所民警接报, 到…报案).")
    closing: list[str] = Field(min_length=1, description="Closings, with the loss (被骗…元).")
    name: list[str] = Field(min_length=1, description="Reporters' names ({name}).")
    sex: list[str] = Field(min_length=1, description="Sexes ({sex}).")
    job: list[str] = Field(min_length=1, description="Occupations ({job}).")
    place: list[str] = Field(min_length=1, description="Places ({place}).")
    time: list[str] = Field(min_length=1, description="Times of day ({time}).")
    unit: list[str] = Field(min_length=1, description="Police units ({unit}).")
    aside: list[str] = Field(min_length=1, description="The police's own asides, the same in every type "
                                                       "(民警调取转账记录 …).")


class TypePieces(RulesModel):
    """A type's pieces: one contact, one pretext and one action make the middle of a narrative."""

    contact: list[str] = Field(min_length=1, description="How the scammer made contact (联系方式).")
    pretext: list[str] = Field(min_length=1, description="What the scammer claimed (话术).")
    action: list[str] = Field(min_length=1, description="What the victim did (转账, 充值 …).")


Templates = create_model(
    "Templates", __base__=RulesModel, __doc__="templates.toml: pieces of case narratives (案情) per police type.",
    frame=(FramePieces, Field(description="Pieces shared by every type.")),
    **{t: (TypePieces, Field(description=f"Pieces of {_ALL_TYPES[t]} ({t}).")) for t in TYPES})  # type: ignore[call-overload]

FILE = register("narrative_templates", "案情模板文件", Templates, TEMPLATES,
                summary="Pieces of case narratives the case-type suggestion is trained on "
                        "(`fanzha cases train-suggest`).")


@lru_cache(maxsize=1)
def templates() -> Any:
    return load_rules_file(Templates, TEMPLATES, what=FILE.title)


def _amount(rng: random.Random) -> str:
    v = rng.choice([rng.randint(2, 99) * 100, rng.randint(1, 99) * 1000,
                    rng.randint(100, 999) * 1000 + rng.randint(0, 9) * 100])
    return rng.choice([str(v), f"{v / 10000:g}万"]) if v >= 10000 else str(v)


def _date(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(2018, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
                       f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日", "近日", "今年以来", "上周"])


def _fill(s: str, rng: random.Random) -> str:
    f = templates().frame
    return s.format(name=rng.choice(f.name), sex=rng.choice(f.sex), age=rng.randint(16, 78),
                    job=rng.choice(f.job), place=rng.choice(f.place), time=rng.choice(f.time),
                    unit=rng.choice(f.unit),
                    date=_date(rng), amount=_amount(rng), k=rng.randint(2, 12))


def _opening(rng: random.Random) -> str:
    return _fill(rng.choice(templates().frame.opening), rng)


def _closing(rng: random.Random) -> str:
    return _fill(rng.choice(templates().frame.closing), rng)


def narrative(ftype: str, rng: random.Random) -> str:
    t = getattr(templates(), ftype)
    parts = [rng.choice(t.contact), rng.choice(t.pretext), rng.choice(t.action)]
    if rng.random() < 0.25:  # real records are often short: contact and outcome only
        parts = [parts[0], parts[2]] if rng.random() < 0.5 else [parts[1], parts[2]]
    if rng.random() < 0.3:  # the police's own asides (民警调取转账记录 …), the same in every type
        parts.append(rng.choice(templates().frame.aside))
    return (_opening(rng) + "，".join(parts) + _closing(rng)).replace("其其", "其")


def generate(n_per_type: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(narrative(ft, rng), ft) for ft in TYPES for _ in range(n_per_type)]


_GREETING = re.compile(r"(您|你)(们)?好[，,！!。]?")
_YOU = re.compile(r"(您|你)(们)?(的)?")
_WE = re.compile(r"我们|我司|本人|我")
_SPEAKER = re.compile(r"^[ \t]*[^\n:：,，。！？!?]{1,12}[:：][ \t]*", re.MULTILINE)
_CHANNELS = ["接到一个陌生电话，对方称", "收到一条短信，内容称", "微信收到陌生人消息，对方称", "QQ上有人联系其，称",
             "接到对方来电，对方说", "在网上与对方聊天，对方称"]


def third_person(text: str) -> str:
    """The scammer's words as an officer writes them down: 你/您 → 其, 我/我们 → 对方, speaker labels dropped."""
    text = _GREETING.sub("", _SPEAKER.sub("", text))
    text = re.sub(r"\s*\n\s*", "，", text.strip())
    return _WE.sub("对方", _YOU.sub("其", text))


def rewrap(text: str, rng: random.Random, limit: int = 220) -> str:
    body = third_person(text)[:limit].rstrip("，。,. ")
    return _opening(rng) + rng.choice(_CHANNELS) + "：“" + body + "”" + _closing(rng)
