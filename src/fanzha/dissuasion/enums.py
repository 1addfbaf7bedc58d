"""Channels and results of dissuasion, with their Chinese labels (a warning's outcome, 反馈结果: warnings.enums.OUTCOMES)."""

CHANNELS = {
    "phone": "电话",
    "sms": "短信",
    "face_to_face": "见面",
    "visit": "上门走访",
    "family": "联系家属",
}
FACE_CHANNELS = ("face_to_face", "visit")
CALL_CHANNELS = ("phone", "family")  # a call: to the person, or to a family member (联系家属)
RESULTS = {
    "reached": "已联系上",
    "not_reached": "未接通/未见到",
    "refused": "拒绝配合",
}
# 未接原因 of a phone contact not reached (the provincial feedback's list)
NO_ANSWER_REASONS = {
    "powered_off": "关机",
    "out_of_service": "停机/空号",
    "no_answer": "无人接听",
    "rejected": "拒接",
    "other": "其他",
}
# 劝阻对象: whom the dissuasion reached — the person or a relative or friend (亲友)
TARGETS = {"self": "本人", "family": "亲友"}
# 劝阻结果 of a 劝阻成功 as the provincial feedback names it: the person had not paid and guarded themselves
# (自主防范), or was stopped in time by the dissuader (及时劝阻). 劝阻无效 is not chosen: it is 已被骗 or 拒绝配合.
SUCCESS_KINDS = {"self_guarded": "自主防范", "stopped": "及时劝阻"}
# 回访: reasons, states and the 宣防漏洞 categories are dissuasion/followups/rules.py
# 甘肃 四查看、三询问、一保护: what a face-to-face visit checks
CHECKLIST = {
    "look_calls": "查看通话和短信记录",
    "look_chats": "查看聊天软件",
    "look_apps": "查看是否安装涉诈APP",
    "look_transfers": "查看大额或频繁转账",
    "ask_why": "询问转账原因",
    "ask_stranger": "询问是否转给陌生人",
    "ask_contact": "询问对方联系方式",
    "protect": "采取保护措施",
}
STEPS = {"sign": "签收", "contact": "首次联系", "face": "见面劝阻", "feedback": "反馈"}
LEVELS = {"assignee": "劝阻员", "head": "所长", "centre": "反诈中心"}
