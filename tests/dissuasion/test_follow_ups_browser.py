"""回访 on a 390 px phone: the station's queue, the form's big toggles, a refused empty form, then 已被骗 with its
宣防漏洞 saved — nothing wider than the screen, nothing fetched from another machine."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.browser import ARTIFACTS, browser_login, guarded_page


@pytest.mark.browser
def test_a_case_victims_follow_up_on_a_phone(browser, live_server, db):
    from fanzha.db import session_scope
    from fanzha.dissuasion.models import FollowUp
    from support.follow_ups import a_week_later, file_case, follow_up_of

    with session_scope() as s:
        f = follow_up_of(s, file_case(s, station_user="ps03_quanzu"))
        a_week_later(f)
        fid = f.id
    context, page, outside = guarded_page(browser, 390, 844, is_mobile=True, has_touch=True)
    try:
        browser_login(page, live_server, "ps03_quanzu")
        page.goto(live_server + "/follow-ups?state=overdue")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "follow-ups-390.png"), full_page=True)
        page.click(f"#f{fid}")
        page.wait_for_selector(f"#follow-up-{fid}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        heights = page.eval_on_selector_all(f"#follow-up-{fid} label.wp-toggle",
                                            "els => els.map(e => e.getBoundingClientRect().height)")
        assert len(heights) == 13 and min(heights) >= 44  # seven states and six 漏洞, each a thumb's size
        page.click(f"#follow-up-{fid} button.primary")  # nothing chosen
        page.wait_for_selector("text=请选择回访状态")
        page.click(f"#follow-up-{fid} label.wp-toggle:has(input[value=defrauded])")
        page.click(f"#follow-up-{fid} label.wp-toggle:has(input[value=no_app])")
        page.click(f"#follow-up-{fid} label.wp-toggle:has(input[value=not_met])")
        page.fill(f"#follow-up-{fid} textarea[name=note]", "上门见到本人，未安装国家反诈中心APP")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "follow-up-390.png"), full_page=True)
        page.click(f"#follow-up-{fid} button.primary")
        page.wait_for_selector("text=回访已保存")
        assert not outside
    finally:
        context.close()
    db.expire_all()
    saved = db.scalar(select(FollowUp).where(FollowUp.id == fid))
    assert (saved.outcome, saved.gaps) == ("defrauded", ["no_app", "not_met"])
