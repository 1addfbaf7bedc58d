"""Red-flag rules (风险特征规则): named, explainable patterns over normalised text, each with the span it matched.

The rules feed the model as extra features (so their weight is learned across sources) and are shown to people as
the reasons for a verdict. A rule names the fraud type it points to; `risk` says what kind of message it marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from fanzha.detect.extract import Entities, extract
from fanzha.detect.normalise import _URL as _LINK
from fanzha.detect.normalise import required_literals


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # shown to people
    risk: str  # fraud / illicit / spam
    fraud_type: str  # "" when the rule does not point to one type
    pattern: re.Pattern


@dataclass(frozen=True)
class Hit:
    code: str
    name: str
    risk: str
    fraud_type: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict:
        return {"rule": self.code, "name": self.name, "start": self.start, "end": self.end, "text": self.text}


def _r(code: str, name: str, risk: str, fraud_type: str, pattern: str) -> Rule:
    return Rule(code, name, risk, fraud_type, re.compile(pattern, re.IGNORECASE))


_MONEY_OUT = r"(转账|汇款|打款|转钱|转到|转入|汇到|打到|付款|支付|充值|缴纳|交纳|先交|先付|垫付)"
_NOT = r"(?<!勿)(?<!不要)(?<!不会)(?<!不得)(?<!别)(?<!不能)(?<!不可)(?<!严禁)(?<!勿向他人)"
_AUTH = r"(公安局|公安厅|公安部|检察院|法院|派出所|刑警|警官|民警|网警|经侦|警察|国安|反诈中心|办案人员|专案组)"

RULES: tuple[Rule, ...] = (
    _r("screen_share", "屏幕共享/远程控制", "fraud", "fake_customer_service",
       r"屏幕共享|开启共享|(下载|打开|进入|安装).{0,8}(腾讯会议|zoom|钉钉会议|会议软件|会议app|瞩目|飞书会议)|远程(控制|操控|协助)|"
       r"会议号"),
    _r("safe_account", "安全账户/资金清查", "fraud", "impersonate_authority",
       r"安全账户|国家账户|(资金|财产)(清查|核查|审查|监管)|清查(资金|财产)|资产(冻结|保全)"),
    _r("verification_code", "索要验证码", "fraud", "",
       # not the notice's own warning (请勿告诉他人, 不要提供给任何人): a negation just before the verb
       r"(?<!勿将)(?<!要将)(?<!要把)(?<!别把)(?<!勿把)(?<!不将)(?<!不把)验证码.{0,12}" + _NOT + r"(告诉|发给|提供|报给|报一下|念|读|发我|给我)|" + _NOT +
       r"(告诉|发给|提供|报|念|读)(一下)?.{0,6}验证码"),
    _r("brushing_advance", "刷单/垫付返利", "fraud", "brushing",
       r"刷单|刷信誉|刷销量|刷好评|做任务.{0,10}(返|佣金|赚|提现)|点赞.{0,8}(赚|返|佣金|元)|垫付.{0,10}(返|佣金|本金)|"
       r"(佣金|返利|本金).{0,8}(返还|一起返|秒返)|联单|任务单|连单"),
    _r("credit_repair", "注销校园贷/修复征信", "fraud", "credit_repair",
       r"注销.{0,8}(校园贷|学生贷|账户|账号|京东金条|金条|白条|借呗|花呗|微粒贷|网贷)|(消除|修复|洗白|清除).{0,4}(不良|逾期|征信)|"
       r"征信.{0,6}(受损|有问题|影响|污点|修复|不良记录)|影响.{0,4}征信|(校园贷|学生贷|金条|白条|借呗|花呗|微粒贷|网贷).{0,8}(注销|关闭)|关闭.{0,6}(白条|金条|借呗|花呗|微粒贷|校园贷)|校园贷.{0,10}(注销|清零|影响)"),
    _r("authority", "冒充公检法", "fraud", "impersonate_authority",
       rf"{_AUTH}.{{0,40}}(涉嫌|洗钱|犯罪|配合调查|冻结|通缉|逮捕|拘捕|传唤|保密)|涉嫌(洗钱|犯罪|诈骗|非法)|"
       r"(通缉令|逮捕令|拘捕令|冻结令|保密协议)|(案件|办案)编号|(医保|社保)卡.{0,10}(违规|异常|冻结)"),
    _r("refund_claim", "退款理赔", "fraud", "fake_customer_service",
       r"(退款|理赔|赔付|退货款|退费|双倍赔偿|三倍赔偿).{0,24}(客服|链接|操作|备用金|支付宝|微信|打款|验证码|扫码)|"
       r"(快递|包裹).{0,8}(丢失|丢件|损坏|破损|被压).{0,24}(理赔|赔偿|赔付)|(商品|产品).{0,8}(质量问题|召回)"),
    _r("cancel_service", "取消会员/关闭扣费", "fraud", "fake_customer_service",
       r"(取消|关闭|解除).{0,8}(会员|代理|扣费|自动续费|分期|百万保障|保险)|(每月|按月).{0,8}(扣费|扣款)|开通了.{0,10}(会员|代理商)"),
    _r("loan_fee", "贷款先交费", "fraud", "loan",
       r"(贷款|借款|放款|下款|额度).{0,24}(解冻|保证金|手续费|验资|刷流水|会员费|服务费|工本费|激活|先交|押金)|"
       r"解冻金|刷流水|(验证|证明).{0,6}还款能力|银行卡号.{0,6}(填写错误|错误).{0,10}冻结"),
    _r("wanghei", "黑户网黑可贷", "fraud", "wanghei",
       r"黑户|网黑|征信花|不看征信|无视征信|逾期.{0,6}(也|照样|可)(能|可)?(下款|贷)|秒下款|强下|内部渠道.{0,6}(下款|贷)"),
    _r("investment", "高收益投资/带单", "fraud", "investment",
       r"(稳赚|保本|高回报|高收益|零风险|无风险|翻倍|内幕消息|稳赚不赔|带单|老师带|导师带|荐股|牛股|涨停|跟单|日收益|月收益)"
       r".{0,20}(投资|理财|平台|股票|基金|收益|回报|赚|充值|入金)|(数字货币|虚拟币|USDT|比特币|外汇|期货|原油|黄金).{0,12}"
       r"(投资|平台|入金|充值|赚|收益|稳赚)|(投资|理财)(平台|群|老师|导师)"),
    _r("acquaintance", "冒充领导/熟人", "fraud", "impersonate_acquaintance",
       r"(我是你|我是您).{0,3}(领导|老板|老同学|同学|老师|表哥|表姐|舅舅|叔叔|侄子|外甥|朋友|校长|主任|局长)|"
       r"(换了?|这是我的)(新)?(号|号码|微信|手机号)|猜猜我是谁|(领导|老板|校长|局长|主任|董事长).{0,20}" + _MONEY_OUT +
       r"|(明天|下午|一会)(来|到)(我)?办公室"),
    _r("game_trade", "游戏账号/装备交易", "fraud", "game_trade",
       r"(游戏|账号|装备|皮肤|点券|金币|钻石|道具).{0,12}(交易|买卖|出售|回收|收购|解冻|充值|代练|低价)|交易猫|"
       r"(账号|资金).{0,6}(冻结|异常).{0,10}(交易|平台)"),
    _r("romance", "网恋交友索财", "fraud", "romance",
       r"(网恋|交友|相亲|婚恋|约会|征婚|陪聊|裸聊|见面).{0,24}" + _MONEY_OUT + r"|(亲爱的|宝贝|老公|老婆).{0,30}" +
       r"(投资|平台|充值|借钱|转账)"),
    _r("military_purchase", "冒充军警采购", "fraud", "military_purchase",
       r"(部队|军队|军区|武警|消防|营区|后勤|连队|战士).{0,20}(采购|订购|订单|订货|订餐|垫付|下单|购买)|"
       r"(采购|订购|订货).{0,20}(部队|军队|军区|武警|消防)"),
    _r("shopping_prepay", "购物先付定金", "fraud", "shopping",
       r"(低价|特价|清仓|代购|高仿|内部价|原单|走私|海关罚没).{0,24}(定金|订金|预付|先付|押金|全款)|"
       r"(定金|订金|预付款|手续费).{0,10}(才能|方可|才可以)(发货|购买|交易)"),
    _r("prize", "中奖/领奖先交费", "fraud", "other",
       r"(中奖|获奖|抽中|幸运(用户|观众|客户)|恭喜您.{0,10}(获得|抽中)).{0,40}(手续费|保证金|个人所得税|公证费|邮费|领取|兑奖)"),
    _r("points_phishing", "积分兑换/账户异常链接", "fraud", "other",
       r"(积分|话费|流量).{0,12}(兑换|清零|到期|过期).{0,40}(Ⓤ|https?://|www\.|链接|登录|登陆|点击|URL|\.cn|\.com)|"
       r"(账户|银行卡|ETC|社保|医保|信用卡|手机银行|网银|U盾|电子密码器).{0,12}(异常|冻结|过期|失效|停用|升级|认证|注销).{0,40}"
       r"(Ⓤ|https?://|www\.|链接|登录|登陆|点击|URL|\.cn|\.com)"),
    _r("download_app", "诱导下载陌生APP", "fraud", "",
       r"(下载|安装|注册).{0,10}(APP|软件|客户端|平台).{0,24}(操作|投资|刷单|贷款|会议|提现|充值|做任务)"),
    _r("urgent_transfer", "要求转账汇款", "fraud", "",
       r"(转账|汇款|打款|转钱)(到|至|给).{0,12}(账户|卡|账号)|转.{0,12}(到|至)\s*(\d{15,19}|.{0,8}(账户|卡号|银行卡))|(先|需要|必须|马上|立即).{0,6}(转账|汇款|打款)"),
    _r("refund_ticket", "航班取消/退改签", "fraud", "other",
       r"(航班|列车|车次).{0,20}(取消|延误|故障).{0,40}(改签|退票|补偿|理赔|联系)"),
    _r("kidnap", "亲人出事急需用钱", "fraud", "impersonate_acquaintance",
       # not a payment reported as made (押金先交了三千, 支付过了), but 转账过来 and 要先付了才能做 ask for one
       r"(绑架|被抓|出车祸|住院|急诊|手术|被拘留).{0,20}" + _MONEY_OUT + r"(?!了[，。,]?\s*[一两三四五六七八九十几百千万\d]|过(?![来去]))"),
    _r("overseas_job", "境外高薪招聘", "fraud", "other",
       r"(柬埔寨|缅甸|迪拜|菲律宾|老挝|泰国|妙瓦底|西港|木姐|金三角).{0,30}(高薪|招聘|月薪|工作|包吃住|机票)"),
    # The illicit rules weigh heavily in the model (their texts are almost all from one corpus), so each alternative
    # is a wording of the advert itself, not one an ordinary text can use (水平特别好, 微信上分享, 政务中心办证大厅, 网吧包夜,
    # 原神首充, 减肥大法好, 约小姐妹逛街, 请拿好牌子, 钻石彩金, 棋牌室 …: tests/detect/test_normalise.py), and none of them
    # counts in a warning or a news report about the trade (`_ILLICIT_CONTEXT`, checked in `find`).
    _r("gambling", "赌博推广", "illicit", "",
       r"博彩|赌场|赌博|百家乐|真人荷官|返水|时时彩|PK10|北京赛车|新葡京|皇冠体育|"
       r"(送|赠|领|返|首存|注册).{0,4}彩金(?!项链|手链|戒指|吊坠)|彩金.{0,4}(送|赠|领取|无限)|"
       r"棋牌.{0,6}(平台|游戏|上分|下分|提现|赢钱|充值)|娱乐城|真人视讯|首[充存].{0,6}(送|赠|返)\s*\d+\s*(%|元)|"
       r"上下分|[上下]分(秒到|找客服)|(客服|微信|QQ).{0,3}(?<![线在网])[上下]分(?![享期钟别数])|六合彩|陆合彩|"
       r"[六陆]合采(?=.{0,6}(资料|肖|码|特|期))|特码|特马|肖码|三中三|平特(?=[一二三四五六七八九十\d]?(肖|尾|码|连))|"
       r"[一二三四五六七八九十\d]肖(中特|必中)|彩票.{0,6}(计划|导师)|"
       r"澳门.{0,6}(娱乐场|在线|赌)|(葡京|威尼斯人|金沙)(娱乐|在线|官网)|"
       r"(注册|充值|开户|首存).{0,6}(送|赠).{0,8}(彩金|体验金|筹码)|(老虎机|捕鱼|牛牛|斗地主|炸金花).{0,10}(平台|提现)|备用网址|"
       r"(麻将|机麻|扑克|牌九|色子|骰子).{0,12}(作弊|遥控器|控制器|解码|透视|控牌)|"
       r"(作弊器|解码器|控牌器|干扰器).{0,12}(麻将|机麻|扑克|色子|骰子)|拿好牌(?![子号照])"),
    _r("fake_id_invoice", "办证/代开发票", "illicit", "",
       r"办证.{0,10}(电话|微信|QQ|刻章|可查|包真|PHONE|\d{7,})|办假证|(?<![请局])(代开|出售|承接).{0,4}(发票|增值税|普票|专票)|"
       r"发票代开|(普票|专票|发票).{0,8}(?<![一有点])点数?(低|优惠)|私刻.{0,4}章|"
       r"(办|制作|出售|代办)理?(各类|各种)证件|(各类|各种)证件.{0,4}(办理|制作|代办|出售)|"
       r"(出售|制作|代办)(假)?毕业证|毕业证.{0,4}(出售|包真|可查)|学信网可查|代办.{0,4}(学历|文凭|结婚证|离婚证)|"
       r"(?<![不禁严勿要租借、，,])(出售|代办)(假|高仿)?身份证(?!.{0,4}(是|属|违法|犯罪))|高仿身份证|"
       r"假身份证.{0,6}(出售|制作|办理|包真)|驾驶证.{0,6}出售|出售驾驶证|免学免考|驾照包过|包过.{0,4}(驾照|拿证)|"
       r"免考.{0,6}(拿证|驾照|驾驶证)|代考|(协理|代办).{0,4}(各项|各类|各种)证件|国碎机打|国碎.{0,4}发[票漂]|机打发漂|"
       r"代开.{0,4}发[漂嘌]"),
    _r("escort", "招嫖色情", "illicit", "",
       r"(找|叫|约)小姐(?![姐妹])|小姐(?![姐妹]).{0,6}(包夜|全套|陪睡|陪夜)|(美女|小姐|小妹)上门|特殊服务(?!窗口)|"
       r"包夜\s*\d{3,4}|(快餐|全套).{0,10}包夜|包夜.{0,6}(快餐|全套)|约炮|楼凤|援交|嫩模|伴游.{0,6}(服务|美女)|"
       r"兼职(美女|少妇|学生妹)|(学生妹|少妇).{0,8}可约|(美女|少妇|学生妹|模特)[^,。!?]{0,6}(上门|陪睡|陪夜|包夜|约炮)|"
       r"一夜情|按摩(?!椅).{0,6}全套|莞式|桑拿.{0,6}全套|(会所|桑拿|洗浴).{0,10}一条龙|"
       r"公关.{0,20}(日结|日薪|免费包装)|限女性.{0,20}(订房|身高不限|免费包装)|"
       r"(高档|星级|五星).{0,4}酒店.{0,20}(美女|洋妞|少妇)|洋妞|外围(女|模特|女模)"),
    _r("political", "反动宣传", "illicit", "",
       r"声明三退|三退保平安|办理三退|人三退|退团退队|退党(团队|保平安|保命)|天灭中共|法轮功|法轮大法|真善忍|"
       r"(^|[,。!\s])大法好|九评共产党|《九评|九评》|大纪元|自由门|中共(恶行|邪党|暴政|灭亡|必亡|迫害)|邪党|共产邪灵|"
       r"退出(中共|共产党|党团队)|声明退出(中共|共产党|共青团|少先队|党团队)"),
    _r("marketing", "营销推广", "spam", "",
       r"退订|回[Tt][Dd]?|回复?[Nn](?![A-Za-z])|拒收请回|优惠活动|促销|特价|折起|秒杀|抢购|满\d*减|限时.{0,4}(优惠|特惠|抢)"),
)

# --- prefilter: each rule's trigger strings ------------------------------------------------------------------------
# A rule can only match where one of its trigger strings occurs (read off its regular expression: of every way to
# match, the literal pieces each match must contain). `find` looks for all trigger strings in one pass over the
# characters present, then runs only the regular expressions of the rules triggered: most texts trigger few rules,
# and Python's `re` tries a pattern that opens with a long alternation at every position.
def triggers(p: re.Pattern) -> frozenset | None:
    """The trigger strings of a pattern (lower-cased: rules match ignoring case), or None when it has none."""
    s = required_literals(p)
    return None if s is None else frozenset(x.lower() for x in s)



def automaton(words: dict[str, tuple[int, ...]]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over `words` ({string: value}): one pass over a text reports every occurrence of
    every word, overlapping ones included."""
    found = ahocorasick.Automaton()
    for word, value in words.items():
        found.add_word(word, value)
    found.make_automaton()
    return found


_TRIGGERS = tuple(triggers(r.pattern) for r in RULES)
_ALWAYS = tuple(i for i, t in enumerate(_TRIGGERS) if t is None)
_RULES_BY_TRIGGER: dict[str, set[int]] = {}
for _i, _t in enumerate(_TRIGGERS):
    for _lit in _t or ():
        _RULES_BY_TRIGGER.setdefault(_lit, set()).add(_i)
_TRIGGER_SCAN = automaton({lit: tuple(sorted(rules)) for lit, rules in _RULES_BY_TRIGGER.items()})
del _i, _t, _lit


def alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regular expression's source ("a|(b|c)d" → ["a", "(b|c)d"])."""
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1 + source.startswith("^", i + 1)
            i += source.startswith("]", i)  # a "]" first in a class is a literal
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


# A rule of many alternatives is also searched one alternative at a time: only those whose own trigger strings occur,
# the leftmost match kept (the earlier alternative at the same start), which is the match of the whole pattern.
# Python's `re` tries every alternative of a long alternation at every position of the text: the gambling rule,
# triggered by a character as common as 首 (首充), cost 12 µs a message against 1 µs for the rest of the rules.
SPLIT_MIN = 20  # alternatives (measured: splitting rules of 9–12 was slower)
_SPLIT: dict[int, tuple[tuple[re.Pattern, ...], dict[str, list[tuple[str, int]]]]] = {}
for _i, _rule in enumerate(RULES):
    _parts = alternatives(_rule.pattern.pattern)
    if len(_parts) < SPLIT_MIN:
        continue
    _alt_res = tuple(re.compile(_p, _rule.pattern.flags) for _p in _parts)
    _alt_triggers = [triggers(_a) for _a in _alt_res]
    if any(_t is None for _t in _alt_triggers):
        continue
    _index: dict[str, list[tuple[str, int]]] = {}
    for _j, _t in enumerate(_alt_triggers):
        for _lit in sorted(_t):
            _index.setdefault(_lit[0], []).append((_lit, _j))
    _SPLIT[_i] = (_alt_res, _index)
del _i, _rule, _parts, _alt_res, _alt_triggers, _index, _j, _t, _lit


def _search(i: int, norm: str, low: str, chars: set) -> re.Match | None:
    """The first match of rule `i` in `norm` (`low`: lower-cased, `chars`: its characters)."""
    split = _SPLIT.get(i)
    if split is None:
        return RULES[i].pattern.search(norm)
    alt_res, index = split
    todo = set()
    for ch in index.keys() & chars:
        for lit, j in index[ch]:
            if j not in todo and (len(lit) == 1 or lit in low):
                todo.add(j)
    best = None
    for j in sorted(todo):
        m = alt_res[j].search(norm)
        if m is not None and (best is None or m.start() < best.start()):
            best = m
    return best


def triggered(norm: str) -> list[int]:
    """Indices (in RULES order) of the rules whose trigger strings occur in `norm`: one Aho-Corasick pass over the
    lower-cased text (measured 2026-12-07 on 30,000 messages of the benchmark file: 4.7 µs a message against 8.5 µs
    for the character index it replaced, the same rules triggered)."""
    found = set(_ALWAYS)
    for _, rules in _TRIGGER_SCAN.iter(norm.lower()):
        found.update(rules)
    return sorted(found)
# Cues (`cues`): features of the whole text rather than a phrase; they follow the rules in the model's columns.
CUE_CODES = ("chat", "fragment_account", "fragment_link", "chat_pitch")
RULE_CODES = tuple(r.code for r in RULES) + CUE_CODES
RULE_BY_CODE = {r.code: r for r in RULES}


@dataclass(frozen=True)
class Decisive:
    """Two patterns that, both found in one text, make it fraud whatever the model reads (强规则)."""

    code: str
    name: str
    fraud_type: str
    lure: re.Pattern
    hook: re.Pattern  # its span is the one shown
    also: re.Pattern | None = None  # a third pattern the text must hold, when there is one
    # what, just before the hook, undoes it (不用垫付: the recruitment advert's own line); None: `_NEGATED`
    negation: re.Pattern | None = None

    def find(self, norm: str) -> Hit | None:
        if not self.lure.search(norm):  # the lure first: almost every text lacks it
            return None
        hook = self.hook.search(norm)
        if hook is None or _WARNING.search(norm):
            return None
        if self.also is not None and not self.also.search(norm):
            return None
        negation = _NEGATED if self.negation is None else self.negation
        if negation.search(norm, max(0, hook.start() - 4), hook.start()):
            return None
        return Hit(self.code, self.name, "fraud", self.fraud_type, hook.start(), hook.end(), hook.group(0))


# Each combination here fires on no text labelled spam, illicit or normal in any training corpus (how often each
# fires, by corpus: MODEL_CARD.md, Method step 7), and none is a model feature, so the model's rule list is unchanged.
# 刷单 recruitment alone is labelled advertising in the fake-base-station corpus (it says 不用压钱); asking the
# worker to pay first is the scam itself.
# A warning about the scam (反诈提醒：刷单都是诈骗，不要垫付; 小心荐股骗局) names the same words.
_WARNING = re.compile(r"(?:都|就|均)?是(?:诈骗|骗局|骗子)|骗局|套路|谨防|警惕|小心|别信|反诈|提醒您?[:：]|切勿|千万不要|不要相信")


def _negation(words: str) -> re.Pattern:
    """A negation just before a hook: one of `words` (or 没有) at its end, or one of `words` a word or two before it."""
    return re.compile(rf"(?:{words}|没有)\s*$|(?:{words})(?:任何)?.{{0,2}}$")


_NEGATED = _negation("不用|无需|无须|不需要?|不要|勿|免")
_NEGATED_NOT_FREE = _negation("不用|无需|无须|不需要?|不要|勿")  # without 免: 免费加入…群 invites, it does not negate

# A stock tip next to a way in that a stranger gives (a group to join, a teacher or assistant to add, a QQ number or a
# WeChat id): how investment scams recruit (荐股群 → 杀猪盘). Friends who talk about 涨停 and 加个微信 give no id;
# a broker's own notices send readers to its app, a branch or a hotline.
_STOCK_TIP = r"(?:荐股|推荐?个股|牛股|妖股|黑马股|涨停|抄底|建仓|主力资金|选股|股民|股友|带单)"
_WAY_IN = (r"(?:加群|进群|入群|群号|拉你进?[^，。,.\n]{0,8}群|邀请你?(?:进|入|加入)[^，。,.\n]{0,8}群|"
           r"(?:加入|进入?|入)[^，。,.\n了]{0,8}群|WECHAT|QQ\s*[:：]?\s*\d{5}|微信号?\s*[:：]?\s*[A-Za-z0-9][A-Za-z0-9_-]{4}|"
           r"(?:加|添加|联系|找)[^，。,.\n]{0,6}(?:老师|助理|客服|专员|导师))")


def _beside(a: str, b: str, gap: int) -> re.Pattern:
    """`a` and `b` in either order, at most `gap` characters apart (on one line when `gap` spans no newline)."""
    return re.compile(rf"{a}[^\n]{{0,{gap}}}?{b}|{b}[^\n]{{0,{gap}}}?{a}")


# A message that says a parcel cannot be delivered, or that an account, card or ETC has been frozen or expired, or that
# a subsidy waits to be claimed, with a link beside it (within 60 characters), is the smishing text police warn of
# (快递“地址不详”, ETC/医保卡“失效”, “退税补贴”链接): the real sender asks the reader to use its app, a counter or its
# hotline, or links its own site (an official host below is not counted as a link). Two rules, one per scam type.
_PARCEL_LURE = (r"(?:无法(?:投递|派送|配送|送达)|地址(?:不详|有误|不全|错误)|"
                r"(?:快递|包裹|快件|邮件|物流)[^，。,.\n]{0,12}信息(?:不完整|不全|有误|错误|异常|过期))")
_ACCOUNT_LURE = (r"(?:(?:账户|账号|银行卡|信用卡|网银|密码器|证书|ETC|医保卡?|社保卡?|支付宝)[^，。,.\n]{0,8}"
                 r"(?:冻结|停用|注销|失效|异常)(?!了)|(?:退税|补贴|退费|补偿金|赔付款)(?:待|可)?领取|"
                 r"认证(?:已|将)?(?:失效|过期|到期)(?!了))")
_OFFICIAL_HOST = (r"(?:[A-Za-z0-9-]{1,63}\.){0,5}(?:gov\.cn|12306\.cn|chinapost\.com\.cn|ems\.com\.cn|sf-express\.com|"
                  r"zto\.com|yto\.net\.cn|sto\.cn|yundaex\.com|jd\.com|3\.cn|taobao\.com|tmall\.com|alipay\.com|"
                  r"95516\.com|icbc\.com\.cn|ccb\.com|abchina\.com|boc\.cn|bankcomm\.com|cmbchina\.com|psbc\.com|"
                  r"10086\.cn|189\.cn|10010\.com)(?![A-Za-z0-9.-])")
# Possessive and bounded, so a long run of link-like text cannot make the search quadratic.
_LINK_NEAR = (r"(?:(?:https?://)?(?<![A-Za-z0-9@.-])(?!" + _OFFICIAL_HOST + r")(?:[A-Za-z0-9-]{1,63}+\.){1,5}+"
              r"(?:top|cn|com|cc|vip|xyz|net|icu|shop|site|info|co|me|org|club|live|link|cyou|fun|work|ltd|ink|pw|app)"
              r"(?![A-Za-z0-9-])(?:[/?#][!-~]{0,100}+)?|\bURL|\[链接\])")


DECISIVE = (
    Decisive("brushing_prepay", "刷单要求先垫付", "brushing",
             re.compile(r"刷单|刷信誉|刷好评|刷销量|刷流水|点赞任务|关注任务|接单任务"),
             re.compile(r"垫付|先垫|本金|充值.{0,6}返|返还.{0,4}(?:本金|佣金)|连单|卡单")),
    # Nobody but a scammer tells a stranger that a student loan must be closed or their credit record suffers.
    Decisive("student_loan_cancel", "注销校园贷并称影响征信", "credit_repair",
             re.compile(r"校园贷|学生贷|校园账户|学生账户"), re.compile(r"注销|清零|关闭|消除"), re.compile(r"征信")),
    Decisive("stock_tip_group", "荐股引流（牛股/涨停，拉人进群或加老师）", "investment",
             re.compile(_STOCK_TIP), _beside(_STOCK_TIP, _WAY_IN, 40), negation=_NEGATED_NOT_FREE),
    Decisive("parcel_link", "以“快递无法投递/地址不详”诱导点链接", "fake_customer_service",
             re.compile(_PARCEL_LURE), _beside(_PARCEL_LURE, _LINK_NEAR, 60), negation=_NEGATED_NOT_FREE),
    Decisive("account_link", "以“账户冻结/认证失效/补贴待领”诱导点链接", "other",
             re.compile(_ACCOUNT_LURE), _beside(_ACCOUNT_LURE, _LINK_NEAR, 60), negation=_NEGATED_NOT_FREE),
)


LINK_LURES = ("parcel_link", "account_link")  # their verdicts get the advice about links (`advice.LINK_ADVICE`)

# The strings each lure needs (`required_literals`), found in one Aho-Corasick pass as the red-flag rules' triggers
# are: a rule whose lure cannot match is not tried.
_DECISIVE_NEEDS = [required_literals(rule.lure) for rule in DECISIVE]
_DECISIVE_WORDS: dict[str, tuple[int, ...]] = {}
for _i, _needs in enumerate(_DECISIVE_NEEDS):
    for _word in _needs or ():
        _DECISIVE_WORDS[_word] = (*_DECISIVE_WORDS.get(_word, ()), _i)
_DECISIVE_ALWAYS = tuple(i for i, needs in enumerate(_DECISIVE_NEEDS) if needs is None)
_DECISIVE_SCAN = automaton(_DECISIVE_WORDS)


def decisive(norm: str) -> list[Hit]:
    """The decisive combinations (`DECISIVE`) found in normalised text `norm`."""
    tried = set(_DECISIVE_ALWAYS)
    for _, rules_ in _DECISIVE_SCAN.iter(norm):
        tried.update(rules_)
    return [hit for i in sorted(tried) if (hit := DECISIVE[i].find(norm)) is not None]


# Transactional notices (动账、验证码、取件、账单、行程、订单): everyday messages that the corpora hardly contain, so
# the model reads a signed 【brand】 message with amounts as advertising. A short single-line message with a 【签名】,
# a notice of one of these kinds, and nothing a scam or an advert needs — no link, no number of 7 digits or more
# other than the reader's own account/card/order, no QQ/WeChat id, no red flag, no advertising cue, no request to
# call, check, refund or reschedule — is ordinary. Used only to turn "advertising" into
# "ordinary", never to clear a text the model calls fraud.
_SIGNED = re.compile(r"^\s*【[^】]{2,12}】|【[^】]{2,12}】\s*$")
_NOTICE = re.compile(
    r"(?:尾号|账户|账号|卡号?)[:：]?\s*\d{4}.{0,40}?(?:支出|消费|收入|存入|转入|转出|入账|扣款|扣费|还款|代发|退款|取现|支取|"
    r"汇入|到账)"
    r"|验证码(?:是|为)?[:：]?\s*\d{4,8}|(?:取件码|取货码|提货码)(?:是|为)?[:：]?\s*[0-9-]{4,12}"
    r"|(?:本月|当月|截至.{0,12}?)(?:话费|账单|消费|已用流量|套餐).{0,24}?(?:元|GB|MB)"
    r"|(?:电费|水费|燃气费?|物业费).{0,24}?(?:余额|欠费|缴费|扣款|账单)"
    r"|[GDCZTK]\d{1,4}次|(?:航班号?)?[A-Z0-9]{2}\d{3,4}(?:次)?航班|航班号?[A-Z0-9]{2}\d{3,4}"
    r"|(?:订单|外卖|包裹|快件|快递).{0,12}?(?:已送达|已签收|配送中|已发货|已到达|派送中|已揽收)"
    r"|(?:车费|本次|费用|保费|会费).{0,16}?(?:已从|已通过|已由).{0,12}?(?:扣除|支付|扣款)"
)
# Asking the reader to act elsewhere is what a fake notice is for: such a message is never cleared.
_NOTICE_ASKS = re.compile(r"添加|加入|加我|好友|群|回复|手续费|点击|链接|登录|登陆|下载|扫码|二维码|联系|致电|速电|来电|电联|拨打|"
                          r"客服|激活|认证|升级|兑换|领取|积分|冻结|异常|逾期|影响.{0,4}征信|核实|身份|退款|退票|改签|"
                          r"理赔|补偿|赔偿|停机|停运|取消|失效|过期|作废|注销|密码")
# A number of 7 digits or more is a way to call someone unless it names the reader's own account, card or order.
_CALLABLE = re.compile(r"(?<![\dA-Za-z])(?<!尾号)(?<!账户)(?<!账号)(?<!卡号)(?<!户号)(?<!单号)(?<!订单)\d{7,}")
NOTICE_MAX_CHARS = 160


def notice(norm: str, hits: list[Hit], found: Entities | None = None) -> Hit | None:
    """The notice span when `norm` reads as a signed transactional notice carrying nothing a scam or an advert needs
    (`hits`: the red flags found in it, `found`: its entities (`extract.extract`); any of either rules it out)."""
    if hits or len(norm) > NOTICE_MAX_CHARS or "【" not in norm or "\n" in norm or not _SIGNED.search(norm) \
            or _MASKED.search(norm):
        return None
    m = _NOTICE.search(norm)
    if m is None or _NOTICE_ASKS.search(norm):
        return None
    if _CALLABLE.search(norm):
        return None
    found = found if found is not None else extract(norm)
    if found.urls or found.bank_cards or found.qq or found.wechat:  # phones: _CALLABLE above
        return None
    return Hit("notice", "交易/服务通知（无链接、无联系方式）", "normal", "", m.start(), m.end(), m.group(0))


# A warning or a news report names the illicit trade it is about (打击非法六合彩, 严禁出租出售身份证, 反邪教宣传): the
# illicit rules do not count there. Not the decisive rule's `_WARNING` (scam warnings: 是诈骗, 反诈, 不要相信): the two
# lists guard different things, and the model's rule features were trained with this one.
_ILLICIT_CONTEXT = re.compile(r"打击|破获|远离|拒绝|严禁|切勿|谨防|警惕|邪教|查处|抓获|违法犯罪|是违法|属于违法|涉嫌|被抓|举报")


def find(norm: str) -> list[Hit]:
    """The rules that fire on normalised text `norm`, with the first span each matched."""
    hits = []
    reported = None
    low, chars = None, None
    for i in triggered(norm):
        rule = RULES[i]
        if i in _SPLIT:
            if low is None:
                low = norm.lower()
                chars = set(low)
            m = _search(i, norm, low, chars)
        else:
            m = rule.pattern.search(norm)
        if m is None:
            continue
        if rule.risk == "illicit":
            if reported is None:
                reported = _ILLICIT_CONTEXT.search(norm) is not None
            if reported:
                continue
        hits.append(Hit(rule.code, rule.name, rule.risk, rule.fraud_type, m.start(), m.end(), m.group(0)))
    return hits


# --- cues: features of the whole text ---------------------------------------------------------------------------
# chat: the text is a chat log (`chat.is_chat`); its own column lets the model weigh chats apart from SMS.
# fragment_account: a short text that is little more than an account number (and a bank or a name): the tail of a
#   "transfer to this card" scam, as the fake-base-station corpus has it ("工行 BANK 收款人 NAME").
# fragment_link: a short text that is little more than a link ("看看这个" + link).
# chat_pitch: a chat that is friendly or intimate and also pitches a platform, a top-up or guaranteed gains anywhere
#   in it (杀猪盘 and romance grooming: the pitch comes many lines after the small talk, out of a phrase rule's reach).
_FRAGMENT_MAX = 40
_LINK_TEXT_MAX = 20
_BANKISH = re.compile(r"银行|[工建农中交招]行|信用社|邮政|户名|收款人|卡号|账号|ⓝ")
_SIGNATURE = re.compile(r"【[^】]{2,12}】")
_INTIMATE = re.compile(r"亲爱的|宝贝|老公|老婆|哥哥|想你|晚安|早安|缘分|加错人|认识一下|聊得来|一起规划|我们的未来|以后的家")
_PITCH = re.compile(r"平台|充值|入金|注册|稳赚|漏洞|内幕|带单|下注|导师|翻倍|保证金|提现|收益|回报|理财|期货|外汇|数字货币|"
                    r"(?:转|借|打)(?:给)?我.{0,6}(?:钱|万|千)")


def cues(norm: str, mtext: str, chat: bool) -> list[Hit]:
    """The cues of a text: `norm` its normalised form, `mtext` what the model reads, `chat` whether it is a chat."""
    out = []
    if chat:
        out.append(Hit("chat", "聊天记录", "", "", 0, 0, ""))
        intimate, pitch = _INTIMATE.search(norm), _PITCH.search(norm)
        if intimate and pitch and pitch.start() > intimate.start():
            out.append(Hit("chat_pitch", "聊天中先套近乎再推荐平台/充值", "fraud", "investment", pitch.start(),
                           pitch.end(), pitch.group(0)))
        return out
    if len(mtext) <= _FRAGMENT_MAX and not _SIGNATURE.search(norm):
        if "ⓑ" in mtext and _BANKISH.search(mtext):
            out.append(Hit("fragment_account", "只有收款账号的短消息", "fraud", "", 0, len(norm), norm[:40]))
        if "ⓤ" in mtext and len(mtext.replace("ⓤ", "")) <= _LINK_TEXT_MAX:
            out.append(Hit("fragment_link", "只有一个链接的短消息", "fraud", "", 0, len(norm), norm[:40]))
    return out


# --- plain messages: a notice or a personal message that asks nothing --------------------------------------------
_AD_WORDS = re.compile(r"退订|回复?\s*[TtNnRr]|优惠|活动|促销|特价|折|抢购|秒杀|会员|礼|免费|热线|咨询|详询|欢迎|惠|点击|链接|"
                       r"办理|订购|开业|低至|满\d*减|热卖|新品|上市|报名|招生|楼盘|贷款|回馈|套餐|流量|充值|到店|光临|领取|"
                       r"送|赠|福利|代理|加盟|招聘|兼职|网址|官网|下载|注册|微信|QQ|VX|群|客服|专业|诚信|价格|电话")
_PERSONAL_MAX = 60
_LONG_NUMBER = re.compile(r"\d{7,}|wechat|weixin", re.IGNORECASE)  # any of them: a phone, a card, an id
# A corpus placeholder (URL, CELLPHONE, BANK …) stands for a link, a number or an account, as does a run of masked
# digits (oooo, l0000): not a plain message.
_MASKED = re.compile(r"(?<![a-z])(?:CELLPHONE|TELEPHONE|HOTLINE|PHONE|URL|DIGIT|BANK|QQ|WECHAT|EMAIL|ACCOUNT)|"
                     r"(?<![A-Za-z])[oOilI]?[0oO]{4,}(?![A-Za-z])")


def personal(norm: str, hits: list[Hit], found: Entities | None = None) -> Hit | None:
    """A short personal message: one line, no 【签名】, no link, number, card or id, no advertising word, no red flag."""
    if hits or len(norm) > _PERSONAL_MAX or "\n" in norm or _SIGNATURE.search(norm) or len(norm) < 4:
        return None
    if _LONG_NUMBER.search(norm) or _AD_WORDS.search(norm) or _NOTICE_ASKS.search(norm) or _MASKED.search(norm):
        return None
    if found is None:  # a number of 7+ digits (phones, cards, QQ ids) and 微信/QQ are ruled out above: links remain
        if "." in norm and _LINK.search(norm):
            return None
    elif found.urls or found.bank_cards or found.qq or found.wechat or found.phones:
        return None
    return Hit("personal", "个人短消息（无链接、无联系方式、无要求）", "normal", "", 0, len(norm), norm[:40])


# A signed message (【签名】) that gives its reader no way to reach a stranger: a scam needs a channel (a link, a number
# to call or to text back, an app to install, a code to scan, an id to add, an account to pay into) or a demand for
# money, and a bank's login alert, an app's friend request or a broker's allotment notice has none. The notice's own
# words (登录, 添加, 中签, 退票 through the official channel) are not asks; a short official number (95555) is not a
# number a stranger owns. Corpus placeholders and masks ([链接], [APP名称], XX, xxxx) stand for a channel.
_CHANNEL = re.compile(r"点击|链接|网址|网站|网页|下载|安装|扫码|扫一扫|二维码|加我|回复|回电|私信|短信告知|联系方式|"
                      r"[\[［][^\]］]{0,10}[\]］]|XX|(?<![A-Za-z])[xX]+(?![A-Za-z])|"
                      r"汇款|打款|转账|转至|转到|转入(?:以下|指定|安全|该|对方)|保证金|手续费|押金|解冻|垫付|验资|激活费|"
                      r"(?:添加|加)(?!你|您)[^，。,.]{0,8}(?:好友|群|微信|QQ|客服)|进群|入群|拉群|加群|群聊|联系|"
                      r"咨询|搜索|复制|充值|提现|提供.{0,8}(?:验证码|密码|卡号|身份证|银行卡|地址|电话|号码)")


_SIGNED_BODY_MIN = 10  # characters besides the signature
_DISCLAIMER_TRIGGER = re.compile(r"不会|绝不|决不|从不|从未|并不|不存在|请勿|切勿|谨防|警惕|严禁")
# What an institution says it never does names the channels scammers use (本公司不会通过微信群、QQ群推荐股票, 本行不会
#通过短信链接要求您登录, 工作人员绝不会索要验证码): a clause opened by such a disclaimer, up to its punctuation, offers
# the reader nothing and is not read for channels, numbers or placeholders. The rest of the message still is.
_DISCLAIMER = re.compile(r"(?:不会|绝不|决不|从不|从未|并不|不存在|请勿|切勿|谨防|警惕|严禁)[^,，。;；!！?？\s~～【】]{0,24}")
# Red flags that name what a genuine notice is about: a cancelled flight with its 退票/改签 (`refund_ticket`). The scam
# needs a channel (a number to call for the "compensation", a link); in a signed message with none they do not rule it
# out as `signed` (they still rule out `notice` and `personal`, and the model still weighs them). On the 176,936
# training texts (2026-12-07) a signed message with no channel fires this rule 3 times, all ordinary (hw_sms).
NOTICE_SUBJECTS = frozenset({"refund_ticket"})


def signed(norm: str, hits: list[Hit], found: Entities | None = None) -> Hit | None:
    """A signed one-line message with no red flag (other than a `NOTICE_SUBJECTS` one), no channel to a stranger and
    no demand for money (`_CHANNEL`; what a disclaimer rules out does not count): a notice of any kind, worded as the
    institution words it."""
    if any(h.code not in NOTICE_SUBJECTS for h in hits) or len(norm) > NOTICE_MAX_CHARS or "\n" in norm \
            or "【" not in norm:
        return None
    m = _SIGNED.search(norm)
    if m is None:
        return None
    said = _DISCLAIMER.sub("，", norm) if _DISCLAIMER_TRIGGER.search(norm) else norm
    if _CHANNEL.search(said) or _CALLABLE.search(said):
        return None
    body = norm[:m.start()] + norm[m.end():]  # 【QQ】 signs QQ's own notices; QQ in the text is an id's placeholder
    if len(body) < _SIGNED_BODY_MIN:  # a signature and a word or two: nothing to go by
        return None
    m2 = _SIGNED.search(said)
    rest = said[:m2.start()] + said[m2.end():] if m2 is not None else ""
    if not rest or _MASKED.search(rest):
        return None
    found = found if found is not None else extract(said)
    if found.urls or found.bank_cards or found.qq or found.wechat or found.phones:
        return None
    if _AD_WORDS.search(rest):  # an advert's words: the higher fraud bar only, it stays 营销广告 when it reads as one
        return Hit("signed_advert", "署名商业短信（无链接、无联系方式、无转账要求）", "normal", "", m.start(), m.end(),
                   m.group(0).strip())
    return Hit("signed", "署名通知（无链接、无联系方式、无转账要求）", "normal", "", m.start(), m.end(), m.group(0).strip())


def plain(norm: str, hits: list[Hit], found: Entities | None = None) -> Hit | None:
    """A signed transactional notice (`notice`), a short personal message (`personal`) or another signed message
    with no channel to a stranger (`signed`), asking nothing."""
    if hits:  # only a signed message may carry a red flag, and only one that names a notice's subject
        return signed(norm, hits, found)
    return notice(norm, hits, found) or personal(norm, hits, found) or signed(norm, hits, found)
