"""A large warning file is checked by a separate process; the result must be the inline one, row for row."""

from __future__ import annotations

from fanzha.warnings import intake


def _rows(n: int) -> list[tuple[int, dict]]:
    rows = []
    for i in range(n):
        raw = {"预警编号": f"PAR{i:05d}", "预警类型": "资金预警", "预警时间": "2026-03-05 08:05",
               "手机号": f"+86 138 0000 {i:04d}", "拟转账金额": "9.55万", "现住址": "和平路88号"}
        if i % 9 == 4:
            raw["预警时间"] = "三月五日"  # unreadable: rejected with its reason
        if i % 13 == 6:
            raw["身份证号"] = "110105194912310021"  # wrong check digit
        rows.append((i + 2, raw))
    return rows


def test_checking_in_a_separate_process_gives_the_inline_result(monkeypatch):
    monkeypatch.setattr(intake, "PARALLEL_AFTER", 10)
    monkeypatch.setattr(intake, "BLOCK", 7)
    rows = _rows(60)
    inline = list(intake.check_rows(rows, processes=0))
    parallel = list(intake.check_rows(rows, processes=1))
    assert [r[0] for r in parallel] == [n for n, _ in rows]  # every row, in order
    assert parallel == inline
    rejected = {number: problem for number, _, draft, problem in parallel if draft is None}
    assert rejected[6] == ("预警时间", "预警时间 无法识别的时间：三月五日")
    assert rejected[8][0] == "身份证号" and "校验位" in rejected[8][1]
    assert len(rejected) == len({i for i in range(60) if i % 9 == 4 or i % 13 == 6})
    accepted = [draft for _, _, draft, _ in parallel if draft is not None]
    assert accepted[0].phone == "13800000000" and str(accepted[0].amount) == "95500.00"


def test_an_import_checked_in_a_separate_process_places_warnings_as_inline(db, monkeypatch):
    """End to end: the same rows through ingest_rows with and without the checking process (which also matches the
    addresses) give the same community, station, match source and grade for every warning."""
    from sqlalchemy import select

    from fanzha.config import get_settings
    from fanzha.org.models import User
    from fanzha.org.scope import Scope
    from fanzha.warnings import service
    from fanzha.warnings.models import Warning

    monkeypatch.setattr(intake, "PARALLEL_AFTER", 5)
    monkeypatch.setattr(intake, "BLOCK", 4)
    addresses = ["紫荆花园3栋", "外省务工暂住", "", "幸福小区3幢2单元", "和平路88号"]
    scope = Scope.for_user(db.scalar(select(User).where(User.username == "yanpan")))

    def rows(tag: str) -> list[tuple[int, dict]]:
        return [(i + 2, {"预警编号": f"{tag}{i:03d}", "预警类型": "涉诈短信", "预警时间": "2026-03-05 08:05",
                         "手机号": f"139{1 if tag == 'PLACEOUT' else 2}000{i:04d}", "现住址": addresses[i % 5],
                         "户籍地址": addresses[(i + 2) % 5]}) for i in range(17)]

    for tag, processes in (("PLACEIN", 0), ("PLACEOUT", 1)):
        monkeypatch.setattr(get_settings(), "import_parse_processes", processes)
        service.ingest_rows(db, scope, rows(tag))

    def placed(tag: str) -> list[tuple]:
        return [(w.community_id, w.station_id, w.match_source, w.risk_grade) for w in db.scalars(
            select(Warning).where(Warning.external_id.like(f"{tag}%")).order_by(Warning.external_id))]

    assert len(placed("PLACEOUT")) == 17
    assert placed("PLACEOUT") == placed("PLACEIN")
    assert {m for _, _, m, _ in placed("PLACEOUT")} >= {"current", "household"}
