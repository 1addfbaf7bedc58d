"""Bulletins (通报): figures from a hand-made month, the PDF and the DOCX opened and read back, the GB/T 9704 page,
the register's numbering, the CLI and the pages."""

from __future__ import annotations

import io
import re
import threading
from datetime import date

import pytest
from sqlalchemy import select

from fanzha.common import periods
from fanzha.db import session_scope
from fanzha.org.scope import Scope
from fanzha.reports import service
from fanzha.reports.models import IssuedDocument
from support.bulletin import places

MM = 72 / 25.4


@pytest.fixture(scope="module")
def rendered(june):
    with session_scope() as s:
        out = service.render(s, Scope.system(s), periods.parse("2024-06"), None, seq=7, issued_on=date(2024, 7, 3))
        s.rollback()
    return out


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_a_bulletin_is_about_a_day_a_week_a_month_or_a_quarter():
    from fanzha.common.errors import Invalid
    from fanzha.reports import bulletin

    assert [bulletin.doc_kind(bulletin.parse_period(t)) for t in ("2026-10-05", "2026-W41", "2026-10", "2026-Q3")] \
        == ["daily", "weekly", "monthly", "quarterly"]  # the register's words for the kinds, as stored
    for bad in ("2026", "2025-12-15..2026-01-14", "", "2026-13"):
        with pytest.raises(Invalid):
            bulletin.parse_period(bad)
    assert bulletin.latest("weekly", date(2026, 10, 14)).spec == "2026-W41"


def test_figures_match_the_hand_made_month(rendered, june):
    township_a, township_b, *_ = june
    f = rendered.figures
    assert (f.cases.current, f.cases.previous, f.cases.last_year) == (3, 2, 4)
    assert (f.loss.current, f.loss.previous, f.loss.last_year) == (300000, 120000, 400000)
    assert f.cases.mom == pytest.approx(0.5) and f.cases.yoy == pytest.approx(-0.25)
    assert f.loss.mom == pytest.approx(1.5) and f.loss.yoy == pytest.approx(-0.25)
    assert [(t.key, t.cases, int(t.loss)) for t in f.by_type] == [("brushing", 2, 100000),
                                                                   ("impersonate_authority", 1, 200000)]
    assert (f.by_area[0].name, f.by_area[0].cases, f.by_area[0].cases_last_year) == (township_a, 2, 2)
    assert (f.by_area[1].name, f.by_area[1].cases, f.by_area[1].cases_last_year) == (township_b, 1, 2)
    assert f.loss_bands == {"10万元以上": 1, "5万（含）—10万元": 1, "1万（含）—5万元": 0, "1万元以下": 1}
    assert f.victims_by_sex == {"女": 2, "男": 1}


def test_pdf_text_fonts_and_page(rendered, june):
    from pypdf import PdfReader

    township_a, *_ = june
    reader = PdfReader(io.BytesIO(rendered.pdf))
    text = _flat("".join(page.extract_text() for page in reader.pages))
    assert "江反诈〔2024〕7号" in text
    assert "共立电信网络诈骗案件3起，环比上升50.0%，同比下降25.0%" in text
    assert "造成损失30.00万元，环比上升150.0%，同比下降25.0%" in text
    assert f"{township_a}发案最多，共2起，损失10.00万元，占总损失的33.3%" in text
    assert "刷单返利266.7%10.0033.3%" in text  # the type table's row: cases, share, 万元, loss share
    assert "10万元以上1起、5万（含）—10万元1起、1万（含）—5万元0起、1万元以下1起" in text
    assert "2024年7月3日" in text

    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(210 * MM, abs=0.5)  # A4
    assert float(page.mediabox.height) == pytest.approx(297 * MM, abs=0.5)
    fonts = page["/Resources"]["/Font"]
    names = []
    for key in fonts:
        font = fonts[key].get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor or "/FontFile" in descriptor, font["/BaseFont"]
        names.append(str(font["/BaseFont"]))
    assert any("SungtiL" in n or "WenQuanYi" in n for n in names), names

    positions = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            positions.append((tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text))

    page.extract_text(visitor_text=visit)
    left = min(x for x, _, _ in positions)
    assert left == pytest.approx(28 * MM, abs=1)  # 订口 28 mm: the text block starts 79.4 pt from the left
    top_baseline = max(y for _, y, t in positions)
    assert 297 * MM - 37 * MM - 45 < top_baseline < 297 * MM - 37 * MM  # 天头 37 mm: first line just under it
    body = sorted({round(y, 1) for x, y, t in positions if x == pytest.approx(left, abs=1)}, reverse=True)
    pitches = {round(a - b, 1) for a, b in zip(body, body[1:], strict=False) if a - b < 35}
    assert 29.0 in pitches  # 22 lines in the 225 mm 版心: 28.99 pt a line
    number = [(x, y) for x, y, t in positions if "— 1 —" in t or t.strip() == "— 1 —"]
    assert number and number[0][0] > 105 * MM  # odd page: number on the right
    assert 297 * MM - (37 + 225 + 7) * MM - 20 < number[0][1] < 297 * MM - (37 + 225 + 7) * MM  # 7 mm under 版心


def test_docx_text_fonts_and_page(rendered, june):
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(io.BytesIO(rendered.docx))
    section = doc.sections[0]
    sizes = [section.page_width, section.page_height, section.top_margin, section.left_margin, section.right_margin,
             section.bottom_margin]
    assert [round(v.mm, 1) for v in sizes] == [210, 297, 37, 28, 26, 35]  # A4, 天头, 订口, and the 156 × 225 版心
    text = _flat("\n".join(p.text for p in doc.paragraphs))
    assert "共立电信网络诈骗案件3起，环比上升50.0%，同比下降25.0%" in text
    assert "造成损失30.00万元，环比上升150.0%，同比下降25.0%" in text
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["刷单返利", "2", "66.7%", "10.00", "33.3%"] in cells
    assert ["合计", "3", "100.0%", "30.00", "100.0%"] in cells

    def east_asia(paragraph):
        return {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in paragraph.runs if r._element.rPr is not None}

    by_text = {p.text: p for p in doc.paragraphs if p.text}
    assert east_asia(by_text["江州市反电信网络诈骗中心通报"]) == {"方正小标宋简体"}
    assert east_asia(by_text["一、警情态势"]) == {"黑体"}
    assert east_asia(by_text["江反诈〔2024〕7号"]) == {"仿宋_GB2312"}
    heading = next(p for p in doc.paragraphs if p.text.startswith("（一）"))
    assert "楷体_GB2312" in east_asia(heading)
    footer_xml = section.footer._element.xml + section.even_page_footer._element.xml
    assert footer_xml.count("PAGE") == 2  # odd and even page numbers
    assert doc.settings.odd_and_even_pages_header_footer


def test_numbers_run_per_kind_and_year_without_gaps(june):
    with session_scope() as s:
        scope = Scope.system(s)
        june_ = periods.parse("2024-06")
        a = service.issue_bulletin(s, scope, june_, None, issued_on=date(2024, 7, 3))
        b = service.issue_bulletin(s, scope, june_, None, issued_on=date(2024, 7, 4), revision_note="更正损失金额")
        w = service.issue_bulletin(s, scope, periods.parse("2024-W23"), None, issued_on=date(2024, 6, 10))
        numbers = (a.seq, b.seq, w.seq, a.number, w.number)

        # A failure while rendering gives the number back: the next one takes it.
        def broken(seq):
            raise RuntimeError("renderer failed")

        with pytest.raises(RuntimeError):
            service.allocate(s, kind="monthly", year=2024, fill=broken)
        c = service.issue_bulletin(s, scope, june_, None, issued_on=date(2024, 7, 5), revision_note="再次更正")
        after_failure = c.seq
    assert numbers[1] == numbers[0] + 1 and numbers[2] == 1
    assert re.fullmatch(r"江反诈〔2024〕\d+号", numbers[3]) and numbers[4] == "江反诈周〔2024〕1号"
    assert after_failure == numbers[1] + 1


def test_a_taken_number_is_retried(june, monkeypatch):
    """Another issuer took the number between the look-up and the insert: the unique constraint refuses the row
    and the next number is used."""
    with session_scope() as s:
        taken = service.next_seq(s, "quarterly", 2024)
        s.add(IssuedDocument(kind="quarterly", year=2024, seq=taken, number="x", period="2024-Q2", title="t",
                             issued_on=date(2024, 7, 1), docx=b"", pdf=b""))
        s.flush()
        calls = []
        real = service.next_seq
        monkeypatch.setattr(service, "next_seq", lambda *a: taken if not calls.append(1) and len(calls) == 1
                            else real(*a))
        doc = service.allocate(s, kind="quarterly", year=2024, fill=lambda seq: IssuedDocument(
            number=f"q{seq}", period="2024-Q2", title="t", issued_on=date(2024, 7, 1), docx=b"", pdf=b""))
        assert doc.seq == taken + 1 and len(calls) == 2
        s.rollback()


def _at_once_on_postgres(label: str, n: int, act, *, prepare=lambda session: None) -> list[Exception]:
    """Run `act(session)` in `n` threads released together against a fresh migrated PostgreSQL database (made on
    the server and dropped afterwards); `prepare(session)` first fills it. The exceptions the threads raised."""
    import os

    from sqlalchemy.orm import Session

    from fanzha.db import make_engine
    from fanzha.migrate import upgrade
    from support.db import pg_available, pg_create, pg_drop

    if not pg_available():
        pytest.skip(f"PostgreSQL 不可用：{label}需要 PostgreSQL（FANZHA_TEST_POSTGRES_URL）")
    name = f"fanzha_{label}_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = pg_create(name)
    engine = None
    errors: list[Exception] = []
    barrier = threading.Barrier(n)

    def one():
        try:
            with Session(engine) as s:
                barrier.wait()
                act(s)
        except Exception as exc:  # returned to the test
            errors.append(exc)

    try:
        upgrade(url=url)
        engine = make_engine(url)
        with Session(engine) as s:
            prepare(s)
            s.commit()
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if engine is not None:
            engine.dispose()
        pg_drop(name)
    return errors


@pytest.mark.postgres
def test_concurrent_issuers_get_distinct_consecutive_numbers():
    """Eight issuers at once on a real PostgreSQL (its own migrated database): numbers 1–8, none twice."""
    seqs = []

    def issue(s):
        doc = service.allocate(s, kind="daily", year=2024, fill=lambda seq: IssuedDocument(
            number=f"d{seq}", period="2024-06", title="t", issued_on=date(2024, 6, 2), docx=b"", pdf=b""))
        s.commit()
        seqs.append(doc.seq)

    errors = _at_once_on_postgres("numbers", 8, issue)
    assert not errors, errors
    assert sorted(seqs) == list(range(1, 9))


def test_cli_writes_the_format_of_the_file_name(june, tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    runner = CliRunner()
    out = tmp_path / "通报.docx"
    r = runner.invoke(app, ["report", "bulletin", "--period", "2024-06", "-o", str(out), "--date", "2024-07-06",
                            "--revision", "补录案件后重新发出"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:2] == b"PK" and re.search(r"江反诈〔2024〕\d+号", r.output)
    pdf = tmp_path / "draft.pdf"
    r = runner.invoke(app, ["report", "bulletin", "--period", "2024-Q2", "-o", str(pdf), "--draft"])
    assert r.exit_code == 0 and pdf.read_bytes()[:5] == b"%PDF-" and "草稿" in r.output
    assert runner.invoke(app, ["report", "bulletin", "--period", "2024-13", "-o", str(pdf)]).exit_code == 2
    assert runner.invoke(app, ["report", "bulletin", "--period", "2024-06", "-o", str(tmp_path / "x.txt")]).exit_code == 2
    r = runner.invoke(app, ["report", "register", "--year", "2024", "--kind", "monthly", "--json"])
    assert r.exit_code == 0 and '"period": "2024-06"' in r.output


def _form(html: str, action: str) -> dict:
    from support.forms import parse

    return next(f for f in parse(html).forms if f["action"] == action and f["method"] == "post")


def _link(html: str, text: str) -> str:
    from support.forms import parse

    return next(href for href, words in parse(html).links if text in words).replace("&amp;", "&")


def test_pages_issue_and_download(june, client_as, db):
    """编号发出并存档 as a browser does it: the preview's button opens the confirmation (number, title, date), its
    form issues, and the register names what went out."""
    from support.forms import default_values
    from support.web import csrf_of

    admin = client_as("admin")
    page = admin.get("/reports/bulletin?period=2024-05")
    assert page.status_code == 200 and "编号发出并存档" in page.text
    draft = admin.get("/reports/bulletin/draft?period=2024-05&fmt=pdf")
    assert draft.status_code == 200 and draft.content[:5] == b"%PDF-"
    ask = admin.get(_link(page.text, "编号发出并存档"))
    assert ask.status_code == 200 and "确认编号发出并存档？" in ask.text
    expected = re.search(r"发文字号：<strong translate=\"no\">(江反诈〔\d{4}〕\d+号)</strong>", ask.text).group(1)
    with session_scope() as s:
        assert s.scalar(select(IssuedDocument).where(IssuedDocument.period == "2024-05")) is None  # asked, not done
    form = _form(ask.text, "/reports/bulletin")
    r = admin.post("/reports/bulletin", data=dict(default_values(form)), follow_redirects=False)
    assert r.status_code == 303
    doc_id = int(r.headers["location"].split("issued=")[1])
    register = admin.get(r.headers["location"])
    assert f"/reports/documents/{doc_id}/docx" in register.text
    assert f"已编号发出：<strong translate=\"no\">{expected}</strong>" in register.text  # the number it said
    docx = admin.get(f"/reports/documents/{doc_id}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert "attachment" in docx.headers["content-disposition"]

    # The old one-tap post (no confirmation in it) issues nothing: it shows the confirmation.
    r = admin.post("/reports/bulletin", data={"period": "2024-04", "area_id": "0", "csrf_token": csrf_of(admin)})
    assert r.status_code == 200 and "确认编号发出并存档？" in r.text
    with session_scope() as s:
        assert s.scalar(select(IssuedDocument).where(IssuedDocument.period == "2024-04")) is None

    officer = client_as("ps01_minjing")  # reads the whole-jurisdiction bulletin, may not issue one
    assert officer.get(f"/reports/documents/{doc_id}/pdf").status_code == 200
    assert officer.post("/reports/bulletin", data={"period": "2024-05", "confirm": "true",
                                                   "csrf_token": csrf_of(officer)}).status_code == 403
    assert client_as("danwei01").get("/reports").status_code == 403  # a unit liaison does not see case figures


def test_a_second_issue_of_a_period_is_a_registered_revision(june, client_as, db):
    """The same period again: the confirmation says it is out already and asks for a 修订说明; without one nothing is
    issued; with one the revision takes the next number, says whom it replaces, and the register shows both."""
    from support.forms import default_values

    yanpan = client_as("yanpan")
    ask = yanpan.get(_link(yanpan.get("/reports/bulletin?period=2024-03").text, "编号发出并存档"))
    first = yanpan.post("/reports/bulletin", data=dict(default_values(_form(ask.text, "/reports/bulletin"))),
                        follow_redirects=False)
    first_id = int(first.headers["location"].split("issued=")[1])
    # A double click: the same form again a moment later lands on the first issue, nothing new.
    again = yanpan.post("/reports/bulletin", data=dict(default_values(_form(ask.text, "/reports/bulletin"))),
                        follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]

    admin = client_as("admin")  # another issuer, later: a revision
    page = admin.get("/reports/bulletin?period=2024-03")
    assert "本期已于" in page.text and "作为修订发出" in page.text
    ask = admin.get(_link(page.text, "作为修订发出"))
    assert "确认作为修订发出？" in ask.text and "代替" in ask.text
    form = _form(ask.text, "/reports/bulletin")
    assert "revision_note" in form["required"]
    stale = admin.post("/reports/bulletin", data={k: v for k, v in default_values(form) if k != "revision"})
    assert stale.status_code == 409 and "须作为修订" in stale.text  # not a revision → refused, asked again
    empty = admin.post("/reports/bulletin", data=dict(default_values(form)))  # the note left empty
    assert empty.status_code == 422 and "请写明修订说明" in empty.text
    data = {k: "更正一起案件的损失金额" if k == "revision_note" else v for k, v in default_values(form)}
    r = admin.post("/reports/bulletin", data=data, follow_redirects=False)
    assert r.status_code == 303
    doc_id = int(r.headers["location"].split("issued=")[1])
    with session_scope() as s:
        docs = list(s.scalars(select(IssuedDocument).where(IssuedDocument.period == "2024-03")
                              .order_by(IssuedDocument.id)))
        assert [d.id for d in docs] == [first_id, doc_id]
        original, revision = docs
        assert (original.edition, revision.edition, revision.revises_id) == (0, 1, first_id)
        assert revision.seq == original.seq + 1 and revision.title.endswith("（修订）")
        assert revision.revision_note == "更正一起案件的损失金额"
        number = original.number
    register = admin.get(r.headers["location"])
    assert f"为修订版，代替 <span translate=\"no\">{number}</span>" in register.text
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(admin.get(f"/reports/documents/{doc_id}/docx").content)).paragraphs)
    assert f"本通报为修订版，代替{number}。修订说明：更正一起案件的损失金额" in text


@pytest.mark.postgres
def test_two_issuers_of_one_period_at_once_make_one_original():
    """Four issuers of the same period at once on a real PostgreSQL: one original, three AlreadyIssued."""
    from fanzha.org.models import Area

    made = []

    def issue(s):
        made.append(service.issue_bulletin(s, Scope.system(s), periods.parse("2024-06"), None,
                                           issued_on=date(2024, 7, 1)).seq)
        s.commit()

    def city(s):  # the bulletin's heading names the jurisdiction: one city is enough
        s.add(Area(chain="admin", level="city", name="江州市", code="990000", path="/"))

    errors = _at_once_on_postgres("editions", 4, issue, prepare=city)
    assert len(made) == 1 and len(errors) == 3 and all(isinstance(e, service.AlreadyIssued) for e in errors), errors


def test_an_areas_bulletin_stays_with_those_who_see_the_area(june, client_as, api_as):
    _, _, _, township_a, *_ = june
    with session_scope() as s:
        doc = service.issue_bulletin(s, Scope.system(s), periods.parse("2024-06"), s.get(
            __import__("fanzha.org.models", fromlist=["Area"]).Area, township_a), issued_on=date(2024, 7, 8))
        doc_id, number = doc.id, doc.number
    ids = [d["id"] for d in api_as("admin").get("/api/v1/reports/documents?year=2024").json()]
    assert doc_id in ids
    # A station of another township sees neither the file nor the row.
    with session_scope() as s:
        from fanzha.org.models import Area, User

        for user in s.scalars(select(User).where(User.username.like("ps%_minjing"))):
            area = s.get(Area, user.area_id)
            covers = s.scalar(select(Area.id).where(Area.police_path.startswith(area.path),
                                                    Area.path.startswith(s.get(Area, township_a).path)))
            if not covers:
                outsider = user.username
                break
    client = client_as(outsider)
    assert client.get(f"/reports/documents/{doc_id}/pdf").status_code == 404
    assert number not in client.get("/reports?year=2024").text


def test_hand_made_places_are_distinct(db):
    p = places(db)
    assert p.township_a.id != p.township_b.id and p.community_a.parent_id == p.township_a.id


def test_the_centres_own_template_and_heading(june, tmp_path, monkeypatch):
    """FANZHA_REPORTS_DIR: a layout.toml and a bulletin.txt.j2 there replace the packaged ones, file by file."""
    from fanzha.config import get_settings
    from fanzha.reports import bulletin

    (tmp_path / "layout.toml").write_text((__import__("fanzha.reports.document", fromlist=["PACKAGED"]).PACKAGED
                                           / "layout.toml").read_text(encoding="utf-8")
                                          .replace('abbr = ""', 'abbr = "州"')
                                          .replace('mark_suffix = "通报"', 'mark_suffix = "情况通报"'),
                                          encoding="utf-8")
    (tmp_path / "bulletin.txt.j2").write_text("一、本月情况\n本月立案{{ f.cases.current }}起，损失{{ f.loss.current|wan }}。\n"
                                              "[[table:types]]\n", encoding="utf-8")
    monkeypatch.setattr(get_settings(), "reports_dir", tmp_path)
    with session_scope() as s:
        out = service.render(s, Scope.system(s), periods.parse("2024-06"), None, seq=3, issued_on=date(2024, 7, 3),
                             formats=("docx",))
        head = bulletin.heading(s, "monthly", periods.parse("2024-06"), None)
        s.rollback()
    assert out.number == "州反诈〔2024〕3号" and head.mark.endswith("中心情况通报")
    from docx import Document

    doc = Document(io.BytesIO(out.docx))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert "本月立案3起，损失30.00万元。" in paragraphs and "一、本月情况" in paragraphs
    assert len(doc.tables) == 1  # only the type table the template asked for


def test_a_station_previews_its_own_area(client_as, db):
    from fanzha.org.models import Area, User

    officer = db.scalar(select(User).where(User.username == "ps01_minjing"))
    station = db.get(Area, officer.area_id)
    page = client_as("ps01_minjing").get("/reports/bulletin?period=2024-06")
    assert page.status_code == 200 and f"{station.name}2024年6月电信网络诈骗警情通报" in page.text
