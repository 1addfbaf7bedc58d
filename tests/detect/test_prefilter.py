"""The red-flag rules' prefilter (`rules.triggered`): running only the rules whose trigger strings occur gives the
same hits, spans included, as running every rule; checked on hand-written texts and on random texts built from the
trigger strings themselves and pieces of the rules' own alternatives."""

from __future__ import annotations

import random

import pytest

from fanzha.detect import rules
from fanzha.detect.data import load_handwritten, load_hw_chats, load_hw_sms


def _all_rules(monkeypatch, norm):
    with monkeypatch.context() as m:
        m.setattr(rules, "triggered", lambda _n: list(range(len(rules.RULES))))
        m.setattr(rules, "_SPLIT", {})  # and each rule searched as one pattern
        return rules.find(norm)


def test_every_rule_has_trigger_strings():
    assert all(t for t in rules._TRIGGERS), [r.code for r, t in zip(rules.RULES, rules._TRIGGERS, strict=False) if not t]


@pytest.mark.parametrize("seed", range(2))
def test_prefilter_gives_the_same_hits_as_every_rule(monkeypatch, seed):
    rnd = random.Random(seed)
    lits = sorted({lit for t in rules._TRIGGERS for lit in t})
    filler = list("的了我你他在是有和就不人都一上也很到说要去会着没看好自己这那么吗呢啊，。！？0123456789")
    texts = [e.text for e in load_handwritten() + load_hw_sms() + load_hw_chats()]
    for _ in range(600):
        parts = [rnd.choice(lits) if rnd.random() < 0.4 else "".join(rnd.choices(filler, k=rnd.randint(1, 6)))
                 for _ in range(rnd.randint(1, 12))]
        texts.append("".join(parts))
    for t in texts:
        assert rules.find(t) == _all_rules(monkeypatch, t), t


def test_case_is_ignored_as_the_rules_ignore_it():
    assert [h.code for h in rules.find("USDT平台稳赚")] == [h.code for h in rules.find("usdt平台稳赚")]


def test_alternatives_split_a_pattern_at_its_top_level_bars_only():
    assert rules.alternatives(r"a[|]b|c[^]|]d|(e|f)g|h\|i") == ["a[|]b", r"c[^]|]d", "(e|f)g", r"h\|i"]
    for rule in rules.RULES:
        assert "|".join(rules.alternatives(rule.pattern.pattern)) == rule.pattern.pattern


@pytest.mark.parametrize("seed", range(2))
def test_a_long_rule_searched_by_alternative_finds_the_same_first_match(seed):
    """The rules of many alternatives (gambling, invoices, escort …) are searched one triggered alternative at a
    time; the leftmost match (the earlier alternative at the same start) is the whole pattern's match."""
    assert rules._SPLIT, "no rule is long enough to be split"
    rnd = random.Random(seed)
    filler = list("的了我你他在是有和就不人都一上也很到说要去会着没看好自己这那么吗呢啊，。！？0123456789 ")
    for i, (_alt_res, index) in rules._SPLIT.items():
        lits = sorted(lit for pairs in index.values() for lit, _ in pairs)
        for _ in range(300):
            text = "".join(rnd.choice(lits) if rnd.random() < 0.5 else "".join(rnd.choices(filler, k=rnd.randint(1, 4)))
                           for _ in range(rnd.randint(1, 8)))
            whole = rules.RULES[i].pattern.search(text)
            split = rules._search(i, text, text.lower(), set(text.lower()))
            assert (whole and (whole.span(), whole.group(0))) == (split and (split.span(), split.group(0))), text


def test_the_one_pass_scan_reports_overlapping_and_nested_triggers():
    """Every trigger string alone triggers its rules and the rules of every trigger inside it (a trigger that is a
    prefix, a suffix or the middle of a longer one), and two triggers that overlap in a text are both reported."""
    by_lit: dict[str, set[int]] = {}
    for i, t in enumerate(rules._TRIGGERS):
        for lit in t:
            by_lit.setdefault(lit, set()).add(i)
    nested = 0
    for lit, own in by_lit.items():
        expected = set(own)
        for other, theirs in by_lit.items():
            if other != lit and other in lit:
                expected |= theirs
                nested += 1
        assert set(rules.triggered(lit)) == expected, lit
    assert nested, "no trigger string inside another: the nested case is not exercised"
    pairs = [(x, y) for x in by_lit for y in by_lit if x != y and len(x) > 1 and x[-1] == y[0]]
    x, y = pairs[0]  # "…x" + "y…" sharing one character
    text = x + y[1:]
    assert by_lit[x] | by_lit[y] <= set(rules.triggered(text)), (x, y)
