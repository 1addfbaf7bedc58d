"""How a risk is decided from the probabilities (the normal threshold) and how training rows are weighed (the
per-source boost). Probabilities and counts written by hand; expected results worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from fanzha.detect.data import RISKS
from fanzha.detect.model import FraudClassifier, decide

# columns in RISKS order: normal, spam, illicit, fraud
P = np.array([
    [0.90, 0.05, 0.02, 0.03],  # confident normal: normal under any threshold up to 0.90
    [0.70, 0.20, 0.05, 0.05],  # arg-max normal but below 0.75 → the likelier of spam/illicit: spam
    [0.60, 0.05, 0.30, 0.05],  # weak normal, illicit likelier than spam → illicit
    [0.45, 0.10, 0.05, 0.40],  # weak normal with a strong fraud: never turned into fraud, → spam (0.10 > 0.05)
    [0.20, 0.10, 0.05, 0.65],  # fraud is the arg-max → fraud whatever the threshold
    [0.10, 0.80, 0.05, 0.05],  # spam stays spam
])


def names(idx):
    return [RISKS[i] for i in idx]


def test_without_threshold_the_decision_is_the_arg_max():
    assert names(decide(P.copy())) == ["normal", "normal", "normal", "normal", "fraud", "spam"]


def test_normal_threshold_moves_weak_normals_to_spam_or_illicit_never_to_fraud():
    assert names(decide(P.copy(), 0.75)) == ["normal", "spam", "illicit", "spam", "fraud", "spam"]
    # at 0.65 only rows whose P(normal) < 0.65 move: 0.60 and 0.45
    assert names(decide(P.copy(), 0.65)) == ["normal", "normal", "illicit", "spam", "fraud", "spam"]


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.75, 0.95])
def test_threshold_never_changes_who_is_called_fraud(threshold):
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), size=500)
    assert np.array_equal(decide(p.copy(), threshold) == RISKS.index("fraud"),
                          p.argmax(axis=1) == RISKS.index("fraud"))


def test_source_boost_multiplies_the_named_cells():
    # cells: a|normal 100 rows, a|spam 25 rows, b|fraud 4 rows; source_balance 0.5 → each cell weighs sqrt(n):
    # 10, 5, 2 in total, i.e. per row 0.1, 0.2, 0.5. Boosting source b by 3 and cell a|spam by 2 gives per row
    # 0.1, 0.4, 1.5; the weights are then scaled to sum to the 129 rows: total 10 + 10 + 6 = 26.
    y = ["normal"] * 100 + ["spam"] * 25 + ["fraud"] * 4
    g = ["a"] * 125 + ["b"] * 4
    est = FraudClassifier(source_balance=0.5, source_boost=(("b", 3.0), ("a|spam", 2.0)))
    w = est._weights(y, g)
    assert w.sum() == pytest.approx(129)
    assert w[0] == pytest.approx(0.1 * 129 / 26)
    assert w[100] == pytest.approx(0.4 * 129 / 26)
    assert w[-1] == pytest.approx(1.5 * 129 / 26)
    plain = FraudClassifier(source_balance=0.5, source_boost=())._weights(y, g)
    assert plain[-1] / plain[0] == pytest.approx(5.0)  # 0.5 / 0.1 without the boost


def test_saved_parameters_round_trip(tmp_path):
    texts = ["加微信刷单返利垫付佣金", "今天晚上一起吃饭吧", "澳门娱乐城首充送彩金", "全场五折回T退订"] * 5
    y = ["fraud", "normal", "illicit", "spam"] * 5
    est = FraudClassifier(min_df=1, max_iter=5, source_boost=(("x", 2.0),), normal_min=0.6)
    est.fit(texts, y, fraud_type=["brushing", "", "", ""] * 5, groups=["x", "y"] * 10)
    est.save(tmp_path)
    back = FraudClassifier.load(tmp_path)
    assert back.source_boost == (("x", 2.0),) and back.normal_min == 0.6
    assert back.predict(texts[:4]).tolist() == est.predict(texts[:4]).tolist()


@pytest.mark.parametrize("text, fires", [
    ("兼职刷单，日结三百，先垫付后返佣金", True),
    ("兼職刷單，日結三百，先墊付後返傭金", True),  # traditional characters
    ("刷 单 任务，充值 500 返 650，本 金 当天返还", True),  # spaced apart
    ("帮店铺刷好评，一单五块，不用垫付，加微信", False),  # the recruitment advert's own line (FBS: advertising)
    ("反诈提醒：所有刷单都是诈骗，不要垫付任何费用。", False),  # a warning names the same words
    ("淘达人工作之余可参加刷单兼职上手简单专人讲解收入可观每单都可结算如有疑问请联系QQ", False),  # 刷单 ad alone
    ("今天做单很多，客户先付了定金，明天发货", False),  # business orders, not brushing
    ("专业办理房产抵押贷款，短借过桥垫资", False),  # 垫资 in a loan advert
    ("本金保障，年化收益4%，详情咨询营业厅", False),  # no brushing
])
def test_decisive_brushing_with_advance_payment(text, fires):
    from fanzha.detect import rules
    from fanzha.detect.normalise import normalise
    from fanzha.detect.service import check

    hits = rules.decisive(normalise(text))
    assert bool(hits) is fires
    if fires:
        v = check(text)
        assert v.risk == "fraud" and v.fraud_type == "brushing"
        assert v.reasons[0]["rule"] == "brushing_prepay"


def test_an_advert_with_a_scams_red_flags_is_not_told_to_reply():
    from fanzha.detect.advice import ADVICE, RISK_ADVICE, advice_for

    assert advice_for("spam", "", "brushing") == "这条广告带有刷单返利类诈骗的特征：" + ADVICE["brushing"]
    assert advice_for("spam", "", "") == RISK_ADVICE["spam"]
    assert advice_for("spam", "", "other") == RISK_ADVICE["spam"]  # no particular scam named: the plain advice
    assert advice_for("normal", "", "brushing") == RISK_ADVICE["normal"]
    assert advice_for("fraud", "loan", "brushing") == ADVICE["loan"]
    assert advice_for("spam", "", "", illicit_hint=True) == "这条广告带有违法推广的特征：" + RISK_ADVICE["illicit"]
    assert advice_for("spam", "", "brushing", illicit_hint=True).startswith("这条广告带有刷单返利类")  # the scam first
    assert advice_for("normal", "", "", illicit_hint=True) == RISK_ADVICE["normal"]


NOTICES = [  # real formats of everyday notices, numbers made up
    "【中国工商银行】您尾号8848的储蓄卡11月20日14:32支出(消费)268.00元，余额12,345.67元。",
    "【招商银行】您账户8848于11月20日14:32消费人民币268.00元，可用余额12345.67元。",
    "【建设银行】您尾号6612的账户11月21日09:15转账存入1,200.00元，活期余额3,456.78元。",
    "【农业银行】您尾号0231账户11月22日08:01完成代发工资交易人民币6,500.00，余额8,912.40。",
    "【顺丰速运】您的快件已到达小区门口丰巢柜，取件码 123456，请及时取件。",
    "【中国移动】尊敬的客户，您本月话费账单已出，共计58.50元，请及时缴费。",
    "【國家電網】您戶號0123456789的電費賬戶餘額不足20元，請及時繳費。",  # traditional characters
    "【滴滴出行】您的行程已结束，本次车费23.60元已从微信支付扣除。",
    "【12306】订单E123456789，张三您已购11月25日G123次3车12F号，北京南站14:05开。",
    "【支付宝】你尾号1234的银行卡于11月20日转入支付宝余额500.00元。",
]
FAKE_NOTICES = [  # the same look with what a scam or an advert needs
    "【中国工商银行】您尾号8848的储蓄卡积分即将清零，请登录 icbc-jf.top 兑换现金礼品。",
    "【菜鸟驿站】您的包裹已到达，请使用微信支付0.5元手续费后到店领取。",
    "【快递通知】您的包裹已送达，请添加支付宝好友 zfb_8866 完成签收。",
    "【建设银行】您尾号6612的账户11月21日转入1,200.00元，详询13812345678。",
    "【中国移动】您本月话费账单已出，共计58.50元，回T退订",
    "【铁路12306】您购买的G1234次列车已停运，退款需核实身份，请速电4006123456办理退票改签并获得补偿。",
    "【中国移动】您本月话费账单已出，共计58.50元，将于24小时内停机，请及时缴费",
    "【建设银行】您尾号6612的账户11月21日转入1,200.00元，详询0571-8765432。",
]


@pytest.mark.parametrize("text", NOTICES)
def test_signed_transactional_notices_are_ordinary(text):
    from fanzha.detect.service import check

    v = check(text)
    assert v.risk == "normal", (v.risk, v.fraud_prob)


@pytest.mark.parametrize("text", FAKE_NOTICES)
def test_a_notice_that_asks_something_of_its_reader_is_not_cleared(text):
    from fanzha.detect import rules
    from fanzha.detect.extract import extract
    from fanzha.detect.normalise import normalise

    norm = normalise(text)
    assert rules.notice(norm, rules.find(norm), extract(norm)) is None


def test_the_notice_rule_never_clears_what_the_model_calls_fraud(monkeypatch):
    import numpy as np

    from fanzha.detect import service
    from fanzha.detect.model import FRAUD

    model = service.load_model()
    real = model.predict_proba

    def fraudish(X):
        p = np.zeros((X.shape[0], 4))
        p[:, FRAUD] = 1.0
        return p

    monkeypatch.setattr(model, "predict_proba", lambda X=None, **kw: fraudish(X))
    try:
        assert service.score_many(NOTICES[:2], model=model)[0].risk == "fraud"
    finally:
        monkeypatch.setattr(model, "predict_proba", real)
