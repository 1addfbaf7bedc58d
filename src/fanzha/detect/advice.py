"""One-sentence advice (一句话精准宣传) per fraud type, and the Chinese names of risks and types.

The five sentences marked 公安部 are quoted from the Ministry of Public Security (2020-07-28); the others are ours,
written in the same voice.
"""

from __future__ import annotations

from fanzha.detect.taxonomy import FRAUD_TYPE_NAMES, FRAUD_TYPES, RISK_NAMES, RISKS  # noqa: F401 (re-exported)

ADVICE = {
    "loan": "凡是网上贷款需要先交钱的不要相信。",  # 公安部
    "brushing": "凡是网上兼职刷单刷信誉的不要相信。",  # 公安部
    "fake_customer_service": "凡是退款退税需要先打钱的不要相信。",  # 公安部
    "shopping": "凡是网络购物以手续费、订金、预付款等理由要求先付款的不要相信。",  # 公安部
    "impersonate_authority": "凡是自称公检法电话要求转账的不要相信。",  # 公安部
    "investment": "凡是网上推荐稳赚不赔、高额回报的投资理财的不要相信。",
    "credit_repair": "凡是自称客服要求注销校园贷、修复征信并转账的不要相信。",
    "impersonate_acquaintance": "凡是自称领导、熟人通过网络要求转账汇款、未经当面或电话核实的不要相信。",
    "game_trade": "凡是游戏账号、装备私下交易要求到陌生平台付款的不要相信。",
    "romance": "凡是网上恋人、新交网友推荐投资或要求借钱转账的不要相信。",
    "wanghei": "凡是声称黑户也能贷、不看征信但要先交费的不要相信。",
    "military_purchase": "凡是自称部队、军警采购要求垫付资金或向指定供应商付款的不要相信。",
    "other": "凡是陌生人要求转账汇款、索要验证码或让点击陌生链接的不要相信。",
}

RISK_ADVICE = {
    "illicit": "赌博、办假证、招嫖、反动宣传等信息违法，请勿点击、勿联系、勿转账、勿转发，可向12321举报。",
    "spam": "这是营销广告，不需要的可回复退订，或向12321举报垃圾短信。",
    "normal": "未发现明显诈骗特征；只要对方要求转账汇款，请先拨打96110核实。",
}


# A text with nothing left to read once emoji, invisible characters, spaces and markup are taken out
# (`normalise.readable`), an empty one included: no verdict is given, and this says why.
NO_TEXT_LABEL = "未检查"
NO_TEXT_ADVICE = "没有可检查的文字（内容为空，或只有表情、不可见字符、网页标记）。请复制或输入消息的文字再检查。"
# An advertisement whose words the model reads as more likely a scam than not, with no scam red flag to show (the
# decision then asks for a surer reading before it says 诈骗): "reply 退订" would be the wrong advice.
LEANING_ADVICE = ("这条信息读来也像诈骗：不要回复，不要点击其中的链接，不要拨打其中的号码，不要转账或提供验证码；"
                  "拿不准请拨打96110咨询。")


# A smishing link (`rules.LINK_LURES`: a parcel that cannot be delivered, an account frozen … beside a link): the
# type's sentence is about paying, the harm here is the link and the page behind it.
LINK_ADVICE = ("不要点击短信里的链接，也不要在打开的网页上填写银行卡号、密码或验证码；快递、银行、ETC等事项请用官方APP"
               "或官方客服电话核实。")


def advice_for(risk: str, fraud_type: str | None, hinted_type: str = "", leaning: bool = False,
               link: bool = False) -> str:
    """The sentence for the verdict. `hinted_type`: a fraud type whose red flags an advertisement carries (a 刷单
    recruitment SMS is advertising by its words, but "reply 退订" is the wrong thing to tell its reader);
    `leaning`: the model reads the advertisement as more likely a scam than not (`LEANING_ADVICE`); `link`: a
    smishing-link rule named the scam (`LINK_ADVICE`). An advertisement with an illicit red flag needs no hint: the
    decision calls it 违法推广 (`decision.decide`)."""
    if risk == "fraud" and link:
        return LINK_ADVICE
    if risk == "fraud":
        return ADVICE.get(fraud_type or "other", ADVICE["other"])
    if risk == "spam" and hinted_type in ADVICE and hinted_type != "other":
        return f"这条广告带有{FRAUD_TYPE_NAMES[hinted_type]}诈骗的特征：{ADVICE[hinted_type]}"
    if risk == "spam" and leaning:
        return LEANING_ADVICE
    return RISK_ADVICE.get(risk, RISK_ADVICE["normal"])
