"""The tables a bulletin can place ([[table:NAME]]), built from BulletinFigures."""

from __future__ import annotations

from fanzha.reports.document import Table
from fanzha.reports.figures import BulletinFigures
from fanzha.reports.wording import pct, signed_pct, wan_number


def _per_10k(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def build(f: BulletinFigures) -> dict[str, Table]:
    areas = Table(["排名", f.area_level_label, "发案数", "同比", "损失（万元）", "损失占比", "万人发案率"],
                  [[str(i), r.name, str(r.cases), signed_pct(r.yoy), wan_number(r.loss), pct(r.loss_share),
                    _per_10k(r.per_10k)] for i, r in enumerate(f.by_area, start=1)],
                  [0.7, 2.1, 1, 1.1, 1.6, 1.1, 1.5])
    stations = Table(["排名", "派出所", "发案数", "同比", "损失（万元）", "损失占比"],
                     [[str(i), r.name, str(r.cases), signed_pct(r.yoy), wan_number(r.loss), pct(r.loss_share)]
                      for i, r in enumerate(f.by_station, start=1)],
                     [0.7, 2.5, 1, 1.1, 1.6, 1.1])
    types = Table(["诈骗类型", "发案数", "占比", "损失（万元）", "损失占比"],
                  [[t.label, str(t.cases), pct(t.case_share), wan_number(t.loss), pct(t.loss_share)] for t in f.by_type]
                  + ([["合计", str(f.cases.current), "100.0%", wan_number(f.loss.current), "100.0%"]]
                     if f.by_type else []),
                  [2.6, 1, 1, 1.6, 1.1])
    return {"areas": areas, "stations": stations, "types": types}
