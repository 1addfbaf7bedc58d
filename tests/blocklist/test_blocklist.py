"""举报 → signed bundle → review queue → approve → blocklist → look-up and the checker; the blocklist back out to the
public app; a tampered or wrongly signed bundle rejected with nothing written; the same bundle twice a no-op."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportBundle, ReportEntity
from fanzha.config import get_settings
from fanzha.public.store import PublicStore

KEY = "county-shared-bundle-key-2026"
PHONE = "17087654321"
SCAM = "【京东金融】您的校园贷未注销，将影响征信，请加客服QQ 987654321 处理，或致电 170-8765-4321，访问 jd-zhuxiao.top/kf"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setattr(get_settings(), "bundle_key", KEY)
    return KEY


def _counts(db) -> dict[str, int]:
    db.expire_all()
    return {t.__tablename__: db.scalar(select(func.count()).select_from(t))
            for t in (ReportBundle, PublicReport, ReportEntity, BlocklistEntry)}


def _public_report(tmp_path, text: str, value: str = "", channel: str = "sms") -> PublicStore:
    """A report sent through the public app's own form, as a person would."""
    from fastapi.testclient import TestClient

    from fanzha.config import Settings
    from fanzha.public.app import create_public_app

    store = PublicStore(tmp_path / "public.db")
    client = TestClient(create_public_app(Settings(data_dir=tmp_path), store=store))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/report").text).group(1)
    r = client.post("/report", data={"text": text, "value": value, "channel": channel, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    return store


def _upload(api, data: bytes, name: str = "reports.jsonl"):
    return api.post("/api/v1/blocklist/report-bundles", files={"file": (name, io.BytesIO(data), "application/x-ndjson")})


def test_report_bundle_review_blocklist_lookup_and_back(tmp_path, key, api_as, db):
    store = _public_report(tmp_path, SCAM, value="QQ 987654321", channel="qq")
    exported = store.export_reports(key)
    assert exported.count == 1 and store.report_counts() == {"total": 1, "pending": 0}
    api = api_as("yanpan")  # 反诈中心研判调度
    before = _counts(db)

    # One changed character in the message: refused, nothing written.
    tampered = exported.data.replace("校园贷".encode(), "助学贷".encode(), 1)
    assert tampered != exported.data
    r = _upload(api, tampered)
    assert r.status_code == 422 and "签名无效" in r.json()["error"]["message"] and "改动" in r.json()["error"]["message"]
    # Signed with another key: refused, and the message says it is the key.
    other = PublicStore(tmp_path / "other.db")
    other.add_report(channel="sms", text=SCAM, value="", risk="fraud", fraud_type="credit_repair")
    r = _upload(api, other.export_reports("another-key").data)
    assert r.status_code == 422 and "另一把密钥" in r.json()["error"]["message"]
    # Not a bundle at all.
    r = _upload(api, "案件编号,立案时间\n1,2\n".encode())
    assert r.status_code == 422 and "不是有效的举报包" in r.json()["error"]["message"]
    assert _counts(db) == before

    r = _upload(api, exported.data)
    assert r.status_code == 200, r.text
    assert r.json() == {"reports": 1, "created": 1, "duplicates": 0, "entities": 3, "already": False}
    again = _upload(api, exported.data)
    assert again.json()["already"] is True and again.json()["created"] == 0
    after = _counts(db)
    assert after["report_bundles"] == before["report_bundles"] + 1
    assert after["public_reports"] == before["public_reports"] + 1

    queue = api.get("/api/v1/blocklist/reports").json()
    report = next(q for q in queue if q["text"] == SCAM)
    assert report["channel"] == "qq" and report["status"] == "pending"
    kinds = {e["kind"]: e for e in report["entities"]}
    assert set(kinds) == {"phone", "qq", "url"}
    assert kinds["phone"]["value"] == PHONE and kinds["qq"]["value"] == "987654321"

    assert api.get("/api/v1/lookup", params={"value": "170 8765 4321"}).json()["listed"] is False
    r = api.post(f"/api/v1/blocklist/entities/{kinds['phone']['id']}/decision", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = api.post(f"/api/v1/blocklist/entities/{kinds['url']['id']}/decision",
                 json={"decision": "reject", "note": "域名已失效"})
    assert r.json()["status"] == "rejected"
    r = api.post(f"/api/v1/blocklist/entities/{kinds['phone']['id']}/decision", json={"decision": "reject"})
    assert r.status_code == 409 and "已审核" in r.json()["error"]["message"]
    assert api.get(f"/api/v1/blocklist/reports/{report['id']}").json()["status"] == "pending"  # the QQ id waits
    api.post(f"/api/v1/blocklist/entities/{kinds['qq']['id']}/decision", json={"decision": "approve"})
    assert api.get(f"/api/v1/blocklist/reports/{report['id']}").json()["status"] == "reviewed"

    # Look-up normalises first: spaces, dashes, +86, full-width digits all find the same entry.
    for spelled in ("+86 170-8765-4321", "１７０８７６５４３２１", "170 8765 4321"):
        hit = api.get("/api/v1/lookup", params={"value": spelled}).json()
        assert hit["listed"] is True and hit["matches"][0]["kind"] == "phone", spelled
    assert api.get("/api/v1/lookup", params={"value": "jd-zhuxiao.top/kf"}).json()["listed"] is False  # rejected
    assert api_as("ps01_minjing").get("/api/v1/lookup", params={"value": PHONE}).json()["listed"] is True

    # The checker consults the blocklist: an ordinary-looking message naming the number is flagged.
    plain = "明天上午十点到小区门口取快递，有事打 170 8765 4321"
    verdict = api.post("/api/v1/detect", json={"text": plain}).json()["results"][0]
    assert verdict["risk"] == "fraud"
    assert {
        k: v for k, v in verdict["reasons"][0].items() if k in ("rule", "name", "text")} == {"rule": "blocklist", "name": "黑名单号码", "text": PHONE}
    clean = api.post("/api/v1/detect", json={"text": "明天上午十点到小区门口取快递，有事打 13500001111"}).json()
    assert not any(r["rule"] == "blocklist" for r in clean["results"][0]["reasons"])

    # The blocklist goes out signed; the public app takes it and answers from its own copy.
    r = api.get("/api/v1/blocklist/bundle")
    assert r.status_code == 200
    public = PublicStore(tmp_path / "public.db")
    with pytest.raises(ValueError, match="签名无效"):
        public.import_blocklist(r.content.replace(PHONE.encode(), b"17000000000"), key)
    assert public.blocklist_info()["entries"] == 0
    result = public.import_blocklist(r.content, key)
    assert result["entries"] >= 2
    assert public.lookup("170-8765-4321")[0]["kind"] == "phone"
    assert public.lookup("QQ 987654321") and not public.lookup("13500001111")
    from fanzha.detect.service import check

    reasons = check(plain, blocklist=public).reasons
    assert reasons[0]["name"] == "黑名单号码"


def test_review_pages_approve_with_a_form(tmp_path, key, client_as, api_as, db):
    store = _public_report(tmp_path, "兼职刷单，日结300，垫付后返佣金，加微信 shuadan_888 联系")
    api_as("admin").post("/api/v1/blocklist/report-bundles",
                         files={"file": ("r.jsonl", io.BytesIO(store.export_reports(key).data), "application/x-ndjson")})
    db.expire_all()
    report = db.scalar(select(PublicReport).where(PublicReport.text.contains("shuadan_888")))
    entity = report.entities[0]
    assert (entity.kind, entity.key) == ("wechat", "shuadan_888")
    page = client_as("admin")
    listing = page.get("/blocklist/reports")
    assert listing.status_code == 200 and f"/blocklist/reports/{report.id}" in listing.text
    detail = page.get(f"/blocklist/reports/{report.id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', detail.text).group(1)
    assert "shuadan_888" in detail.text and "列入黑名单" in detail.text
    r = page.post(f"/blocklist/entities/{entity.id}", data={"decision": "approve", "note": "核实", "csrf_token": token},
                  follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    entry = db.scalar(select(BlocklistEntry).where(BlocklistEntry.key == "shuadan_888"))
    assert entry.kind == "wechat" and entry.report_entity_id == entity.id and entry.approved_by is not None
    assert "shuadan_888" in page.get("/blocklist", params={"q": "SHUADAN_888"}).text


def test_only_the_centre_reviews(api_as, client_as):
    for username in ("ps01_suozhang", "ps01_quanzu", "ps01_minjing"):
        api = api_as(username)
        assert api.get("/api/v1/blocklist/reports").status_code == 403
        assert api.get("/api/v1/blocklist/bundle").status_code == 403
        assert client_as(username).get("/blocklist").status_code == 403


def test_blocklist_csv_import_and_export_round_trip(tmp_path, app, api_as, db):
    api = api_as("yanpan")
    csv_text = ("涉诈号码,号码类型,备注\n"
                "0898-6688 1234,电话号码,市局通报\n"
                "https://WWW.Fake-Bank.cn/login/,,\n"
                "6222 0299 8877 6655 443,银行卡,\n"
                "not a number,,\n"
                "12,电话号码,\n"
                "0898-66881234,,重复\n")
    r = api.post("/api/v1/imports/blocklist", files={"file": ("黑名单.csv", io.BytesIO(csv_text.encode("gbk")), "text/csv")})
    assert r.status_code == 202, r.text
    batch = api.get(f"/api/v1/imports/{r.json()['id']}").json()
    assert (batch["status"], batch["read"], batch["created"], batch["duplicates"], batch["rejected"]) == (
        "done", 6, 3, 1, 2)
    errors = api.get(f"/api/v1/imports/{batch['id']}/errors.csv").text
    assert "无法判断" in errors and "不是有效的电话号码" in errors
    assert api.get("/api/v1/lookup", params={"value": "fake-bank.cn"}).json()["listed"] is False  # stored with path
    assert api.get("/api/v1/lookup", params={"value": "http://fake-bank.cn/login"}).json()["listed"] is True
    assert api.get("/api/v1/lookup", params={"value": "089866881234"}).json()["matches"][0]["source"] == "市局通报"

    from support.web import make_client

    assert make_client(app).get("/api/v1/lookup", params={"value": "1"}).status_code == 401
    from fanzha.blocklist import service
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    with session_scope() as s:
        data = service.export_file(s, Scope.system(s), "xlsx")
        csv_out = service.export_file(s, Scope.system(s), "csv").decode("utf-8-sig")
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("号码/网址/账号", "类型", "来源", "列入时间")
    assert ("6222029988776655443", "银行卡/账户") in {r[:2] for r in rows[1:]}
    assert "fake-bank.cn/login" in csv_out.lower()
    # The exported file goes back in unchanged: every row a duplicate.
    out = tmp_path / "blocklist.xlsx"
    out.write_bytes(data)
    r = api.post("/api/v1/imports/blocklist", files={"file": ("blocklist.xlsx", out.open("rb"), "application/octet-stream")})
    back = api.get(f"/api/v1/imports/{r.json()['id']}").json()
    assert back["created"] == 0 and back["rejected"] == 0 and back["duplicates"] == len(rows) - 1


def test_cli_carries_bundles_both_ways(tmp_path, key, monkeypatch, db):
    from typer.testing import CliRunner

    from fanzha.cli.main import app as cli

    monkeypatch.setattr(get_settings(), "public_store", tmp_path / "cli-public.db")
    store = PublicStore(tmp_path / "cli-public.db")
    store.add_report(channel="call", text="自称公安局民警，说我涉嫌洗钱，让转账到安全账户 6222021234500001111",
                     value="", risk="fraud", fraud_type="impersonate_authority")
    runner = CliRunner()
    out = tmp_path / "reports.jsonl"
    r = runner.invoke(cli, ["public", "export-reports", "-o", str(out), "--purge"])
    assert r.exit_code == 0 and "已导出 1 条举报" in r.output
    assert store.report_counts()["total"] == 0  # purged from the public side once exported
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(out.read_bytes().replace("洗钱".encode(), "涉毒".encode()))
    r = runner.invoke(cli, ["blocklist", "import-reports", str(bad)])
    assert r.exit_code == 1 and "签名无效" in r.output
    r = runner.invoke(cli, ["blocklist", "import-reports", str(out)])
    assert r.exit_code == 0 and '"created": 1' in r.output
    r = runner.invoke(cli, ["blocklist", "import-reports", str(out)])
    assert r.exit_code == 0 and '"created": 0' in r.output and '"already": true' in r.output
    db.expire_all()
    entity = db.scalar(select(ReportEntity).where(ReportEntity.key == "6222021234500001111"))
    assert entity.kind == "bank_card"
    from fanzha.blocklist import service
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    with session_scope() as s:
        service.decide(s, Scope.system(s), entity.id, "approve")
    listed = tmp_path / "blocklist.jsonl"
    r = runner.invoke(cli, ["blocklist", "export-bundle", "-o", str(listed)])
    assert r.exit_code == 0
    r = runner.invoke(cli, ["public", "import-blocklist", str(listed)])
    assert r.exit_code == 0 and "黑名单已更新" in r.output
    assert store.lookup("6222 0212 3450 0001 111")[0]["kind_label"] == "银行卡/账户"
    monkeypatch.setattr(get_settings(), "bundle_key", "")
    r = runner.invoke(cli, ["public", "export-reports", "-o", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 1 and "FANZHA_BUNDLE_KEY" in r.output


def test_line_separators_in_a_report_survive_the_bundle(tmp_path, key, api_as, db):
    # U+2028, U+2029 and NEL are line breaks to str.splitlines() but not to JSON: the text must come back whole, and
    # the bundle after it must still read.
    store = PublicStore(tmp_path / "ls.db")
    text = "第一行\u2028第二行\u2029第三行\x85退款请加QQ 123456789"
    store.add_report(channel="sms", text=text, value="", risk="fraud", fraud_type="refund")
    exported = store.export_reports(key)
    assert exported.data.count(b"\n") == 3  # header, the one report, the signature
    api = api_as("yanpan")
    r = _upload(api, exported.data)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    db.expire_all()
    assert db.scalar(select(PublicReport.text).where(PublicReport.text.contains("第三行"))) == text
    store.add_report(channel="sms", text="后来的举报", value="", risk="suspicious", fraud_type="")
    r = _upload(api, store.export_reports(key, everything=True).data)
    assert r.status_code == 200 and r.json()["reports"] == 2 and r.json()["created"] == 1


def test_a_bundle_with_raw_line_separators_still_reads(key):
    # Bundles written before the escaping carry U+2028 as it is; the reader splits on "\n" alone.
    import hashlib
    import hmac
    import json

    from fanzha.public import bundle

    header = {"format": bundle.FORMAT, "version": 1, "kind": "reports", "bundle_id": "old", "count": 1,
              "created_at": "2026-01-01T00:00:00+00:00", "key": bundle.fingerprint(key)}
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [header, {"uid": "u1", "text": "甲\u2028乙\x85丙"}])
    body = body.encode()
    sig = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    got = bundle.read(body + json.dumps({"signature": "hmac-sha256:" + sig}).encode() + b"\n", key, kind="reports")
    assert got.records == [{"uid": "u1", "text": "甲\u2028乙\x85丙"}]


def test_a_failed_write_leaves_the_reports_pending(tmp_path, key, monkeypatch):
    from typer.testing import CliRunner

    from fanzha.cli.main import app as cli

    monkeypatch.setattr(get_settings(), "public_store", tmp_path / "w.db")
    store = PublicStore(tmp_path / "w.db")
    for n in range(2):
        store.add_report(channel="sms", text=f"第{n}条：中奖请先交税 6222021234500002222", value="", risk="fraud",
                         fraud_type="")
    runner = CliRunner()
    for extra in ([], ["--purge"]):
        r = runner.invoke(cli, ["public", "export-reports", "-o", str(tmp_path / "missing-dir" / "r.jsonl"), *extra])
        assert r.exit_code == 1 and "写入失败" in r.output, r.output
        assert store.report_counts() == {"total": 2, "pending": 2}

    def refuse(data: bytes) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        store.export_reports(key, purge=True, deliver=refuse)
    assert store.report_counts() == {"total": 2, "pending": 2}
    out = tmp_path / "r.jsonl"
    r = runner.invoke(cli, ["public", "export-reports", "-o", str(out)])
    assert r.exit_code == 0 and "已导出 2 条举报" in r.output
    assert out.read_bytes().count(b"\n") == 4 and not (tmp_path / "r.jsonl.part").exists()
    assert store.report_counts() == {"total": 2, "pending": 0}


def test_a_non_ascii_signature_is_refused_in_chinese(tmp_path, key):
    from fanzha.public import bundle

    data = bundle.write("reports", [{"uid": "u1", "text": "测试"}], key)
    body, _, _ = data.rstrip(b"\n").rpartition(b"\n")
    forged = body + '\n{"signature": "hmac-sha256:签名é"}\n'.encode()
    with pytest.raises(bundle.BundleError, match="签名无效"):
        bundle.read(forged, key, kind="reports")
