"""Charts in documents draw their Chinese labels whatever state matplotlib's font cache is in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fanzha.reports import charts
from fanzha.reports.figures import TypeRow

DRAW = """
import sys, warnings
warnings.simplefilter("error")  # a missing glyph is a UserWarning: make it fail
from fanzha.reports.charts import type_breakdown
from fanzha.reports.figures import TypeRow
rows = [TypeRow(key=c, label=l, cases=n, loss=0) for c, l, n in
        [("brushing", "刷单返利类", 12), ("investment", "虚假网络投资理财类", 7), ("romance", "网络婚恋、交友类", 3)]]
png = type_breakdown(rows)
assert png.startswith(b"\\x89PNG"), "not a PNG"
sys.stdout.write(str(len(png)))
"""


def test_a_chart_in_a_fresh_matplotlib_configuration_draws_every_label(tmp_path):
    """A new, empty MPLCONFIGDIR means matplotlib builds its font cache afresh (or, on a machine where the cache
    predates the fonts, finds none of them): the chart registers its font file itself and warns of no glyph."""
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", DRAW], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 5_000


def test_a_stale_cache_without_the_fonts_still_draws_them(tmp_path):
    """The font cache of a machine set up before the CJK fonts: it lists no CJK family at all."""
    stale = f"""
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist if "DejaVu" in f.name]
font_manager._load_fontmanager = lambda **kw: font_manager.fontManager
{DRAW}
"""
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    done = subprocess.run([sys.executable, "-c", stale], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_character_the_font_lacks_stops_the_chart_with_its_name():
    rows = [TypeRow(key="other", label="其他\U0001F600", cases=1, loss=0)]
    with pytest.raises(charts.ChartFontMissing) as info:
        charts.type_breakdown(rows)
    assert "缺少这些字" in info.value.message and "\U0001F600" in info.value.message
