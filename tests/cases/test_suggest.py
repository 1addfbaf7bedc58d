"""Case-type suggestion from narratives (案情): the hand-labelled set, one canonical narrative per type, no
suggestion without support, the cues shown to officers, and `fanzha cases suggest-type` on GBK/UTF-8 CSV and JSONL."""

from __future__ import annotations

import csv
import json
import random
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fanzha.cases.suggest import MODEL_DIR, explain, suggest_many, suggest_type
from fanzha.cases.suggest.narratives import TYPES, generate, rewrap, third_person
from fanzha.cases.suggest.train import check_no_overlap, load_hand_set, macro_f1
from fanzha.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
HAND = ROOT / "tests" / "fixtures" / "case_narratives.tsv"
runner = CliRunner()

# Measured on the shipped model (2026-12-06, issue 24, round 2): 0.985 (130 of 132: a 医保局"客服" call read as
# 冒充公检法, a 网黑 "黑客技术群" read as game_trade; see MODEL_CARD.md). The floor leaves room for a retrain.
HAND_FLOOR = 0.95


def test_hand_set_has_eleven_narratives_per_type_but_the_nude_chat_one():
    rows = load_hand_set(HAND)
    counts = {t: sum(f == t for _, f in rows) for t in TYPES}
    # 12 types × 11 = 132 narratives; the 裸聊敲诈 record is 网黑案件 by the police taxonomy (issue 24), not 婚恋
    assert counts == {**{t: 11 for t in TYPES}, "romance": 10, "wanghei": 12}
    assert all("元" in text for text, _ in rows)  # every one states a loss, as a 报警 record does


BLIND = ROOT / "tests" / "fixtures" / "case_narratives_blind.tsv"
# The blind sets (MODEL_CARD.md): file, sha256, records per type. Frozen: never edit them.
BLIND_SETS = [
    (BLIND, "6473d61d88d99d5c8afc3632479a35385f81aa611b28e1659fb7de141a874357", 22),
    (BLIND.with_name("case_narratives_blind2.tsv"),
     "8ba7209a2f0ee3bcb965086db680e76d464459a3dcf47a88407338b87e913276", 10),
    (BLIND.with_name("case_narratives_blind3.tsv"),
     "cfd7ce34980c455344e7c81fdbc0185664e80cbde7b0268bdc2b5df057322c6d", 5),
]


@pytest.mark.parametrize(("path", "sha256", "per_type"), BLIND_SETS, ids=["blind", "blind2", "blind3"])
def test_blind_sets_are_frozen_balanced_and_never_trained_on(path, sha256, per_type):
    """Each written before a tuning round and scored once per model (MODEL_CARD.md); the tests never score them."""
    import hashlib

    from fanzha.cases.suggest.train import BLIND_SETS as TRAIN_CHECKS

    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256  # frozen: never edit it
    assert path.resolve() in {p.resolve() for p in TRAIN_CHECKS}  # train refuses any overlap with it
    rows = load_hand_set(path)
    assert {t: sum(f == t for _, f in rows) for t in TYPES} == {t: per_type for t in TYPES}
    assert all("元" in text for text, _ in rows)
    texts = [t for t, _ in generate(300, seed=2026)]
    assert check_no_overlap(texts, [t for t, _ in rows]) == 0


def test_hand_set_macro_f1_meets_the_measured_floor():
    rows = load_hand_set(HAND)
    got = [s[0] if s else "" for s in suggest_many([t for t, _ in rows])]
    res = macro_f1([f for _, f in rows], got, TYPES)
    assert res["macro_f1"] >= HAND_FLOOR, res
    assert min(v["f1"] for v in res["per_type"].values()) >= 0.8, res["per_type"]


TERSE = ROOT / "tests" / "fixtures" / "case_narratives_terse.tsv"
# Measured 0.985 (59 of 60) on the 2026-12-06 model; 0.718 when it was first scored blind (2026-11-22). MODEL_CARD.md.
TERSE_FLOOR = 0.90


def test_terse_front_desk_records_meet_their_floor():
    """Short plain-word records (做单, 退钱, 借钱平台); no suggestion counts as wrong."""
    rows = load_hand_set(TERSE)
    assert len(rows) == 60 and {f for _, f in rows} == set(TYPES)  # the 裸聊敲诈 record is 网黑 (issue 24)
    got = [s[0] if s else "" for s in suggest_many([t for t, _ in rows])]
    res = macro_f1([f for _, f in rows], got, TYPES)
    assert res["macro_f1"] >= TERSE_FLOOR, res


CANONICAL = {
    "brushing": "报警人甲某称其在QQ上接到兼职刷单任务，前两单返还佣金，后因卡单被要求继续垫付，共被骗3万元。",
    "fake_customer_service": "受害人乙某接到自称淘宝客服的电话，称其买的商品有质量问题可退款理赔，按要求共享屏幕后被转走8000元。",
    "investment": "事主丙某被拉入炒股群，导师推荐在某证券APP投资股票，入金后无法提现，被骗20万元。",
    "loan": "报警人丁某在网上申请贷款，对方称其银行卡号错误导致资金冻结，需交解冻金，其转账1万元后贷款未到账。",
    "credit_repair": "报警人戊某接到自称京东金融客服电话，称其校园贷账户需要注销否则影响征信，其借款后转账5万元。",
    "shopping": "受害人己某在闲鱼上购买二手手机，卖家让其私下交易，付款3000元后对方未发货并拉黑。",
    "impersonate_authority": "报警人庚某接到自称公安局民警的电话，称其涉嫌洗钱，要求其将资金转入安全账户，被骗10万元。",
    "impersonate_acquaintance": "事主辛某收到冒充其单位领导的微信，称需要送礼让其先转账，其转账2万元后发现是假冒的。",
    "game_trade": "报警人壬某（14岁，学生）在游戏里低价购买游戏账号和皮肤，用家长手机付款后被要求交解冻费，共被骗5000元。",
    "romance": "受害人癸某在婚恋网站认识一名女子，网恋后对方以母亲住院为由多次借钱，共被骗6万元。",
    "wanghei": "报警人子某被骗后找到自称黑客的人，对方称可追回损失，收取技术费后失联，被骗8000元。",
    "military_purchase": "事主丑某的饭店接到自称部队后勤人员的订餐电话，对方让其代购一批军用物资并垫付货款4万元后失联。",
}


@pytest.mark.parametrize("ftype", TYPES)
def test_each_type_canonical_narrative(ftype):
    got = suggest_type(CANONICAL[ftype])
    assert got is not None and got[0] == ftype, got
    assert 0.0 < got[1] <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\t", "今天下午小区停水，物业说晚上八点恢复供水。", "会议改到周三上午九点，请相互转告。",
                                  "😀😀😀", "1234567890", "周末和朋友去超市采购年货，顺便玩了会儿游戏。"])
def test_no_suggestion_for_empty_or_unrelated_text(text):
    assert suggest_type(text) is None
    assert explain(text) is None


def test_junk_and_very_long_text_are_handled():
    assert suggest_type("\x00\x01\ufffd<script>alert(1)</script>") is None
    long = CANONICAL["loan"] + "其后情况不详。" * 20_000  # 140,000 characters: read up to 20,000
    got = suggest_type(long)
    assert got is not None and got[0] == "loan"


def test_a_fraud_without_any_type_cue_is_only_suggested_when_the_model_is_sure():
    # 被骗/转账 make it a fraud story, but nothing says which kind: either no suggestion or a confident one
    got = suggest_type("报警人某某称其被骗了，转账3000元。")
    assert got is None or got[1] >= 0.2


def test_explain_shows_the_cues_with_their_spans():
    r = explain("報警人稱其接到自稱京東金融客服電話，稱其校園貸帳戶需要註銷，否則影響徵信，被騙5萬元。")  # traditional
    assert r is not None and r["fraud_type"] == "credit_repair" and r["label"] == "虚假征信"
    names = {c["name"] for c in r["cues"] if c["fraud_type"] == "credit_repair"}
    assert {"注销校园贷/学生账户", "影响征信"} <= names
    for c in r["cues"]:
        assert r["text"][c["start"]:c["end"]] == c["text"]
    assert [a[0] for a in r["alternatives"]][0] == "credit_repair"
    assert abs(sum(p for _, p in r["alternatives"]) - 1) < 0.5


def test_batch_equals_one_at_a_time_and_keeps_order():
    texts = [CANONICAL["romance"], "", CANONICAL["loan"], None, CANONICAL["wanghei"]]
    batch = suggest_many(texts)
    assert [b[0] if b else None for b in batch] == ["romance", None, "loan", None, "wanghei"]
    assert batch[0] == suggest_type(CANONICAL["romance"])


def test_training_narratives_are_seeded_and_never_overlap_the_hand_set():
    assert generate(3, seed=7) == generate(3, seed=7)
    assert generate(3, seed=7) != generate(3, seed=8)
    texts = [t for t, _ in generate(200, seed=2026)]
    assert check_no_overlap(texts, [t for t, _ in load_hand_set(HAND) + load_hand_set(TERSE)]) == 0
    # the check itself finds a copied run of 20 characters
    assert check_no_overlap(["xx" + load_hand_set(HAND)[5][0][10:40] + "yy"], [load_hand_set(HAND)[5][0]]) == 1


def test_rewrap_turns_a_scam_message_into_a_third_person_report():
    assert third_person("客服：您好，我是京东客服，您的白条需要关闭\n受害人：好的") == "对方是京东客服，其白条需要关闭，好的"
    text = rewrap("我是公安局的，你涉嫌洗钱", random.Random(1))
    assert "其涉嫌洗钱" in text and "对方是公安局的" in text and "元" in text


def test_artefact_is_small_and_packaged():
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir())
    assert size < 3_000_000
    meta = json.loads((MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    assert meta["types"] == list(TYPES) and meta["hand_set"]["macro_f1"] >= HAND_FLOOR
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert {"cases/suggest/model/*", "cases/suggest/*.toml"} <= set(data["fanzha"])


def _gbk_cases(path):
    """A case export as a county system writes it: GBK, CRLF, 简要案情 column, one row with bytes that are not GBK."""
    lines = ["案件编号,报案人,简要案情", f"A001,张某,{CANONICAL['impersonate_authority']}",
             "A002,李某,报警人称其家门口的自行车丢了。", f"A003,王某,{CANONICAL['military_purchase']}"]
    path.write_bytes("\r\n".join(lines).encode("gbk") + b"\r\nA004,\xff\xfe,bad\r\n")


def test_cli_suggest_type_on_gbk_csv_keeps_every_row_and_column(tmp_path):
    src, dst = tmp_path / "cases.csv", tmp_path / "out.csv"
    _gbk_cases(src)
    r = runner.invoke(app, ["cases", "suggest-type", str(src), "-o", str(dst), "--text-col", "简要案情",
                            "--with-confidence"])
    assert r.exit_code == 0, r.output
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        out = list(csv.DictReader(fh))
    assert [row["案件编号"] for row in out] == ["A001", "A002", "A003", "A004"]
    assert out[0]["报案人"] == "张某" and out[0]["简要案情"] == CANONICAL["impersonate_authority"]
    assert [row["fraud_type"] for row in out] == ["impersonate_authority", "", "military_purchase", ""]
    assert 0 < float(out[0]["fraud_type_confidence"]) <= 1 and "冒充公检法" in out[0]["fraud_type_cues"]
    assert out[3]["error"] and not out[0]["error"]
    assert "未处理 1 行" in r.output and "无法判断类型 1 行" in r.output


def test_cli_suggest_type_jsonl_stdin_stdout_and_missing_column(tmp_path):
    data = json.dumps({"id": 1, "text": CANONICAL["game_trade"]}, ensure_ascii=False) + "\n{broken\n"
    r = runner.invoke(app, ["cases", "suggest-type", "-", "-o", "-", "--format", "jsonl"], input=data)
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert lines[0]["fraud_type"] == "game_trade" and lines[0]["id"] == 1 and lines[1]["error"]
    src = tmp_path / "in.csv"
    src.write_text("id,案情\n1,被骗\n", encoding="utf-8")
    r = runner.invoke(app, ["cases", "suggest-type", str(src), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and "没有文本列“text”" in r.output and "案情" in r.output
    r = runner.invoke(app, ["cases", "suggest-type", str(tmp_path / "nope.csv"), "-o", "-"])
    assert r.exit_code == 2 and "找不到输入文件" in r.output


# --- issue 24: the police taxonomy and the reporting frame ------------------------------------------------------

def _cue_types(text: str) -> set[str]:
    from fanzha.cases.suggest import cues
    from fanzha.detect.normalise import normalise

    norm = normalise(text)
    return {h.fraud_type for h in cues.find(cues.mask_frame(norm), norm)}


@pytest.mark.parametrize("text", [
    "某派出所民警接报：报警人刘某称其在网上兼职刷单被骗2万元，遂到派出所报警，民警已调取转账记录。",
    "事主到公安机关报案称其网购后接到快递理赔电话被骗3000元。经审查，该案涉嫌诈骗，予以立案侦查。",
    "110接警：报警人称在交友软件认识的女友以住院为由借钱，其转账11000元，现到县公安局反诈中心报案。",
])
def test_the_reporting_frame_is_no_cue_for_impersonating_the_police(text):
    assert "impersonate_authority" not in _cue_types(text)


@pytest.mark.parametrize("text", [
    "报警人称接到自称市公安局民警的电话，称其涉嫌洗钱，被骗5万元。",
    "事主称电话被转接到“公安局”，一名“警官”要求其转账，损失3万元。",
    "受害人接到某地公安局的电话，称其银行卡被人冒用，转账8万元。",
])
def test_an_impersonated_officer_is_a_cue(text):
    assert "impersonate_authority" in _cue_types(text)


def test_frame_masking_keeps_the_length_and_the_spans():
    from fanzha.cases.suggest import cues
    from fanzha.detect.normalise import normalise

    norm = normalise("民警接报：报警人称接到自称民警的电话，被骗1万元，遂到派出所报警。")
    masked = cues.mask_frame(norm)
    assert len(masked) == len(norm) and masked.count("民警") == 1 and "派出所" not in masked
    for h in cues.find(masked, norm):
        assert norm[h.start:h.end] == h.text


def test_a_cue_is_skipped_only_when_it_cannot_match():
    """The strings each cue needs (cues.required_strings) are a pre-check only: the hits are those of the plain
    regular expressions."""
    import dataclasses

    from fanzha.cases.suggest import cues
    from fanzha.detect.normalise import normalise

    plain = tuple(dataclasses.replace(c, needs=None) for c in cues.load()[0])
    texts = [t for t, _ in load_hand_set(HAND) + load_hand_set(TERSE) + generate(20, seed=5)]
    texts += ["QQ被盗，USDT合约，VIP会员到期扣费，ZOOM共享屏幕，Facebook上认识，CF点券，Soul", "(12岁)学生用妈妈的手机"]
    for text in texts:
        m = cues.mask_frame(normalise(text))
        want = [(c.name, r.start()) for c in plain if (r := c.pattern.search(m))]
        assert [(h.name, h.start) for h in cues.find(m)] == want, text
    need = cues.required_strings("(?<!\\d)1[0-7]岁|孩子")  # one string of each branch: "1" or "岁", and "孩子"
    assert len(need) == 2 and "孩子" in need and need[0] in ("1", "岁")
    assert cues.required_strings("a.{0,3}b|.*") is None


# Narratives written for these tests by the police definitions of issue 24 (not from any evaluation set).
POLICE_DEFINITIONS = [
    ("wanghei", "受害人吴某称其在直播软件上被一名女主播邀请裸聊，对方事后称已录屏并拿到其手机通讯录，威胁发给其同事，其转账9000元。"),
    ("wanghei", "事主称被骗后在网上找到“追损团队”，对方称能用黑客技术把钱追回来，收取技术费6000元后失联。"),
    ("credit_repair", "事主接到自称京东白条客服的电话，称其白条是大学期间开通的，要关闭账户否则影响征信，其借出额度转给对方清零，损失3.3万元。"),
    ("credit_repair", "报警人称有人来电说其校园贷账户未注销，按国家规定需注销，其在借呗借款后转入对方账户核销，被骗2.1万元。"),
    ("military_purchase", "报警人称其餐馆接到自称武警支队司务长的订餐电话，对方让其帮忙向指定厂家代购一批军用水壶并垫付货款1.5万元，后失联。"),
    ("military_purchase", "事主称其五金店接到自称某中学后勤主任的采购电话，对方称学校还需要一批器材，让其向对方推荐的供应商先付款8000元，后失联。"),
    ("romance", "受害人称在网上结识一名自称在海外服役的美国军人，对方称寄来装有美金的包裹，需交清关费，其转账4万元。"),
    ("romance", "事主在某约会APP上想约附近女子见面，被要求先充值会员和见面金，共充值7000元仍未见到人。"),
    ("shopping", "报警人称在闲鱼上买二手手机，卖家让其微信私下交易，付款2300元后卖家拉黑未发货。"),
    ("shopping", "事主称之前报的会计网课可以退学费，对方让其先交退费手续费1200元，后失联。"),
    ("shopping", "报警人称在网上找中介代办驾照，对方称包过，其交费6000元后对方失联。"),
    ("impersonate_acquaintance", "事主称有人冒充其单位领导加其微信，让其给客户转账，其转账5万元后才知道被骗。"),
]


@pytest.mark.parametrize(("ftype", "text"), POLICE_DEFINITIONS,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(POLICE_DEFINITIONS)])
def test_types_as_the_police_define_them(ftype, text):
    got = suggest_type(text)
    assert got is not None and got[0] == ftype, got


def test_a_buyers_director_or_teacher_is_not_a_boss_or_acquaintance():
    r = explain(POLICE_DEFINITIONS[5][1])
    assert r["fraud_type"] == "military_purchase"
    assert not [c for c in r["cues"] if c["fraud_type"] == "impersonate_acquaintance" and c["weight"] >= 2]


def test_explain_gives_the_top_two_types_each_with_its_own_cues():
    r = explain(POLICE_DEFINITIONS[0][1])
    assert [t["fraud_type"] for t in r["top"]] == [a[0] for a in r["alternatives"][:2]]
    first = r["top"][0]
    assert first["fraud_type"] == "wanghei" and first["label"] == "网黑案件"
    assert {"裸聊敲诈", "录像/通讯录要挟"} <= {c["name"] for c in first["cues"]}
    for t in r["top"]:
        assert all(c["fraud_type"] == t["fraud_type"] for c in t["cues"])
        assert [c["weight"] for c in t["cues"]] == sorted((c["weight"] for c in t["cues"]), reverse=True)


def test_cli_suggest_type_reports_an_empty_narrative(tmp_path):
    """An empty 案情 gets no type and its reason, and is counted apart from the narratives with no suggestion."""
    data = (json.dumps({"id": 1, "text": CANONICAL["game_trade"]}, ensure_ascii=False) + "\n"
            + json.dumps({"id": 2, "text": "  "}) + "\n" + json.dumps({"id": 3, "text": "<p>👍</p>"}) + "\n")
    r = runner.invoke(app, ["cases", "suggest-type", "-", "-o", "-", "--format", "jsonl"], input=data)
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert rows[0]["fraud_type"] == "game_trade" and not rows[0]["error"]
    assert rows[1]["fraud_type"] == "" and rows[1]["error"] == "第2行“text”为空，未检查"
    assert rows[2]["fraud_type"] == "" and rows[2]["error"] == "第3行“text”只有表情、不可见字符或网页标记，没有文字，未检查"
    assert "未处理 2 行" in r.output and "无法判断类型" not in r.output
