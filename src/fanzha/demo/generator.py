"""Generating the demo county reproducibly from a seed: areas of both chains, units, users, addresses, people.

Later domains add their own demo data (warnings, cases, activities) through `extend_demo` hooks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import fanzha.importers  # noqa: F401  (the domains' intake, run below, reads what they register at start-up)
from fanzha.addresses.models import StandardAddress
from fanzha.addresses.service import guess_kind, normalize
from fanzha.auth.passwords import hash_password
from fanzha.common.identity import id_check_digit
from fanzha.demo import names
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit, User
from fanzha.org.names import refresh_labels
from fanzha.org.roles import Role
from fanzha.people.models import Person

DEMO_PASSWORD = "Fanzha@2026"
REGION_PREFIX = "4399"  # fictional 地区代码 prefix: 43 + 99 is not a real prefecture


@dataclass
class DemoLogin:
    username: str
    role: Role
    area: str


@dataclass
class DemoResult:
    logins: list[DemoLogin] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Area))


class _Builder:
    def __init__(self, session: Session, seed: int):
        self.s = session
        self.r = random.Random(seed)
        self.codes: set[str] = set()

    def area(self, chain: Chain, level: Level, name: str, code: str, parent: Area | None, kind: str = "", **kw) -> Area:
        a = Area(chain=chain.value, level=level.value, name=name, code=code, kind_label=kind,
                 parent_id=parent.id if parent else None, **kw)
        self.s.add(a)
        self.s.flush()
        a.path = (parent.path if parent else "/") + f"{a.id}/"
        return a

    def name(self) -> str:
        given = self.r.choice(names.GIVEN)
        if self.r.random() < 0.6:
            given = given + self.r.choice(names.GIVEN)
        return self.r.choice(names.SURNAMES) + given[:2]

    def id_number(self, county_code: str, birth: date, female: bool) -> str:
        seq = self.r.randrange(0, 99) * 10 + self.r.choice((0, 2, 4, 6, 8) if female else (1, 3, 5, 7, 9))
        first17 = f"{county_code}{birth:%Y%m%d}{seq:03d}"
        return first17 + id_check_digit(first17)

    def phone(self) -> str:
        return self.r.choice(("138", "139", "135", "137", "150", "151", "158", "187", "188", "130", "131",
                              "155", "186", "133", "153", "177", "180", "189", "199")) + f"{self.r.randrange(10**8):08d}"


def generate(session: Session, *, seed: int = 2026, people: int = 3000, password: str = DEMO_PASSWORD,
             warnings: int | None = None, progress: Callable[[str], None] = lambda _step: None) -> DemoResult:
    """`progress` is told each step as it starts (fanzha demo and fanzha run print them)."""
    progress("辖区：市、区县、乡镇街道、派出所、警务区、村社区")
    b = _Builder(session, seed)
    r = b.r
    result = DemoResult()
    today = date(2026, 11, 1)

    city = b.area(Chain.ADMIN, Level.CITY, "江州市", "JZ", None, "市")
    bureau = b.area(Chain.POLICE, Level.BUREAU, "江州市公安局", "JZGA", None, "市局")
    districts = names.DISTRICTS[: r.randint(3, 5)]
    stations: list[Area] = []
    beats_by_station: dict[int, list[Area]] = {}
    communities: list[tuple[Area, bool, str]] = []  # (community, urban, county code)
    townships: list[Area] = []
    for d_index, (d_name, d_kind) in enumerate(districts, start=1):
        county_code = f"{REGION_PREFIX}{d_index:02d}"
        district = b.area(Chain.ADMIN, Level.COUNTY, d_name, f"JZ{d_index:02d}", city, d_kind)
        branch_name = d_name.replace("区", "分局") if d_kind == "区" else d_name.replace("县", "县公安局")
        branch = b.area(Chain.POLICE, Level.BRANCH, branch_name, f"JZGA{d_index:02d}", bureau,
                        "分局" if d_kind == "区" else "县局")
        for t_index, (t_name, t_kind) in enumerate(names.TOWNSHIPS[d_name], start=1):
            t_code = f"JZ{d_index:02d}{t_index:02d}"
            township = b.area(Chain.ADMIN, Level.TOWNSHIP, t_name, t_code, district, t_kind)
            townships.append(township)
            urban = t_kind == "街道"
            base = t_name[:-2] if t_kind == "街道" else t_name[:-1]
            n_stations = 2 if urban or r.random() < 0.4 else 1
            own_stations = []
            for s_index in range(1, n_stations + 1):
                s_name = f"{base}派出所" if n_stations == 1 else f"{base}{'东西'[s_index - 1]}派出所"
                station = b.area(Chain.POLICE, Level.STATION, s_name, f"{t_code}PS{s_index}", branch, "派出所")
                stations.append(station)
                own_stations.append(station)
                beats_by_station[station.id] = [
                    b.area(Chain.POLICE, Level.BEAT, f"{s_name[:-3]}第{'一二三四'[k]}警务区", f"{t_code}PS{s_index}B{k + 1}",
                           station, "警务区")
                    for k in range(r.randint(2, 4))
                ]
            pool = list(names.URBAN_COMMUNITIES if urban else names.VILLAGES)
            r.shuffle(pool)
            picked = r.randint(15, 20)
            village, towns = names.REPEATED_VILLAGE
            if t_name in towns and village in pool[picked:]:  # its last village takes the name; no other moves
                at = pool.index(village)
                pool[picked - 1], pool[at] = pool[at], pool[picked - 1]
            for c_index in range(picked):
                c_name = pool[c_index % len(pool)] + ("社区" if urban else "村")
                if c_index >= len(pool):
                    c_name = pool[c_index % len(pool)] + ("二社区" if urban else "二村")
                station = own_stations[c_index % len(own_stations)]
                beat = r.choice(beats_by_station[station.id])
                pop = r.randint(2500, 9000) if urban else r.randint(700, 3200)
                c = b.area(Chain.ADMIN, Level.COMMUNITY, c_name, f"{t_code}{c_index + 1:03d}", township,
                           "社区" if urban else "村", police_area_id=beat.id, police_path=beat.path,
                           population=pop, households=int(pop / r.uniform(2.4, 3.1)),
                           shops=r.randint(40, 400) if urban else r.randint(3, 40))
                communities.append((c, urban, county_code))
    refresh_labels(session)

    progress("成员单位、标准地址、人员")
    # Member units and employers
    units: list[Unit] = []
    for u_index, (u_name, kind, groups) in enumerate(names.UNITS, start=1):
        units.append(Unit(name=u_name, code=f"U{u_index:03d}", kind=kind, area_id=city.id, duty_groups=list(groups),
                          is_member=True, contact_name=b.name(), contact_phone=b.phone()))
    for e_index, e_name in enumerate(names.EMPLOYERS, start=1):
        units.append(Unit(name=e_name, code=f"E{e_index:03d}", kind="enterprise" if "有限" in e_name else "other",
                          area_id=r.choice(townships).id, duty_groups=[], is_member=False, contact_name=b.name(),
                          contact_phone=b.phone()))
    session.add_all(units)
    session.flush()

    # Standard addresses
    addresses: dict[int, list[str]] = {}
    seen: set[str] = set()
    for c, urban, _ in communities:
        texts = []
        if urban:
            for _ in range(r.randint(3, 6)):
                texts.append(f"{c.name[:-2]}{r.choice(names.ESTATE_SUFFIX)}")
            road = r.choice(names.ROADS)
            texts.append(f"{c.parent.name[:-2]}{road}")
            for _ in range(r.randint(3, 6)):
                texts.append(f"{c.parent.name[:-2]}{road}{r.randint(1, 300)}号")
        else:
            texts.append(f"{c.parent.name}{c.name}")
            for g in range(1, r.randint(3, 8)):
                texts.append(f"{c.parent.name}{c.name}{g}组")
        kept = []
        for t in texts:
            key = normalize(t)
            if key in seen:
                continue
            seen.add(key)
            kept.append(t)
            session.add(StandardAddress(community_id=c.id, kind=guess_kind(t), text=t, normalized=key))
        addresses[c.id] = kept

    # People: age and groups follow the seeds' risk picture (elderly, students, accountants, investors …)
    weights = [c.population for c, _, _ in communities]
    id_seen: set[str] = set()
    batch = []
    for _ in range(people):
        c, urban, county_code = r.choices(communities, weights=weights)[0]
        female = r.random() < 0.5
        age = int(min(90, max(16, r.gauss(44, 17))))
        birth = today - timedelta(days=age * 365 + r.randint(0, 364))
        idn = b.id_number(county_code, birth, female)
        while idn in id_seen:
            idn = b.id_number(county_code, birth, female)
        id_seen.add(idn)
        groups = []
        if age >= 60:
            groups.append("elderly")
        if age <= 24 and r.random() < 0.7:
            groups.append("student_teacher")
        for key, p in (("accountant", 0.05), ("company_head", 0.03), ("medical", 0.03), ("investor", 0.06),
                       ("single_divorced", 0.05)):
            if 22 <= age <= 65 and r.random() < p:
                groups.append(key)
        unit_id = None
        if "accountant" in groups or ("medical" in groups) or ("student_teacher" in groups and r.random() < 0.3):
            unit_id = r.choice(units).id
        address = r.choice(addresses[c.id]) if addresses[c.id] else c.name
        if urban and not address.endswith("号"):
            address += f"{r.randint(1, 30)}栋{r.randint(1, 6)}单元{r.randint(1, 30):02d}{r.randint(1, 4):02d}室"
        batch.append(Person(name=b.name(), id_number=idn, phone=b.phone() if r.random() < 0.95 else None,
                            gender="女" if female else "男", birth_date=birth, community_id=c.id, address=address,
                            groups=sorted(groups), unit_id=unit_id))
    session.add_all(batch)

    # Users: every role, with the first stations fully staffed
    pw_hash = hash_password(password)

    def user(username: str, display: str, role: Role, area: Area, unit: Unit | None = None) -> None:
        session.add(User(username=username, display_name=display, password_hash=pw_hash, role=role.value,
                         area_id=area.id, unit_id=unit.id if unit else None))
        result.logins.append(DemoLogin(username, role, area.label + (f" · {unit.name}" if unit else "")))

    user("admin", "系统管理员", Role.CENTRE_ADMIN, bureau)
    user("fzzx_admin", b.name(), Role.CENTRE_ADMIN, bureau)
    user("yanpan", b.name(), Role.CENTRE_ANALYST, bureau)
    user("diaodu", b.name(), Role.CENTRE_ANALYST, bureau)
    user("lianxiban", b.name(), Role.JOINT_OFFICE, city)
    user("shenji", b.name(), Role.AUDITOR, bureau)
    for i, station in enumerate(stations[:8], start=1):
        user(f"ps{i:02d}_suozhang", b.name(), Role.STATION_HEAD, station)
        user(f"ps{i:02d}_minjing", b.name(), Role.STATION_OFFICER, station)
        user(f"ps{i:02d}_quanzu", b.name(), Role.DISSUADER, station)
        beat = beats_by_station[station.id][0]
        user(f"ps{i:02d}_sqmj", b.name(), Role.COMMUNITY_POLICE, beat)
    for i, station in enumerate(stations[8:], start=9):  # every station has a dissuader to dispatch to
        user(f"ps{i:02d}_quanzu", b.name(), Role.DISSUADER, station)
    for i, (c, _, _) in enumerate(communities[:: max(1, len(communities) // 6)][:6], start=1):
        user(f"wangge{i:02d}", b.name(), Role.GRID_WORKER, c)
    for i, unit in enumerate(units[:4], start=1):
        user(f"danwei{i:02d}", b.name(), Role.UNIT_LIAISON, city, unit)
    session.flush()

    from fanzha.demo.warnings import generate_warnings

    progress("预警指令与劝阻记录")
    warning_count = generate_warnings(session, seed=seed, count=people if warnings is None else warnings)
    from fanzha.db import utcnow
    from fanzha.demo.requests import play_requests

    play_requests(session, utcnow())  # 查询/止付/冻结 in each state
    from fanzha.demo.prevention import generate_prevention

    progress("宣防活动、群众举报")
    activity_count = generate_prevention(session, seed=seed, now=utcnow())
    from fanzha.demo.reports import generate_reports

    report_count = generate_reports(session, seed=seed)
    from fanzha.demo.registry import generate_registry

    progress("易受骗群体库与重点人员名单")
    registry_counts = generate_registry(session, seed=seed, now=utcnow())
    from fanzha.demo.cases import generate_cases

    progress("立案、破案与案件处置")
    case_counts = generate_cases(session, seed=seed, now=utcnow())
    from fanzha.demo.followups import play_follow_ups

    case_counts |= play_follow_ups(session, seed=seed, now=utcnow())  # 回访 of case victims, in every state
    from fanzha.demo.links import generate_links

    case_counts["linked_records"] = generate_links(session, seed=seed, now=utcnow())  # 串并案 on first run

    from fanzha.demo.geo import generate_geo

    progress("发案地图")
    geo_count = generate_geo(session, seed=seed)
    from fanzha.demo.reports import generate_bulletins
    from fanzha.reports.service import local_today

    progress("通报与发文登记")
    bulletin_count = generate_bulletins(session, today=local_today())
    # PostgreSQL: the county's history written into the DEFAULT partitions moves into months of its own, as the
    # worker would do that night (fanzha.ops.partitions; nothing on SQLite).
    from fanzha.config import get_settings
    from fanzha.ops.partitions import ensure

    ensure(session.connection(), get_settings().timezone)
    result.counts = {
        "districts": len(districts), "townships": len(townships), "stations": len(stations),
        "beats": sum(len(v) for v in beats_by_station.values()), "communities": len(communities),
        "units": len(units), "addresses": sum(len(v) for v in addresses.values()), "people": people,
        "users": len(result.logins), "warnings": warning_count, "public_reports": report_count,
        "activities": activity_count, "map_areas": geo_count, "bulletins": bulletin_count, **registry_counts, **case_counts,
    }
    return result
