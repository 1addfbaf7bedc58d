"""The journey across roles, in Chromium, through the pages only: a 资金预警 imported by the centre is dispatched to a
station and signed by the dissuader on a phone, who asks for a 止付 of the account the money is going to; the centre
answers it from its queue and the dissuader sees the answer; the person is met face to face (with a photo) and the
warning fed back as 已被骗; the station head
downloads the feedback file; an officer files the case; 案件研判 counts it; the month's bulletin carries it; the
joint office's 滨州 assessment counts it against the victim's employer; the month's bulletin counts the 止付; the
victim is visited (回访) and the 宣防漏洞 found add up on the centre's 宣防漏洞 page.

The suite's spine: a later capability adds its steps here. Screenshots of every step go to test-artifacts/journey/.
"""

from __future__ import annotations

import calendar
import re
import struct
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from support.browser import ARTIFACTS, browser_login, guarded_page

SHOTS = ARTIFACTS / "journey"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LOSS = "9550000"  # large enough to be quoted among the month's typical cases (the three largest)
STOPPED = "60000"  # what the bank stopped of it
ACCOUNT = "6222021234567890123"  # 对方账号 in the upstream file
NARRATIVE = "受害人接到自称公安局民警的电话，称其涉嫌洗钱，要求将资金转入安全账户配合调查，受害人转账955万元。"


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small real photo: an RGB gradient, PNG-encoded by hand (no imaging library needed)."""
    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in (x * 4 % 256, y * 5 % 256, 160))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _keep(download) -> Path:
    """A downloaded file, kept beside the screenshots under the name the platform gave it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / download.suggested_filename
    download.save_as(path)
    return path


def _nav(page, label: str) -> None:
    """Follow a link of the top navigation (behind 菜单 on a phone) and wait for its page."""
    if page.locator("label.nav-button").is_visible():
        page.click("label.nav-button")
    link = page.locator("nav.nav").get_by_role("link", name=label, exact=True)
    path = link.get_attribute("href")
    link.click()
    page.wait_for_url(lambda url: urlparse(url).path == path)


def _headline(page, label: str) -> Decimal:
    """本期 of one headline figure of the 案件研判 page (立案数, 损失金额 …), as shown."""
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(f"^{label}")))
    return Decimal(row.locator("td.num").first.inner_text().replace(",", ""))


def _metric(page, label: str) -> tuple[int, int]:
    """(分子, 分母) of one rate of the 劝阻指标 page, as shown."""
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(f"^{label}$")))
    return tuple(int(row.locator("td.num").nth(i).inner_text().replace(",", "")) for i in (1, 2))


def _stops(page) -> int:
    """止付 done in the period, as the 劝阻指标 page counts them (反诈中心处理情况, the bulletin's figure)."""
    return int(re.search(r"止付 ([\d,]+) 笔", page.locator("#req-handled").inner_text()).group(1).replace(",", ""))


def _found(page) -> dict[str, int]:
    """The 宣防漏洞 page's 回访发现的宣防漏洞, 合计 row: column heading → figure."""
    table = page.locator("table.follow-up-gaps").first
    heads = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    cells = [c.strip() for c in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    return {h: int(c.replace(",", "")) for h, c in zip(heads[1:], cells[1:], strict=False)}


def _wan(amount: Decimal) -> str:
    """As bulletins write a loss: 95500 → 9.55万元."""
    return f"{(amount / 10_000).quantize(Decimal('0.01'), ROUND_HALF_UP)}万元" if amount >= 10_000 else f"{amount:.0f}元"


def _upstream_file(path, *, external_id: str, name: str, id_number: str, phone: str, address: str,
                   warned_at: datetime) -> None:
    """The spreadsheet an upstream platform pushes: one 资金预警 row, 预警时间 an Excel date-time."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "预警指令"
    ws.append(["预警编号", "预警类型", "预警时间", "姓名", "身份证号", "手机号", "现住址", "涉诈类型", "拟转账金额",
               "对方账号", "下发单位"])
    ws.append([external_id, "资金预警", warned_at.replace(tzinfo=None, second=0, microsecond=0), name, id_number,
               phone, address, "冒充公检法及政府机关", int(LOSS), ACCOUNT, "省反诈中心"])
    ws["C2"].number_format = "yyyy-mm-dd hh:mm"
    ws["E2"].number_format = "@"
    ws["F2"].number_format = "@"
    wb.save(path)


@pytest.mark.browser
def test_journey_warning_to_assessment(browser, live_server, tmp_path, db):
    from sqlalchemy import select

    from fanzha.addresses.models import StandardAddress
    from fanzha.common.identity import id_check_digit
    from fanzha.config import get_settings
    from fanzha.org.models import Area, Unit, User
    from fanzha.org.scope import Scope

    tz = ZoneInfo(get_settings().timezone)
    now = datetime.now(tz)
    month = f"{now:%Y-%m}"
    tag = f"{now:%m%d%H%M%S}{now.microsecond // 1000:03d}"
    external_id = f"YJ{tag}"
    case_number = f"A{tag}"
    name = "韩秀英"
    id_number = f"11010519580317{tag[-3:-1]}4"  # a woman born 1958: 老年人 at the loss
    id_number += id_check_digit(id_number)
    phone = "139" + tag[-8:]
    dissuader = db.scalar(select(User).where(User.username == "ps01_quanzu"))
    station = db.get(Area, dissuader.area_id)
    station_scope = Scope.for_user(dissuader)
    standard = db.scalar(select(StandardAddress.text).where(station_scope.community_clause(StandardAddress.community_id))
                         .order_by(StandardAddress.id))
    address = f"{standard}3栋2单元501室"  # as people write it: a standard address of the station, and the flat
    unit = db.scalar(select(Unit).where(Unit.is_member.is_(True)).order_by(Unit.id))
    upload = tmp_path / "省平台预警指令.xlsx"
    # Upstream saw the transfer two minutes ago; the money went a minute later, before anyone reached her.
    warned_at, lost_at = now - timedelta(minutes=2), now - timedelta(minutes=1)
    _upstream_file(upload, external_id=external_id, name=name, id_number=id_number, phone=phone, address=address,
                   warned_at=warned_at)
    photo = tmp_path / "见面劝阻现场.png"
    photo.write_bytes(_png())
    outside: list[list[str]] = []  # per browser context, the requests that tried to leave the machine
    errors: list[str] = []

    @contextmanager
    def signed_in(username: str, size: dict):
        """A browser of its own for one person, logged in through the login page."""
        context, page, leaks = guarded_page(browser, **size)
        outside.append(leaks)
        page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
        try:
            browser_login(page, live_server, username)
            yield page
        finally:
            context.close()

    # 1. The centre imports the upstream file and sees the warning dispatched to the station.
    with signed_in("yanpan", DESKTOP) as page:
        _nav(page, "预警")
        page.get_by_role("link", name="导入预警").click()
        page.set_input_files("input[name=file]", str(upload))
        page.get_by_role("button", name="上传并导入").click()
        page.wait_for_url(re.compile(r"/imports/\d+$"))
        expect(page.locator("#batch-status")).to_contain_text("已完成", timeout=20_000)
        expect(page.locator("#batch-status dt:text-is('新增') + dd")).to_have_text("1")
        _shot(page, "1-import")
        _nav(page, "预警")
        page.fill("input[name=q]", external_id)
        page.get_by_role("button", name="查询").click()
        row = page.locator("table.warnings tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(4)).to_have_text(station.name)
        row.get_by_role("link").click()
        expect(page.locator("h1")).to_contain_text("资金预警")
        routing = page.locator("section", has=page.locator("h2", has_text="分流")).inner_text()
        assert "现住址匹配" in routing and station.name in routing and dissuader.display_name in routing, routing
        _shot(page, "1-dispatched")

    # 2. The dissuader, on a phone: 我的任务 → sign → 申请止付 of the account the money is going to.
    with signed_in("ps01_quanzu", PHONE) as page:
        _nav(page, "我的任务")
        task = page.locator("a.task", has_text=name)
        expect(task).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, "2-tasks")
        task.click()
        warning_url = page.url
        page.get_by_role("button", name="签收").click()
        expect(page.locator("p.ok", has_text="已保存")).to_be_visible()
        page.locator("summary", has_text="申请查询/止付/冻结").click()
        ask = page.locator("#request-form")
        expect(ask.locator("input[name=account]")).to_have_value(ACCOUNT)  # the warning's 对方账号, filled in
        ask.locator("select[name=kind]").select_option(value="stop_payment")
        ask.locator("input[name=bank]").fill("中国工商银行江州支行")
        ask.get_by_role("button", name="提交申请").click()
        expect(page.locator("#requests")).to_contain_text("待处理")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, "2-stop-payment-asked")

    # 2b. The centre answers the 止付 from its queue (confirmed first); the month's 止付 on the metrics page move.
    with signed_in("yanpan", DESKTOP) as page:
        last_day = calendar.monthrange(now.year, now.month)[1]
        handled = f"/metrics?since={month}-01&until={month}-{last_day:02d}"  # the bulletin's month, whole
        page.goto(live_server + handled)
        stops_before = _stops(page)
        page.goto(live_server + "/requests")
        pending = page.locator("#pending article.request", has_text="6222****0123")
        expect(pending).to_have_count(1)
        answer = pending.locator("form[id^=answer-]")
        answer.locator("select[name=outcome]").select_option(label="已止付")
        answer.locator("input[name=amount]").fill(STOPPED)
        answer.locator("input[name=reference]").fill(f"ZF{tag}")
        answer.get_by_role("button", name="回复").click()
        page.locator("#confirm-answer-button").click()
        expect(page.locator("#recorded")).to_be_visible()
        _shot(page, "2-stop-payment-answered")
        page.goto(live_server + handled)
        assert _stops(page) == stops_before + 1

    # 2c. The dissuader sees the answer (a notification, the warning page), then 见面 with a photo → 反馈 已被骗.
    with signed_in("ps01_quanzu", PHONE) as page:
        page.goto(live_server + "/notifications")
        told = page.locator("main li, main tr, main article", has_text="止付申请已回复：已止付")
        expect(told.first).to_be_visible()
        _shot(page, "2-stop-payment-told")
        page.goto(warning_url)
        expect(page.locator("#requests")).to_contain_text("已止付")
        expect(page.locator("#requests")).to_contain_text(f"ZF{tag}")
        form = page.locator("#contact-form")
        form.locator("select[name=channel]").select_option(label="见面")
        form.locator("select[name=result]").select_option(label="已联系上")
        form.locator("input[name=note]").fill("上门见面，对象已按对方要求转账，告知立即报警")
        form.locator("input[name=photo]").set_input_files(str(photo))
        form.locator("input[name=location]").fill(address)
        form.get_by_label("查看大额或频繁转账").check()
        form.get_by_role("button", name="保存联系记录").click()
        expect(page.locator("ol.timeline")).to_contain_text("计入见面劝阻")
        outcome = page.locator("#outcome-form")
        outcome.locator("select[name=outcome]").select_option(label="已被骗")
        outcome.get_by_label("受骗金额").fill(LOSS)
        outcome.locator("input[name=note]").fill("对象已转账，已引导报警")
        _shot(page, "2-before-feedback")
        outcome.get_by_role("button", name="反馈并结案").click()
        page.get_by_role("button", name="确认结案").first.click()  # closing asks first
        expect(page.locator("p.ok", has_text="已反馈")).to_contain_text("已反馈：已被骗")
        expect(page.locator("p.ok", has_text="已反馈")).to_contain_text(f"受骗金额 {Decimal(LOSS):,.2f} 元")
        expect(page.locator("#act")).to_have_count(0)
        deadlines = page.locator("dl.kv").first
        for step in ("签收", "首次联系", "见面劝阻", "反馈"):
            done = deadlines.locator(f"dt:text-is('{step}') + dd")
            expect(done).to_contain_text("完成")
            assert "超时" not in done.inner_text(), step
        assert page.locator("ol.timeline a", has_text="照片").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, "2-closed")

    # 3. The station head downloads the feedback file and finds the warning's row.
    with signed_in("ps01_suozhang", DESKTOP) as page:
        _nav(page, "指标")
        with page.expect_download() as download:
            page.get_by_role("link", name="查看反馈表（Excel）").click()
        from openpyxl import load_workbook

        kept = _keep(download.value)
        assert re.fullmatch(r"反馈表-[\d-]+\.xlsx", kept.name), kept.name
        sheet = load_workbook(kept).active
        rows = [[("" if v is None else str(v)) for v in r] for r in sheet.iter_rows(values_only=True)]
        header = rows[0]
        mine = [dict(zip(header, r, strict=False)) for r in rows[1:] if r[header.index("预警编号")] == external_id]
        assert len(mine) == 1, f"{external_id} not in the feedback file"
        assert (mine[0]["劝阻结果"], mine[0]["是否被骗"], mine[0]["联系方式"], mine[0]["受骗金额"]) == (
            "劝阻无效", "是", "见面", f"{LOSS}.00")
        assert "见面：已联系上" in mine[0]["上门情况"] and "有现场证据" in mine[0]["上门情况"]
        _shot(page, "3-metrics")

    # 4–5. The centre reads 预后被骗率 and 案件研判 for the month; an officer of the station files the case; both move.
    with signed_in("yanpan", DESKTOP) as page, signed_in("ps01_minjing", DESKTOP) as p:
        _nav(page, "指标")
        defrauded_after_warning = _metric(page, "预后被骗率")
        _nav(page, "案件研判")
        page.fill("input[name=period]", month)
        page.get_by_role("button", name="查询").click()
        page.wait_for_url(re.compile(f"period={month}"))
        before = _headline(page, "立案数"), _headline(page, "损失金额")

        _nav(p, "案件")
        p.get_by_role("link", name="登记案件").click()
        fields = {"案件编号": case_number, "立案时间": f"{now:%Y-%m-%d %H:%M}", "被骗时间": f"{lost_at:%Y-%m-%d %H:%M}",
                  "姓名": name, "身份证号": id_number, "手机号": phone, "发案地址": address, "损失金额": LOSS,
                  "工作单位": unit.name}
        for field, value in fields.items():
            p.fill(f"form input[name='{field}']", value)
        p.fill("form textarea[name='简要案情']", NARRATIVE)
        p.get_by_role("button", name="登记").click()
        p.wait_for_url(re.compile(r"/cases/\d+$"))
        facts = p.locator("dl.kv").first
        expect(facts.locator("dt:text-is('诈骗类型') + dd")).to_contain_text("冒充公检法及政府机关")
        expect(facts.locator("dt:text-is('诈骗类型') + dd")).to_contain_text("待确认")
        gaps = p.locator("section", has=p.locator("h2", has_text="宣防漏洞")).inner_text()
        assert re.search(r"预警\s+已触达", gaps) and re.search(r"见面/走访\s+未触达", gaps), gaps  # met after the loss
        _shot(p, "4-case")
        p.get_by_role("button", name="确认类型").click()
        expect(facts.locator("dt:text-is('诈骗类型') + dd")).not_to_contain_text("待确认")

        page.reload()
        after = _headline(page, "立案数"), _headline(page, "损失金额")
        assert after == (before[0] + 1, before[1] + Decimal(LOSS)), (before, after)
        _shot(page, "5-stats")
        _nav(page, "指标")
        num, den = defrauded_after_warning
        assert _metric(page, "预后被骗率") == (num + 1, den), "the loss a minute after the warning is not counted"

        # 6. The month's bulletin: preview, issue, download both files; they carry the month's figures — the 止付 as
        #    the metrics page counts them for the same month.
        page.goto(live_server + handled)
        stops_now = _stops(page)
        assert stops_now >= stops_before + 1
        _nav(page, "通报")
        page.fill("section.card input[name=period]", month)
        page.locator("section.card").get_by_role("button", name="预览").click()
        expect(page.locator("article.official")).to_be_visible()
        _shot(page, "6-bulletin-preview")
        # 编号发出并存档 asks first: the number it will take, the title, the date; a month out already is a revision.
        page.locator("a#issue").click()
        confirm = page.locator("#confirm-issue")
        expect(confirm).to_contain_text("发文字号")
        if confirm.locator("textarea[name=revision_note]").count():
            confirm.locator("textarea[name=revision_note]").fill("补录本月立案的电信网络诈骗案件")
        _shot(page, "6-bulletin-confirm")
        number = re.search(r"发文字号：(\S+?〔\d{4}〕\d+号)", confirm.inner_text()).group(1)
        confirm.locator("#confirm-issue-button").click()
        expect(page.locator("#issued-notice")).to_contain_text(f"已编号发出：{number}")
        issued = page.locator("tr.highlight")
        expect(issued).to_have_count(1)
        with page.expect_download() as docx_file:
            issued.get_by_role("link", name="Word").click()
        with page.expect_download() as pdf_file:
            issued.get_by_role("link", name="PDF").click()
        from docx import Document
        from pypdf import PdfReader

        doc = Document(_keep(docx_file.value))
        docx_text = "\n".join(para.text for para in doc.paragraphs)
        pdf_text = "".join(pg.extract_text() for pg in PdfReader(_keep(pdf_file.value)).pages)
        _shot(page, "6-bulletin-issued")
        # The figures of the month, and the case quoted as typed among the typical cases (典型案例).
        figures = f"共立电信网络诈骗案件{after[0]}起", f"造成损失{_wan(after[1])}", NARRATIVE, f"紧急止付{stops_now}次"
        for text in (docx_text, re.sub(r"\s+", "", pdf_text)):
            assert all(f in text for f in figures), ([f for f in figures if f not in text], text[:400])

    # 6b. The person is visited (回访, due a week after the case was filed; done early here), on a phone: 已被骗, and
    #     where outreach missed her — no app, never met. The centre's 宣防漏洞 page counts what the visit found.
    gaps_url = f"/cases/gaps?start={month}-01&end={now:%Y-%m-%d}"
    with signed_in("yanpan", DESKTOP) as page:
        page.goto(live_server + gaps_url)
        found_before = _found(page)
    with signed_in("ps01_quanzu", PHONE) as page:
        _nav(page, "回访")
        page.locator("select[name=reason]").select_option(label="立案受害人回访")
        page.get_by_role("button", name="查询").click()
        visit = page.locator("a.task", has_text=case_number)  # the case's own 回访, the name masked (韩某某)
        expect(visit).to_have_count(1)
        expect(visit).to_contain_text(f"{name[0]}某某")
        _shot(page, "6b-follow-ups")
        visit.click()
        form = page.locator("form.follow-up-form")
        form.get_by_text("已被骗", exact=True).click()
        form.get_by_role("button", name="保存回访").click()  # 已被骗 needs at least one 漏洞: refused, kept
        expect(page.locator("form.follow-up-form p.alert")).to_contain_text("至少选择一项宣防漏洞")
        expect(form.locator("input[name=outcome][value=defrauded]")).to_be_checked()
        form.get_by_text("未下载APP", exact=True).click()
        form.get_by_text("未见面", exact=True).click()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, "6b-follow-up-form")
        form.get_by_role("button", name="保存回访").click()
        expect(page.locator("p.ok")).to_contain_text("回访已保存")
    with signed_in("yanpan", DESKTOP) as page:
        page.goto(live_server + gaps_url)
        found_after = _found(page)
        page.locator("#follow-up-gaps").scroll_into_view_if_needed()
        _shot(page, "6b-gaps")
    assert found_after["已回访"] == found_before["已回访"] + 1
    assert (found_after["未下载APP"], found_after["未见面"]) == (found_before["未下载APP"] + 1, found_before["未见面"] + 1)
    assert found_after["家属不知情"] == found_before["家属不知情"]

    # 7. The joint office runs the 滨州 scheme for the year and finds the case counted against the employer.
    with signed_in("lianxiban", DESKTOP) as page:
        _nav(page, "考核")
        form = page.locator("form[action='/assess/runs']")
        form.locator("select[name=scheme_key]").select_option("binzhou")
        form.locator("input[name=period]").fill(f"{now:%Y}")
        form.get_by_role("button", name="计算").click()
        page.wait_for_url(re.compile(r"/assess/runs/\d+$"))
        with page.expect_navigation():  # a run made before the case was filed counts it once scored again
            page.get_by_role("button", name="重新计算数据项").click()
        _shot(page, "7-assessment")
        units = page.locator("section.card", has=page.locator("h2", has_text="成员单位"))
        units.get_by_role("link", name=unit.name, exact=True).click()
        expect(page.locator("h1")).to_contain_text(re.compile(r"总分 \d+(\.\d)?，第 \d+ 名"))
        counted = page.locator("section.card", has_text="计入本期的案件")
        expect(counted).to_contain_text(case_number)
        _shot(page, "7-unit")

    # 8. The station head hands an open warning of the station to its officer (改派, confirmed first); the timeline
    #    keeps the original assignment and adds the 改派.
    from fanzha.db import session_scope
    from support.dissuasion import fresh_warning

    with session_scope() as s:
        held = fresh_warning(s, tag="JRN")
        held_id, held_ext = held.id, held.external_id
    officer = db.scalar(select(User).where(User.username == "ps01_minjing"))
    with signed_in("ps01_suozhang", DESKTOP) as page:
        page.goto(f"{live_server}/warnings/{held_id}")
        page.locator("#reassign summary").click()
        form = page.locator("#reassign-form")
        form.locator("select[name=user_id]").select_option(str(officer.id))
        form.locator("input[name=reason]").fill("原劝阻员外出培训")
        form.get_by_role("button", name="改派…").click()
        expect(page.locator("#confirm-reassign")).to_contain_text(
            f"将预警 {held_ext} 由 {dissuader.display_name} 改派给 {officer.display_name}")
        page.get_by_role("button", name="确认改派").click()
        expect(page.locator("#done-message")).to_contain_text(f"改派给 {officer.display_name}")
        timeline = page.locator("ol.timeline")
        expect(timeline.locator("li.assigned", has_text=f"指派给 {dissuader.display_name}")).to_have_count(1)
        expect(timeline.locator("li.reassign", has_text=f"改派给 {officer.display_name}")).to_have_count(1)
        _shot(page, "8-reassigned")

    # 9. The station head's board: what is late at a glance, each figure a link to its warnings, exported to Excel.
    with signed_in("ps01_suozhang", DESKTOP) as page:
        _nav(page, "预警")
        overdue = page.locator("#board-figures .figure-overdue dd a")
        count = int(overdue.inner_text().replace(",", ""))
        overdue.click()
        page.wait_for_url(re.compile(r"flag=overdue"))
        expect(page.locator("h1")).to_contain_text(f"共 {count:,} 条")
        _shot(page, "9-board-overdue")
        with page.expect_download() as sheet:
            page.get_by_role("link", name="导出 Excel").click()
        from openpyxl import load_workbook

        rows = list(load_workbook(_keep(sheet.value)).active.iter_rows(values_only=True))
        assert rows[0][0] == "预警编号" and len(rows) - 1 == count, (count, len(rows))

    # 10. A grid worker of the first county records today's 扫楼 from their home, on a phone: today is a day of the
    #     county's 扫楼 and of the city's 宣传月, so the activity counts toward both, and both progress pages count it.
    from fanzha.prevention.models import Campaign, CampaignArea

    sweep = db.scalar(select(Campaign).where(Campaign.kind == "sweep").order_by(Campaign.id))
    month = db.scalar(select(Campaign).where(Campaign.kind == "month").order_by(Campaign.id))
    swept = db.get(Area, db.scalar(select(CampaignArea.area_id).where(CampaignArea.campaign_id == sweep.id)))
    worker = db.scalar(select(User).join(Area, User.area_id == Area.id).where(
        User.role == "grid_worker", Area.path.startswith(swept.path)).order_by(User.username))

    def done_households(page, campaign_id: int) -> int:
        page.goto(f"{live_server}/prevention/campaigns/{campaign_id}?metric=households")
        return int(page.locator("#progress tr.total td").nth(3).inner_text().replace(",", ""))

    with signed_in(worker.username, PHONE) as page:
        before = {c.id: done_households(page, c.id) for c in (sweep, month)}
        page.goto(live_server + "/")
        first = page.locator(".shortcuts a").first
        expect(first).to_have_text("记录宣传活动")
        first.click()
        form = page.locator("#activity-form")
        form.locator("select[name=kind]").select_option("sweep")
        form.locator("input[name=households]").fill("23")
        form.locator("input[name=leaflets]").fill("40")
        page.click("#save-activity")
        for c in (month, sweep):  # (and the station's 进校园周 where the worker's village lies in it)
            expect(page.locator("#counted")).to_contain_text(f"“{c.name}”")
        _shot(page, "10-activity-in-two-campaigns")
        for c in (sweep, month):
            page.locator("#campaigns").get_by_role("link", name=c.name).click()
            expect(page.locator("#progress tr.total td").nth(3)).to_have_text(f"{before[c.id] + 23:,}")
            page.go_back()

    assert not [url for leaks in outside for url in leaks], outside
    assert not errors, errors
