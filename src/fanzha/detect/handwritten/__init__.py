"""Hand-written training text (ours, written for issue 23): everyday SMS templates and chats, expanded deterministically.

`sms.tsv` holds templates with {slots}; each is filled `copies` times from the lists below (banks, amounts, dates,
codes …) with a seeded generator, so the same file always gives the same texts. `chats.txt` holds chats; each is
rendered in three layouts (see its header). Nothing here is copied from a corpus: the slot values are invented.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

HERE = Path(__file__).parent

SLOTS: dict[str, list[str]] = {
    "bank": ["工商银行", "建设银行", "农业银行", "中国银行", "招商银行", "交通银行", "邮储银行", "浦发银行", "中信银行",
             "兴业银行", "平安银行", "民生银行", "光大银行", "江州农商银行", "宁波银行", "华夏银行"],
    "bankname": ["工行", "建行", "农行", "中行", "农村信用社", "邮政储蓄", "招行", "交行"],
    "bankhot": ["95588", "95533", "95599", "95566", "95555", "95559", "95580", "95528"],
    "app": ["支付宝", "微信", "美团", "京东", "淘宝", "拼多多", "抖音", "滴滴出行", "饿了么", "携程", "闲鱼", "小红书"],
    "shop": ["美团", "肯德基", "瑞幸咖啡", "永辉超市", "华联超市", "老乡鸡", "优衣库", "名创优品", "江州百货", "沃尔玛"],
    "carrier": ["中国移动", "中国联通", "中国电信"],
    "broker": ["华泰证券", "国泰君安", "中信证券", "招商证券", "广发证券", "东方财富证券", "海通证券", "银河证券"],
    "airline": ["东方航空", "南方航空", "中国国航", "海南航空", "厦门航空", "四川航空"],
    "airhot": ["95530", "95539", "95583", "95339", "95557"],
    "express": ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东快递", "极兔速递", "中国邮政"],
    "city": ["北京", "上海", "广州", "成都", "杭州", "武汉", "西安", "长沙", "南京", "重庆", "江州", "郑州", "昆明"],
    "city2": ["深圳", "厦门", "青岛", "天津", "沈阳", "贵阳", "南宁", "合肥", "福州", "济南"],
    "hospital": ["市第一人民医院", "市中医院", "妇幼保健院", "江州中心医院", "省人民医院"],
    "dept": ["内科", "儿科", "眼科", "口腔科", "皮肤科", "骨科"],
    "hotel": ["如家酒店", "全季酒店", "汉庭酒店", "亚朵酒店", "锦江之星"],
    "station": ["东门驿站", "南区菜鸟驿站", "3号楼快递柜", "小区北门服务站", "学校快递站"],
    "company": ["江州宏远科技", "华晨物流", "新城建设", "明达商贸", "江州第三中学"],
    "stock": ["贵州茅台", "中国平安", "宁德时代", "招商银行", "格力电器", "比亚迪"],
    "estate": ["·锦绣府", "·江山樾", "·云澜湾", "·滨江壹号"],
    "name": ["张*明", "李*", "王*华", "刘*", "陈*军", "杨*", "赵*丽", "黄*", "周*峰", "吴*"],
    "name2": ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊", "赵强", "孙丽", "周敏", "吴涛"],
    "boss": ["领导", "老板", "表哥", "舅舅", "老同学"],
    "badurl": ["http://icbc-jf.top/a", "www.95588-vip.cc", "http://t.cn/Ab3xZq", "ccb-etc.xyz/k", "http://abc1.vip/u8",
               "jd-kf.top/p", "https://xw8.me/q", "www.10086jf.cc"],
    "url": ["https://s.jd.com/a1", "t.tb.cn/xY8k", "https://dpurl.cn/aB3", "u.meituan.com/v2"],
}


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def _money(rng: random.Random, lo: float, hi: float) -> str:
    v = rng.uniform(lo, hi)
    return f"{v:,.2f}" if rng.random() < 0.5 else f"{v:.2f}"


def _fill(slot: str, rng: random.Random) -> str:
    if slot in SLOTS:
        return rng.choice(SLOTS[slot])
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    gen = {
        "code6": lambda: _digits(rng, 6), "code4": lambda: _digits(rng, 4), "t4": lambda: "".join(
            str(rng.randint(0, 9)) for _ in range(4)),
        "amt": lambda: _money(rng, 5, 20000), "amt2": lambda: _money(rng, 1, 500), "amt3": lambda: str(
            rng.choice([10, 20, 30, 50, 88, 100, 200, 300, 500, 1000, 2000])),
        "bal": lambda: _money(rng, 10, 90000), "date": lambda: f"{month}月{day}日", "date2": lambda: f"{month % 12 + 1}月"
        f"{rng.randint(1, 28)}日", "time": lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        "month": lambda: str(month), "acct": lambda: _digits(rng, 10), "plate": lambda: "江A" + _digits(rng, 5),
        "flight": lambda: rng.choice(["CA", "MU", "CZ", "HU", "MF", "3U"]) + _digits(rng, 4),
        "gate": lambda: f"{rng.choice('ABCDE')}{rng.randint(1, 40)}", "order": lambda: "E" + _digits(rng, 9),
        "train": lambda: rng.choice("GDCKZT") + str(rng.randint(1, 2999)), "car": lambda: f"{rng.randint(1, 16):02d}",
        "seat": lambda: f"{rng.randint(1, 20):02d}{rng.choice('ABCDF')}", "pick": lambda: f"{rng.randint(1, 9)}-"
        f"{rng.randint(1, 6)}-{_digits(rng, 4)}", "waybill": lambda: rng.choice(["SF", "YT", "JT", "ZT"]) + _digits(
            rng, 12), "gb": lambda: f"{rng.uniform(0.5, 60):.2f}", "gb2": lambda: f"{rng.uniform(0.1, 30):.2f}",
        "shares": lambda: str(rng.choice([100, 200, 500, 1000])), "price": lambda: f"{rng.uniform(3, 300):.2f}",
        "num": lambda: str(rng.randint(2, 99)), "landline": lambda: "0" + _digits(rng, 3) + "-" + _digits(rng, 8),
        "mobile": lambda: "1" + rng.choice("3578") + _digits(rng, 9), "wx": lambda: rng.choice(["abc", "vip", "lx", "kf"])
        + _digits(rng, 6), "qq": lambda: _digits(rng, 9), "card": lambda: "62" + _digits(rng, 17),
    }
    return gen[slot]()


_SLOT = re.compile(r"\{(\w+)\}")


def sms_examples() -> list[tuple[str, str, str]]:
    """(risk, fraud_type, text) for every filled template of sms.tsv, in file order."""
    out = []
    for n, line in enumerate((HERE / "sms.tsv").read_text(encoding="utf-8").splitlines()):
        if not line.strip() or line.startswith("#"):
            continue
        risk, ftype, copies, template = line.split("\t", 3)
        rng = random.Random(f"sms:{n}")
        seen = set()
        for _ in range(int(copies)):
            text = _SLOT.sub(lambda m, rng=rng: _fill(m.group(1), rng), template)
            if text not in seen:
                seen.add(text)
                out.append((risk, "" if ftype == "-" else ftype, text))
    return out


def parse_chats() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(risk, fraud_type, title, lines) per chat; each line is (kind, text) with kind header/system/name of speaker."""
    chats, cur = [], None
    for line in (HERE / "chats.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("=== "):
            risk, ftype, title = line[4:].split(" ", 2)
            cur = (risk, "" if ftype == "-" else ftype, title, [])
            chats.append(cur)
        elif line.startswith("@@ "):
            cur[3].append(("@header", line[3:].strip()))
        elif line.startswith("~~ "):
            cur[3].append(("@system", line[3:].strip()))
        elif "：" in line:
            who, text = line.split("：", 1)
            cur[3].append((who.strip(), text.strip()))
        else:
            cur[3].append(("", line.strip()))
    return chats


def render(lines: list[tuple[str, str]], layout: int, rng: random.Random) -> str:
    """One chat as text: 0 "name：text"; 1 a phone screen read by OCR (header, times, the name on its own line);
    2 the messages alone."""
    out = []
    hour, minute = rng.randint(7, 21), rng.randint(0, 59)
    for i, (who, text) in enumerate(lines):
        if who == "@header":
            out.append(text)
            continue
        if who == "@system":
            out.append(text if layout != 2 else "")
            continue
        if layout == 0:
            out.append(f"{who}：{text}" if who else text)
        elif layout == 1:
            if i == 0 or rng.random() < 0.3:
                minute += rng.randint(1, 40)
                hour, minute = (hour + minute // 60) % 24, minute % 60
                out.append(f"{hour:02d}:{minute:02d}")
            if who:
                out.append(who)
            out.append(text)
        else:
            out.append(text)
    return "\n".join(x for x in out if x)


def chat_examples() -> list[tuple[str, str, str]]:
    """(risk, fraud_type, text): every chat in the three layouts."""
    out = []
    for n, (risk, ftype, title, lines) in enumerate(parse_chats()):
        rng = random.Random(f"chat:{n}:{title}")
        for layout in range(3):
            out.append((risk, ftype, render(lines, layout, rng)))
    return out
