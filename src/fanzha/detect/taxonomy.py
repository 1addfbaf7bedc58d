"""The fraud-type vocabulary (诈骗类型) and the risk classes, defined once for every domain to import.

`FRAUD_TYPES` are the keys stored in warnings, cases, activities and quiz questions; `FRAUD_TYPE_LABELS` the short
words lists, forms and exports show (刷单返利); `FRAUD_TYPE_NAMES` the full names of the public checker and the 三告
letters (刷单返利类); `FRAUD_TYPE_ALIASES` the words imported files use for each type (read with
`fanzha.warnings.enums.lookup`).

`fanzha.detect.advice` and `fanzha.detect.data` re-export these names, so older imports keep working.
"""

from __future__ import annotations

RISKS = ("normal", "spam", "illicit", "fraud")
RISK_NAMES = {"fraud": "诈骗", "illicit": "违法推广", "spam": "营销广告", "normal": "正常"}

FRAUD_TYPES = ("brushing", "fake_customer_service", "investment", "loan", "credit_repair", "shopping",
               "impersonate_authority", "impersonate_acquaintance", "game_trade", "romance", "wanghei",
               "military_purchase", "other")

FRAUD_TYPE_NAMES = {
    "brushing": "刷单返利类",
    "fake_customer_service": "冒充电商物流客服类",
    "investment": "虚假网络投资理财类",
    "loan": "贷款、代办信用卡类",
    "credit_repair": "虚假征信类",
    "shopping": "虚假购物、服务类",
    "impersonate_authority": "冒充公检法及政府机关类",
    "impersonate_acquaintance": "冒充领导、熟人类",
    "game_trade": "网络游戏产品虚假交易类",
    "romance": "网络婚恋、交友类",
    "wanghei": "网黑案件",
    "military_purchase": "冒充军警购物类",
    "other": "其他类型诈骗",
}

# The short words (lists, forms, exports, the provincial feedback file).
FRAUD_TYPE_LABELS = {
    "brushing": "刷单返利",
    "fake_customer_service": "冒充电商物流客服",
    "investment": "虚假网络投资理财",
    "loan": "贷款、代办信用卡",
    "credit_repair": "虚假征信",
    "shopping": "虚假购物、服务",
    "impersonate_authority": "冒充公检法及政府机关",
    "impersonate_acquaintance": "冒充领导、熟人",
    "game_trade": "网络游戏产品虚假交易",
    "romance": "网络婚恋、交友",
    "wanghei": "网黑案件",
    "military_purchase": "冒充军警购物",
    "other": "其他",
}

# What imported files call each type.
FRAUD_TYPE_ALIASES = {
    "刷单": "brushing", "刷单返利": "brushing", "兼职刷单": "brushing",
    "客服": "fake_customer_service", "冒充客服": "fake_customer_service", "冒充电商客服": "fake_customer_service",
    "冒充电商物流客服": "fake_customer_service", "冒充物流客服": "fake_customer_service",
    "投资理财": "investment", "虚假投资理财": "investment", "虚假网络投资理财": "investment", "投资": "investment",
    "贷款": "loan", "网络贷款": "loan", "虚假贷款": "loan", "贷款、代办信用卡": "loan", "代办信用卡": "loan",
    "征信": "credit_repair", "虚假征信": "credit_repair", "注销校园贷": "credit_repair",
    "购物": "shopping", "虚假购物": "shopping", "虚假购物、服务": "shopping",
    "公检法": "impersonate_authority", "冒充公检法": "impersonate_authority",
    "冒充公检法及政府机关": "impersonate_authority",
    "冒充领导": "impersonate_acquaintance", "冒充熟人": "impersonate_acquaintance",
    "冒充领导、熟人": "impersonate_acquaintance",
    "游戏": "game_trade", "游戏交易": "game_trade", "网络游戏产品虚假交易": "game_trade",
    "婚恋": "romance", "交友": "romance", "网络婚恋、交友": "romance", "杀猪盘": "romance",
    "网黑": "wanghei", "网黑案件": "wanghei",
    "冒充军警": "military_purchase", "冒充军警购物": "military_purchase",
    "其他": "other", "其它": "other",
}
