"""Hostile files, as an attacker would send them: a 10 MB cell refuses its own row with a reason (kept cut short in
the error file) while the good rows go in; a zip bomb is refused before it is unpacked; rows past the limit are
refused in one error row; the error file streams."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.imports import reader
from fanzha.imports.models import ImportRowError
from fanzha.imports.reader import Columns, FileProblem, Limits, read_rows

COLUMNS = Columns({"标准地址": (), "所属村社区": (), "地址类型": ()}, required=("标准地址",))


def _upload(client, name: str, content: bytes, kind: str):
    page = client.get("/addresses")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    r = client.post("/addresses/import", data={"csrf_token": token}, files={"file": (name, content, kind)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_a_ten_megabyte_cell_refuses_its_row_and_the_good_rows_go_in(client_as, db):
    huge = "锦" * (10 * 1024 * 1024 // 3)  # 10 MB of UTF-8 in one cell
    lines = ["标准地址,地址类型,所属村社区", "锦绣社区长街限1号,门牌,锦绣社区", f"{huge},门牌,锦绣社区",
             "锦绣社区长街限3号,门牌,锦绣社区"]
    client = client_as("ps01_suozhang")
    batch_id = _upload(client, "超长单元格.csv", ("\r\n".join(lines) + "\r\n").encode("utf-8"), "text/csv")
    status = client.get(f"/imports/{batch_id}")
    assert "已完成" in status.text
    numbers = dict(re.findall(r"<dt>(\S+?)</dt><dd>(\d+)</dd>", status.text))
    assert (numbers["读取"], numbers["新增"], numbers["错误"]) == ("3", "2", "1")
    stored = set(db.scalars(select(StandardAddress.text).where(StandardAddress.text.like("锦绣社区长街限%"))))
    assert stored == {"锦绣社区长街限1号", "锦绣社区长街限3号"}
    error = db.scalar(select(ImportRowError).where(ImportRowError.batch_id == batch_id))
    assert error.row_number == 3 and error.column == "标准地址"
    assert error.reason.startswith("标准地址过长（3,495,253 字，上限 10,000 字）")
    assert len(error.raw["标准地址"]) < reader.RAW_CELL_CHARS + 40  # kept cut short, not 10 MB
    got = client.get(f"/imports/{batch_id}/errors.csv")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["3", "标准地址", error.reason] and "已截断" in rows[1][3]


def _xlsx(path, extra: dict[str, int] | None = None):
    wb = Workbook()
    ws = wb.active
    ws.append(["标准地址", "地址类型", "所属村社区"])
    ws.append(["锦绣社区长街1号", "门牌", "锦绣社区"])
    wb.save(path)
    if extra:  # a part that expands to `size` bytes of zeros (deflate packs them about 1,000 to 1)
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
            for name, size in extra.items():
                with z.open(name, "w", force_zip64=True) as out:
                    block = b"\0" * (1 << 20)
                    for _ in range(size >> 20):
                        out.write(block)
    return path


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    limits = Limits(unzipped_bytes=20 << 20, rows=100, cell_chars=1000)
    plain = _xlsx(tmp_path / "plain.xlsx")
    _, rows = read_rows(plain, COLUMNS, limits)
    assert [r for _, r in rows] == [{"标准地址": "锦绣社区长街1号", "地址类型": "门牌", "所属村社区": "锦绣社区"}]
    bomb = _xlsx(tmp_path / "bomb.xlsx", {"xl/media/filler.bin": 64 << 20})
    assert bomb.stat().st_size < 1 << 20  # under a megabyte on disk
    with pytest.raises(FileProblem, match=r"解压后达 64 MB，超过上限 20 MB"):
        read_rows(bomb, COLUMNS, limits)


def test_a_zip_bomb_upload_fails_its_batch_with_the_reason(client_as, tmp_path, monkeypatch):
    monkeypatch.setattr(Limits, "configured", classmethod(lambda cls: Limits(20 << 20, 2_000_000, 10_000)))
    content = _xlsx(tmp_path / "bomb.xlsx", {"xl/media/filler.bin": 64 << 20}).read_bytes()
    client = client_as("ps01_suozhang")
    batch_id = _upload(client, "压缩炸弹.xlsx",
                       content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    status = client.get(f"/imports/{batch_id}")
    assert "解压后达 64 MB，超过上限 20 MB" in status.text


def test_rows_past_the_limit_are_refused_in_one_error_row(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("标准地址,地址类型,所属村社区\n" + "".join(f"街{i}号,门牌,锦绣社区\n" for i in range(10)),
                    encoding="utf-8")
    _, rows = read_rows(path, COLUMNS, Limits(unzipped_bytes=1 << 30, rows=4, cell_chars=1000))
    assert [n for n, _ in rows] == [2, 3, 4, 5]
    assert rows.rejected == [(6, "", "超过单次导入上限 4 行：第 6 行起均未导入，请拆分文件后导入其余部分", {})]


def test_the_error_file_streams_in_chunks():
    from fanzha.common import tabular

    chunks = list(tabular.csv_chunks(["行号"], ([i] for i in range(2500)), every=1000))
    assert len(chunks) == 3 and b"".join(chunks).decode("utf-8-sig").splitlines()[-1] == "2499"
