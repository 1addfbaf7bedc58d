"""Browser: the case map and the wall screen draw their charts from the platform's own API, with no script error
and no request leaving the machine."""

from __future__ import annotations

import pytest

from support.browser import ARTIFACTS, browser_login, guarded_page


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two CSS colours (#rrggbb or rgb()/rgba())."""
    import re

    def luminance(css: str) -> float:
        css = css.strip()
        if css.startswith("#"):
            rgb = [int(css[i:i + 2], 16) for i in (1, 3, 5)]
        else:
            rgb = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
        lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


LABELS_ON_FILLS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const colours = {};
  (chart.getOption().geo[0].regions || []).forEach(function (r) { colours[r.name] = r.label && r.label.color; });
  const data = chart.getModel().getSeriesByIndex(0).getData();
  const out = [];
  for (let i = 0; i < data.count(); i++) {
    out.push([data.getName(i), data.getItemVisual(i, "style").fill, colours[data.getName(i)] || null]);
  }
  return out;
}"""


def _assert_labels_contrast(page, element_id: str) -> None:
    """Every choropleth area's label against the colour the visual map painted the area: at least 4.5:1."""
    pairs = page.evaluate(LABELS_ON_FILLS, element_id)
    assert pairs, "no area drawn"
    fills = {fill for _, fill, _ in pairs}
    assert len(fills) >= 2, fills  # light and dark areas both present, or the check proves little
    for name, fill, label in pairs:
        assert label is not None, name
        assert _contrast(fill, label) >= 4.5, (name, fill, label)


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


@pytest.mark.browser
def test_map_draws_choropleth_and_lists_areas(browser, live_server):
    context, page, outside = guarded_page(browser, 1280, 900)
    errors = _watch(page)
    try:
        browser_login(page, live_server, "admin")
        page.goto(live_server + "/map")
        page.wait_for_selector("#casemap canvas", timeout=15000)
        page.wait_for_selector("#casemap-table tbody tr", timeout=15000)
        assert page.locator("#casemap canvas").count() >= 1
        rows = page.locator("#casemap-table tbody tr")
        assert rows.count() >= 3
        assert "分级设色" in page.locator("#casemap-table").inner_text()  # the demo ships boundaries
        _assert_labels_contrast(page, "casemap")
        page.goto(live_server + "/map?metric=per_10k")
        page.wait_for_selector("#casemap canvas", timeout=15000)
        page.wait_for_selector("#casemap-table tbody tr", timeout=15000)
        _assert_labels_contrast(page, "casemap")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-1280.png"), full_page=True)
        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
def test_wall_screen_fills_every_panel(browser, live_server):
    context, page, outside = guarded_page(browser, 1920, 1080)
    errors = _watch(page)
    feeds: list[str] = []
    page.on("request", lambda r: feeds.append(r.url) if "/api/v1/screen" in r.url else None)
    try:
        browser_login(page, live_server, "yanpan")
        page.goto(live_server + "/screen")
        page.wait_for_selector("#r-stations tbody tr", timeout=20000)  # filled last, after every chart
        for panel in ("#c-trend", "#c-types", "#c-map"):
            assert page.locator(f"{panel} canvas").count() >= 1, panel
        assert page.locator("#t-cases").inner_text().strip() not in ("", "—")
        for tile in ("#t-dispatched", "#t-signed", "#t-fed_back", "#t-dissuaded", "#t-overdue"):
            assert page.locator(tile).inner_text().strip() not in ("", "—"), tile
        assert page.locator("#l-fed_back").inner_text() == "今日处理（反馈）"
        assert page.locator("#b-fed_back").inner_text() == "按反馈时间计，不论哪天下发"
        assert "各数按事件发生的时间计" in page.locator("#s-today").inner_text()
        _assert_labels_contrast(page, "c-map")
        assert page.locator("#r-townships tbody tr").count() >= 1
        assert feeds, "the screen did not fetch its JSON feed"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1920, f"wider than the screen: {width}px"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screen-1920.png"))
        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/cases/stats", "/metrics", "/"])
def test_the_analysts_pages_fit_a_phone(browser, live_server, path):
    """390 px (a common phone): the case analysis (its breakdown tables in a two-column grid on a desktop), the
    metrics and the board fit the screen; a table may scroll inside its own frame, the page does not."""
    context, page, outside = guarded_page(browser, 390, 844)
    try:
        browser_login(page, live_server, "yanpan")
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path}: the page scrolls sideways on a phone ({width} px)"
        assert not outside, f"requests left the machine: {outside}"
    finally:
        context.close()
