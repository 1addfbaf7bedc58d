"""Free-text addresses as people type them, matched to the demo county's standard addresses (seed 7).

tests/fixtures/messy_addresses.csv (UTF-8): 地址 as typed, 社区编码 the community it means (noted by hand; blank for a
place outside the jurisdiction, which must match nothing), 说明 what is messy about it. The 50 rows with a code were
written from real demo standard addresses: abbreviations (河口五星村4组 for 河口镇五星村4组, 解放街道迎宾大道241号 for
解放迎宾大道241号), missing city/district, 号/栋/幢/号楼/单元 variants, a door number without 号, full-width digits,
Chinese numerals (三组, 七号, 二栋), 队 for 组, extra spaces, 號, and typos. Three of them are not expected to match
(a typo inside the estate or road name, and a road that three townships of 江城区 share); the matcher gets the other
47 right: 94.0 %. The 10 rows outside the jurisdiction include the traps of a substring matcher: another city's
阳光花园 / 锦绣花园, 长沙's 人民路134号 (the county has 中山人民路134号), 成都's 黄土村3组.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from fanzha.addresses.models import StandardAddress
from fanzha.addresses.service import AddressMatcher, match_key, normalize
from fanzha.org.models import Area, User
from fanzha.org.scope import Scope

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "messy_addresses.csv"


def rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def matched(db) -> list[tuple[str, str | None, str | None]]:
    """(text, expected code or None, matched code or None) for every fixture row."""
    codes = dict(db.execute(select(Area.id, Area.code)).all())
    matcher = AddressMatcher(db)
    return [(r["地址"], r["社区编码"] or None, codes.get(matcher.match(r["地址"]))) for r in rows()]


def test_the_fixture_is_what_the_docstring_says(db):
    data = rows()
    assert len(data) == 60
    expected = {r["社区编码"] for r in data if r["社区编码"]}
    communities = set(db.scalars(select(Area.code).where(Area.level == "community", Area.code.in_(expected))))
    assert communities == expected
    assert sum(1 for r in data if r["社区编码"]) == 50
    assert len({r["地址"] for r in data}) == 60
    # The standard addresses the messy rows were written from are in the demo, on the noted community.
    for text, code in [("中山迎宾大道206号", "JZ0101001"), ("中山工业园路42号", "JZ0101005"), ("中山工业园路", "JZ0101002"),
                       ("中山建设路7号", "JZ0101003"), ("中山长江路242号", "JZ0101008"), ("解放迎宾大道241号", "JZ0102015"),
                       ("滨江和平路277号", "JZ0103003"), ("新港建设路21号", "JZ0202007"), ("河口镇五星村4组", "JZ0203003"),
                       ("双河镇王庄村4组", "JZ0303003"), ("龙泉乡红星村", "JZ0304013"), ("中坝镇桃园村1组", "JZ0402007"),
                       ("阳光花园", "JZ0101009"), ("锦绣花园", "JZ0101001"), ("中山人民路134号", "JZ0101007"),
                       ("青山镇黄土村3组", "JZ0301012")]:
        row = db.scalar(select(StandardAddress).where(StandardAddress.text == text))
        assert row is not None and db.get(Area, row.community_id).code == code, text
    # 迎宾大道288号 is ambiguous in 江城区 only by the road's name: 中山、解放、新港 all have a 迎宾大道.
    roads = set(db.scalars(select(StandardAddress.text).where(StandardAddress.text.like("%迎宾大道"))))
    assert {"中山迎宾大道", "解放迎宾大道", "新港迎宾大道"} <= roads


def test_at_least_90_percent_of_messy_addresses_land_on_the_right_community(matched):
    meant = [(text, want, got) for text, want, got in matched if want]
    right = [text for text, want, got in meant if got == want]
    rate = len(right) / len(meant)
    wrong = [(text, want, got) for text, want, got in meant if got != want]
    assert rate >= 0.9, f"{rate:.1%} matched; wrong: {wrong}"
    # A miss may only be "no match", never another community.
    assert [(text, got) for text, _, got in wrong if got is not None] == []


def test_no_address_outside_the_jurisdiction_matches(matched):
    outside = [(text, got) for text, want, got in matched if want is None]
    assert len(outside) == 10
    assert [(text, got) for text, got in outside if got is not None] == []


@pytest.mark.parametrize(("typed", "key"), [
    ("中山北京路159 3栋", "中山北京路159号3栋"),          # door number without 号, building after a space
    ("中山长江路242-1", "中山长江路242号1"),              # door-room
    ("中山工业园路42", "中山工业园路42号"),
    ("中山长江路26栋6单元2101室", "中山长江路26栋6单元2101室"),  # a building on the road, not a door number
    ("中山 迎宾大道 29 号", "中山迎宾大道29号"),
    ("河口镇枫林村三组", "河口镇枫林村3组"),
    ("五星村二十一组", "五星村21组"),                     # 五星 stays a name
    ("中山建设路 七号", "中山建设路7号"),
    ("锦绣公寓3号楼2单元", "锦绣公寓3栋2单元"),
    ("人民苑二栋", "人民苑2栋"),
    ("青山镇凤凰村5队", "青山镇凤凰村5组"),
    ("锦绣二社区", "锦绣二社区"),                         # a community name is left alone
    ("中山人民路82號", "中山人民路82号"),
    ("文化苑6幢", "文化苑6栋"),
])
def test_match_key(typed, key):
    assert match_key(typed) == key


def test_stored_keys_do_not_change():
    """normalize() is the key stored with each standard address; the looser matching must not alter it."""
    assert normalize("河口镇枫林村三组") == "河口镇枫林村三组"
    assert normalize("锦绣公寓 3号楼") == "锦绣公寓3号楼"
    assert normalize("紫荆社区清风街１６號") == "紫荆社区清风街16号"


def test_township_written_in_full_or_short(db):
    codes = dict(db.execute(select(Area.id, Area.code)).all())
    matcher = AddressMatcher(db)
    assert codes[matcher.match("河口五星村4组")] == codes[matcher.match("河口镇五星村4组")] == "JZ0203003"
    assert codes[matcher.match("中山街道迎宾大道6号")] == codes[matcher.match("中山迎宾大道6号")] == "JZ0101001"
    # Without the township the village name alone is ambiguous (枫林村 is in five townships): no guess.
    assert matcher.match("江州市枫林村3组") is None


def test_a_station_scoped_matcher_sees_only_its_own_addresses(db):
    scope = Scope.for_user(db.scalar(select(User).where(User.username == "ps01_suozhang")))
    codes = dict(db.execute(select(Area.id, Area.code)).all())
    matcher = AddressMatcher(db, scope)
    assert codes[matcher.match("江州市中山迎宾大道206号")] == "JZ0101001"
    assert matcher.match("中山工业园路128号") is None  # 人民社区 belongs to 中山西派出所


def test_home_city_and_district_do_not_count_as_outside(db):
    codes = dict(db.execute(select(Area.id, Area.code)).all())
    matcher = AddressMatcher(db)
    for text in ("江州市江城区阳光花园", "湖南省江州市阳光花园3栋", "江洲市江城区阳光花园", "城市花园旁阳光花园"):
        assert codes.get(matcher.match(text)) == "JZ0101009", text
    for text in ("深圳市南山区阳光花园", "湖南省阳光花园"):
        assert matcher.match(text) is None, text
