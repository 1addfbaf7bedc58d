"""Place names that cannot be confused (org/names.py): a name that repeats in the deployment is shown with what is
above it (河口镇·金鸡村) on every page, picker, ranking, export, document and API answer that shows places.

The rule on hand-made trees first, then a county built by hand inside the demo city (removed again at the end):

    admin:  江州市 JZ → 双名县 NMX → 东坝镇 NME → 金鸡村 NME1
                                  → 西坝镇 NMW → 金鸡村 NMW1
    police: 江州市公安局 JZGA → 双名派出所 NMP ⊃ NME1, NMW1

Three cases on each 金鸡村 in October 2026 (1,000 residents each: 30 per 10,000), so both are 下月重点村/社区 and
both stand in the station's ranking. The demo county has 金鸡村 in 河口镇 and 太平镇 as well.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from fanzha.org.names import Node, labels_for

BJ = timezone(timedelta(hours=8))
EAST, WEST = "东坝镇·金鸡村", "西坝镇·金鸡村"
BARE = re.compile(r"(?<!·)金鸡村")  # 金鸡村 with nothing in front: ambiguous
CODES = ("NME1", "NMW1", "NMP", "NME", "NMW", "NMX")


def _tree(*rows) -> dict[str, str]:
    """labels_for on (code, chain, name, parent code) rows, answered by code."""
    ids = {code: n for n, (code, *_rest) in enumerate(rows, start=1)}
    nodes = [Node(ids[code], chain, name, ids.get(parent), code) for code, chain, name, parent in rows]
    labels = labels_for(nodes)
    return {code: labels[ids[code]] for code in ids}


CITY = [("C", "admin", "江州市", None), ("X1", "admin", "临江区", "C"), ("X2", "admin", "青山县", "C"),
        ("T1", "admin", "河口镇", "X1"), ("T2", "admin", "太平镇", "X1"), ("T3", "admin", "河口镇", "X2")]


def test_a_name_that_does_not_repeat_is_shown_as_it_is():
    labels = _tree(*CITY, ("V1", "admin", "金鸡村", "T1"), ("V2", "admin", "石桥村", "T2"))
    assert labels["V1"] == "金鸡村" and labels["V2"] == "石桥村" and labels["T2"] == "太平镇"


def test_a_name_repeated_in_two_townships_gets_its_township():
    labels = _tree(*CITY, ("V1", "admin", "金鸡村", "T1"), ("V2", "admin", "金鸡村", "T2"))
    assert (labels["V1"], labels["V2"]) == ("河口镇·金鸡村", "太平镇·金鸡村")


def test_a_repeated_township_and_village_in_two_counties_goes_up_to_the_county():
    """Province scale: 河口镇·金鸡村 in 临江区 and in 青山县; the 太平镇 one needs no more than its township."""
    labels = _tree(*CITY, ("V1", "admin", "金鸡村", "T1"), ("V2", "admin", "金鸡村", "T2"),
                   ("V3", "admin", "金鸡村", "T3"))
    assert labels["V1"] == "临江区·河口镇·金鸡村" and labels["V3"] == "青山县·河口镇·金鸡村"
    assert labels["V2"] == "太平镇·金鸡村"
    assert (labels["T1"], labels["T3"]) == ("临江区·河口镇", "青山县·河口镇")  # the townships repeat too


def test_stations_repeat_too_and_the_chains_do_not_mix():
    labels = _tree(("B", "police", "江州市公安局", None), ("F1", "police", "临江分局", "B"),
                   ("F2", "police", "青山县公安局", "B"), ("P1", "police", "城关派出所", "F1"),
                   ("P2", "police", "城关派出所", "F2"), ("A", "admin", "城关派出所", None))
    assert (labels["P1"], labels["P2"]) == ("临江分局·城关派出所", "青山县公安局·城关派出所")
    assert labels["A"] == "城关派出所"  # another chain: no clash


def test_what_nothing_above_tells_apart_gets_its_code():
    labels = _tree(*CITY, ("V1", "admin", "金鸡村", "T1"), ("V2", "admin", "金鸡村", "T1"),
                   ("V3", "admin", "河口镇·金鸡村", "T2"))
    assert labels["V1"] == "河口镇·金鸡村（V1）" and labels["V2"] == "河口镇·金鸡村（V2）"
    assert labels["V3"] == "河口镇·金鸡村（V3）"  # a name written like the others' label
    assert len(set(labels.values())) == len(labels)


def test_renaming_changes_a_label_back():
    """Through the service, as the area pages and the API write: labels follow creation and renaming."""
    from sqlalchemy.orm import Session

    from fanzha.db import get_engine
    from fanzha.org import service
    from fanzha.org.models import Area
    from fanzha.org.schemas import AreaIn, AreaPatch
    from fanzha.org.scope import Scope

    with Session(get_engine()) as s:
        scope = Scope.system(s)
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))

        def make(name, code, level, parent, **kw):
            return service.create_area(s, scope, AreaIn(name=name, code=code, level=level, parent_id=parent.id, **kw))

        county = make("改名县", "RNX", "county", city)
        up, down = make("上坝镇", "RNU", "township", county), make("下坝镇", "RND", "township", county)
        station = make("改名派出所", "RNP", "station", bureau)
        a = make("青石村", "RNU1", "community", up, police_area_id=station.id)
        assert a.label == "青石村"
        b = make("青石村", "RND1", "community", down, police_area_id=station.id)
        assert (a.label, b.label) == ("上坝镇·青石村", "下坝镇·青石村")
        service.update_area(s, scope, b.id, AreaPatch(name="青石二村"))
        assert (a.label, b.label) == ("青石村", "青石二村")
        service.update_area(s, scope, down.id, AreaPatch(name="上坝镇"))  # two of one name in one county
        assert (up.label, down.label) == ("改名县·上坝镇（RNU）", "改名县·上坝镇（RND）")
        s.rollback()


def test_a_commit_refreshes_labels_a_writer_forgot():
    """A tree built area by area without refresh_labels (as tests and scripts do) is labelled when it commits, and
    a bulk delete of one of two namesakes gives the other its bare name back."""
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from support.areas import add_area

    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        county = add_area(s, chain="admin", level="county", name="遗忘县", code="FGX", parent_id=city.id)
        for code, town in (("FG1", "南湖镇"), ("FG2", "北湖镇")):
            t = add_area(s, chain="admin", level="township", name=town, code=code, parent_id=county.id)
            add_area(s, chain="admin", level="community", name="白鹭湾", code=f"{code}V", parent_id=t.id)
    try:
        with session_scope() as s:
            assert set(s.scalars(select(Area.label).where(Area.code.in_(["FG1V", "FG2V"])))) == {
                "南湖镇·白鹭湾", "北湖镇·白鹭湾"}
            s.execute(delete(Area).where(Area.code == "FG2V"))
        with session_scope() as s:
            assert s.scalar(select(Area.label).where(Area.code == "FG1V")) == "白鹭湾"
    finally:
        with session_scope() as s:
            for code in ("FG1V", "FG2V", "FG1", "FG2", "FGX"):
                s.execute(delete(Area).where(Area.code == code))


def test_the_demo_county_shows_a_repeated_village_with_its_township(database):
    from fanzha.db import session_scope
    from fanzha.org.models import Area

    with session_scope() as s:
        labels = set(s.scalars(select(Area.label).where(Area.name == "金鸡村")))
    assert {"河口镇·金鸡村", "太平镇·金鸡村"} <= labels


# -- pages, exports, documents and answers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def villages(database):
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.names import refresh_labels
    from fanzha.org.scope import Scope
    from fanzha.people.models import Person
    from fanzha.prevention.service import CampaignDraft, create_campaign
    from support.areas import add_area

    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))
        county = add_area(s, chain="admin", level="county", name="双名县", code="NMX", parent_id=city.id)
        station = add_area(s, chain="police", level="station", name="双名派出所", code="NMP", parent_id=bureau.id)
        ids = {"station": station.id}
        for code, town in (("NME", "东坝镇"), ("NMW", "西坝镇")):
            t = add_area(s, chain="admin", level="township", name=town, code=code, parent_id=county.id)
            v = add_area(s, chain="admin", level="community", name="金鸡村", code=f"{code}1", parent_id=t.id,
                         police_area_id=station.id, police_path=station.path, population=1000, households=350)
            ids[code] = v.id
            s.add(Person(name="张某", id_number=f"43999919500101{len(ids):03d}X", phone="13800000000",
                         gender="女", community_id=v.id, address="", groups=["elderly"]))
            for n in range(3):
                at = datetime(2026, 10, 10 + n, 10, tzinfo=BJ)
                s.add(Case(case_number=f"NM-{code}-{n}", name="张某", community_id=v.id, filed_at=at, loss_at=at,
                           fraud_type="brushing", loss_amount=Decimal("95500"), victim_groups=["elderly"]))
        refresh_labels(s)
        scope = Scope.system(s)
        ids["campaign"] = create_campaign(s, scope, CampaignDraft(
            name="双名派出所入户宣防", kind="special", starts_on=datetime(2026, 10, 1).date(),
            ends_on=datetime(2026, 10, 31).date(), area_ids=[station.id], code="NMCAMP")).id
    yield ids
    from fanzha.prevention.models import Campaign, CampaignArea, Quota

    with session_scope() as s:
        s.execute(delete(Case).where(Case.case_number.like("NM-%")))
        s.execute(delete(Person).where(Person.community_id.in_([ids["NME"], ids["NMW"]])))
        s.execute(delete(Quota).where(Quota.campaign_id == ids["campaign"]))
        s.execute(delete(CampaignArea).where(CampaignArea.campaign_id == ids["campaign"]))
        s.execute(delete(Campaign).where(Campaign.id == ids["campaign"]))
        for code in CODES:
            s.execute(delete(Area).where(Area.code == code))


def _both(text: str, where: str) -> None:
    assert EAST in text and WEST in text, f"{where}: both villages with their townships"
    assert not BARE.search(text), f"{where}: a bare 金鸡村: …{text[BARE.search(text).start() - 40:][:80]}…"


def test_pickers_show_the_township(villages, client_as):
    admin = client_as("admin")
    for url in ("/registry", "/warnings/unplaced", "/prevention/activities/new"):
        page = admin.get(url)
        assert page.status_code == 200, url
        options = re.findall(r"<option[^>]*>([^<]*)</option>", page.text)
        # 待分配's picker is a datalist: each entry the label with its station, 东坝镇·金鸡村（…派出所）
        options += [re.sub(r"（[^（）]*）$", "", v) for v in re.findall(r'<option value="([^"]*)"></option>', page.text)]
        assert EAST in options and WEST in options, url
        assert "金鸡村" not in options, url


def test_rankings_and_key_communities_in_case_stats(villages, client_as, api_as):
    page = client_as("yanpan").get("/cases/stats", params={"area": "NMP", "period": "2026-10"})
    assert page.status_code == 200
    _both(page.text, "案件研判")
    ranking = page.text.split("下月重点", 1)
    _both(ranking[0], "案件研判 ranking")
    _both(ranking[1], "下月重点村/社区")

    body = api_as("yanpan").get("/api/v1/cases/stats", params={"area": "NMP", "period": "2026-10"}).json()
    assert sorted(r["name"] for r in body["children"]) == [EAST, WEST]
    assert sorted(k["label"] for k in body["key_communities"]) == [EAST, WEST]


def test_api_label_fields(villages, api_as):
    api = api_as("admin")
    areas = api.get("/api/v1/areas", params={"q": "金鸡村", "level": "community"}).json()
    ours = {a["code"]: a for a in areas if a["code"] in ("NME1", "NMW1")}
    assert (ours["NME1"]["name"], ours["NME1"]["label"]) == ("金鸡村", EAST)
    assert (ours["NMW1"]["name"], ours["NMW1"]["label"]) == ("金鸡村", WEST)
    assert {a["code"] for a in api.get("/api/v1/areas", params={"q": EAST}).json()} == {"NME1"}
    behind = api.get("/api/v1/cases/stats/cases", params={"area": "NMP", "period": "2026-10"}).json()
    assert {c["community"] for c in behind["cases"]} == {EAST, WEST}


def test_the_plan_sheet_export_and_its_import(villages, client_as):
    """The campaign's plan sheet (CSV through common/tabular.py) names each village with its township, and the
    sheet as written reads back in: a label is accepted where a name is asked for."""
    sheet = client_as("admin").get(f"/prevention/campaigns/{villages['campaign']}/plan.csv")
    assert sheet.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))) for c in row]
    assert EAST in cells and WEST in cells and "金鸡村" not in cells

    from fanzha.db import session_scope
    from fanzha.imports.service import RowRejected
    from fanzha.org.scope import Scope
    from fanzha.prevention.intake import make_plan_handler
    from fanzha.prevention.models import Quota

    with session_scope() as s:
        handle = make_plan_handler(s, Scope.system(s))
        handle({"行动编号": "NMCAMP", "辖区编码": "", "辖区名称": WEST, "指标": "入户", "任务数": "120"})
        handle({"行动编号": "NMCAMP", "辖区编码": "NME1", "辖区名称": EAST, "指标": "入户", "任务数": "80"})
        with pytest.raises(RowRejected, match="“金鸡村”重名.*请填写辖区编码或带上级的名称"):
            handle({"行动编号": "NMCAMP", "辖区编码": "", "辖区名称": "金鸡村", "指标": "入户", "任务数": "1"})
        quotas = {q.area_id: q.target for q in s.scalars(select(Quota).where(Quota.campaign_id == villages["campaign"]))}
        assert quotas == {villages["NMW"]: 120, villages["NME"]: 80}


def test_the_bulletin_documents(villages, client_as):
    """The station's October bulletin ranks its villages: the preview page and the DOCX name both in full."""
    from docx import Document

    from fanzha.db import session_scope
    from fanzha.org.scope import Scope
    from fanzha.reports import bulletin, service

    preview = client_as("yanpan").get("/reports/bulletin", params={"period": "2026-10",
                                                                   "area_id": villages["station"]})
    assert preview.status_code == 200
    _both(preview.text.split("<h1", 1)[1], "通报预览")
    with session_scope() as s:
        from fanzha.org.models import Area

        out = service.render(s, Scope.system(s), bulletin.parse_period("2026-10"), s.get(Area, villages["station"]),
                             formats=("docx",))
        s.rollback()
    doc = Document(io.BytesIO(out.docx))
    text = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    _both(text, "通报 DOCX")


def test_the_case_letter_names_the_village_in_full(villages):
    """一案一函告: the letter to the unit says where the victim was defrauded, with the township."""
    from pypdf import PdfReader

    from fanzha.assess.letters import service as letters
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.org.scope import Scope

    with session_scope() as s:
        case = s.scalar(select(Case).where(Case.case_number == "NM-NMW-0"))
        draft = letters.letter_draft(s, Scope.system(s), case.id)
        assert f"在{WEST}遭遇" in draft.body
        pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(letters.preview(s, draft))).pages)
        assert WEST in re.sub(r"\s+", "", pdf) and not BARE.search(pdf)
        s.rollback()


def test_templates_show_places_by_their_label():
    """A page shows an area by `.label`; `.name` is for the form that edits it (org/area.html) and nothing else."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "src" / "fanzha" / "web" / "templates"
    shown = re.compile(r"\b(?:area|community|station|node|parent|police_area|leaf|township|county)\.name\b")
    found = [f"{path.relative_to(templates)}:{n}" for path in sorted(templates.rglob("*.html"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if shown.search(line) and path.name != "area.html"]
    assert found == []
