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
