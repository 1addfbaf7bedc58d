"""Micro-batching of the checker's API: concurrent requests are scored together, each gets exactly what it would
have got alone, in its own order, and a failure reaches only the requests of the failed pass."""

from __future__ import annotations

import asyncio
import threading

import pytest

from fanzha.detect.batching import MicroBatcher
from fanzha.detect.service import check, score_many

TEXTS = [
    "兼职刷单，日结三百，先垫付后返佣金，加微信 jz_2048a 领任务",
    "您好，我是淘宝客服，您购买的商品有质量问题，现在为您办理双倍理赔",
    "晚上回家吃饭吗？我买了排骨",
    "全场五折起，限时抢购，回T退订",
    "澳门娱乐城首充送彩金，百家乐真人视讯",
    "我是公安局民警，你涉嫌洗钱，需要把资金转到安全账户配合调查",
    "",
    "快递已放在小区门口的丰巢柜，取件码 123456",
]


def test_concurrent_requests_are_joined_and_each_gets_its_own_answer():
    gate = threading.Event()
    seen: list[int] = []

    def score(texts):
        gate.wait(5)  # the first pass holds until every request has queued behind it
        seen.append(len(texts))
        return [v.as_dict() for v in score_many(texts, with_entities=True)]

    batcher = MicroBatcher(score)

    async def main():
        first = asyncio.ensure_future(batcher.score([TEXTS[0]]))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(batcher.score([t])) for t in TEXTS[1:]]
        rest.append(asyncio.ensure_future(batcher.score(TEXTS[2:5])))  # a small batch joins too
        await asyncio.sleep(0.05)
        gate.set()
        return await first, await asyncio.gather(*rest)

    first, rest = asyncio.run(main())
    assert seen == [1, len(TEXTS) - 1 + 3]  # two passes: the first alone, then everything that queued meanwhile
    answers = [first[0]] + [r[0] for r in rest[:-1]]
    for text, answer in zip(TEXTS, answers, strict=False):
        assert answer == check(text).as_dict(), text  # same verdict, probability and reasons as scored alone
    assert [a["risk"] for a in rest[-1]] == [check(t).risk for t in TEXTS[2:5]]


def test_max_texts_bounds_a_pass_but_never_splits_a_request():
    seen: list[int] = []
    gate = threading.Event()

    def score(texts):
        gate.wait(5)
        seen.append(len(texts))
        return list(texts)

    batcher = MicroBatcher(score, max_texts=4)

    async def main():
        first = asyncio.ensure_future(batcher.score(["a"]))
        await asyncio.sleep(0.05)
        others = [asyncio.ensure_future(batcher.score(x)) for x in (["b", "c"], ["d", "e", "f", "g", "h"], ["i"])]
        await asyncio.sleep(0.05)
        gate.set()
        return [await first] + list(await asyncio.gather(*others))

    assert asyncio.run(main()) == [["a"], ["b", "c"], ["d", "e", "f", "g", "h"], ["i"]]
    assert seen == [1, 2, 5, 1]


def test_a_failed_pass_fails_its_requests_only():
    calls = 0

    def score(texts):
        nonlocal calls
        calls += 1
        if "boom" in texts:
            raise RuntimeError("model broke")
        return [t.upper() for t in texts]

    batcher = MicroBatcher(score)

    async def main():
        with pytest.raises(RuntimeError, match="model broke"):
            await batcher.score(["boom"])
        return await batcher.score(["ok"])

    assert asyncio.run(main()) == ["OK"]
    assert calls == 2


def test_a_request_whose_event_loop_closed_does_not_jam_the_batcher():
    gate = threading.Event()

    def score(texts):
        gate.wait(5)
        return [t.upper() for t in texts]

    batcher = MicroBatcher(score)

    async def gives_up():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(batcher.score(["a"]), 0.05)

    asyncio.run(gives_up())  # its loop is closed while the pass still runs
    gate.set()

    async def later():
        return await asyncio.wait_for(batcher.score(["b"]), 5)

    assert asyncio.run(later()) == ["B"]


def test_even_a_base_exception_in_scoring_leaves_the_batcher_working():
    calls = []

    def score(texts):
        calls.append(texts)
        if texts == ["exit"]:
            raise SystemExit(3)
        return texts

    batcher = MicroBatcher(score)

    async def main():
        with pytest.raises(RuntimeError, match="SystemExit"):
            await asyncio.wait_for(batcher.score(["exit"]), 5)
        return await asyncio.wait_for(batcher.score(["ok"]), 5)

    assert asyncio.run(main()) == ["ok"]
