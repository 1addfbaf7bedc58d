"""The fraud-type vocabulary (诈骗类型) and the risk classes, defined once for every domain to import.

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
