"""宣防 holes a review found, each kept closed by a test on the hand-made 测试县 of prevention/test_prevention.py (its `county`
fixture): 测试一镇 (甲村, 乙村, 零村) and 测试二镇 (丙村); 测一派出所 holds 甲村 and 丙村, 测二派出所 乙村 and 零村."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope
from fanzha.prevention.models import Quiz, Supervision
from fanzha.prevention.quiz import service as quiz
from support.web import DEMO_PASSWORD

PEOPLE = {  # username → role, area (short name in `county`)
    "pvf_grid_a": ("grid_worker", "T1A"),
    "pvf_grid_b": ("grid_worker", "T1B"),
    "pvf_officer1": ("station_officer", "S1"),
    "pvf_head1": ("station_head", "S1"),
    "pvf_analyst": ("centre_analyst", "GA"),
    "pvf_joint": ("joint_office", "county"),
}


@pytest.fixture(scope="module")
def people(county):
    from fanzha.auth import users
    from fanzha.org.schemas import UserIn

    with session_scope() as s:
        for username, (role, where) in PEOPLE.items():
            if s.scalar(select(User.id).where(User.username == username)) is None:
                users.create_user(s, Scope.system(s), UserIn(username=username, display_name="测试", role=role,
                                                               password=DEMO_PASSWORD, area_id=county[where]))
    return county


def _scope(s, username: str) -> Scope:
    return Scope.for_user(s.scalar(select(User).where(User.username == username)))


# --- 5. tests set at one chain reach the takers of the other ------------------------------------------------------
def test_tests_reach_across_the_two_chains(people, db):
    codes = list(quiz.load_bank())[:2]
    with session_scope() as s:
        bureau = s.scalar(select(Area).where(Area.level == Level.BUREAU, Area.parent_id.is_(None)))
        city = s.scalar(select(Area).where(Area.level == Level.CITY, Area.parent_id.is_(None)))
        made = {}
        for name, area_id, role in (("市局卷", bureau.id, "grid_worker"), ("联席办卷", city.id, "station_officer"),
                                    ("测一所卷", people["S1"], "grid_worker"), ("一镇卷", people["T1"], "station_officer"),
                                    ("测试县卷", people["county"], "station_officer")):
            q = Quiz(title="PVF" + name, area_id=area_id, roles=[role], questions=codes, opens_on=date(2026, 1, 1),
                     closes_on=date(2099, 12, 31))
            s.add(q)
            s.flush()
            made[name] = q.id
        other_grid = s.scalar(select(User).join(Area, User.area_id == Area.id).where(
            User.role == "grid_worker", ~Area.path.startswith(s.get(Area, people["county"]).path)))
        other_grid = other_grid.username

    def seen(username):
        with session_scope() as s:
            return {q.title.removeprefix("PVF") for q in quiz.list_quizzes(s, _scope(s, username))
                    if q.title.startswith("PVF")}

    # The bureau's test for 网格员 reaches every grid worker; the station's only those of its villages (甲村).
    assert seen("pvf_grid_a") == {"市局卷", "测一所卷"}
    assert seen("pvf_grid_b") == {"市局卷"}
    assert seen(other_grid) == {"市局卷"}
    # The city 联席办's test reaches the station officers; 测一派出所 holds 丙村 too, so 一镇's test does not reach it.
    assert seen("pvf_officer1") == {"联席办卷", "测试县卷"}

    # Scores: each reader counts the takers it reaches, whatever their chain.
    when = datetime(2026, 6, 1, 4, tzinfo=UTC)
    bank = quiz.load_bank()
    right = {c: bank[c].answer for c in codes}
    with session_scope() as s:
        for username in ("pvf_grid_a", "pvf_grid_b", other_grid):
            quiz.submit(s, _scope(s, username), made["市局卷"], right, now=when)
        quiz.submit(s, _scope(s, "pvf_officer1"), made["联席办卷"], right, now=when)
        with pytest.raises(Exception, match="未分配"):
            quiz.get_quiz(s, _scope(s, "pvf_grid_b"), made["测一所卷"])

    def takers(reader, name):
        with session_scope() as s:
            scope = Scope.system(s) if reader == "system" else _scope(s, reader)
            return {a.user.username for a in quiz.scores(s, scope, made[name])[0]}

    assert takers("pvf_analyst", "市局卷") == {"pvf_grid_a", "pvf_grid_b"}  # 测试县公安局: its villages' grid workers
    assert takers("pvf_joint", "市局卷") == {"pvf_grid_a", "pvf_grid_b"}  # 测试县 联席办
    assert takers("admin", "市局卷") == {"pvf_grid_a", "pvf_grid_b", other_grid}  # the bureau: the whole city
    assert takers("pvf_joint", "联席办卷") == {"pvf_officer1"}  # all of 测一派出所's villages lie in 测试县
    assert takers("pvf_analyst", "联席办卷") == {"pvf_officer1"}


# --- 6. the public self-test never shows a staff test's answers ----------------------------------------------------
def test_selftest_refuses_the_codes_of_an_open_test(app, people, db):
    from support.web import make_client

    with session_scope() as s:
        made = quiz.create_quiz(s, _scope(s, "pvf_analyst"), title="PVF刷单卷", roles=["station_officer"],
                                fraud_types=["brushing"], opens_on=date(2026, 1, 1), closes_on=date(2099, 12, 31))
        codes = list(made.questions)
    bank = quiz.load_bank()
    assert codes and not any(bank[c].public for c in codes)  # drawn only from the staff set
    anon = make_client(app)
    r = anon.get("/selftest", params={"picked": ",".join(codes), "check": "1",
                                      **{f"q_{c}": str(bank[c].answer) for c in codes}})
    assert r.status_code == 200
    for c in codes:  # neither the question nor its answer or explanation is shown
        assert bank[c].stem not in r.text and bank[c].explain not in r.text
    assert "答对 0 / 8 题" in r.text  # eight questions of the public set instead, none answered
    assert len(quiz.public_bank()) >= 8 and len(quiz.staff_bank()) >= 20
    assert not set(quiz.public_bank()) & set(quiz.staff_bank())


# --- 7. 督导/约谈 records follow the user's own subtree, not the area names they may read ----------------------------
def test_a_station_sees_no_talks_held_on_the_branch_or_the_township(people, sweep, client_as, api_as, db):
    from fanzha.prevention import service

    held = {}
    with session_scope() as s:
        for where, kind in (("GA", "interview"), ("T1", "interview"), ("S1", "supervise"), ("T2C", "supervise")):
            row = Supervision(campaign_id=sweep, area_id=people[where], kind=kind, held_on=date(2026, 4, 9),
                              note=f"PVF约谈记录{where}")
            s.add(row)
            s.flush()
            held[where] = row.id

    def notes(username):
        with session_scope() as s:
            return {x.note.removeprefix("PVF约谈记录") for x in service.list_supervisions(s, _scope(s, username), sweep)
                    if x.note.startswith("PVF")}

    # 测一派出所: its own node and the village it covers (丙村), not the branch above or 测试一镇 beside it.
    assert notes("pvf_head1") == {"S1", "T2C"}
    assert notes("pvf_analyst") == {"GA", "S1", "T2C"}  # the county police: its subtree and its villages
    assert notes("pvf_joint") == {"T1", "T2C"}  # 测试县 联席办: the admin chain under the county
    assert notes("admin") == {"GA", "T1", "S1", "T2C"}  # the bureau: everything
    page = client_as("pvf_head1").get(f"/prevention/campaigns/{sweep}")
    assert page.status_code == 200 and "PVF约谈记录S1" in page.text
    assert "PVF约谈记录GA" not in page.text and "PVF约谈记录T1" not in page.text
    api = api_as("pvf_head1")
    r = api.post(f"/api/v1/prevention/supervisions/{held['GA']}/outcome", json={"outcome": "improved"})
    assert r.status_code == 404
    r = api.post(f"/api/v1/prevention/supervisions/{held['S1']}/outcome", json={"outcome": "improved"})
    assert r.status_code == 200
    # What the user recorded stays theirs to see, wherever they sit now.
    with session_scope() as s:
        mine = service.add_supervision(s, _scope(s, "pvf_head1"), sweep, area_id=people["S1"], kind="supervise",
                                       held_on=date(2026, 4, 9), note="PVF约谈记录own", now=datetime(2026, 4, 10, tzinfo=UTC))
        mine.area_id = people["T1"]  # as if the station had been moved out from under it
    assert "own" in notes("pvf_head1")


# --- 8. 无诈社区: both windows are exactly N months -----------------------------------------------------------------
def test_fraud_free_windows_exclude_the_day_n_months_ago(people, db):
    from zoneinfo import ZoneInfo

    from sqlalchemy import delete

    from fanzha.cases.models import Case
    from fanzha.prevention.fraudfree import service as fraudfree
    from fanzha.prevention.models import Activity

    bj = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 5, 20, 12, tzinfo=bj)  # today 05-20: 12 months back is 2025-05-20, 3 months 2026-02-20
    rules = fraudfree.Rules(case_months=12, activity_months=3, activity_min=1)
    leaf = people["T1Z"]  # 零村: no case and no activity of its own in the other tests

    def counts():
        import re

        with session_scope() as s:
            reasons = " ".join(fraudfree.evaluate(s, rules, now.astimezone(UTC))[leaf][1])
        cases = re.search(r"近12个月立案(\d+)起", reasons)
        return int(cases.group(1)) if cases else 0, int(re.search(r"近3个月宣传活动(\d+)次", reasons).group(1))

    cases, acts = counts()  # other tests may have placed an activity on 零村 in the window
    with session_scope() as s:
        for n, filed in ((1, datetime(2025, 5, 20, 23, 59, tzinfo=bj)), (2, datetime(2025, 5, 21, 0, 1, tzinfo=bj))):
            s.add(Case(case_number=f"PVF-EDGE-{n}", community_id=leaf, filed_at=filed.astimezone(UTC),
                       loss_at=filed.astimezone(UTC), fraud_type="other"))
        for held in (date(2026, 2, 20), date(2026, 2, 21)):
            s.add(Activity(kind="lecture", community_id=leaf, held_on=held, organiser="PVF边界"))
    try:
        # The boundary day counts in neither window; the day after counts in both.
        assert counts() == (cases + 1, acts + 1)
    finally:
        with session_scope() as s:
            s.execute(delete(Case).where(Case.case_number.like("PVF-EDGE-%")))
            s.execute(delete(Activity).where(Activity.organiser == "PVF边界"))


# --- 9. a target is judged on what was done by its due date ---------------------------------------------------------
def test_a_target_is_judged_up_to_its_due_date(people, api_as, client_as, db):
    from decimal import Decimal

    from sqlalchemy import delete

    from fanzha.prevention import service
    from fanzha.prevention.coverage import service as cov
    from fanzha.prevention.models import Activity, CoverageTarget

    # 测试二镇 holds only 丙村 (pop 2000): 承诺书 ≥ 80 % by 07-31 asks for ⌈1600⌉; 1500 by then, 200 more on 08-05.
    with session_scope() as s:
        sys = Scope.system(s)
        for held, n in ((date(2026, 7, 10), 1500), (date(2026, 8, 5), 200)):
            service.create_activity(s, sys, service.ActivityDraft(
                kind="report", community_id=people["T2C"], held_on=held, counts={"pledges": n},
                organiser="PVF截止"), now=datetime(2026, 8, 6, tzinfo=UTC))
        t = cov.create_target(s, sys, area_id=people["T2"], metric="pledges", denominator="population",
                              target_pct=Decimal("80"), due_on=date(2026, 7, 31), counts_from=date(2026, 7, 1))
        target_id = t.id
    try:
        after = datetime(2026, 8, 10, 4, tzinfo=UTC)
        c = cov.coverage(db, Scope.system(db), target_id, now=after)
        assert c.as_of == date(2026, 7, 31) and c.today == date(2026, 8, 10)
        assert (c.total.achieved, c.total.needed, c.total.gap, c.total.behind) == (1500, 1600, 100, True)
        assert c.total_today.achieved == 1700  # shown beside it, not judged
        before = cov.coverage(db, Scope.system(db), target_id, now=datetime(2026, 7, 20, 4, tzinfo=UTC))
        assert before.as_of == date(2026, 7, 20) and before.total.achieved == 1500 and before.total_today is None
        r = api_as("admin").get(f"/api/v1/prevention/targets/{target_id}/coverage",
                                params={"at": after.isoformat()})
        body = r.json()
        assert r.status_code == 200 and body["as_of"] == "2026-07-31"
        assert body["total"]["achieved"] == 1500 and body["total"]["behind"] and body["total_today"]["achieved"] == 1700
        page = client_as("admin").get(f"/prevention/coverage/{target_id}")  # the due date is behind the real clock too
        assert page.status_code == 200 and "按截止日期考核" in page.text
        assert "累计承诺书签订 1,700" in page.text.split('id="today-figure"', 1)[1]
    finally:
        with session_scope() as s:
            s.execute(delete(CoverageTarget).where(CoverageTarget.id == target_id))
            s.execute(delete(Activity).where(Activity.organiser == "PVF截止"))


# --- 10. a refused or failed activity leaves no photo on disk ------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def _files() -> set:
    from fanzha.config import get_settings

    folder = get_settings().data_dir / "activities"
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _draft(people, organiser):
    from fanzha.prevention import service

    return service.ActivityDraft(kind="lecture", community_id=people["T1A"], held_on=date(2026, 4, 9),
                                 counts={"participants": 12}, organiser=organiser)


def test_activity_photos_are_all_or_nothing(people, monkeypatch, client_as):
    from fanzha.common.errors import Invalid
    from fanzha.prevention import service
    from fanzha.prevention.models import Activity, ActivityPhoto

    before = _files()
    when = datetime(2026, 4, 10, tzinfo=UTC)

    def made(organiser):
        with session_scope() as s:
            return s.scalars(select(Activity.id).where(Activity.organiser == organiser)).all()

    # The second photo is not a picture: refused before anything is written.
    with pytest.raises(Invalid, match="JPG、PNG 或 WEBP"), session_scope() as s:
        service.create_activity(s, Scope.system(s), _draft(people, "PVF照片一"), now=when, photos=[PNG, b"GIF89a..."])
    assert made("PVF照片一") == [] and _files() == before

    # Both photos written, then the save fails: the rollback takes the files away too.
    real = service.audit.record

    def failing(session, scope, action, entity, *args, **kwargs):
        if entity == "activity":
            raise RuntimeError("disk full")
        return real(session, scope, action, entity, *args, **kwargs)

    monkeypatch.setattr(service.audit, "record", failing)
    with pytest.raises(RuntimeError), session_scope() as s:
        service.create_activity(s, Scope.system(s), _draft(people, "PVF照片二"), now=when, photos=[PNG, JPG])
    monkeypatch.setattr(service.audit, "record", real)
    assert made("PVF照片二") == [] and _files() == before

    # The page: a station head sends a good photo and a bad one; 422, no row, no file.
    from support.web import csrf_of

    page = client_as("pvf_head1")
    r = page.post("/prevention/activities", data={"csrf_token": csrf_of(page), "kind": "lecture",
                                                   "community_id": str(people["T1A"]), "held_on": "2026-04-09",
                                                   "participants": "8", "organiser": "PVF照片三"},
                  files=[("photos", ("a.png", PNG, "image/png")), ("photos", ("b.jpg", b"not a photo", "image/jpeg"))])
    assert r.status_code == 422 and "JPG、PNG 或 WEBP" in r.text
    assert made("PVF照片三") == [] and _files() == before

    # And when all is well, both photos are kept with their rows.
    with session_scope() as s:
        a = service.create_activity(s, Scope.system(s), _draft(people, "PVF照片四"), now=when, photos=[PNG, JPG])
        kept = a.id
    with session_scope() as s:
        paths = s.scalars(select(ActivityPhoto.path).where(ActivityPhoto.activity_id == kept)).all()
    assert len(paths) == 2 and len(_files() - before) == 2


# --- 11. rows of the other chain are found by level, not by depth (兵团) --------------------------------------------
def test_other_chain_rows_for_a_bingtuan_regiment(people, db):
    from fanzha.org.tree import children

    made = []
    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.level == Level.CITY, Area.parent_id.is_(None)).order_by(Area.id))
        bureau = s.scalar(select(Area).where(Area.level == Level.BUREAU, Area.parent_id.is_(None)).order_by(Area.id))

        def node(chain, level, name, code, parent, **kw):
            a = Area(chain=chain, level=level, name=name, code=code, parent_id=parent.id, population=800, **kw)
            s.add(a)
            s.flush()
            a.path = parent.path + f"{a.id}/"
            made.append(a.id)
            return a

        # 兵团: 团场 straight under the 师市 (the city); its police station straight under the 市局, with a beat.
        regiment = node("admin", "township", "PVF一团", "PVFBT1", city, kind_label="团场")
        station = node("police", "station", "PVF一团派出所", "PVFBT1S", bureau)
        beat = node("police", "beat", "PVF一连警务区", "PVFBT1SB", station)
        for code, name, police in (("PVFBT1L1", "PVF一连", beat), ("PVFBT1L2", "PVF二连", station)):
            node("admin", "community", name, code, regiment, kind_label="连队", police_area_id=police.id,
                 police_path=police.path)
        ids = {"regiment": regiment.id, "station": station.id}
    try:
        with session_scope() as s:
            assert [a.code for a in children(s, s.get(Area, ids["station"]), "admin")] == ["PVFBT1"]
            assert [a.code for a in children(s, s.get(Area, ids["regiment"]), "police")] == ["PVFBT1S"]
            # The ordinary county keeps its rows: 测试县 in the police chain is its two stations.
            county = s.get(Area, people["county"])
            assert [a.code for a in children(s, county, "police")] == ["PVT01S1", "PVT01S2"]
            assert [a.code for a in children(s, s.get(Area, people["S1"]), "admin")] == ["PVT01T1", "PVT01T2"]
    finally:
        with session_scope() as s:
            for area_id in reversed(made):
                s.delete(s.get(Area, area_id))
                s.flush()
