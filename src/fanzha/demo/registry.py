"""Demo registry: a school's list (GBK CSV with a title row) and a tax office's list (XLSX) sent by member units,
imported through the one import path — with a bad ID number, a person on both lists with another phone, and
addresses that match no community — then a students' target list and the 三包 allocation."""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

import fanzha.importers  # noqa: F401  (registers the registry kind)
from fanzha.common.ages import age_on
from fanzha.common.identity import id_check_digit
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.demo import names
from fanzha.imports.models import ImportBatch, ImportRowError
from fanzha.imports.service import run_file
from fanzha.org.models import Area, Unit, User
from fanzha.org.scope import Scope
from fanzha.people.models import Person

NOWHERE = ("外省务工暂住", "城南菜市场附近", "不详")


def _phone(r: random.Random) -> str:
    return r.choice(("138", "139", "150", "186", "177")) + f"{r.randrange(10**8):08d}"


def _new_id(r: random.Random, birth: date) -> str:
    first17 = f"439906{birth:%Y%m%d}{r.randrange(900, 999):03d}"  # district 06: no demo county uses it
    return first17 + id_check_digit(first17)


def _import(session: Session, scope: Scope, path: Path, filename: str, kind: str = "registry") -> ImportBatch:
    batch = ImportBatch(kind=kind, filename=filename, stored_path="", status="running",
                        area_id=scope.area_id or None, created_by=scope.user_id)
    session.add(batch)
    session.flush()
    tally = run_file(session, scope, kind, path, batch.id)
    for number, column, reason, raw in tally.errors:
        session.add(ImportRowError(batch_id=batch.id, row_number=number, column=column, reason=reason[:255], raw=raw))
    for key, value in tally.summary().items():
        setattr(batch, key, value)
    batch.status, batch.finished_at = "done", utcnow()
    return batch


def generate_registry(session: Session, *, seed: int, now: datetime) -> dict[str, int]:
    from fanzha.registry import duties, service

    r = random.Random(seed + 8)
    session.flush()
    session.expunge_all()  # the county's thousands of objects would make every autoflush below walk them all
    today = local_day(now)
    people = list(session.scalars(select(Person).order_by(Person.id)))
    young = [p for p in people if p.id_number and (age_on(p.birth_date, today) or 0) <= 22]
    adults = [p for p in people if p.id_number and 25 <= (age_on(p.birth_date, today) or 0) <= 60]
    school = session.scalar(select(Unit).where(Unit.name == "江州第一中学"))
    firms = list(session.scalars(select(Unit).where(Unit.kind == "enterprise").order_by(Unit.id)))
    folder = Path(tempfile.mkdtemp(prefix="fanzha-demo-registry-"))

    # The school: students and teachers, GBK CSV, a title row above the header.
    teachers = r.sample(adults, k=min(12, len(adults)))
    rows = [["江州第一中学 师生名单（报送：教育局）"], ["序号", "学生姓名", "身份证号码", "联系电话", "人员类别", "学校", "家庭住址"]]
    for i, p in enumerate(r.sample(young, k=min(60, len(young))) + teachers, start=1):
        kind = "教师" if p in teachers else "学生"
        rows.append([str(i), p.name, p.id_number, p.phone or "", kind, school.name if school else "", p.address])
    for i in range(len(rows) - 1, len(rows) + 5):  # new pupils: two live where no standard address reaches
        birth = date(today.year - r.randint(14, 18), r.randint(1, 12), r.randint(1, 28))
        address = r.choice(NOWHERE) if i % 3 == 0 else r.choice(people).address
        name = r.choice(names.SURNAMES) + r.choice(names.GIVEN)
        rows.append([str(i), name, _new_id(r, birth), _phone(r), "学生",
                     school.name if school else "", address])
    bad = list(rows[3])
    bad[2] = bad[2][:-1] + ("0" if bad[2][-1] != "0" else "1")  # a mistyped check digit
    bad[0] = str(len(rows) - 1)
    rows.append(bad)
    csv_path = folder / "school.csv"
    with csv_path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)

    # The tax office: company heads and accountants, XLSX; one teacher also keeps the school's books.
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "证件号码", "手机号码", "类别", "企业名称", "居住地址"])
    for p in r.sample(adults, k=min(40, len(adults))):
        ws.append([p.name, p.id_number, p.phone or "", r.choice(("企业负责人", "财会人员", "会计")),
                   r.choice(firms).name if firms else "", p.address])
    both = teachers[0]
    ws.append([both.name, both.id_number, _phone(r), "财会人员", school.name if school else "", both.address])
    xlsx_path = folder / "tax.xlsx"
    wb.save(xlsx_path)

    system = Scope.system(session)
    first = _import(session, system, csv_path, "江州第一中学师生名单.csv")
    second = _import(session, system, xlsx_path, "税务局企业负责人及财会人员名单.xlsx")
    for path in (csv_path, xlsx_path):
        path.unlink()
    folder.rmdir()

    pop = service.population(session, on=today)
    made = [service.create_list(session, system, pop, group="student_teacher")]
    stations = session.scalars(select(Area).join(User, User.area_id == Area.id)
                               .where(User.username.in_(["ps01_suozhang", "ps02_suozhang"])).order_by(Area.code))
    for station in stations:
        made.append(service.create_list(session, system, pop, group="elderly", area_id=station.id,
                                        name=f"{station.label}老年人精准滴灌名单"))
    summary = duties.run(session, system, pop)
    # 民政局's list of single, divorced and widowed people (after the 三包 run and the lists above, with a generator
    # of its own, so they stay as they were): its liaison's 本单位工作 then shows its people, coverage and a list.
    third = _civil_affairs_list(session, system, people, today, random.Random(seed + 71))
    made.append(service.create_list(session, system, service.population(session, on=today), group="single_divorced"))
    return {"registry_batches": 3, "registry_rows": first.read + second.read + (third.read if third else 0),
            "target_lists": len(made),
            "duties": int(summary["items"])}


def _civil_affairs_list(session: Session, scope: Scope, people: list[Person], today: date,
                        r: random.Random) -> ImportBatch | None:
    unit = session.scalar(select(Unit).where(Unit.name == "江州市民政局"))
    adults = [p for p in people if p.id_number and (age_on(p.birth_date, today) or 0) >= 30]
    if unit is None or not adults:
        return None
    folder = Path(tempfile.mkdtemp(prefix="fanzha-demo-registry-"))
    path = folder / "civil.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "身份证号", "联系电话", "人员类别", "报送单位", "居住地址"])
        for p in r.sample(adults, k=min(30, len(adults))):
            w.writerow([p.name, p.id_number, p.phone or "", r.choice(("单身", "离异", "丧偶")), unit.name, p.address])
    batch = _import(session, scope, path, "民政局单身离异人员名单.csv")
    path.unlink()
    folder.rmdir()
    return batch


def import_registration_list(session: Session, *, now: datetime) -> ImportBatch | None:
    """The first station's officer imports its APP注册名单 (the people of the station already dated, as a carrier's
    list would name them, and one person not on file): that station's APP 安装率 then counts people, once each
    (prevention/coverage/service.py); the other stations stay on the reported counts, labelled."""
    officer = session.scalar(select(User).where(User.username == "ps01_minjing"))
    if officer is None:
        return None
    scope = Scope.for_user(officer)
    listed = session.execute(select(Person.id_number, Person.name, Person.app_registered_on).where(
        scope.community_clause(Person.community_id), Person.app_registered_on.is_not(None),
        Person.id_number.is_not(None)).order_by(Person.id)).all()
    folder = Path(tempfile.mkdtemp(prefix="fanzha-demo-registrations-"))
    path = folder / "app.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["身份证号", "姓名", "注册类型", "注册日期"])
        out.writerows([number, name, "APP", f"{day:%Y-%m-%d}"] for number, name, day in listed)
        out.writerow([_new_id(random.Random(len(listed)), date(1980, 5, 6)), "不在册", "APP", f"{local_day(now):%Y-%m-%d}"])
    batch = _import(session, scope, path, "国家反诈中心APP注册名单.csv", kind="app_registration")
    path.unlink()
    folder.rmdir()
    return batch
