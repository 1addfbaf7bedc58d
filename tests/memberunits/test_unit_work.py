"""A member unit does its part (成员单位工作): its liaison records activities aimed at one of its duty groups and a
fraud type, and sees its groups' coverage, cases and target lists and the lists it sent, nothing else.

Hand-made county 单位县 (code UWK) with one village and the unit 单位县民政局 (duty groups 老年人、单身离异) whose
liaison `uwk_liaison` sits on the county node. People of the village (groups on 2025-12-31; 老年人 is derived from
the birth date in the ID number, 60 or older):

  P1 born 1950, declared 单身离异, listed by the unit, APP 2025-03-01, 金钟罩 2025-03-01  → 单身离异 + 老年人
  P2 born 1980, declared 单身离异, listed by the unit, APP 2025-04-01                   → 单身离异
  P3 born 1985, declared 单身离异, not listed                                           → 单身离异
  P4 born 1955, no declared group, APP 2025-05-01                                        → 老年人
  P5 born 1990, no group                                                                 → none

An APP/金钟罩注册名单 has been imported for the county, so registrations count per person:
  单身离异: 3 people, 2 listed by the unit, APP 2 (66.7 %), 金钟罩 1 (33.3 %)
  老年人:   2 people, 1 listed by the unit, APP 2 (100 %), 金钟罩 1 (50 %)
Cases filed in 2025 with the victim's groups at filing: P3 网络婚恋 50,000.00 (单身离异), P4 冒充公检法 120,000.50
(老年人); one filed in 2024 (P2, 网络婚恋) is not in 2025's figures.
The liaison records, through the real form, 单身离异 × 网络婚恋 with 40 participants and 老年人 × 冒充公检法 with 25.
A 单身离异 target list made for the county holds P1 and P3: the unit sees one of its people on it (P1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from fanzha.common.identity import id_check_digit
from fanzha.db import session_scope
from fanzha.memberunits import service
from fanzha.org.models import Area, Unit, User
from fanzha.org.scope import Scope
from fanzha.prevention.models import Activity
from fanzha.trail.models import AuditEntry
from support.forms import default_values, multipart, parse
from support.web import DEMO_PASSWORD

LIAISON = "uwk_liaison"
FILED = {"A": datetime(2025, 6, 10, 2, tzinfo=UTC), "B": datetime(2025, 8, 1, 2, tzinfo=UTC),
         "C": datetime(2024, 11, 1, 2, tzinfo=UTC)}


def _id(birth: str, n: int) -> str:
    base = f"110105{birth}{n:03d}"
    return base + id_check_digit(base)


@pytest.fixture(scope="module")
def county(app):
    from fanzha.auth.passwords import hash_password
    from fanzha.cases.models import Case
    from fanzha.imports.models import ImportBatch
    from fanzha.org.names import refresh_labels
    from fanzha.people.models import Person
    from fanzha.registry.models import RegistryEntry, TargetList, TargetMember
    from support.areas import add_area

    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))
        county = add_area(s, chain="admin", level="county", name="单位县", code="UWK", parent_id=city.id)
        town = add_area(s, chain="admin", level="township", name="单位镇", code="UWKT", parent_id=county.id)
        st = add_area(s, chain="police", level="station", name="单位县派出所", code="UWKS", parent_id=bureau.id)
        village = add_area(s, chain="admin", level="community", name="单位村", code="UWKA", parent_id=town.id,
                           police_area_id=st.id, police_path=st.path, population=30, households=10)
        refresh_labels(s)
        unit = Unit(name="单位县民政局", code="UWK-MZ", kind="civil_affairs", area_id=county.id,
                    duty_groups=["elderly", "single_divorced"])
        s.add(unit)
        s.flush()
        s.add(User(username=LIAISON, display_name="单联络", password_hash=hash_password(DEMO_PASSWORD),
                   role="unit_liaison", area_id=county.id, unit_id=unit.id))
        spec = {"P1": ("19500101", 1, ["single_divorced"], date(2025, 3, 1), date(2025, 3, 1)),
                "P2": ("19800101", 2, ["single_divorced"], date(2025, 4, 1), None),
                "P3": ("19850101", 3, ["single_divorced"], None, None),
                "P4": ("19550101", 4, [], date(2025, 5, 1), None),
                "P5": ("19900101", 5, [], None, None)}
        people = {}
        for key, (birth, n, groups, app_on, jzz_on) in spec.items():
            p = Person(name=f"单甲{'一二三四五'[n - 1]}", id_number=_id(birth, n), gender="男",
                       birth_date=date(int(birth[:4]), 1, 1), community_id=village.id, groups=groups,
                       app_registered_on=app_on, jzz_registered_on=jzz_on)
            s.add(p)
            people[key] = p
        s.flush()
        s.add(ImportBatch(kind="app_registration", filename="单位县APP注册名单.csv", status="done", updated=3,
                          area_id=county.id))
        batch = ImportBatch(kind="registry", filename="单位县民政局单身离异名单.xlsx", status="done", created=2,
                            area_id=county.id)
        s.add(batch)
        s.flush()
        for n, key in enumerate(("P1", "P2"), start=2):
            s.add(RegistryEntry(person_id=people[key].id, batch_id=batch.id, row_number=n, groups=["single_divorced"],
                                unit_id=unit.id))
        for number, key, victim, fraud_type, loss, groups in (
                ("A", "UWK-A", "P3", "romance", Decimal("50000.00"), ["single_divorced"]),
                ("B", "UWK-B", "P4", "impersonate_authority", Decimal("120000.50"), ["elderly"]),
                ("C", "UWK-C", "P2", "romance", Decimal("8000.00"), ["single_divorced"])):
            s.add(Case(case_number=key, person_id=people[victim].id, name=people[victim].name,
                       community_id=village.id, filed_at=FILED[number], loss_at=FILED[number],
                       fraud_type=fraud_type, loss_amount=loss, victim_groups=groups))
        tl = TargetList(name="单位县单身离异名单", group="single_divorced", fraud_types=["romance"],
                        as_of=date(2025, 12, 1), area_id=county.id)
        s.add(tl)
        s.flush()
        for key in ("P1", "P3"):
            s.add(TargetMember(list_id=tl.id, person_id=people[key].id, community_id=village.id, score=10.0,
                               fraud_types=["romance"], message=""))
        s.flush()
        return {"unit": unit.id, "village": village.id, "list": tl.id,
                **{k: p.id for k, p in people.items()}}


def _activity_form(client) -> dict:
    page = client.get("/prevention/activities/new")
    assert page.status_code == 200
    return next(f for f in parse(page.text).forms if f["action"] == "/prevention/activities")


def _submit(client, form: dict, **values):
    data = [(k, values.pop(k) if k in values else v) for k, v in default_values(form)]
    data += list(values.items())
    body, kind = multipart(data, [(f["name"], ("", b"", "application/octet-stream")) for f in form["files"]])
    return client.post(form["action"], content=body, headers={"Content-Type": kind}, follow_redirects=False)


@pytest.fixture(scope="module")
def recorded(county, app):
    """The liaison fills the activity form in as a browser does: first without a group, then with one that is not
    its unit's, then 单身离异 × 网络婚恋 (40) and 老年人 × 冒充公检法 (25)."""
    from support.web import login, make_client

    client = make_client(app)
    assert login(client, LIAISON).status_code == 303
    village = str(county["village"])
    form = _activity_form(client)
    out = {"form": form}
    out["no_group"] = _submit(client, form, community_id=village, held_on="2025-09-01", participants="40")
    out["other_group"] = _submit(client, form, community_id=village, held_on="2025-09-01", participants="40",
                                 target_group="student_teacher")
    out["first"] = _submit(client, form, community_id=village, held_on="2025-09-01", participants="40",
                           target_group="single_divorced", fraud_type="romance")
    out["first_page"] = client.get(out["first"].headers.get("location", "/"))
    out["second"] = _submit(client, _activity_form(client), community_id=village, held_on="2025-10-01",
                            participants="25", target_group="elderly", fraud_type="impersonate_authority")
    client.close()
    return out


def test_the_liaison_records_activities_for_its_groups(county, recorded, db):
    group = next(s for s in recorded["form"]["selects"] if s["name"] == "target_group")
    # Only the unit's two groups are offered, with a prompt first (two groups: the liaison must choose).
    assert [o["value"] for o in group["options"]] == ["", "elderly", "single_divorced"]
    refused = recorded["no_group"]
    assert refused.status_code == 422
    assert "请选择本单位负责的对象人群：老年人、单身离异" in refused.text
    assert 'value="40"' in refused.text  # what was typed is kept
    other = recorded["other_group"]
    assert other.status_code == 422 and "师生 不是本单位负责的人群" in other.text
    assert recorded["first"].status_code == 303, recorded["first"].text
    assert "单身离异" in recorded["first_page"].text and "网络婚恋、交友" in recorded["first_page"].text
    assert recorded["second"].status_code == 303, recorded["second"].text
    db.expire_all()
    rows = db.execute(select(Activity.target_group, Activity.fraud_type, Activity.participants, Activity.unit_id)
                      .where(Activity.community_id == county["village"]).order_by(Activity.held_on)).all()
    assert [tuple(r) for r in rows] == [("single_divorced", "romance", 40, county["unit"]),
                                        ("elderly", "impersonate_authority", 25, county["unit"])]


def test_the_liaison_sees_its_groups_coverage_cases_and_lists(county, recorded, client_as, api_as):
    api = api_as(LIAISON)
    r = api.get(f"/api/v1/units/{county['unit']}/work", params={"year": 2025})
    assert r.status_code == 200, r.text
    w = r.json()
    groups = {g["group"]: g for g in w["groups"]}
    single, elderly = groups["single_divorced"], groups["elderly"]
    assert (single["people"], single["listed"], single["app"], single["jzz"]) == (3, 2, 2, 1)
    assert single["app_rate"] == pytest.approx(2 / 3) and single["jzz_rate"] == pytest.approx(1 / 3)
    assert single["source"] == "people"
    assert (elderly["people"], elderly["listed"], elderly["app"], elderly["jzz"]) == (2, 1, 2, 1)
    assert (single["activities"], single["participants"]) == (1, 40)
    assert [(t["fraud_type"], t["count"]) for t in single["by_type"]] == [("romance", 1)]
    assert (single["cases"], Decimal(str(single["loss"]))) == (1, Decimal("50000.00"))
    assert [(t["fraud_type"], t["count"]) for t in single["top_types"]] == [("romance", 1)]
    assert (elderly["activities"], elderly["participants"], elderly["cases"]) == (1, 25, 1)
    assert Decimal(str(elderly["loss"])) == Decimal("120000.50")
    assert [(b["filename"], b["rows"], b["people"]) for b in w["batches"]] == [("单位县民政局单身离异名单.xlsx", 2, 2)]
    assert w["listed_people"] == 2
    # The county's list holds one of the unit's people; the demo city's 单身离异 list (above the county) none of them.
    members = {t["id"]: t["members"] for t in w["target_lists"]}
    assert members.pop(county["list"]) == 1 and set(members.values()) <= {0}

    page = client_as(LIAISON).get(f"/org/units/{county['unit']}/work", params={"year": 2025})
    assert page.status_code == 200
    assert "单位县民政局" in page.text and "66.7%" in page.text and "50,000.00" in page.text
    assert "按注册名单去重计人" in page.text
    # The page and the API give the same figures: the page's cells for 单身离异.
    section = page.text.split('id="group-single_divorced"')[1].split("</section>")[0]
    assert 'data-figure="people">3<' in section and 'data-figure="participants">40<' in section


def test_the_liaison_sees_its_own_people_masked_and_nothing_else(county, client_as, api_as, db):
    client = client_as(LIAISON)
    people = client.get(f"/org/units/{county['unit']}/work/people")
    assert people.status_code == 200
    assert people.text.count("单某某") == 2 and "单甲" not in people.text  # P1 and P2, names masked
    api = api_as(LIAISON)
    rows = api.get(f"/api/v1/units/{county['unit']}/people").json()
    assert sorted(r["id"] for r in rows) == sorted([county["P1"], county["P2"]])
    assert all(r["name"] == "单某某" for r in rows) and all("id_number" not in r for r in rows)
    members = api.get(f"/api/v1/units/{county['unit']}/target-lists/{county['list']}").json()
    assert [m["person_id"] for m in members["people"]] == [county["P1"]]  # P3 is on the list, not the unit's
    listed = client.get(f"/org/units/{county['unit']}/work/lists/{county['list']}")
    assert listed.status_code == 200 and "单某某" in listed.text and "单甲" not in listed.text
    db.expire_all()
    viewed = db.scalar(select(AuditEntry).where(AuditEntry.action == "view", AuditEntry.entity == "target_list",
                                                AuditEntry.entity_id == str(county["list"]))
                       .order_by(AuditEntry.id.desc()))
    assert viewed is not None and viewed.detail.get("unit") == county["unit"]

    with session_scope() as s:
        other = s.scalar(select(Unit.id).where(Unit.id != county["unit"]).order_by(Unit.id))
    assert client.get(f"/org/units/{other}/work").status_code == 404
    assert api.get(f"/api/v1/units/{other}/work").status_code == 404
    assert api.get(f"/api/v1/units/{other}/people").status_code == 404
    # Another unit's liaison and a station reach none of it; the centre does.
    for username in ("danwei01", "ps01_suozhang"):
        assert api_as(username).get(f"/api/v1/units/{county['unit']}/work").status_code == 404
        assert client_as(username).get(f"/org/units/{county['unit']}/work/people").status_code == 404
    assert api_as("admin").get(f"/api/v1/units/{county['unit']}/work").status_code == 200
    # The menu takes the liaison to its own unit's page.
    assert client.get("/unit-work", follow_redirects=False).headers["location"] == \
        f"/org/units/{county['unit']}/work"


def test_a_unit_with_one_group_needs_no_choice(client_as, db):
    """教育局 answers for 师生 only: its activity form offers that group alone, and a sheet without the column lands
    on it."""
    client = client_as("danwei01")
    form = _activity_form(client)
    group = next(s for s in form["selects"] if s["name"] == "target_group")
    assert [o["value"] for o in group["options"]] == ["student_teacher"]
    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == "danwei01"))
        from fanzha.org.enums import Level
        from fanzha.prevention import service as prevention
        scope = Scope.for_user(user)
        leaf = s.scalar(select(Area).where(Area.level == Level.COMMUNITY, scope.community_clause(Area.id))
                        .order_by(Area.id))
        assert prevention.aim_of(s, scope, "", "") == ("student_teacher", "")
        assert leaf is not None


def test_work_figures_for_a_centre_user_equal_the_liaisons(county):
    with session_scope() as s:
        liaison = s.scalar(select(User).where(User.username == LIAISON))
        admin = s.scalar(select(User).where(User.username == "admin"))
        a = service.work(s, Scope.for_user(liaison), county["unit"], year=2025, today=date(2025, 12, 31))
        b = service.work(s, Scope.for_user(admin), county["unit"], year=2025, today=date(2025, 12, 31))
        assert [(g.group, g.people, g.app, g.cases) for g in a.groups] == \
            [(g.group, g.people, g.app, g.cases) for g in b.groups]


def test_the_demo_civil_affairs_liaison_has_work_to_see(api_as, client_as):
    """On first run 民政局's liaison (danwei02) sees its two groups with people, its activities aimed at them, the
    list it sent and target lists for its groups."""
    api = api_as("danwei02")
    unit_id = api.get("/api/v1/me").json()["unit_id"]
    w = api.get(f"/api/v1/units/{unit_id}/work").json()
    assert w["unit"] == "江州市民政局"
    groups = {g["group"]: g for g in w["groups"]}
    assert set(groups) == {"elderly", "single_divorced"}
    assert groups["single_divorced"]["people"] >= groups["single_divorced"]["listed"] > 0
    assert groups["elderly"]["people"] > 0
    # The demo's three (other tests may record more for the unit in the shared database).
    assert sum(g["activities"] for g in w["groups"]) >= 3
    assert "romance" in [t["fraud_type"] for t in groups["single_divorced"]["by_type"]]
    assert "民政局单身离异人员名单.csv" in [b["filename"] for b in w["batches"]]
    assert {t["group"] for t in w["target_lists"]} == {"elderly", "single_divorced"}
    page = client_as("danwei02").get("/unit-work", follow_redirects=True)
    assert page.status_code == 200 and "单身离异" in page.text and "网络婚恋、交友" in page.text
