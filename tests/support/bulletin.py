"""A month of cases written by hand for the bulletin tests: June 2024, with May 2024 (环比) and June 2023 (同比).

Times are Beijing time. The expected figures, worked out by hand:

  June 2024: 3 cases, 300,000 元 = 30.00万元
    张某 (女, 62) 刷单返利 95,500 元, community A, 3 June 10:00
    李某 (男, 30) 刷单返利 4,500 元, community A, 30 June 23:30 (still June in Beijing; 15:30 UTC)
    王某 (女, 45) 冒充公检法 200,000 元, community B, 15 June 09:00
    (赵某 1,000,000 元 filed 1 July 00:10 Beijing = 30 June 16:10 UTC belongs to July and is not counted)
  May 2024: 2 cases, 120,000 元     → 环比: cases (3−2)/2 = 上升50.0%, loss (300000−120000)/120000 = 上升150.0%
  June 2023: 4 cases, 400,000 元    → 同比: cases (3−4)/4 = 下降25.0%, loss (300000−400000)/400000 = 下降25.0%
  Types: 刷单返利 2 cases (66.7%), 10.00万元 (33.3%); 冒充公检法及政府机关 1 case (33.3%), 20.00万元 (66.7%)
  Township of A: 2 cases, 10.00万元, 33.3% of the loss, last June 2 → 同比 +0.0%; township of B: 1 case, last June 2
  Loss bands: 10万元以上1起 (200,000), 5万（含）—10万元1起 (95,500), 1万（含）—5万元0起, 1万元以下1起 (4,500)
  Victims: 女2人、男1人
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from fanzha.cases.models import Case
from fanzha.org.enums import Level
from fanzha.org.models import Area

BJ = ZoneInfo("Asia/Shanghai")


@dataclass
class Places:
    township_a: Area
    township_b: Area
    community_a: Area
    community_b: Area


def _case(n: str, when: str, community: Area, ftype: str, loss: str, sex: str = "", age: int | None = None) -> Case:
    at = datetime.fromisoformat(when).replace(tzinfo=BJ)
    return Case(case_number=f"BT{n}", name="张某", filed_at=at, loss_at=at, community_id=community.id,
                fraud_type=ftype, loss_amount=Decimal(loss), victim_sex=sex, victim_age=age, source="form",
                narrative="受害人在兼职群内被诱导刷单，先小额返利后大额转账。" if ftype == "brushing" else "")


def places(session) -> Places:
    # The demo county's first two townships (JZ…): other tests add hand-made counties whose codes may sort first.
    townships = list(session.scalars(select(Area).where(Area.level == Level.TOWNSHIP, Area.code.like("JZ%"))
                                     .order_by(Area.code)))
    a, b = townships[0], townships[1]
    first = lambda t: session.scalar(select(Area).where(Area.parent_id == t.id).order_by(Area.code))  # noqa: E731
    return Places(a, b, first(a), first(b))


def add_cases(session) -> Places:
    p = places(session)
    A, B = p.community_a, p.community_b
    session.add_all([
        _case("202406-1", "2024-06-03 10:00", A, "brushing", "95500.00", "女", 62),
        _case("202406-2", "2024-06-30 23:30", A, "brushing", "4500.00", "男", 30),
        _case("202406-3", "2024-06-15 09:00", B, "impersonate_authority", "200000.00", "女", 45),
        _case("202407-1", "2024-07-01 00:10", A, "brushing", "1000000.00", "男", 50),
        _case("202405-1", "2024-05-10 12:00", A, "loan", "100000.00"),
        _case("202405-2", "2024-05-20 12:00", A, "loan", "20000.00"),
        _case("202306-1", "2023-06-05 12:00", A, "brushing", "100000.00"),
        _case("202306-2", "2023-06-06 12:00", A, "brushing", "100000.00"),
        _case("202306-3", "2023-06-07 12:00", B, "brushing", "100000.00"),
        _case("202306-4", "2023-06-08 12:00", B, "brushing", "100000.00"),
    ])
    session.flush()
    return p


def remove_cases(session) -> None:
    session.execute(delete(Case).where(Case.case_number.like("BT%")))


@pytest.fixture(scope="module")
def june(database):
    """The hand-made cases in the database for one test module: (township A name, township B name, community A id,
    township A id, community A code, township B code)."""
    from fanzha.db import session_scope
    from fanzha.reports.models import IssuedDocument

    with session_scope() as s:
        p = add_cases(s)
        ids = (p.township_a.name, p.township_b.name, p.community_a.id, p.township_a.id, p.community_a.code,
               p.township_b.code)
    yield ids
    with session_scope() as s:
        remove_cases(s)
        s.execute(delete(IssuedDocument).where(IssuedDocument.period.in_(("2024-06", "2024-W23", "2024-Q2"))))
