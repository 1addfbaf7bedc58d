"""The case form as an officer uses it (issue 24): a case filed without 诈骗类型 gets the narrative model's type, and
its page shows the two most likely types, each with the cues that decided it, so the officer sees why. The
narratives are written for this test (not taken from any evaluation set) and follow the police definitions: 裸聊敲诈
is 网黑案件, a 京东金条 "close your account" call is 虚假征信, a fake fire-brigade buyer is 冒充军警购物."""

from __future__ import annotations

import html
import re

import pytest

from support.web import csrf_of

NUDE_CHAT = ("报警人孙某（男，30岁）报警称：其在一款社交APP上与一名陌生女子视频聊天，对方引诱其裸聊，并发来一个“美颜”"
             "安装包让其安装，随后对方发来其手机通讯录里的联系人名单，称已录下视频，要挟其转账，否则把视频发给其亲友，"
             "其转账1.6万元。民警接报后开展止付。")
JD_CLOSE = ("事主钱某（女，26岁）到派出所报案称：一名自称京东金融客服的男子来电，称其京东金条账户是学生时期开通的，按规定"
            "必须关闭，否则将影响个人征信，对方指导其将金条额度全部借出，转入对方提供的账户用于“额度清零”，其共转出4.8万元"
            "后对方失联。")
FIRE_BRIGADE = ("报警人郑某（男，46岁，五金店店主）报警称：其接到一名自称区消防救援大队后勤人员的电话，称要在其店里采购一批水管"
                "和工具，并称队里还急需一批消防水带，让其向对方推荐的一家消防器材厂家订货并先付货款，说结算时一并支付，其向该"
                "厂家账户转账2.7万元后对方不再接听电话。")

CASES = [
    ("T24FORM01", NUDE_CHAT, "网黑案件", {"裸聊敲诈", "录像/通讯录要挟"}),
    ("T24FORM02", JD_CLOSE, "虚假征信", {"关闭金条/白条/借贷账户", "影响征信"}),
    ("T24FORM03", FIRE_BRIGADE, "冒充军警购物", {"冒充军警/消防采购", "代购并垫付给指定厂家"}),
]


def _suggestion_items(page_html: str) -> list[str]:
    block = re.search(r'<dd class="type-suggestion">(.*?)</dd>', page_html, re.S)
    assert block, "the case page shows no 建议依据"
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


@pytest.mark.parametrize(("number", "narrative", "label", "cues"), CASES, ids=["裸聊敲诈", "京东金条注销", "冒充消防采购"])
def test_filed_case_shows_the_top_two_types_with_their_cues(client_as, number, narrative, label, cues):
    page = client_as("yanpan")
    form = {"案件编号": number, "立案时间": "2026-06-03 09:00", "损失金额": "16000", "诈骗类型": "",
            "简要案情": narrative, "csrf_token": csrf_of(page)}
    r = page.post("/cases", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    detail = page.get(r.headers["location"])
    assert detail.status_code == 200
    text = detail.text
    assert "系统建议（待确认）" in text
    items = _suggestion_items(text)
    assert len(items) == 2  # the suggested type and the runner-up
    first = items[0]
    assert first.startswith(f"<strong>{label}</strong>"), first
    shown = set(re.findall(r'<span class="tag"[^>]*>([^<]+)</span>', first))
    assert cues <= shown, (shown, first)
    # each cue is shown with the words of the narrative it matched
    assert re.search(r"<q[^>]*>[^<]+</q>", first)
    # the runner-up is another type, with its own cues or a note that it has none
    second = items[1]
    assert f"<strong>{label}</strong>" not in second
    assert re.search(r'class="tag"|无明确线索词', second)


def test_frame_words_are_never_cues_on_the_page(client_as):
    """民警/派出所/报警 are the police's own words in every record: no cue is drawn from them."""
    page = client_as("yanpan")
    form = {"案件编号": "T24FORM04", "立案时间": "2026-06-04 09:00", "损失金额": "5000", "诈骗类型": "",
            "简要案情": JD_CLOSE, "csrf_token": csrf_of(page)}
    r = page.post("/cases", data=form, follow_redirects=False)
    items = _suggestion_items(page.get(r.headers["location"]).text)
    quoted = " ".join(re.findall(r"<q[^>]*>([^<]+)</q>", " ".join(items)))
    assert "派出所" not in quoted and "冒充公检法" not in " ".join(items)


def test_a_given_type_shows_no_suggestion(client_as):
    page = client_as("yanpan")
    form = {"案件编号": "T24FORM05", "立案时间": "2026-06-05 09:00", "损失金额": "5000", "诈骗类型": "网黑案件",
            "简要案情": NUDE_CHAT, "csrf_token": csrf_of(page)}
    r = page.post("/cases", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert 'class="type-suggestion"' not in page.get(r.headers["location"]).text
