"""The hand-made county (测试县) of the 宣防 tests and its two-day 扫楼, module fixtures; times in Beijing time.

The county: 测试一镇 (甲村 pop 1000, 乙村 pop 500, 零村 pop 0) and 测试二镇 (丙村 pop 2000); police: 测一派出所 holds
甲村 and 丙村, 测二派出所 holds 乙村 and 零村.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fanzha.db import session_scope
from fanzha.org.models import Area
from fanzha.org.scope import Scope
from fanzha.prevention import service
from fanzha.prevention.models import Campaign

BJ = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BJ).astimezone(UTC)


@pytest.fixture(scope="module")
def county(app):
    """Builds the hand-made county once; returns area ids by short name."""
    from fanzha.org.enums import Level

    with session_scope() as s:
        existing = s.scalar(select(Area).where(Area.code == "PVT01"))
        if existing is None:
            city = s.scalar(select(Area).where(Area.level == Level.CITY))
            bureau = s.scalar(select(Area).where(Area.level == Level.BUREAU))

            def node(chain, level, name, code, parent, **kw):
                a = Area(chain=chain, level=level, name=name, code=code, parent_id=parent.id, **kw)
                s.add(a)
                s.flush()
                a.path = parent.path + f"{a.id}/"
                return a

            c = node("admin", "county", "测试县", "PVT01", city)
            br = node("police", "branch", "测试县公安局", "PVT01GA", bureau)
            s1 = node("police", "station", "测一派出所", "PVT01S1", br)
            s2 = node("police", "station", "测二派出所", "PVT01S2", br)
            t1 = node("admin", "township", "测试一镇", "PVT01T1", c)
            t2 = node("admin", "township", "测试二镇", "PVT01T2", c)
            for name, code, t, st, pop, hh, shops in (("测试甲村", "PVT01T1A", t1, s1, 1000, 400, 50),
                                                      ("测试乙村", "PVT01T1B", t1, s2, 500, 200, 20),
                                                      ("测试零村", "PVT01T1Z", t1, s2, 0, 0, 0),
                                                      ("测试丙村", "PVT01T2C", t2, s1, 2000, 800, 100)):
                node("admin", "community", name, code, t, police_area_id=st.id, police_path=st.path, population=pop,
                     households=hh, shops=shops)
        return {a.code.removeprefix("PVT01") or "county": a.id
                for a in s.scalars(select(Area).where(Area.code.startswith("PVT01")))}


@pytest.fixture(scope="module")
def sweep(county):
    """扫楼 2026-04-08..09 over 测试县; quotas 一镇 入户 200, 二镇 入户 100, 甲村 商铺 40; five activities."""
    with session_scope() as s:
        sys = Scope.system(s)
        c = s.scalar(select(Campaign).where(Campaign.code == "PVTSL0408"))
        if c is None:
            c = service.create_campaign(s, sys, service.CampaignDraft(
                name="测试县扫楼", kind="sweep", starts_on=date(2026, 4, 8), ends_on=date(2026, 4, 9),
                area_ids=[county["county"]], code="PVTSL0408"))
            service.set_quota(s, sys, c.id, area_id=county["T1"], metric="households", target=200)
            service.set_quota(s, sys, c.id, area_id=county["T2"], metric="households", target=100)
            service.set_quota(s, sys, c.id, area_id=county["T1A"], metric="shops", target=40)
            for day, leaf, hh, shops in ((8, "T1A", 60, 10), (8, "T1B", 30, 0), (8, "T2C", 50, 0),
                                         (9, "T1A", 40, 20), (9, "T2C", 10, 0)):
                counts = {"households": hh, **({"shops": shops} if shops else {})}
                service.create_activity(s, sys, service.ActivityDraft(
                    kind="sweep", community_id=county[leaf], held_on=date(2026, 4, day), counts=counts,
                    campaign_id=c.id), now=at(4, 9, 20))
        return c.id
