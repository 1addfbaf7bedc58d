"""Loaders for the public corpora in ../shared/data, each mapped onto our risk (风险) and fraud-type labels.

Every corpus label is mapped in LABEL_TABLE below (the same table is printed in MODEL_CARD.md). A corpus may name a
label we cannot map exactly; the note says what we chose and why. Nothing here touches a database.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fanzha.detect.taxonomy import FRAUD_TYPES, RISKS  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Example:
    text: str
    risk: str
    fraud_type: str  # "" unless risk == "fraud"
    source: str  # the leave-one-source-out group
    label: str  # the corpus' own label, kept for the confusion tables


# (source, corpus label, risk, fraud_type, note) — the written mapping; tests check that every loader label is here.
LABEL_TABLE: list[tuple[str, str, str, str, str]] = [
    ("telecom_fraud_texts", "0 (tf5 label00)", "spam|normal", "",
     "mostly operator/merchant promotions: spam when it carries an advertising cue (退订, 优惠, 活动, 点击, 办理 …), else normal"),
    ("telecom_fraud_texts", "冒充公检法及政府机关类 / tf8 1", "fraud", "impersonate_authority", ""),
    ("telecom_fraud_texts", "贷款、代办信用卡类 / tf8 2", "fraud", "loan", ""),
    ("telecom_fraud_texts", "冒充客服服务 / tf8 3", "fraud", "fake_customer_service", ""),
    ("telecom_fraud_texts", "冒充领导、熟人类 / tf8 4", "fraud", "impersonate_acquaintance", ""),
    ("telecom_fraud_texts", "tf8 5 (刷单返利)", "fraud", "brushing", ""),
    ("telecom_fraud_texts", "tf8 6 (网络婚恋、交友)", "fraud", "romance", ""),
    ("telecom_fraud_texts", "tf8 7 (网络游戏产品虚假交易)", "fraud", "game_trade", ""),
    ("fbs_sms", "AD:Loan, AD:Network_service, AD:Other, AD:Real_estate, AD:Retail", "spam", "",
     "advertisements; AD:Loan is loan/credit-card advertising, not the 先交钱 loan scam"),
    ("fbs_sms", "FR:Phishing(Bank)", "fraud", "other", "积分兑换/账户升级 phishing links; no police type fits better"),
    ("fbs_sms", "FR:Phishing(Other)", "fraud", "other", ""),
    ("fbs_sms", "FR:Financial", "fraud", "investment", "stock tips, 理财 with guaranteed returns"),
    ("fbs_sms", "FR:Other", "fraud", "other", "flight cancellation refunds, 换号, prize scams"),
    ("fbs_sms", "IL:Escort_service, IL:Fake_ID_and_invoice, IL:Gambling, IL:Political_propaganda", "illicit", "",
     "违法推广"),
    ("fbs_sms", "Other", "spam", "", "broadcast by a fake base station, mostly greetings/notices; unsolicited, so spam"),
    ("sms_spam", "80w 1 / msgspam", "spam", "", "mostly marketing, some fraud (no type given): kept as spam"),
    ("sms_spam", "80w 0 / msgpass", "normal", "", "everyday SMS and web/news sentences"),
    ("teleantifraud", "投资诈骗", "fraud", "investment", ""),
    ("teleantifraud", "客服诈骗", "fraud", "fake_customer_service", ""),
    ("teleantifraud", "银行诈骗", "fraud", "fake_customer_service", "caller poses as the bank's service desk"),
    ("teleantifraud", "绑架诈骗, 钓鱼诈骗, 身份盗窃, 邮件诈骗, 彩票诈骗", "fraud", "other", ""),
    ("teleantifraud", "normal scenes (订餐, 外卖, 预约, 咨询客服, 购物, 打车, 交通咨询)", "normal", "", ""),
    ("golfxiao_dialogs", "兼职刷单", "fraud", "brushing", "dialogue windows; a window is fraud when one of its turns is"),
    ("golfxiao_dialogs", "冒充客服", "fraud", "fake_customer_service", ""),
    ("golfxiao_dialogs", "投资, 杀猪盘, 虚拟货币", "fraud", "investment", "杀猪盘 lands in investment, as the police count it"),
    ("golfxiao_dialogs", "网络贷款", "fraud", "loan", ""),
    ("golfxiao_dialogs", "虚假购物, 二手交易", "fraud", "shopping", ""),
    ("golfxiao_dialogs", "传销, 微商代理, 短信, 网络赌博", "fraud", "other", ""),
    ("golfxiao_dialogs", "window without a fraud turn; meeting_label_false", "normal", "",
     "meeting ASR is real; fraud-file windows without a fraud turn are victim small talk"),
    ("consumer_reviews", "all six files", "normal", "",
     "real merchant reviews; merchant fraud is not telecom fraud, the texts are customers' own words"),
    ("fraud_r1", "impersonation/public security…", "fraud", "impersonate_authority", ""),
    ("fraud_r1", "impersonation/acquaintances", "fraud", "impersonate_acquaintance", ""),
    ("fraud_r1", "fraudulent service/investment", "fraud", "investment", ""),
    ("fraud_r1", "fraudulent service/e-commerce logistics and shopping", "fraud", "shopping", ""),
    ("fraud_r1", "network friendship", "fraud", "romance", ""),
    ("fraud_r1", "fake job posting", "fraud", "other", "overseas 高薪 job lures (柬埔寨/缅甸)"),
    ("fraud_r1", "phishing/phishing email, fraud email", "fraud", "other", ""),
    ("fraud_r1", "phishing/commercial spam", "spam", "", "the generated texts are plain advertising"),
    ("handwritten", "seed_examples.tsv", "(as written)", "(as written)",
     "our own sentences for types the corpora miss (虚假征信, 冒充军警购物, 网黑, 虚假购物) and ordinary chat"),
    ("hw_sms", "handwritten/sms.tsv", "(as written)", "(as written)",
     "our own SMS templates (issue 23): OTP, bank, payment, flight, parcel, operator, broker, friend-add notices and "
     "personal messages (normal), adverts (spam), scams written like notices and fragments (fraud)"),
    ("hw_chats", "handwritten/chats.txt", "(as written)", "(as written)",
     "our own chats (issue 23): owners', parents', interest, family and work groups (normal); 杀猪盘, romance, fake "
     "buyers, tickets, VIP/gambling, fake boss, brushing (fraud), from police advisories' descriptions"),
]

DEFAULT_ROOT = Path(os.environ.get("FANZHA_DETECT_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))

_AD_CUE = re.compile(r"退订|回复?\s*T|回复?\s*N|优惠|活动|促销|特价|折|抢购|秒杀|会员|礼|免费|热线|咨询|详询|欢迎|惠|点击|链接|"
                     r"URL|办理|订购|开业|店|低至|满\d*减|热卖|新品|上市|报名|招生|楼盘|贷款|回馈|套餐|流量|充值|到店|光临")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])")

TF8_TYPES = {"1": "impersonate_authority", "2": "loan", "3": "fake_customer_service", "4": "impersonate_acquaintance",
             "5": "brushing", "6": "romance", "7": "game_trade"}
TF5_TYPES = {"冒充公检法及政府机关类": "impersonate_authority", "贷款、代办信用卡类": "loan",
             "冒充客服服务": "fake_customer_service", "冒充领导、熟人类": "impersonate_acquaintance"}
TELE_TYPES = {"投资诈骗": "investment", "客服诈骗": "fake_customer_service", "银行诈骗": "fake_customer_service"}
GOLF_TYPES = {"兼职刷单": "brushing", "冒充客服": "fake_customer_service", "投资": "investment", "杀猪盘": "investment",
              "虚拟货币": "investment", "网络贷款": "loan", "虚假购物": "shopping", "二手交易": "shopping"}
R1_TYPES = {"public security, prosecution, judiciary, and government agencies": "impersonate_authority",
            "acquaintances": "impersonate_acquaintance", "investment and financial management": "investment",
            "e-commerce logistics and shopping": "shopping", "network friendship": "romance"}


def unsegment(text: str) -> str:
    """fbs_sms and msglog are word-segmented: drop the spaces between Chinese characters."""
    return _CJK_SPACE.sub("", text.strip())


def _csv(path: Path, encoding: str = "utf-8") -> Iterator[dict]:
    with open(path, encoding=encoding, newline="") as fh:
        yield from csv.DictReader(fh)


def load_telecom_fraud_texts(root: Path) -> list[Example]:
    out, seen = [], set()
    for path in sorted((root / "telecom_fraud_texts_5").glob("label0*-last.csv")):
        for row in _csv(path):
            text, label = (row.get("content") or "").strip(), (row.get("label") or "").strip()
            if not text:
                continue
            seen.add(text)
            if label == "0":
                out.append(Example(text, "spam" if _AD_CUE.search(text) else "normal", "", "telecom_fraud_texts",
                                   "tf5:0"))
            else:
                out.append(Example(text, "fraud", TF5_TYPES[label], "telecom_fraud_texts", "tf5:" + label))
    for path in sorted((root / "telecom_fraud_texts_8").glob("label*-new1030.csv")):
        for row in _csv(path):
            text, label = (row.get("content") or "").strip(), (row.get("label") or "").strip()
            if text and text not in seen:  # tf8 1-4 are supersets of tf5 1-4
                seen.add(text)
                out.append(Example(text, "fraud", TF8_TYPES[label], "telecom_fraud_texts", "tf8:" + label))
    return out


def fbs_risk(label: str) -> tuple[str, str]:
    if label.startswith("AD:") or label == "Other":
        return "spam", ""
    if label.startswith("IL:"):
        return "illicit", ""
    return "fraud", "investment" if label == "FR:Financial" else "other"


def load_fbs_sms(root: Path) -> list[Example]:
    out = []
    for row in _csv(root / "fbs_sms" / "fbs_sms.csv"):
        risk, ftype = fbs_risk(row["label"])
        out.append(Example(unsegment(row["text"]), risk, ftype, "fbs_sms", row["label"]))
    return out


def load_sms_spam(root: Path) -> list[Example]:
    out, seen = [], set()
    for row in _csv(root / "sms_spam_80w_subset" / "sms_80w_subset.csv"):
        text = row["text"].strip()
        if text and text not in seen:
            seen.add(text)
            out.append(Example(text, "spam" if row["label"] == "1" else "normal", "", "sms_spam", "80w:" + row["label"]))
    for name, risk in (("msgspam.log.seg", "spam"), ("msgpass.log.seg", "normal")):
        with open(root / "sms_spam_msglog_tensorlayer" / name, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                text = unsegment(line)
                if text and text not in seen:
                    seen.add(text)
                    out.append(Example(text, risk, "", "sms_spam", "msglog:" + name.split(".")[0]))
    return out


def load_teleantifraud(root: Path) -> list[Example]:
    out = []
    for kind in ("fraud", "normal"):
        for path in sorted((root / "teleantifraud_multiagent" / kind).glob("*.jsonl")):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    d = json.loads(line)
                    turns = []
                    for i in range(max(len(d.get("left", [])), len(d.get("right", [])))):
                        if i < len(d["left"]):
                            turns.append("来电方：" + d["left"][i])
                        if i < len(d["right"]):
                            turns.append("接听方：" + d["right"][i])
                    text = "\n".join(turns)
                    if kind == "fraud":
                        out.append(Example(text, "fraud", TELE_TYPES.get(d["fraud_type"], "other"), "teleantifraud",
                                           d["fraud_type"]))
                    else:
                        out.append(Example(text, "normal", "", "teleantifraud", "normal:" + d["fraud_type"]))
    return out


def load_golfxiao(root: Path, window: int = 6) -> list[Example]:
    """Dialogues cut into windows of `window` turns (stride window//2), like the corpus' own train/test files."""
    out = []
    for path in sorted((root / "anti_fraud_sft_golfxiao" / "csv_dialogs").glob("*.csv")):
        category = re.sub(r"(_?诈骗)?\(\d+\)$", "", path.stem)
        cases: dict[str, list[dict]] = defaultdict(list)
        for row in _csv(path):
            cases[row["case"]].append(row)
        for turns in cases.values():
            starts = range(0, max(1, len(turns) - window // 2), window // 2)
            for s in starts:
                chunk = turns[s:s + window]
                text = "\n".join(f"{t['speaker']}: {t['content']}" for t in chunk)
                if any(t["is_fraud"] == "True" for t in chunk):
                    out.append(Example(text, "fraud", GOLF_TYPES.get(category, "other"), "golfxiao_dialogs", category))
                else:
                    out.append(Example(text, "normal", "", "golfxiao_dialogs",
                                       "meeting" if category.startswith("meeting") else category + ":no_fraud_turn"))
    return out


def load_consumer_reviews(root: Path) -> list[Example]:
    out = []
    for path in sorted((root / "consumer_fraud_reviews").glob("*.csv")):
        for row in _csv(path):
            text = (row.get("reviews") or "").strip()
            if text:
                out.append(Example(text, "normal", "", "consumer_reviews", path.stem))
    return out


def load_fraud_r1(root: Path) -> list[Example]:
    out = []
    with open(root / "fraud_r1_zh" / "FP-base-Chinese.json", encoding="utf-8") as fh:
        for d in json.load(fh):
            text = (d.get("generated text") or "").strip()
            if not text:
                continue
            if d["subcategory"] == "commercial spam":
                out.append(Example(text, "spam", "", "fraud_r1", d["subcategory"]))
            else:
                out.append(Example(text, "fraud", R1_TYPES.get(d["subcategory"], "other"), "fraud_r1", d["subcategory"]))
    return out


def load_handwritten() -> list[Example]:
    """Our own sentences (seed_examples.tsv, shipped with the package): risk, fraud_type, text."""
    out = []
    path = Path(__file__).with_name("seed_examples.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        risk, ftype, text = line.split("\t", 2)
        out.append(Example(text.strip(), risk, "" if ftype == "-" else ftype, "handwritten", risk + ":" + ftype))
    return out


def load_hw_sms() -> list[Example]:
    """Our everyday SMS (handwritten/sms.tsv): notices, personal messages, adverts and scams written like them."""
    from fanzha.detect import handwritten

    return [Example(t, r, f, "hw_sms", f"{r}:{f or '-'}") for r, f, t in handwritten.sms_examples()]


def load_hw_chats() -> list[Example]:
    """Our chats (handwritten/chats.txt), each in three layouts."""
    from fanzha.detect import handwritten

    return [Example(t, r, f, "hw_chats", f"{r}:{f or '-'}") for r, f, t in handwritten.chat_examples()]


LOADERS = {
    "telecom_fraud_texts": load_telecom_fraud_texts,
    "fbs_sms": load_fbs_sms,
    "sms_spam": load_sms_spam,
    "teleantifraud": load_teleantifraud,
    "golfxiao_dialogs": load_golfxiao,
    "consumer_reviews": load_consumer_reviews,
    "fraud_r1": load_fraud_r1,
}


def load_all(root: Path | str | None = None, sources: list[str] | None = None,
             handwritten: bool = True) -> list[Example]:
    """All corpora under `root` (default ../shared/data), exact duplicates across corpora dropped (first one wins)."""
    root = Path(root) if root else DEFAULT_ROOT
    if not root.is_dir():
        raise FileNotFoundError(f"找不到训练语料目录：{root}")
    out, seen = [], set()
    for name, loader in LOADERS.items():
        if sources and name not in sources:
            continue
        for ex in loader(root):
            key = hashlib.blake2b(ex.text.encode("utf-8"), digest_size=12).digest()
            if key not in seen:
                seen.add(key)
                out.append(ex)
    for name, loader in (("handwritten", load_handwritten), ("hw_sms", load_hw_sms), ("hw_chats", load_hw_chats)):
        if handwritten and (not sources or name in sources):
            out.extend(loader())
    return out


def fingerprint(root: Path | str | None = None) -> str:
    """A digest of the corpus files (names and sizes), written into the model's metadata."""
    root = Path(root) if root else DEFAULT_ROOT
    h = hashlib.sha256()
    for p in sorted(glob.glob(str(root / "**" / "*"), recursive=True)):
        if os.path.isfile(p) and not p.endswith(".md"):
            h.update(f"{os.path.relpath(p, root)}:{os.path.getsize(p)}\n".encode())
    return h.hexdigest()[:16]
