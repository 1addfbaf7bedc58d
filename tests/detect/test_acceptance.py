"""Issue 23's acceptance examples, in our own words (none of these texts is in the training files): a bank's
verification-code SMS is 正常, a parents' class-group chat collecting money for a teacher's gift is 正常, a grooming
chat that ends in an investment pitch is 诈骗 — through `check` and through the public checker page's form."""

from __future__ import annotations

import re

import pytest

from fanzha.detect import check

BANK_OTP = ("【江南银行】验证码 482913，您正在使用手机银行向本人账户转账 3,000.00 元。验证码仅用于本次操作，"
            "本行员工不会以任何理由索要，请勿转告他人，谨防诈骗。")
CLASS_GIFT = """四年级（1）班家长群(46)
07:52
家委会孙妈妈
各位家长早上好，下周就是教师节了，家委会想给班主任和英语老师各准备一束花和孩子们手写的卡片。
家委会孙妈妈
大家自愿参加，每家10元，请转给家委会的周爸爸，备注孩子姓名，周五统一公布收支。
08:05
何思琪妈妈
好的，已转周爸爸
周爸爸
收到何思琪妈妈，谢谢。目前收到21家。
唐乐乐爷爷
我不会用手机转，明天送孩子时把现金给孙妈妈
家委会孙妈妈
没问题，谢谢唐爷爷"""
GROOMING = """晓晓：早呀，今天降温了，出门多穿点
我：谢谢，你也是
晓晓：昨晚跟你聊到两点，今天上班都没精神，不过很开心
我：我也是，跟你说话很轻松
晓晓：我表哥在一家外汇交易平台做风控，他知道后台什么时候拉升，我跟着做了三个月，翻了一倍
晓晓：你也注册一个吧，我发你下载地址，先入金两万试试，我看着你操作，保证赚
我：我没玩过这个
晓晓：没关系的呀，我们以后要一起生活，我是为了我们的将来，你先充值进去，提现很快的"""


@pytest.mark.parametrize("text, risk", [(BANK_OTP, "normal"), (CLASS_GIFT, "normal"), (GROOMING, "fraud")],
                         ids=["bank_otp", "class_gift_chat", "grooming_chat"])
def test_acceptance_examples(text, risk):
    v = check(text)
    assert v.risk == risk, (v.risk, v.fraud_prob, v.reasons)


def _public_checker(tmp_path):
    """The public checker app on a store under tmp_path, with a form token from its home page (as a browser has)."""
    from fastapi.testclient import TestClient

    from fanzha.config import Settings
    from fanzha.public.app import create_public_app
    from fanzha.public.store import PublicStore

    settings = Settings(data_dir=tmp_path, public_rate_per_minute=600, public_burst=600)
    client = TestClient(create_public_app(settings, store=PublicStore(tmp_path / "public.db")))
    return client, re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_acceptance_examples_through_the_public_checker_page(tmp_path):
    client, token = _public_checker(tmp_path)
    for text, label in ((BANK_OTP, "正常"), (CLASS_GIFT, "正常"), (GROOMING, "诈骗")):
        page = client.post("/check", data={"text": text, "csrf_token": token})
        assert page.status_code == 200
        head = re.search(r'<p class="verdict-head"><strong>([^<]+)</strong>', page.text)
        assert head and head.group(1) == label, (label, head and head.group(1))


def test_a_rule_verdict_on_the_public_page_says_what_it_rests_on(tmp_path):
    """A bare account is 诈骗 by its cue while the model alone reads it near 0 %: the page must not show 诈骗 beside a
    bare "诈骗概率 0%" with nothing to reconcile them; it says the probability is the words' reading alone and that the
    verdict also rests on the flags listed. An ordinary message keeps the plain line."""
    client, token = _public_checker(tmp_path)
    page = client.post("/check", data={"text": "邮政 6210985800012345678 刘芳", "csrf_token": token}).text
    assert re.search(r'<p class="verdict-head"><strong>诈骗</strong>', page)
    line = re.search(r'<p class="small muted" id="fraud-prob">([^<]+)</p>', page).group(1)
    assert line == "模型只读文字给出的诈骗概率：0%；结论还依据下列可疑之处"
    assert "只有收款账号的短消息" in page
    page = client.post("/check", data={"text": "晚上回家吃饭吗", "csrf_token": token}).text
    line = re.search(r'<p class="small muted" id="fraud-prob">([^<]+)</p>', page).group(1)
    assert line.startswith("模型只读文字给出的诈骗概率：") and "依据" not in line


def test_emoji_alone_on_the_public_page_asks_for_the_words(tmp_path):
    """A pasted sticker or emoji has no words: the page says so and keeps the form, instead of a 正常 verdict on
    nothing. The message with words around the same emoji is checked."""
    client, token = _public_checker(tmp_path)
    page = client.post("/check", data={"text": "😀😀\u200b", "csrf_token": token})
    assert page.status_code == 422
    assert "没有可检查的文字" in page.text and 'class="verdict-head"' not in page.text
    assert re.search(r'<textarea[^>]*name="text"', page.text)
    page = client.post("/check", data={"text": "晚上回家吃饭吗😀", "csrf_token": token})
    assert page.status_code == 200 and '<p class="verdict-head"><strong>正常</strong>' in page.text
