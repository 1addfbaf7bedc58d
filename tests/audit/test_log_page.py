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
