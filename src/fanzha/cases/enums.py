"""Labels for the case register: channels, 打-side action kinds and their states, how a type was set."""

from __future__ import annotations

CHANNELS = {  # 诈骗渠道: how the fraudster reached the victim
    "phone": "电话",
    "sms": "短信",
    "social": "社交软件（微信/QQ等）",
    "app": "手机APP",
    "website": "网站/网页",
    "game": "游戏平台",
    "livestream": "直播/短视频平台",
    "other": "其他",
}

ACTION_KINDS = {  # 打 side requests recorded with cases and warnings
    "query": "快速查询",
    "stop_payment": "止付",
    "freeze": "冻结",
    "card_lead": "断卡线索",
    "account_block": "封号",
}

ACTION_TARGET_TYPES = {
    "bank_card": "银行卡",
    "phone_card": "电话卡",
    "wechat": "微信",
    "qq": "QQ",
    "alipay": "支付宝",
    "app": "APP账号",
    "other": "其他",
}

ACTION_STATUSES = {"requested": "已申请", "done": "已完成", "failed": "未成功", "referred": "已移交"}

TYPE_STATUSES = {"given": "录入", "suggested": "系统建议（待确认）", "confirmed": "已确认"}
