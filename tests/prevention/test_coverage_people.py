"""Coverage from people (注册率按人): once an APP/金钟罩注册名单 is imported for an area, its registration rates count
each registered person once, from the list; the activities' reported counts only stand in, labelled, where no list
has come. Hand-made county 覆盖县 (one station, two villages), figures worked out by hand:

  甲村 10 户, 乙村 8 户. Activities reported APP 注册 9 (甲) and 6 (乙) on 05-01 — 15 of 18 households (83 %) as the
  reports count it, several people reported twice. The station's 所长 imports the APP list (CSV, GBK):
    甲: 2026-02-01, 2026-03-15, 2025-12-20 (before the target's start: not counted), 2026-07-05 (after the due day),
        and 2026-03-15 again for the first person on a second row (a duplicate: the person counts once);
    乙: 2026-04-01, 2026-04-02, 2026-05-05; one row names nobody on file (rejected, with its reason).
  Target APP注册 ÷ 户数 ≥ 50 % from 2026-01-01, due 2026-06-30, judged 2026-07-10:
    甲 2 of 10 (needs 5, gap 3), 乙 3 of 8 (needs 4, gap 1), county 5 of 18 = 27.8 % (needs 9, gap 4);
    counted to today (07-10): 6.
  金钟罩 ÷ 户数 ≥ 50 %: no 金钟罩 date on the list, but the list covers the villages, so people count: 0 of 18.
  In the demo, the first station imported its APP list and the second did not: one counts people, one reports.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fanzha.common.identity import id_check_digit
from fanzha.db import session_scope
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.prevention import service
from fanzha.prevention.coverage import service as cov
from support.web import DEMO_PASSWORD

IMPORTER = "cvp_suozhang"  # a 所长: imports lists, and is not 三包 staff (the registry test balances those)
JUDGED = datetime(2026, 7, 10, 12, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _id(n: int) -> str:
    base = f"11010519700115{n:03d}"
    return base + id_check_digit(base)


@pytest.fixture(scope="module")
def county(app):
    from fanzha.auth.passwords import hash_password
    from fanzha.org.models import User
    from fanzha.org.names import refresh_labels
    from fanzha.people.models import Person
    from support.areas import add_area

    with session_scope() as s:
        city = s.scalar(select(Area).where(Area.code == "JZ"))
        bureau = s.scalar(select(Area).where(Area.code == "JZGA"))
        county = add_area(s, chain="admin", level="county", name="覆盖县", code="CVP", parent_id=city.id)
        town = add_area(s, chain="admin", level="township", name="覆盖镇", code="CVPT", parent_id=county.id)
        st = add_area(s, chain="police", level="station", name="覆盖派出所", code="CVPS", parent_id=bureau.id)
        villages = {}
        for code, name, hh in (("CVPA", "覆盖甲村", 10), ("CVPB", "覆盖乙村", 8)):
            villages[code] = add_area(s, chain="admin", level="community", name=name, code=code, parent_id=town.id,
                                      police_area_id=st.id, police_path=st.path, population=hh * 3, households=hh)
        refresh_labels(s)
        s.add(User(username=IMPORTER, display_name="覆所长", password_hash=hash_password(DEMO_PASSWORD),
                   role="station_head", area_id=st.id))
        for n, village in ((1, "CVPA"), (2, "CVPA"), (3, "CVPA"), (4, "CVPA"), (5, "CVPA"),
                           (6, "CVPB"), (7, "CVPB"), (8, "CVPB")):
            s.add(Person(name=f"覆某{n}", id_number=_id(n), gender="男", community_id=villages[village].id))
        sys = Scope.system(s)
        for village, n in (("CVPA", 9), ("CVPB", 6)):
            service.create_activity(s, sys, service.ActivityDraft(
                kind="report", community_id=villages[village].id, held_on=date(2026, 5, 1),
                counts={"app_installs": n, "jzz_registrations": n}), now=JUDGED)
        s.flush()
        return {"county": county.id, "CVPS": st.id, **{k: v.id for k, v in villages.items()}}


def _target(metric: str, area_id: int) -> int:
    with session_scope() as s:
        return cov.create_target(s, Scope.system(s), area_id=area_id, metric=metric, denominator="households",
                                 target_pct=Decimal("50"), due_on=date(2026, 6, 30), counts_from=date(2026, 1, 1)).id


def _import_list(api_as) -> dict:
    rows = ["身份证号,姓名,注册类型,注册日期",
            f"{_id(1)},覆某1,APP,2026-02-01",
            f"{_id(2)},覆某2,APP,2026-03-15",
            f"{_id(3)},覆某3,APP,2025-12-20",
            f"{_id(4)},覆某4,APP,2026-07-05",
            f"{_id(1)},覆某1,APP,2026-03-15",   # the same person again, later: kept at 02-01, counted once
            f"{_id(6)},覆某6,APP,2026-04-01",
            f"{_id(7)},覆某7,APP,2026-04-02",
            f"{_id(8)},覆某8,APP,2026-05-05",
            f"{_id(99)},不在册,APP,2026-05-05"]  # nobody on file
    api = api_as(IMPORTER)
    r = api.post("/api/v1/imports/app_registration",
                 files={"file": ("APP注册名单.csv", io.BytesIO(("\r\n".join(rows) + "\r\n").encode("gbk")))})
    assert r.status_code == 202, r.text
    return api.get(f"/api/v1/imports/{r.json()['id']}").json()


def test_the_list_counts_each_person_once(county, api_as, client_as):
    app = _target("app_installs", county["county"])
    jzz = _target("jzz_registrations", county["county"])
    with session_scope() as s:  # before the list: the reports stand in, labelled
        c = cov.coverage(s, Scope.system(s), app, now=JUDGED, node_id=county["county"])
        assert c.source == "activities" and "尚未导入注册名单" in c.source_label
        assert (c.total.achieved, c.total.denominator) == (15, 18)
    before = client_as("admin").get(f"/prevention/coverage/{app}", params={"area_id": county["county"]})
    assert "尚未导入注册名单" in before.text

    batch = _import_list(api_as)
    assert (batch["status"], batch["updated"], batch["duplicates"], batch["rejected"]) == ("done", 7, 1, 1)
    with session_scope() as s:
        c = cov.coverage(s, Scope.system(s), app, now=JUDGED, node_id=county["county"], chain="admin")
        assert c.source == "people" and "去重" in c.source_label
        assert (c.total.achieved, c.total.denominator, c.total.needed, c.total.gap) == (5, 18, 9, 4)
        assert c.total.rate == Fraction(5, 18) and c.total_today.achieved == 6
        assert [(r.area.code, r.gap) for r in c.behind_leaves] == [("CVPA", 3), ("CVPB", 1)]
        z = cov.coverage(s, Scope.system(s), jzz, now=JUDGED, node_id=county["county"])
        assert z.source == "people" and z.total.achieved == 0
        s.rollback()

    page = client_as("admin").get(f"/prevention/coverage/{app}", params={"area_id": county["county"]})
    assert page.status_code == 200 and "按注册名单去重计人" in page.text
    api = api_as("admin").get(f"/api/v1/prevention/targets/{app}/coverage",
                              params={"area_id": county["county"], "at": JUDGED.isoformat()}).json()
    assert api["source"] == "people" and api["total"]["achieved"] == 5


def test_the_demo_shows_both_sources(db):
    """The demo's first station imported its APP list: its APP 安装率 counts people; the second station's stays on
    the reported counts, labelled."""
    from fanzha.org.models import User
    from fanzha.prevention.models import CoverageTarget

    def source(username: str) -> str:
        station = db.scalar(select(User.area_id).where(User.username == username))
        target = db.scalar(select(CoverageTarget.id).where(CoverageTarget.area_id == station,
                                                           CoverageTarget.metric == "app_installs"))
        return cov.coverage(db, Scope.system(db), target, now=JUDGED).source

    assert (source("ps01_suozhang"), source("ps02_suozhang")) == ("people", "activities")
