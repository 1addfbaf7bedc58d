"""识诈 normalisation, extraction and rules: each evasion a fraudster uses is undone before the model looks."""

from __future__ import annotations

import pytest

from fanzha.detect import rules
from fanzha.detect.extract import extract
from fanzha.detect.normalise import model_text, normalise


@pytest.mark.parametrize("raw, expected", [
    ("您的帳戶存在風險，請開啟螢幕共享", "您的账户存在风险,请打开屏幕共享"),  # traditional (Taiwan phrasing) → simplified
    ("軟體下載後登錄網路銀行", "软件下载后登录网络银行"),
    ("ＡＢＣ１２３　加ＱＱ", "ABC123 加QQ"),  # full-width → half-width
    ("加 微 信 领 取 红 包", "加微信领取红包"),  # characters spaced apart
    ("刷.单.返.利", "刷单返利"),  # punctuated apart
    ("刷-单-返-利", "刷单返利"),
    ("加V信：abc12345", "加微信:abc12345"),  # look-alike spellings of 微信
    ("加薇信详聊", "加微信详聊"),
    ("威❤ wang_888", "微信 wang_888"),
    ("vx同号", "微信同号"),
    ("扣扣 123456789", "QQ 123456789"),
    ("加q 12345678", "加QQ 12345678"),
    ("菠菜平台返拥高", "博彩平台返佣高"),  # homophones
    ("玩菠菜天天赢", "玩博彩天天赢"),
    ("一盘蒜蓉菠菜，两听王老吉", "一盘蒜蓉菠菜,两听王老吉"),  # spinach stays spinach
    ("教你做菠菜蛋汤", "教你做菠菜蛋汤"),
    ("博采众长", "博采众长"),
    ("138-1234-5678", "13812345678"),  # separators inside numbers
    ("1❤3❤8 1234 5678", "13812345678"),  # emoji inside numbers
    ("6222 0212 3456 7890 123", "6222021234567890123"),
    ("1.3.8.1.2.3.4.5.6.7.8", "13812345678"),  # digits dotted apart, the last one too
    ("138.1234.5678", "13812345678"),
    ("支出268.00元,余额12,345.67元", "支出268.00元,余额12,345.67元"),  # a decimal point is not a separator
    ("余额 2.50元", "余额 2.50元"),
    ("日赚200-500元,每单5~20元", "日赚200-500元,每单5~20元"),  # nor is the dash of a range of amounts
    ("联系138-1234-5678 人工客服", "联系13812345678 人工客服"),  # three groups: a number, whatever follows
    ("加V:138-1234-56.78", "加微信:13812345678"),
    ("QQ 12.34.56.78", "QQ 12345678"),
    ("<script>alert('x')</script><b>你好</b>", "你好"),  # HTML and script dropped
    ("😀😀😀", ""),
    ("你\u200b好\u200d", "你好"),  # zero-width characters
])
def test_normalise_undoes_evasions(raw, expected):
    assert normalise(raw) == expected


def test_normalise_keeps_ordinary_sentences():
    assert normalise("宫保鸡丁、水煮牛肉、米饭两碗") == "宫保鸡丁、水煮牛肉、米饭两碗"
    assert normalise("I love you so much") == "I love you so much"
    assert normalise("") == ""


def test_model_text_masks_numbers_links_and_corpus_placeholders_alike():
    real = model_text(normalise("详询13812345678，访问 http://a.cn/x 领5000元"))
    masked = model_text(normalise("详询xxxxxxxxxxx，访问 URL 领xxxx元"))
    fbs = model_text(normalise("详询 CELLPHONE ， 访问 URL 领 DIGIT 元"))
    assert real == masked == fbs


def test_extract_entities():
    e = extract(normalise("联系138 1234 5678或访问 http://x.cn/a ，转5000元到6222021234567890123，加QQ：1234567，微信 wang_abc1"))
    assert e.phones == ["13812345678"]
    assert e.urls == ["http://x.cn/a"]
    assert e.bank_cards == ["6222021234567890123"]
    assert e.qq == ["1234567"]
    assert e.wechat == ["wang_abc1"]
    assert "5000元" in e.amounts
    assert extract(normalise("支出268.00元，余额12,345.67元")).amounts == ["268.00元", "12,345.67元"]
    assert extract(normalise("每单佣金5-20元，日赚200~500元")).amounts == ["5-20元", "200~500元"]


@pytest.mark.parametrize("text, code", [
    ("请下载腾讯会议，开启屏幕共享，我指导您操作", "screen_share"),
    ("把资金转到安全账户进行资金清查", "safe_account"),
    ("请把收到的验证码告诉我", "verification_code"),
    ("兼职刷单，垫付后本金加佣金一起返还", "brushing_advance"),
    ("您的校园贷需要注销，否则影响征信", "credit_repair"),
    ("我是公安局民警，你涉嫌洗钱", "authority"),
    ("快递丢失了，我们给您三倍理赔，请加客服微信", "refund_claim"),
    ("贷款已审批，需先交解冻金", "loan_fee"),
    ("部队后勤要采购一批物资，请先垫付", "military_purchase"),
    ("澳门娱乐城首充送彩金", "gambling"),
    ("代开各类发票", "fake_id_invoice"),
    ("回T退订", "marketing"),
    # wordings of the fake-base-station corpus's illicit adverts that the first rule set missed
    ("六合采肖码精准，加微信", "gambling"),
    ("三肖必中，内部资料", "gambling"),
    ("万能遥控器，打麻将起手拿好牌，茶楼试机看效果", "gambling"),
    ("提供本地国碎机打发漂，点低", "fake_id_invoice"),
    ("快速代办驾照，免学免考，全国联网", "fake_id_invoice"),
    ("常年招聘公关，月薪三万，仅限女性，身高不限，公司免费包装", "escort"),
    ("中共恶行滔天，声明三退保平安", "political"),
])
def test_rule_fires_with_its_span(text, code):
    norm = normalise(text)
    hit = {h.code: h for h in rules.find(norm)}[code]
    assert norm[hit.start:hit.end] == hit.text and hit.name


@pytest.mark.parametrize("text", [
    "医院周围的提款机全部坏掉了",  # 提款 alone is not gambling
    "买单还不开发票，没有机打发票，感觉很落后",  # a diner's complaint, not a fake-invoice advert
    "这家店可以开发票吗", "报销需要国税机打发票原件", "明天我去代办驾照年审", "驾照考试科目二",
    "不出租、不出借、不出售身份证", "警方提示：出售身份证是违法行为", "明天去派出所办理身份证",
    "代办营业执照，刻章，记账报税", "我头发漂了个色",
    "周末去六合采草莓", "双色球彩池滚存", "【XX证券】新客开户就送100元", "酒店设有棋牌室和KTV", "联系电话13900001111肖先生",
    "一盘蒜蓉菠菜，两听王老吉",
    "【XX地产】湖景洋房特价开盘，看房请联系王小姐13800001111，回T退订", "【家电维修】空调冰箱维修，24小时上门服务",
    "客服小姐姐为您服务", "招聘公关专员，限女性，五险一金", "公关部招聘实习生", "约平面设计师明天面谈",
    "高三退学了怎么办", "法轮常转，佛法无边", "法轮寺今天开放参观", "第十九评审组名单公布",
    "孩子14岁退出少先队了", "我退出共青团了，年纪超了", "我退出团队群聊了，明天再说", "这幅画富有神韵",
    "中共中央办公厅印发通知", "队员们声明退出比赛", "想预约化妆的美女们也可以提前预约了",
    # a second reading: everyday wordings, warnings and news that name the trade
    "水平特别好", "在微信上分享给朋友", "线上分享，报名请加微信", "线上分期请联系客服", "做菠菜蛋汤", "教你做菠菜", "菠菜种植公司计划扩产", "博采众长", "政务中心办证大厅", "不动产办证须知",
    "出国前准备好各类证件", "前台美女服务态度很好", "服务员都是美女，服务热情", "约小姐妹逛街", "快叫小姐姐", "设计师王小姐明天上门量房", "网吧包夜", "KTV包夜套餐", "原神首充双倍重置了",
    "断舍离大法好", "减肥大法好", "不要出租出售身份证", "严禁出租出售身份证", "可通过电子税务局申请代开发票", "英国工党议员宣布退党", "反邪教宣传：法轮功是邪教", "打击非法六合彩",
    "斗地主赢了二十块", "遥控器落在麻将桌上", "请拿好牌子", "澳门威尼斯人酒店的自助餐不错", "送老婆彩金项链", "开了发票还给了一点优惠", "乐团声明退出比赛", "毕业证书办理须知", "彩票销售平台",
    "不用考驾照了吗", "本店可开各种发票", "特殊服务窗口", "按摩椅全套", "韩国碎发", "五星级酒店举办模特大赛", "婚庆一条龙服务",
])
def test_illicit_rules_leave_ordinary_wordings_alone(text):
    fired = {h.code for h in rules.find(normalise(text))}
    assert not fired & {"gambling", "fake_id_invoice", "escort", "political"}


@pytest.mark.parametrize("text", [
    "假身份证出售，电话13812345678", "专业制作高仿身份证", "代办学历，学信网可查", "已有四亿人三退", "《九评》传遍全球", "陆合采资料，期期准", "3肖中特，内部资料", "学生妹兼职，可约",
    "注册即送58元体验金", "新葡京真人荷官在线", "存100送100，返水无上限", "北京赛车PK10计划群", "代办结婚证", "驾照包过，不用练车", "小妹上门，全天服务", "养生会所一条龙",
    "退团退队保平安", "六合彩特码内部资料", "法轮大法好，真善忍好", "万能遥控器，打麻将起手拿好牌",
])
def test_illicit_adverts_fire_an_illicit_rule(text):
    assert any(h.risk == "illicit" for h in rules.find(normalise(text)))


def test_rules_have_chinese_names_and_unique_codes():
    assert len(set(rules.RULE_CODES)) == len(rules.RULES) + len(rules.CUE_CODES)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r.name) for r in rules.RULES)
