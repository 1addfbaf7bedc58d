"""The audit log's page names every kind of record in Chinese, imports included (their entries name the importer)."""

from __future__ import annotations

from fanzha import trail


def test_an_import_entry_reads_as_the_importers_name_and_can_be_filtered(client_as, db):
    trail.record(db, None, "import", "registry", 987654, username="yanpan", detail={"filename": "名单.xlsx"})
    db.commit()
    page = client_as("admin").get("/admin/audit", params={"entity": "registry"})
    assert page.status_code == 200
    assert "易受骗群体名单导入 987654" in page.text
    assert '<option value="registry" selected>易受骗群体名单导入</option>' in page.text
    assert ">registry " not in page.text


def test_every_action_the_code_records_has_a_chinese_label():
    """The log page and its filter show ACTION_LABELS' words; an action missing there reached the page as its code
    (password_failed read "password_failed" on /admin/audit). Every literal action passed to audit.record is
    labelled (audit.record and trail.record), and so are the two the login writes through a variable (login, token)."""
    import re
    from pathlib import Path

    from fanzha.audit.service import ACTION_LABELS

    src = Path(__file__).resolve().parents[2] / "src" / "fanzha"
    call = re.compile(r'(?:audit|trail)\.record\(\s*[^,()]+,\s*[^,()]+,\s*"([a-z_]+)"')
    used = {m.group(1) for p in src.rglob("*.py") for m in call.finditer(p.read_text(encoding="utf-8"))}
    assert {"password_failed", "login_failed", "view", "update"} <= used  # the scan finds the calls
    assert sorted((used | {"login", "token"}) - ACTION_LABELS.keys()) == []


def test_a_failed_password_change_reads_in_chinese_on_the_log_page(client_as, db):
    trail.record(db, None, "password_failed", "user", 424242, username="yanpan", detail={"reason": "bad_password"})
    db.commit()
    page = client_as("admin").get("/admin/audit", params={"action": "password_failed"})
    assert page.status_code == 200
    assert ">修改密码失败<" in page.text and "password_failed</td>" not in page.text
