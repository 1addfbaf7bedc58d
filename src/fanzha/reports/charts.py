"""Charts drawn on the server for documents: matplotlib (Agg) with a CJK font found on the machine, as PNG."""

from __future__ import annotations

import io
from functools import lru_cache

from fanzha.common.errors import DomainError
from fanzha.reports.figures import TypeRow

# Hei for chart labels, as printed bulletins do: the first of these files that is installed (./dev sets up
# fonts-wqy-zenhei). The file is registered with matplotlib directly, so a font cache built before the fonts were
# installed cannot turn the labels into boxes.
CHART_FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
]
RED = "#c00000"


class ChartFontMissing(DomainError):
    """No installed font draws every character of a chart: the document is not built rather than issued with boxes."""

    status_code = 503
    code = "chart_font"


@lru_cache(maxsize=1)
def _font() -> tuple[str, frozenset[int]]:
    """(family name, the characters it draws) of the first chart font file found, registered with matplotlib."""
    from pathlib import Path

    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for path in CHART_FONT_FILES:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name(), frozenset(FT2Font(path).get_charmap())
    raise ChartFontMissing("图表需要中文字体，未找到：" + "、".join(CHART_FONT_FILES) + "（请安装 fonts-wqy-zenhei）")


def check_glyphs(*texts: str) -> None:
    """Refuses text the chart font cannot draw, naming the characters."""
    name, chars = _font()
    missing = sorted({ch for t in texts for ch in t if not ch.isspace() and ord(ch) not in chars})
    if missing:
        raise ChartFontMissing(f"图表字体 {name} 缺少这些字：{''.join(missing[:20])}")


@lru_cache(maxsize=1)
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name, _ = _font()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
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
    notes = [f" {v}起（{v * 100 / total:.1f}%）" for v in values]
    check_glyphs("发案数（起）", *labels, *notes)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.1, 0.42 * len(labels) + 0.9), dpi=200)
    bars = ax.barh(range(len(labels)), values, color=RED, height=0.6)
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.invert_yaxis()
    ax.set_xlabel("发案数（起）", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for bar, note in zip(bars, notes, strict=False):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, note, va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.35)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
