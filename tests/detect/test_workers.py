"""`fanzha detect score --workers N`: the same output file, row for row, as one process; repeated texts in a chunk
are scored once and get the same columns."""

from __future__ import annotations

import csv

from fanzha.detect.scorefile import score_file, score_texts

TEXTS = ["您好，我是京东客服，您的校园贷需要注销，否则影响征信", "晚上回家吃饭吗", "全场五折，回T退订", "澳门娱乐城首充送彩金",
         "【招商银行】您尾号1234的储蓄卡12月1日支出58.00元，余额3,210.55元。", "兼职刷单，先垫付后返佣金"]


def test_workers_write_the_same_file_as_one_process(tmp_path):
    src = tmp_path / "in.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(5000):  # three chunks of 2,048
            w.writerow([i, TEXTS[i % len(TEXTS)] + ("" if i % 7 else f" {i}")])
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    s1 = score_file(str(src), str(one))
    s2 = score_file(str(src), str(two), workers=2)
    assert one.read_bytes() == two.read_bytes()
    assert s1.rows == s2.rows == 5000 and s1.risks == s2.risks


def test_a_repeated_text_is_scored_once_with_the_same_columns():
    cols = score_texts([TEXTS[0], TEXTS[1], TEXTS[0]])
    assert cols[0] == cols[2] and cols[0][0] == "fraud"
