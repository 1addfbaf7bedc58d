"""A case victim's 回访 for the 回访 tests: a case filed through the case service, its 回访, and the clock moved on."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.cases import service as cases
from fanzha.cases.models import Case
from fanzha.db import utcnow
from fanzha.dissuasion.models import FollowUp
from fanzha.org.models import User
from fanzha.org.scope import Scope

_n = itertools.count(1)


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _scope(s, name: str) -> Scope:
    return Scope.for_user(_user(s, name))


def file_case(s, *, station_user: str = "ps01_quanzu", days_ago: float = 0.2, loss: str = "95.5万") -> Case:
    """张桂兰's 冒充公检法 case of 95.5万元, filed `days_ago` days ago at an address of `station_user`'s station, entered
    by the centre through the case form's service."""
    station = _scope(s, station_user)
    address = s.scalar(select(StandardAddress.text).where(station.community_clause(StandardAddress.community_id))
                       .order_by(StandardAddress.id))
    filed = utcnow() - timedelta(days=days_ago)
    n = next(_n)
    number = f"JZFU{n:03d}{filed:%H%M%S%f}"
    raw = {"案件编号": number, "立案时间": f"{filed + timedelta(hours=8):%Y-%m-%d %H:%M}",
           "被骗时间": f"{filed + timedelta(hours=5):%Y-%m-%d %H:%M}", "姓名": "张桂兰",
           "手机号": f"1371234{n:04d}", "发案地址": address, "诈骗类型": "冒充公检法及政府机关", "损失金额": loss,
           "简要案情": "对方自称公安民警，以涉嫌洗钱为由要求转账至安全账户"}
    return cases.create(s, _scope(s, "yanpan"), raw)


def follow_up_of(s, case: Case) -> FollowUp:
    return s.scalar(select(FollowUp).where(FollowUp.case_id == case.id))


def a_week_later(f: FollowUp) -> None:
    """The pages run on the real clock: the 回访 is moved back as if filed eight days ago (due a day ago)."""
    f.due_at -= timedelta(days=8)
