"""Chat mode (`chat.is_chat`, `chat.body`), fused corpus placeholders (`normalise.model_text`), the fragment and chat
cues (`rules.cues`) and the decisive student-loan rule, on texts written for these tests."""

from __future__ import annotations

import pytest

from fanzha.detect import chat, rules
from fanzha.detect.normalise import model_text, normalise

OCR_GROUP = "滨河小区业主群(212)\n09:14\n物业小王\n明天停电检修\n3栋老李\n几点开始\n物业小王\n上午八点到十二点"
NAMED = "阿芳：周六去公园吗\n小敏：好呀几点\n阿芳：九点门口见"
LETTER = "尊敬的客户：\n姓名：王某\n电话：请见附件\n邮箱：见下方\n感谢您的支持"


TIMED = "一楼王姐 19:02：明早八点电梯保养\n物业张工 19:05：收到，我去贴通知\n三楼刘哥 19:07：辛苦了"


@pytest.mark.parametrize("text", [OCR_GROUP, NAMED, "今天\n[图片]\n好看吗", "群聊\n\"小张\"邀请\"小李\"加入了群聊\n欢迎",
                                  TIMED, "滨河小区业主群（212人）\n明天停电\n几点开始"])
def test_chat_layouts_are_chats(text):
    assert chat.is_chat(normalise(text))


@pytest.mark.parametrize("text", [LETTER, "一行短信", "第一行\n第二行", "报名表\n已经填好\n明天交",
                                  "会议通知\n时间 14:30：三楼会议室\n请准时参加"])
def test_letters_and_short_texts_are_not(text):
    assert not chat.is_chat(normalise(text))


def test_the_model_reads_a_chat_without_its_layout_lines():
    body = chat.body(normalise(OCR_GROUP))
    assert "09:14" not in body and "(212)" not in body and "明天停电检修" in body


@pytest.mark.parametrize("fused, spaced", [("工行BANK收款人NAME", "工行 BANK 收款人 NAME"),
                                           ("请致电CELLPHONEWECHAT", "请致电 CELLPHONE WECHAT"),
                                           ("DIGITDIGIT元", "DIGIT DIGIT元")])
def test_fused_placeholders_read_as_the_spaced_ones(fused, spaced):
    assert model_text(normalise(fused)) == model_text(normalise(spaced))


def test_words_that_begin_like_placeholders_are_left_alone():
    assert model_text("Digital NAMES PLACEMENT") == "digital names placement"


def _cues(text):
    norm = normalise(text)
    mt = model_text(chat.body(norm) if chat.is_chat(norm) else norm)
    return [h.code for h in rules.cues(norm, mt, chat.is_chat(norm))]


def test_fragment_cues():
    assert "fragment_account" in _cues("建行 6217001234567890123 户名周某")
    assert "fragment_link" in _cues("看看这个 http://x9.top/a")
    assert _cues("【招商银行】您尾号1234的卡支出58.00元") == []
    assert _cues("明天一起吃饭吧") == []


def test_chat_pitch_cue_needs_the_pitch_after_the_small_talk():
    grooming = "晓晓：早安呀\n我：早\n晓晓：我在一个平台做黄金，稳赚，你也注册吧"
    assert "chat_pitch" in _cues(grooming)
    assert "chat_pitch" not in _cues("老周：羽毛球场地订好了\n小米：好\n老周：周六见")


def test_student_loan_cancel_is_decisive_unless_warned_about():
    assert [h.code for h in rules.decisive(normalise("同学你好，你的校园贷账户需要注销，不然影响征信"))] == \
        ["student_loan_cancel"]
    assert rules.decisive(normalise("反诈提醒：称注销校园贷、影响征信的都是诈骗")) == []


def test_speakers_in_both_layouts():
    assert chat.speakers(normalise(NAMED)) == {"阿芳": "周六去公园吗\n九点门口见", "小敏": "好呀几点"}
    # OCR'd screen: the header, its member count and the time line are not speech; 王妈妈 comes back, and 李爸爸
    # stands above a longer line
    screen = "五(3)班家长群(47)\n09:14\n王妈妈\n周五前交春游费，每人45元\n李爸爸\n好的，已经转给王妈妈了\n王妈妈\n收到"
    assert chat.speakers(normalise(screen)) == {"王妈妈": "周五前交春游费,每人45元\n收到",
                                                "李爸爸": "好的,已经转给王妈妈了"}
    # every line short: names and messages look alike, so the chat is read as a whole
    assert chat.speakers(normalise(OCR_GROUP)) == {}
    # a turn's time copied between the name and the colon belongs to neither the name nor the words
    timed = "阿芳 21:02：周六去公园吗\n小敏 21:05:好呀几点\n阿芳 21:06:12：九点门口见"
    assert chat.speakers(normalise(timed)) == {"阿芳": "周六去公园吗\n九点门口见", "小敏": "好呀几点"}


@pytest.mark.parametrize("text", [LETTER, "今天\n[图片]\n好看吗", "甲：只有一个人在说\n甲：还是我\n甲：第三句"])
def test_no_speakers_when_they_cannot_be_told_apart(text):
    assert chat.speakers(normalise(text)) == {}


def test_a_chat_is_read_speaker_by_speaker():
    import numpy as np

    from fanzha.detect.model import most_suspicious, speaker_texts

    long_pitch = "我在一个外汇平台跟着导师做单，稳赚不赔，你也注册一个，先充值两万，我带你"
    norms = [normalise(f"晓晓：早呀\n我：早\n晓晓：{long_pitch}\n我：我想想"), normalise("一行短信"),
             normalise(NAMED)]
    texts, rows, names = speaker_texts(norms, [True, False, True])
    # 我 says too little to be read alone (< SPEAKER_MIN_CHARS), nor does anyone in NAMED
    assert rows == [0] and names == ["晓晓"] and texts[0].endswith("我带你")
    raw = np.array([[0.1, 0.1, 0.0, 0.8], [0.7, 0.1, 0.0, 0.2], [0.3, 0.1, 0.0, 0.6]])
    best, which = most_suspicious(raw, [0, 0, 2], 3)
    assert best[0].tolist() == raw[0].tolist() and which.tolist() == [0, -1, 2] and np.isnan(best[1]).all()


def test_a_class_group_chat_copied_with_times_is_ordinary():
    """Turns copied from a chat app as "name 08:10：text", nobody speaking twice, a header with 人 in its member count:
    still a chat, so a class collecting money for a teacher's flowers is read as a chat and not as an advert."""
    from fanzha.detect import check

    text = ("初一(4)班家长群（52人）\n李老师 07:58：各位家长，本周六上午九点开家长会。\n周子涵爸爸 08:03：收到\n"
            "家委会-吴 08:15：给李老师买生日蛋糕，每家自愿5元，接龙登记，周五前交给家委会吴妈妈。\n"
            "陈一诺妈妈 08:20：接龙 1. 陈一诺妈妈 5元")
    assert chat.is_chat(normalise(text))
    assert check(text).risk == "normal"


def test_a_chat_called_fraud_for_what_one_speaker_says_names_that_speaker():
    from fanzha.detect import check

    text = ("小美：在吗\n我：在的\n小美：最近在做一个投资项目，导师带单，每天收益百分之五，稳赚不赔，你要不要试试，"
            "先注册账户充值一万\n我：真的吗\n小美：真的，我已经赚了二十万了")
    v = check(text)
    assert v.risk == "fraud" and v.fraud_prob >= 0.5
    assert v.reasons[0]["rule"] == "speaker" and "小美" in v.reasons[0]["name"]
    assert v.reasons[0]["text"].startswith("最近在做一个投资项目")  # the speaker's longest line


def test_the_evaluation_reads_the_same_speakers_as_the_product():
    import numpy as np

    from fanzha.detect import evaluate
    from fanzha.detect.model import FraudClassifier, prepare

    pitch = "晓晓：早呀\n我：早\n晓晓：我在一个外汇平台跟着导师做单，稳赚不赔，你也注册一个，先充值两万，我带你\n我：我想想"
    club = "老周：周六的羽毛球场地订好了，上午九点到十一点，体育馆三号场\n小米：好的\n老周：记得带球拍和水，别迟到"
    texts = [pitch, "晚上回家吃饭吗", club, "明天开会", pitch.replace("晓晓", "阿敏")]
    est = FraudClassifier(n_features=2 ** 12, min_df=1, max_iter=3)
    features, ev = evaluate.analyse(texts, est)
    m = est.fit_features(*features[:2], np.array(["fraud", "normal", "normal", "normal", "fraud"]))
    mask = np.array([False, True, True, False, True])
    got = evaluate.speaker_raw(m, features, mask)
    assert got.shape == (3, 4) and np.isnan(got[0]).all()  # a message has no speakers
    norms = prepare([texts[i] for i in np.flatnonzero(mask)])[0]
    want = m.speaker_raw(norms, ev[0][mask])
    assert np.allclose(got[1:], want.raw[1:], atol=1e-6)
    # the speakers who ask for money or a way in: 晓晓/阿敏 do (平台, 注册, 充值), 老周 of the badminton club does not
    got_asking = evaluate.speaker_raw(m, features, mask, asking=True)
    assert np.isnan(got_asking[1]).all() and np.allclose(got_asking[2], want.raw_asking[2], atol=1e-6)
    assert np.isnan(want.raw_asking[1]).all() and not np.isnan(want.raw[1]).all()


ORDINARY_CALLS = [  # ordinary service calls and chats in which an order, a deposit or a card comes up; our own words
    "店员：您好，老味道家常菜，请问需要点什么\n顾客：你好，我想订个外送，两份鱼香肉丝盖饭，一份酸辣汤\n"
    "店员：好的，一共五十八块，地址是哪里\n顾客：建设路18号华府小区5栋2单元，到了打我电话就行\n"
    "店员：好的，大概四十分钟送到，到付还是线上付\n顾客：到了扫码付吧",
    "护士：您好，这里是市第一人民医院眼科，您预约的明天上午九点的复查，提醒您按时就诊\n患者：好的，需要空腹吗\n"
    "护士：不需要空腹，记得带上医保卡和上次的检查报告，来了先到二楼自助机签到\n患者：如果明天去不了可以改时间吗\n"
    "护士：可以，在医院公众号里预约记录那里取消再重新约，或者到窗口改\n患者：好的谢谢",
    "门店：您好，您在我们这里预订了明天上午的车，提醒您带上身份证和驾驶证原件到门店取车\n顾客：押金怎么交\n"
    "门店：押金可以刷信用卡预授权五千元，还车后没有违章，三十天后自动解冻，不用转账\n顾客：好的，九点到门店可以吗\n"
    "门店：可以的，九点见",
    "司机：您好，我是刚才送您去火车站的司机，您的一个黑色钱包落在后座了\n乘客：哎呀太谢谢了，里面有身份证\n"
    "司机：我现在还在火车站附近，您在哪个进站口\n乘客：我在北广场二号进站口，还有四十分钟发车\n"
    "司机：那我给您送过去，十分钟到，您在进站口外面等我",
]
SCAM_CHATS = [  # scams of kinds police advisories describe, in our own words
    "代理上级：姐妹，咱们这款面膜现在升级成总代了，只要拿货两万，你就是市级代理\n我：两万太多了，我卖不出去怎么办\n"
    "代理上级：不用你卖，你发展下面的代理，每个人拿货你都有提成，我上个月躺赚三万\n"
    "代理上级：名额只剩两个了，今晚十二点前打款锁定价格，明天就涨到三万\n我：我先拿小一点的货行吗\n"
    "代理上级：小代理没有返利，你先把钱转到公司账户，我给你开后台",
    "卖家：你好，我想买你挂的那台相机，我这边已经在平台上拍下了\n我：好的，我这边看到了\n"
    "卖家：平台说你的账户没有开通保证金服务，钱被冻结了，你要联系平台客服\n"
    "卖家：这是客服的微信，你加一下，按他说的交保证金就能解冻\n我：闲置平台还要交保证金吗\n"
    "卖家：新用户都要，交了马上退回给你，我这边急用，麻烦快点",
]


@pytest.mark.parametrize("text", ORDINARY_CALLS)
def test_an_ordinary_service_call_is_not_called_fraud(text):
    from fanzha.detect import check

    v = check(text)
    assert chat.is_chat(normalise(text)) and v.risk != "fraud", (v.risk, v.fraud_prob, v.reasons)


@pytest.mark.parametrize("text", SCAM_CHATS)
def test_a_scam_chat_that_asks_for_money_is_called_fraud(text):
    from fanzha.detect import check

    assert check(text).risk == "fraud"


def test_a_chat_read_as_surely_ordinary_reports_no_speakers_reading(monkeypatch):
    import numpy as np

    from fanzha.detect import service
    from fanzha.detect.model import FRAUD

    model = service.load_model()
    text = ORDINARY_CALLS[0]
    real_proba, real_speakers = model.predict_proba, model.speaker_raw

    def sure(X=None, **kw):  # the whole chat read as surely ordinary
        p = real_proba(X=X, **kw)
        p[:, FRAUD] = 0.001
        return p

    def loud(norms, is_chat):  # one speaker alone read as a scam
        sp = real_speakers(norms, is_chat)
        sp.raw[~np.isnan(sp.raw[:, FRAUD]), FRAUD] = 0.999
        return sp

    monkeypatch.setattr(model, "predict_proba", sure)
    monkeypatch.setattr(model, "speaker_raw", loud)
    v = service.score_many([text], model=model)[0]
    assert v.risk != "fraud" and v.fraud_prob < 0.02
