"""JSON API for the checker (识诈): `POST /detect` with one text or up to 1,000; the lead mounts the router."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from fanzha.auth.service import Verified
from fanzha.db import session_scope
from fanzha.detect.batching import MicroBatcher
from fanzha.org.schemas import Strict
from fanzha.web.deps import signed_in

if TYPE_CHECKING:
    from fanzha.detect.service import Blocklist

router = APIRouter(tags=["识诈"])

MAX_TEXT = 100_000
MAX_BATCH = 1_000
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class DetectIn(Strict):
    text: Text | None = Field(None, description="一条短信或一段聊天")
    texts: list[Text] | None = Field(None, max_length=MAX_BATCH, description="多条文本（最多 1,000 条）")

    @model_validator(mode="after")
    def one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError("请提供 text（一条）或 texts（多条）之一")
        return self


class Reason(Strict):
    rule: str
    name: str
    start: int
    end: int
    text: str


class VerdictOut(Strict):
    risk: str = Field(description="fraud 诈骗 / illicit 违法推广 / spam 营销广告 / normal 正常")
    risk_label: str
    fraud_type: str
    fraud_type_label: str
    fraud_prob: float = Field(description="校准后的诈骗概率")
    reasons: list[Reason]
    advice: str = Field(description="一句话提醒")
    entities: dict[str, list[str]] = Field(default_factory=dict)
    no_text: bool = Field(False, description="没有可检查的文字（内容为空，或只有表情、不可见字符、网页标记）：未判断"
                                             "（risk 为 normal，risk_label 为“未检查”，fraud_prob 为 0）")


class DetectOut(Strict):
    model_version: str
    results: list[VerdictOut]


# Single messages and small batches are scored together with whatever else is waiting (`MicroBatcher`): under load
# this costs a fraction of scoring each alone. A large request (64 texts, or 20,000 characters, or more) goes to its
# own thread, so that it does not hold the single checks up; scoring holds the GIL, so the two still take turns.
BULK_FROM = 64  # texts in one request
BULK_CHARS = 20_000  # or characters in one request
_bulk_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect-bulk")


# The centre's blocklist (黑名单) for a session, given by the assembly that mounts this router (`fanzha.api` gives
# `blocklist.service.DbBlocklist`): the blocklist package sits above the checker. Unset, texts are scored without one.
_blocklist_of: Callable[[Session], Blocklist] | None = None


def use_blocklist(blocklist_of: Callable[[Session], Blocklist]) -> None:
    """Score every text against `blocklist_of(session)` from now on."""
    global _blocklist_of
    _blocklist_of = blocklist_of


def _score(texts: list[str], with_entities: bool = True) -> list[dict]:
    from fanzha.detect.service import load_model, score_many

    with session_scope() as db:  # the blocklist is held in memory; the session is for its freshness check
        blocklist = None if _blocklist_of is None else _blocklist_of(db)
        verdicts = score_many(texts, model=load_model(), with_entities=with_entities, blocklist=blocklist)
    out = []
    for v in verdicts:
        d = v.as_dict()
        d.pop("truncated", None)
        out.append(d)
    return out


batcher = MicroBatcher(_score)


@router.post("/detect", response_model=DetectOut, summary="识诈：判断文本是否为诈骗、违法推广或营销广告")
async def detect(body: DetectIn, caller: Verified = Depends(signed_in)):
    """Numbers, links and accounts on the centre's blocklist (黑名单) add the reason 黑名单号码 (…网址, …账户).

    Not audited: the text is scored in memory and not stored, and the answer names no record of the platform (the
    audit log covers views of personal data and changes; docs/public.md). The blocklist is read from memory
    (`blocklist.service.BlocklistCache`), and the caller's token is checked against tokens verified in the last two
    seconds (`auth.service.RecentlyVerified`), so a check usually costs no query at all.
    """
    from fanzha.detect.service import load_model

    texts = [body.text] if body.text is not None else body.texts
    if len(texts) >= BULK_FROM or sum(len(t) for t in texts) >= BULK_CHARS:
        results = await asyncio.get_running_loop().run_in_executor(_bulk_pool, _score, texts, False)
    else:
        results = await batcher.score(texts)
    if body.texts is not None:  # entities are given for a single text only
        for r in results:
            r["entities"] = {}
    return {"model_version": load_model().meta_.get("version", ""), "results": results}
