"""JSON API for the checker (识诈): `POST /detect` with one text or up to 1,000; the lead mounts the router."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.web.deps import csrf_protect, current_scope, get_db

router = APIRouter(tags=["识诈"], dependencies=[Depends(csrf_protect)])

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


class DetectOut(Strict):
    model_version: str
    results: list[VerdictOut]


# The model runs on its own small pool instead of the request thread pool (40 threads): scoring holds the GIL, so
# 40 requests scoring at once only take turns every few milliseconds and all finish late; here they queue and each
# finishes as soon as its turn comes. Two threads, so that one large batch does not hold single checks up entirely.
_MODEL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="detect")


def _verdicts(body: DetectIn, db: Session) -> dict:
    from fanzha.blocklist.service import DbBlocklist
    from fanzha.detect.service import check, load_model, score_many

    model = load_model()
    listed = DbBlocklist(db)
    if body.text is not None:
        verdicts = [check(body.text, model=model, blocklist=listed)]
    else:
        verdicts = score_many(body.texts, model=model, blocklist=listed)
    out = []
    for v in verdicts:
        d = v.as_dict()
        d.pop("truncated", None)
        out.append(d)
    return {"model_version": model.meta_.get("version", ""), "results": out}


@router.post("/detect", response_model=DetectOut, summary="识诈：判断文本是否为诈骗、违法推广或营销广告")
async def detect(body: DetectIn, db: Session = Depends(get_db, scope="function"),
                 scope: Scope = Depends(current_scope)):
    """Numbers, links and accounts on the centre's blocklist (黑名单) add the reason 黑名单号码 (…网址, …账户).

    Not audited: the text is scored in memory and not stored, and the answer names no record of the platform (the
    audit log covers views of personal data and changes; docs/public.md). The blocklist is read from memory
    (`blocklist.service.BlocklistCache`).
    """
    db.commit()  # nothing was written: end the token read, so the connection is not held while the request queues
    return await asyncio.get_running_loop().run_in_executor(_MODEL_POOL, _verdicts, body, db)
