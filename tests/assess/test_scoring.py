"""A county scored under the 滨州 scheme and the 江油 scheme, every total worked out by hand.

考核市 (its own root, beside the demo county) has three townships, one community each, and three member units.
Cases are filed on 1 June (Beijing), 10,000 yuan each except 南镇's 2026 cases at 1,000:

| 2025 | 东镇 10 (4 财会人员) | 西镇 5 (5 师生) | 南镇 4 (4 师生) |
| 2026 | 东镇 8 (3 财会人员)  | 西镇 5 (5 师生) | 南镇 5 (3 师生, 1 employed by 某银行, 1 other) |

Units count their employees' cases and their duty groups' (employer_or_duty): 税务局 (财会人员、企业负责人)
4 → 3 (−25 %), 教育局 (师生) 9 → 8 (−11.1 %), 某银行 0 → 1.
Townships: 东镇 −20 % (the pool's largest fall) 50; 西镇 0 % 45; 南镇 +25 % 0.
Units: 税务局 −25 % (largest in its pool) 50; 教育局 45 + 5 × 11.11/25 = 47.22 → 47.2; 某银行 last year 0 → 0.
断卡: 东镇 and 税务局 held a 六进 activity about 两卡 → 2; 西镇's lecture says nothing of cards → 0. One 断卡 lead
on 某银行's case in 南镇 → 南镇 and 某银行 lose the 3 points.
Manual: every assessee 8 (体系) + 25 (宣防) + 4 (断卡其他) = 37.
Totals: 东镇 92, 西镇 85, 南镇 37; 税务局 92, 教育局 87.2, 某银行 37.
江油 2026-Q2 (townships only): cases 8/5/5 → 西镇, 南镇 share rank 1 (60), 东镇 rank 3 (0); losses
80,000 / 50,000 / 5,000 → 南镇 40, 西镇 20, 东镇 0. Totals 南镇 100, 西镇 80, 东镇 0.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fanzha.assess import service
from fanzha.assess.models import AssessmentRun
from fanzha.cases.models import Case, CaseAction
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.config import get_settings
from fanzha.db import session_scope
from fanzha.org.models import Area, Unit
from fanzha.org.scope import Scope
from fanzha.prevention.models import Activity
from support.areas import add_area

BJ = ZoneInfo("Asia/Shanghai")
MANUAL = {"system_setup": Decimal(8), "township_prevention": Decimal(25), "unit_prevention": Decimal(25),
          "card_other": Decimal(4)}


@pytest.fixture(scope="module")
def county():
    with session_scope() as s:
        if s.scalar(select(Area.id).where(Area.code == "KH")):
            return _ids(s)

        def area(**kw):
            return add_area(s, **kw)

        city = area(chain="admin", level="city", name="考核市", code="KH")
        # Every leaf belongs to one station too, as in any real county: here a station of the demo's bureau, so the
        # centre's users see these cases as they see the rest.
        bureau = s.scalar(select(Area).where(Area.chain == "police", Area.parent_id.is_(None)).order_by(Area.id))
        station = area(chain="police", level="station", name="考核派出所", code="KHP1", parent_id=bureau.id)
        leaves = {}
        for code, name in [("E", "东镇"), ("W", "西镇"), ("S", "南镇")]:
            town = area(chain="admin", level="township", name=name, code=f"KH{code}", parent_id=city.id)
            leaves[code] = area(chain="admin", level="community", name=f"{name}社区", code=f"KH{code}1",
                                parent_id=town.id, population=10000, households=3500, police_area_id=station.id,
                                police_path=station.path)
        tax = Unit(name="考核市税务局", code="KHU1", kind="tax", area_id=city.id, duty_groups=["accountant", "company_head"])
        edu = Unit(name="考核市教育局", code="KHU2", kind="education", area_id=city.id, duty_groups=["student_teacher"])
        bank = Unit(name="某银行考核市支行", code="KHU3", kind="bank", area_id=city.id, duty_groups=[])
        s.add_all([tax, edu, bank])
        s.flush()
        n = 0

        def cases(year, leaf, count, groups=(), employer=None, loss=10000):
            nonlocal n
            made = []
            for _ in range(count):
                n += 1
                at = datetime(year, 6, 1, 10, 0, tzinfo=BJ)
                c = Case(case_number=f"KH{year}{n:04d}", community_id=leaves[leaf].id, filed_at=at, loss_at=at,
                         fraud_type="brushing", loss_amount=Decimal(loss), victim_groups=list(groups),
                         employer_unit_id=employer)
                s.add(c)
                made.append(c)
            s.flush()
            return made

        cases(2025, "E", 4, ["accountant"])
        cases(2025, "E", 6)
        cases(2025, "W", 5, ["student_teacher"])
        cases(2025, "S", 4, ["student_teacher"])
        cases(2026, "E", 3, ["accountant"])
        cases(2026, "E", 5)
        cases(2026, "W", 5, ["student_teacher"])
        cases(2026, "S", 3, ["student_teacher"], loss=1000)
        bank_case = cases(2026, "S", 1, employer=bank.id, loss=1000)[0]
        cases(2026, "S", 1, loss=1000)
        s.add(CaseAction(kind="card_lead", case_id=bank_case.id, target_type="bank_card", target="6222020000000000",
                         requested_at=datetime(2026, 6, 2, 9, 0, tzinfo=BJ)))
        s.add(Activity(kind="community", community_id=leaves["E"].id, held_on=date(2026, 4, 8),
                       title="六进社区 两卡宣传", participants=120))
        s.add(Activity(kind="lecture", community_id=leaves["W"].id, held_on=date(2026, 4, 9), title="防诈讲座",
                       participants=80))
        s.add(Activity(kind="enterprise", community_id=leaves["E"].id, unit_id=tax.id, held_on=date(2026, 5, 9),
                       title="进企业宣传", note="严禁出租出借银行卡、电话卡", participants=40))
        return _ids(s)


def _ids(s):
    ids = {a.name: a.id for a in s.scalars(select(Area).where(Area.code.like("KH%"), Area.chain == "admin"))}
    ids.update({u.name: u.id for u in s.scalars(select(Unit).where(Unit.code.like("KHU%")))})
    return ids


def _system(s):
    return Scope.system(s)


def _run(s, county, scheme, period):
    run = s.scalar(select(AssessmentRun).where(AssessmentRun.scheme_key == scheme, AssessmentRun.period == period,
                                               AssessmentRun.area_id == county["考核市"]))
    return run or service.create_run(s, _system(s), scheme_key=scheme, period=period, area_id=county["考核市"])


def _totals(s, scope, run_id):
    return {st.name: st.total for table in service.standings(s, scope, run_id).values() for st in table}


def _fill_manual(s, run):
    for row in run.scores:
        if row.item_key in MANUAL and row.points is None:
            service.set_manual(s, _system(s), run.id, pool=row.pool, assessee_id=row.assessee_id,
                               item_key=row.item_key, points=MANUAL[row.item_key], note="已建立领导小组，方案见附件")


def test_binzhou_year(county):
    with session_scope() as s:
        run = _run(s, county, "binzhou", "2026")
        by = {(r.pool, r.assessee_id, r.item_key): r for r in run.scores}
        case = lambda pool, name: by[(pool, county[name], "case_change")]  # noqa: E731
        assert case("township", "东镇").points == Decimal("50.0")
        assert case("township", "西镇").points == Decimal("45.0")
        assert case("township", "南镇").points == Decimal("0.0") and "25%" in case("township", "南镇").basis
        assert case("unit", "考核市税务局").points == Decimal("50.0")
        assert case("unit", "考核市教育局").points == Decimal("47.2")
        assert case("unit", "某银行考核市支行").points == Decimal("0.0")
        assert len(case("township", "南镇").figures["case_ids"]) == 5
        assert by[("township", county["东镇"], "card_propaganda")].points == 2
        assert by[("township", county["西镇"], "card_propaganda")].points == 0
        assert by[("township", county["南镇"], "card_no_problem")].points == 0
        assert by[("unit", county["某银行考核市支行"], "card_no_problem")].points == 0
        assert by[("unit", county["考核市税务局"], "card_propaganda")].points == 2

        with pytest.raises(Invalid, match="未评分"):
            service.lock(s, _system(s), run.id)
        manual = by[("township", county["东镇"], "system_setup")]
        with pytest.raises(Invalid, match="佐证"):
            service.set_manual(s, _system(s), run.id, pool="township", assessee_id=county["东镇"],
                               item_key="system_setup", points=Decimal(8), note="  ")
        with pytest.raises(Invalid, match="0 到 10"):
            service.set_manual(s, _system(s), run.id, pool="township", assessee_id=county["东镇"],
                               item_key="system_setup", points=Decimal(11), note="说明")
        with pytest.raises(Invalid, match="由数据计算"):
            service.set_manual(s, _system(s), run.id, pool="township", assessee_id=county["东镇"],
                               item_key="case_change", points=Decimal(50), note="说明")
        # The crawl tests share this database and follow the evidence link: the file must exist like an upload's.
        (get_settings().data_dir / "体系文件.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        service.set_manual(s, _system(s), run.id, pool="township", assessee_id=county["东镇"],
                           item_key="system_setup", points=Decimal(8), note="", evidence_file="体系文件.pdf")
        assert manual.points == 8 and manual.evidence_file == "体系文件.pdf"
        _fill_manual(s, run)
        # Scoring again keeps the manual scores.
        service.score(s, _system(s), run.id)
        assert _totals(s, _system(s), run.id) == {
            "东镇": Decimal(92), "西镇": Decimal(85), "南镇": Decimal(37),
            "考核市税务局": Decimal(92), "考核市教育局": Decimal("87.2"), "某银行考核市支行": Decimal(37)}
        places = {st.name: st.place for t in service.standings(s, _system(s), run.id).values() for st in t}
        assert (places["东镇"], places["西镇"], places["南镇"]) == (1, 2, 3)
        assert (places["考核市税务局"], places["考核市教育局"], places["某银行考核市支行"]) == (1, 2, 3)

        out = service.as_json(s, _system(s), run.id)
        tax = next(o for o in out if o["unit"] == "考核市税务局")
        assert tax["total"] == 92 and {i["name"] for i in tax["items"]} >= {"发案同比", "建立反诈工作体系"}

        service.lock(s, _system(s), run.id)
        with pytest.raises(Conflict):
            service.score(s, _system(s), run.id)
        with pytest.raises(Conflict):
            service.set_manual(s, _system(s), run.id, pool="township", assessee_id=county["西镇"],
                               item_key="system_setup", points=Decimal(9), note="补充")
        with pytest.raises(Invalid, match="理由"):
            service.correct(s, _system(s), run.id, pool="township", assessee_id=county["西镇"],
                            item_key="card_propaganda", points=Decimal(2), reason="")
        service.correct(s, _system(s), run.id, pool="township", assessee_id=county["西镇"],
                        item_key="card_propaganda", points=Decimal(2), reason="补报4月两卡宣传照片")
        assert _totals(s, _system(s), run.id)["西镇"] == Decimal(87)
        trail = service.corrections(s, _system(s), run.id)
        assert [(c.old_points, c.new_points, c.reason) for c in trail] == [(Decimal(0), Decimal(2), "补报4月两卡宣传照片")]

        # A liaison of 税务局 sees their own unit only, and no run they are not in.
        liaison = Scope(user_id=None, username="t", role="unit_liaison", area_id=county["考核市"], chain="admin",
                        path=s.get(Area, county["考核市"]).path, unit_id=county["考核市税务局"])
        seen = service.standings(s, liaison, run.id)
        assert [st.name for t in seen.values() for st in t] == ["考核市税务局"]
        assert service.corrections(s, liaison, run.id) == []
        station = Scope(user_id=None, username="p", role="station_officer", area_id=county["考核市"], chain="police",
                        path="/0/")
        with pytest.raises(NotFound):
            service.standings(s, station, run.id)


def test_jiangyou_quarter_needs_no_code(county):
    with session_scope() as s:
        run = _run(s, county, "jiangyou", "2026-Q2")
        assert _totals(s, _system(s), run.id) == {"南镇": Decimal(100), "西镇": Decimal(80), "东镇": Decimal(0)}
        with pytest.raises(Invalid, match="季度"):
            service.create_run(s, _system(s), scheme_key="jiangyou", period="2026", area_id=county["考核市"])


def test_missing_last_year_is_not_zero(county):
    with session_scope() as s:
        # 2030 has no cases anywhere in 考核市 last year (2029): the change cannot be scored, and the run cannot lock.
        run = _run(s, county, "binzhou", "2030")
        rows = [r for r in run.scores if r.item_key == "case_change"]
        assert rows and all(r.points is None and "缺少" in r.basis for r in rows)
        _fill_manual(s, run)
        with pytest.raises(Invalid, match="未评分"):
            service.lock(s, _system(s), run.id)
        s.rollback()


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "").replace("\n", "")


def test_three_letters_are_filled_numbered_and_registered(county):
    from fanzha.assess.letters import service as letters

    with session_scope() as s:
        system = _system(s)
        bank_case = s.scalar(select(Case).where(Case.employer_unit_id == county["某银行考核市支行"]))
        draft = letters.letter_draft(s, system, bank_case.id)
        assert draft.addressee == "某银行考核市支行：" and bank_case.case_number in draft.body
        first = letters.issue(s, system, draft, draft.body.replace("工作要求", "工作要求（审阅后）"),
                              issued_on=date(2026, 6, 10))
        second = letters.issue(s, system, draft, issued_on=date(2026, 6, 11))
        assert first.kind == "letter" and first.number == f"江反诈办函〔2026〕{first.seq}号" and second.seq == first.seq + 1
        text = _pdf_text(first.pdf)
        assert bank_case.case_number in text and "工作要求（审阅后）" in text and "函告" in text
        with pytest.raises(Invalid, match="无需函告"):
            plain = next(c for c in s.scalars(select(Case).where(Case.employer_unit_id.is_(None),
                                                                  Case.community_id == county["南镇社区"]))
                         if not c.victim_groups)
            letters.letter_draft(s, system, plain.id)

        # 2026-Q2 against 2025-Q2 (every case was filed on 1 June): 东镇 8 vs 10, 南镇 5 vs 4, 税务局 3 vs 4.
        notice = letters.notice_draft(s, system, "2026-Q2", county["考核市"])
        rows = {r[0]: r[1:4] for t in notice.tables.values() for r in t.rows}
        assert rows["东镇"] == ["8", "10", "下降20.0%"] and rows["南镇"] == ["5", "4", "上升25.0%"]
        assert rows["考核市税务局"] == ["3", "4", "下降25.0%"] and rows["某银行考核市支行"] == ["1", "0", "无可比基数"]
        doc = letters.issue(s, system, notice, issued_on=date(2026, 7, 5))
        assert "下降20.0%" in _pdf_text(doc.pdf) and re.search(r"反诈办通〔2026〕\d+号$", doc.number)

        run = _run(s, county, "binzhou", "2026")
        if run.status == "draft":  # whichever test came first in this process, the manual items are scored
            _fill_manual(s, run)
        report = letters.report_draft(s, system, run.id)
        totals = {r[1]: r[2] for t in (report.tables["unit"], report.tables["township"]) for r in t.rows}
        assert totals["东镇"] == "92" and totals["考核市教育局"] == "87.2"
        assert report.tables["quarters"].rows[1] == ["第2季度", "18", "19"]  # all of each year's cases fall in June

        # The register as a liaison sees it: their own unit's 函告 and every 通告.
        bank = Scope(user_id=None, username="b", role="unit_liaison", area_id=county["考核市"], chain="admin",
                     path=s.get(Area, county["考核市"]).path, unit_id=county["某银行考核市支行"])
        tax = Scope(user_id=None, username="t", role="unit_liaison", area_id=county["考核市"], chain="admin",
                    path=s.get(Area, county["考核市"]).path, unit_id=county["考核市税务局"])
        assert {d.kind for d in letters.register(s, bank)} == {"letter", "notice"}
        assert {d.kind for d in letters.register(s, tax)} == {"notice"}
        s.rollback()
