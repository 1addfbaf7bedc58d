"""考核 pages as the 联席办 and a member-unit liaison use them: create a run, score a manual item with and without
evidence, see one's own unit only."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from fanzha.assess.models import AssessmentScore
from fanzha.config import get_settings
from fanzha.db import session_scope
from fanzha.org.models import Area, Unit, User
from support.web import csrf_of


def _run_id(client, period="2025"):
    page = client.get("/assess")
    m = re.search(rf'href="/assess/runs/(\d+)">{period}<', page.text)
    if m:
        return int(m.group(1))
    city = re.search(r'<select name="area_id"><option value="(\d+)"', page.text).group(1)
    r = client.post("/assess/runs", data={"csrf_token": csrf_of(client), "scheme_key": "binzhou", "period": period,
                                          "area_id": city}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_joint_office_scores_a_manual_item(client_as, db):
    client = client_as("lianxiban")
    run_id = _run_id(client)
    page = client.get(f"/assess/runs/{run_id}")
    assert page.status_code == 200 and "成员单位" in page.text and "乡镇/办事处" in page.text
    m = re.search(rf'href="/assess/runs/{run_id}/township/(\d+)">([^<]+)<', page.text)
    town_id, town = int(m.group(1)), m.group(2)
    url = f"/assess/runs/{run_id}/township/{town_id}"
    assert town in client.get(url).text
    token = csrf_of(client)
    r = client.post(url + "/manual", data={"csrf_token": token, "item_key": "system_setup", "points": "8", "note": ""})
    assert r.status_code == 422 and "佐证" in r.text
    r = client.post(url + "/manual", data={"csrf_token": token, "item_key": "system_setup", "points": "abc",
                                           "note": "有方案"})
    assert r.status_code == 422 and "数字" in r.text
    pdf = b"%PDF-1.4\n%test evidence\n"
    r = client.post(url + "/manual", data={"csrf_token": token, "item_key": "system_setup", "points": "8.5", "note": ""},
                    files={"evidence": ("领导小组文件.pdf", pdf, "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303
    detail = client.get(url).text
    assert "8.5" in detail and "/assess/evidence/" in detail
    score_id = re.search(r'/assess/evidence/(\d+)', detail).group(1)
    assert client.get(f"/assess/evidence/{score_id}").content == pdf
    # A record whose file is gone from the data directory (restored without it) answers 404 saying so, not 500.
    stored = get_settings().data_dir / db.get(AssessmentScore, int(score_id)).evidence_file
    stored.rename(stored.with_suffix(".away"))
    try:
        gone = client.get(f"/assess/evidence/{score_id}")
        assert gone.status_code == 404 and "文件已不在存储中" in gone.text
    finally:
        stored.with_suffix(".away").rename(stored)
    r = client.post(url + "/manual", data={"csrf_token": token, "item_key": "system_setup", "points": "8",
                                           "note": "x"}, files={"evidence": ("a.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert r.status_code == 422 and "佐证应为" in r.text
    # 锁定（定稿） asks first: the run page's link opens the confirmation, which says what is still unscored and
    # offers no way to lock; a post without the confirmation only shows it.
    ask = client.get(f"/assess/runs/{run_id}")
    assert f'href="/assess/runs/{run_id}?ask=lock"' in ask.text
    confirm = client.get(f"/assess/runs/{run_id}?ask=lock").text
    assert "确认锁定（定稿）？" in confirm and "现在不能锁定" in confirm
    assert re.search(r'id="confirm-lock-button" disabled', confirm)
    r = client.post(f"/assess/runs/{run_id}/lock", data={"csrf_token": token})
    assert r.status_code == 200 and "确认锁定（定稿）？" in r.text
    r = client.post(f"/assess/runs/{run_id}/lock", data={"csrf_token": token, "confirm": "true"})
    assert r.status_code == 422 and "未评分" in r.text
    # Every item scored (here written straight into the run): the confirmation's button locks, the page says so.
    # Another run with every item scored (here written straight into it): the confirmation's button locks it, and
    # its page says so.
    locked_id = _run_id(client, "2021")  # a period of its own: other tests score 2023 and 2025
    db.rollback()  # the fixture's session read above: let the write below take the database
    with session_scope() as s:
        for score in s.scalars(select(AssessmentScore).where(AssessmentScore.run_id == locked_id,
                                                             AssessmentScore.points.is_(None))):
            score.points = Decimal("1")
    confirm = client.get(f"/assess/runs/{locked_id}?ask=lock").text
    assert "现在不能锁定" not in confirm and not re.search(r'id="confirm-lock-button" disabled', confirm)
    r = client.post(f"/assess/runs/{locked_id}/lock", data={"csrf_token": token, "confirm": "true"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=locked")
    done = client.get(r.headers["location"]).text
    assert "已锁定（定稿）" in done and "成绩已定稿" in done and "?ask=lock" not in done


def test_liaison_sees_own_unit_only(client_as, db):
    _run_id(client_as("lianxiban"))
    liaison = db.scalar(select(User).where(User.username == "danwei01"))
    own = db.get(Unit, liaison.unit_id).name
    others = [u.name for u in db.scalars(select(Unit).where(Unit.id != liaison.unit_id, Unit.is_member.is_(True)))]
    client = client_as("danwei01")
    index = client.get("/assess")
    assert index.status_code == 200 and "发起考核" not in index.text
    run_id = int(re.search(r'href="/assess/runs/(\d+)">2025<', index.text).group(1))
    page = client.get(f"/assess/runs/{run_id}").text
    assert own in page and not any(name in page for name in others)
    town = db.scalar(select(Area.id).where(Area.level == "township"))
    assert client.get(f"/assess/runs/{run_id}/township/{town}").status_code == 404
    assert client.post("/assess/runs", data={"csrf_token": csrf_of(client), "scheme_key": "binzhou",
                                             "period": "2024", "area_id": "1"}).status_code == 403
    assert client_as("ps01_quanzu").get(f"/assess/runs/{run_id}").status_code in (403, 404)


def test_api_and_cli_give_the_same_standings(api_as):
    import json

    from typer.testing import CliRunner

    from fanzha.cli.main import app

    api = api_as("lianxiban")
    runs = api.get("/api/v1/assess/runs").json()
    run = next((r for r in runs if r["period"] == "2025" and r["scheme_key"] == "binzhou"), None)
    if run is None:
        city = api.get("/api/v1/areas").json()
        root = next(a for a in city if a["level"] == "city")
        run = api.post("/api/v1/assess/runs", json={"scheme_key": "binzhou", "period": "2025", "area_id": root["id"]}).json()
    body = api.get(f"/api/v1/assess/runs/{run['id']}").json()
    rows = body["standings"]
    assert rows and {"unit", "total", "items"} <= set(rows[0])
    assert {"name", "points", "max", "basis"} <= set(rows[0]["items"][0])
    out = CliRunner().invoke(app, ["assess", "score", "--period", "2025", "--json"])
    assert out.exit_code == 0, out.output
    cli = {(r["pool"], r["unit"]): r["total"] for r in json.loads(out.output)}
    assert cli == {(r["pool"], r["unit"]): r["total"] for r in rows}
    bad = CliRunner().invoke(app, ["assess", "score", "--period", "2025-13"])
    assert bad.exit_code == 2 and "月份" in bad.output
    refused = api.post(f"/api/v1/assess/runs/{run['id']}/manual",
                       json={"pool": "unit", "assessee_id": 1, "item_key": "case_change", "points": "50", "note": "x"})
    assert refused.status_code in (404, 422)


def test_joint_office_issues_a_quarterly_notice_and_finds_it(client_as):
    client = client_as("lianxiban")
    draft = client.get("/assess/letters/new?kind=notice&quarter=2026-Q3")
    assert draft.status_code == 200 and "第3季度" in draft.text and "<textarea" in draft.text
    body = re.search(r'<textarea name="body"[^>]*>(.*?)</textarea>', draft.text, re.S).group(1)
    import html

    body = html.unescape(body) + "\n请各单位对照检查。"
    token = csrf_of(client)
    preview = client.post("/assess/letters", data={"csrf_token": token, "kind": "notice", "quarter": "2026-Q3",
                                                   "body": body, "action": "preview"})
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    # 签发并登记 asks first: the number it will take, the addressee, and that the edited text goes out.
    ask = client.post("/assess/letters", data={"csrf_token": token, "kind": "notice", "quarter": "2026-Q3",
                                               "body": body, "action": "issue"}, follow_redirects=False)
    assert ask.status_code == 200 and "确认签发？" in ask.text and "已按您的修改" in ask.text
    number = re.search(r'发文字号：<strong translate="no">([^<]+)</strong>', ask.text).group(1)
    assert "/assess/letters?kind=notice&amp;issued=" not in client.get("/assess/letters?kind=notice").text
    from support.forms import default_values, parse

    form = next(f for f in parse(ask.text).forms if ("confirm", "true") in f["fields"])
    sent = dict(default_values(form))
    assert sent["body"].replace("\r\n", "\n") == body.replace("\r\n", "\n")  # the reviewed text, carried through
    r = client.post("/assess/letters", data={**sent, "action": "issue"}, follow_redirects=False)
    assert r.status_code == 303 and "issued=" in r.headers["location"]
    register = client.get(r.headers["location"]).text
    assert f'已签发并登记：<strong translate="no">{number}</strong>' in register
    doc_id = re.search(r'/assess/letters/(\d+)\.pdf', register).group(1)
    assert "第3季度" in register and client.get(f"/assess/letters/{doc_id}.docx").content[:2] == b"PK"
    bad = client.post("/assess/letters", data={"csrf_token": token, "kind": "notice", "quarter": "2026-13",
                                               "body": body, "action": "issue", "confirm": "true"})
    assert bad.status_code == 422
    assert client_as("ps01_quanzu").get("/assess/letters/new?kind=notice&quarter=2026-Q3").status_code == 403


def test_a_shipped_scheme_carries_the_deployments_name_and_says_whose_model_it_is(client_as):
    """Inside 江州市 the 滨州 scheme is 江州市反诈工作百分制考核, labelled as following 滨州's practice; no page calls the
    deployment's assessment by another place's name."""
    client = client_as("lianxiban")
    run_id = _run_id(client)
    index = client.get("/assess").text
    assert "江州市反诈工作百分制考核（参照滨州经济技术开发区做法）" in index
    assert "江州市乡镇电信网络诈骗发案季度排名（参照江油市做法）" in index
    run = client.get(f"/assess/runs/{run_id}").text
    assert re.search(r"<h1>\d{4} 江州市反诈工作百分制考核", run)
    for page in (index, run):
        assert "滨州经济技术开发区反诈工作" not in page and "江油市乡镇" not in page
