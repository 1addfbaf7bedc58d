"""宣防漏洞 on a small hand-built county inside the demo: five victims of March 2024, each reached (or not) in one way.

  V1 张某 (C, 老年人)        warned 2024-02-20 and seen face to face that afternoon; lost 2024-03-05
  V2 李某 (C, no group)      warned 2024-03-01 by phone only (the case names only the phone); a home visit came
                             2024-03-12, after the loss of 2024-03-10, so it does not count
  V3 王某 (C, 师生)          APP registered 2024-01-15; 金钟罩 on 2024-03-20, after the loss of 2024-03-15; a warning
                             of 2022 lies outside the 365 days
  V4 赵某 (C2, 老年人、理财) C2 in a 宣传月 of 2024-01-01…01-31; lost 2024-03-25: the 90 days before reach 2023-12-26
  V5 钱某 (C3, 老年人)       nothing; lost 2024-03-28 (C3: C2's township, outside the 宣传月)
A campaign on C's township of 2023-10-01…11-30 ends before any of V1–V3's 90-day windows opens.
C lies under station ps01, C2 in another township under another station.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.models import Case
from fanzha.dissuasion.models import Contact
from fanzha.org.models import Area, User
from fanzha.people.models import Person
from fanzha.prevention.models import Campaign, CampaignArea
from fanzha.warnings.models import Warning

BJ = timedelta(hours=8)
START, END = date(2024, 3, 1), date(2024, 3, 31)


def bj(*args) -> datetime:
    """A Beijing wall time as aware UTC."""
    return datetime(*args, tzinfo=UTC) - BJ


@pytest.fixture
def county():
    from fanzha.db import get_engine

    s = Session(get_engine())
    station = s.get(Area, s.scalar(select(User.area_id).where(User.username == "ps01_minjing")))
    c = s.scalar(select(Area).where(Area.level == "community", Area.police_path.startswith(station.path))
                 .order_by(Area.id))
    c2 = s.scalar(select(Area).where(Area.level == "community", Area.parent_id != c.parent_id,
                                     ~Area.police_path.startswith(station.path)).order_by(Area.id))
    c3 = s.scalar(select(Area).where(Area.level == "community", Area.parent_id == c2.parent_id, Area.id != c2.id)
                  .order_by(Area.id))
    user_id = s.scalar(select(User.id).where(User.username == "ps01_quanzu"))
    people = {}
    for key, name, community, groups in (("V1", "张某", c, ["elderly"]), ("V2", "李某", c, []),
                                         ("V3", "王某", c, ["student_teacher"]),
                                         ("V4", "赵某", c2, ["elderly", "investor"]), ("V5", "钱某", c3, ["elderly"])):
        p = Person(name=name, phone=f"1456666000{key[1]}", community_id=community.id, groups=groups)
        s.add(p)
        people[key] = p
    people["V3"].app_registered_on = date(2024, 1, 15)
    people["V3"].jzz_registered_on = date(2024, 3, 20)
    s.flush()

    def warning(n: int, at: datetime, **who) -> Warning:
        w = Warning(external_id=f"T8GAP{n}", kind="call", risk_grade="high", warned_at=at, sign_deadline=at,
                    contact_deadline=at, feedback_deadline=at, status="assigned", community_id=c.id, **who)
        s.add(w)
        s.flush()
        return w

    w1 = warning(1, bj(2024, 2, 20, 10, 0), person_id=people["V1"].id)
    s.add(Contact(warning_id=w1.id, channel="face_to_face", at=bj(2024, 2, 20, 15, 0), by_user_id=user_id,
                  result="reached"))
    w2 = warning(2, bj(2024, 3, 1, 9, 0), phone=people["V2"].phone)
    s.add(Contact(warning_id=w2.id, channel="phone", at=bj(2024, 3, 1, 9, 30), by_user_id=user_id, result="reached"))
    s.add(Contact(warning_id=w2.id, channel="visit", at=bj(2024, 3, 12, 10, 0), by_user_id=user_id, result="reached"))
    warning(3, bj(2022, 1, 1, 9, 0), person_id=people["V3"].id)
    month = Campaign(code="T8GAPC1", name="一月宣传月", kind="month", starts_on=date(2024, 1, 1),
                     ends_on=date(2024, 1, 31), area_id=c2.parent_id)
    autumn = Campaign(code="T8GAPC2", name="秋季扫楼", kind="sweep", starts_on=date(2023, 10, 1),
                      ends_on=date(2023, 11, 30), area_id=c.parent_id)
    s.add_all([month, autumn])
    s.flush()
    s.add_all([CampaignArea(campaign_id=month.id, area_id=c2.id), CampaignArea(campaign_id=autumn.id,
                                                                               area_id=c.parent_id)])
    cases = {}
    for key, loss, community in (("V1", bj(2024, 3, 5, 14, 0), c), ("V2", bj(2024, 3, 10, 20, 0), c),
                                 ("V3", bj(2024, 3, 15, 9, 0), c), ("V4", bj(2024, 3, 25, 9, 0), c2),
                                 ("V5", bj(2024, 3, 28, 9, 0), c3)):
        p = people[key]
        case = Case(case_number=f"T8GAP-{key}", filed_at=loss + timedelta(hours=3), loss_at=loss, name=p.name,
                    phone=p.phone, community_id=community.id, victim_groups=p.groups,
                    person_id=None if key == "V2" else p.id)
        s.add(case)
        cases[key] = case
    s.add(Case(case_number="T8GAP-X", filed_at=bj(2024, 3, 6), loss_at=bj(2024, 3, 6), community_id=c.id))  # nobody
    s.flush()
    yield s, cases, c, c2
    s.rollback()
    s.close()


def test_each_victim_and_the_summary(county):
    from fanzha.org.scope import Scope
    from fanzha.prevention.gaps import service as gaps

    s, cases, c, c2 = county
    system = Scope.system(s)
    got = {v.case.case_number: v.reached for v in gaps.analyse(s, list(cases.values()))}
    no = dict.fromkeys(gaps.CHECKS, False)
    assert got == {"T8GAP-V1": {**no, "warned": True, "visited": True}, "T8GAP-V2": {**no, "warned": True},
                   "T8GAP-V3": {**no, "app": True}, "T8GAP-V4": {**no, "campaign": True}, "T8GAP-V5": no}

    summary = gaps.summary(s, system, START, END)
    total = summary.total
    # 5 victims (the case without person, ID or phone is none); warned V1 V2, visited V1, APP V3, campaign V4;
    # 金钟罩 nobody (V3's came after the loss); missed by everything: V5.
    assert len(total.victims) == 5
    assert [total.reached(k) for k in gaps.CHECKS] == [2, 1, 1, 0, 1]
    assert total.missed("warned") == 3 and total.missed_all == 1
    groups = {b.key: b for b in summary.by_group}
    # 老年人 V1 V4 V5: warned 1, visited 1, APP 0, 金钟罩 0, campaign 1, missed all 1 (V5)
    assert len(groups["elderly"].victims) == 3
    assert [groups["elderly"].reached(k) for k in gaps.CHECKS] == [1, 1, 0, 0, 1] and groups["elderly"].missed_all == 1
    assert [groups["student_teacher"].reached(k) for k in gaps.CHECKS] == [0, 0, 1, 0, 0]
    assert [groups["investor"].reached(k) for k in gaps.CHECKS] == [0, 0, 0, 0, 1]
    assert [groups["none"].reached(k) for k in gaps.CHECKS] == [1, 0, 0, 0, 0]
    areas = {b.key: b for b in summary.by_area}
    # C's township: V1 V2 V3 → warned 2, visited 1, APP 1; C2's township: V4 V5 → campaign 1, missed all 1
    assert set(areas) == {c.parent_id, c2.parent_id}
    assert [areas[c.parent_id].reached(k) for k in gaps.CHECKS] == [2, 1, 1, 0, 0]
    assert len(areas[c2.parent_id].victims) == 2 and areas[c2.parent_id].missed_all == 1
    police = gaps.summary(s, system, START, END, chain="police")
    assert sum(len(b.victims) for b in police.by_area) == 5
    assert all(s.get(Area, b.key).level == "station" for b in police.by_area)

    behind = gaps.missed(s, system, START, END, check="warned", area_key=c2.parent_id)
    assert [v.case.case_number for v in behind] == ["T8GAP-V4", "T8GAP-V5"]
    assert [v.case.case_number for v in gaps.missed(s, system, START, END, check="all", group="elderly")] == [
        "T8GAP-V5"]
    assert [v.case.case_number for v in gaps.missed(s, system, START, END, check="visited", group="none")] == [
        "T8GAP-V2"]


def test_a_station_sees_only_its_victims(county):
    from fanzha.common.errors import Invalid
    from fanzha.org.scope import Scope
    from fanzha.prevention.gaps import service as gaps

    s, cases, c, c2 = county
    officer = Scope.for_user(s.scalar(select(User).where(User.username == "ps01_minjing")))
    summary = gaps.summary(s, officer, START, END)
    # Only V1–V3 hang under ps01's communities
    assert sorted(v.case.case_number for v in summary.total.victims) == ["T8GAP-V1", "T8GAP-V2", "T8GAP-V3"]
    assert gaps.missed(s, officer, START, END, check="campaign", area_key=c2.parent_id) == []
    with pytest.raises(Invalid):
        gaps.summary(s, officer, END, START)


def test_rules_file_changes_the_windows(county, tmp_path):
    from fanzha.prevention.gaps import service as gaps

    s, cases, c, c2 = county
    rules = tmp_path / "gaps.toml"
    rules.write_text("[warned]\ndays = 10\n[campaign]\ndays = 30\n", encoding="utf-8")
    loaded = gaps.load_rules(rules)
    got = {v.case.case_number: v.reached for v in gaps.analyse(s, list(cases.values()), loaded)}
    # V1's warning came 14 days before the loss: outside 10 days (and its visit goes with it); V4's campaign ended
    # 54 days before the loss: outside 30 days. V2's warning (9 days before) stays.
    assert not got["T8GAP-V1"]["warned"] and not got["T8GAP-V1"]["visited"]
    assert got["T8GAP-V2"]["warned"] and not got["T8GAP-V4"]["campaign"]


def test_pages_and_api(client_as, api_as, db):
    from fanzha.trail.models import AuditEntry

    page = client_as("yanpan")
    r = page.get("/cases/gaps?start=2026-01-01&end=2026-12-31")
    assert r.status_code == 200 and "宣防漏洞" in r.text and "按易受骗群体" in r.text
    missed = page.get("/cases/gaps/missed?check=warned&start=2026-01-01&end=2026-12-31")
    assert missed.status_code == 200 and "某" in missed.text  # names masked (张某某)
    db.expire_all()
    seen = db.scalars(select(AuditEntry.detail).where(AuditEntry.username == "yanpan", AuditEntry.entity == "case",
                                                      AuditEntry.action == "view")).all()
    assert any(d.get("gaps") == "warned" for d in seen)  # the list behind a number is an audited view
    assert page.get("/cases/gaps?start=2026-12-31&end=2026-01-01").status_code == 422
    body = api_as("yanpan").get("/api/v1/case-gaps?start=2026-01-01&end=2026-12-31&chain=police").json()
    assert body["total"]["victims"] == sum(r["victims"] for r in body["by_area"])  # each victim in one area row
    assert set(body["total"]["reached"]) == {"warned", "visited", "app", "jzz", "campaign"}
