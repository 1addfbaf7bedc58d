"""Charts drawn on the server for documents: matplotlib (Agg) with a CJK font found on the machine, as PNG."""

from __future__ import annotations

import io
from functools import lru_cache

from fanzha.reports.figures import TypeRow

# Hei for chart labels, as printed bulletins do; any of these that is installed (fonts-wqy-zenhei is set up by ./dev).
CHART_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "AR PL SungtiL GB", "DejaVu Sans"]
RED = "#c00000"


@lru_cache(maxsize=1)
def _pyplot():
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt

    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = CHART_FONTS
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["svg.fonttype"] = "none"
    return plt


def type_breakdown(rows: list[TypeRow], *, limit: int = 8) -> bytes:
    """Cases per fraud type as horizontal bars (largest on top), each labelled with its count and share; the
    types past `limit` are summed as 其他类型. Empty bytes when there is nothing to draw."""
    rows = [r for r in rows if r.cases]
    if not rows:
        return b""
    shown = rows[:limit]
    rest = rows[limit:]
    labels = [r.label for r in shown] + (["其他类型"] if rest else [])
    values = [r.cases for r in shown] + ([sum(r.cases for r in rest)] if rest else [])
    total = sum(values)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.1, 0.42 * len(labels) + 0.9), dpi=200)
    bars = ax.barh(range(len(labels)), values, color=RED, height=0.6)
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.invert_yaxis()
    ax.set_xlabel("发案数（起）", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for bar, v in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v}起（{v * 100 / total:.1f}%）",
                va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.35)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
