"""Demo 宣防: a two-day 扫楼 running now in the first county, a city-wide 宣传月, station weeks, registration
targets (80 % by 06-30, 100 % by 07-31), a 督导 of the worst laggard, a knowledge test, 无诈社区 status."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.common.localtime import local_day
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit, User
from fanzha.prevention.counting import relink_all
from fanzha.prevention.models import (
    Activity,
    Campaign,
    CampaignArea,
    CoverageTarget,
    Quiz,
    QuizAttempt,
    Quota,
    Supervision,
)

SWEEP_KINDS = ("sweep",)
# The fraud type a member unit's talk to each group is about (the types that hit each group most, DESIGN.md).
GROUP_FRAUD_TYPES = {"student_teacher": "brushing", "accountant": "impersonate_acquaintance",
                     "company_head": "impersonate_acquaintance", "medical": "impersonate_authority",
                     "investor": "investment", "elderly": "impersonate_authority", "single_divorced": "romance"}
MONTH_KINDS = ("lecture", "market", "school", "enterprise", "community", "family", "broadcast", "live", "training",
               "pledge", "online")


def _campaign(session: Session, code: str, name: str, kind: str, first: date, last: date, owner: Area,
              covered: list[Area], owners: str) -> Campaign:
    c = Campaign(code=code, name=name, kind=kind, starts_on=first, ends_on=last, area_id=owner.id, owners=owners)
    session.add(c)
    session.flush()
    session.add_all(CampaignArea(campaign_id=c.id, area_id=a.id) for a in covered)
    return c


def generate_prevention(session: Session, *, seed: int, now: datetime) -> int:
    r = random.Random(seed + 6)
    today = local_day(now)
    city = session.scalar(select(Area).where(Area.chain == Chain.ADMIN, Area.level == Level.CITY))
    bureau = session.scalar(select(Area).where(Area.chain == Chain.POLICE, Area.level == Level.BUREAU))
    county = session.scalar(select(Area).where(Area.level == Level.COUNTY).order_by(Area.code))
    townships = list(session.scalars(select(Area).where(Area.parent_id == county.id).order_by(Area.code)))
    leaves = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY).order_by(Area.code)))
    by_township: dict[int, list[Area]] = {}
    for leaf in leaves:
        by_township.setdefault(leaf.parent_id, []).append(leaf)
    activities: list[Activity] = []

    # 扫楼: yesterday and today across the first county; quotas per township; two townships lag behind.
    sweep = _campaign(session, f"SL{today - timedelta(days=1):%Y%m%d}", f"{county.label}扫楼集中宣防行动", "sweep",
                      today - timedelta(days=1), today, bureau, [county], "分管副局长、各派出所所长")
    laggards = {t.id for t in r.sample(townships, k=min(2, len(townships)))}
    for t in townships:
        ls = by_township.get(t.id, [])
        quota = {"households": sum(a.households for a in ls) // 2, "shops": sum(a.shops for a in ls),
                 "app_installs": sum(a.population for a in ls) // 25, "leaflets": sum(a.households for a in ls)}
        session.add_all(Quota(campaign_id=sweep.id, area_id=t.id, metric=m, target=v) for m, v in quota.items())
        pace = 0.25 if t.id in laggards else r.uniform(0.8, 1.1)
        for leaf in ls:
            for day, part in ((today - timedelta(days=1), 0.55), (today, 0.3)):
                f = pace * part * r.uniform(0.8, 1.2)
                activities.append(Activity(
                    kind="sweep", community_id=leaf.id, held_on=day, organiser="社区民警、网格员",
                    title="扫楼集中宣防", households=int(leaf.households / 2 * f), shops=int(leaf.shops * f),
                    app_installs=int(leaf.population / 25 * f), leaflets=int(leaf.households * f),
                    participants=int(leaf.households / 2 * f), vulnerable_found=int(leaf.population / 1000 * f),
                    source="form"))

    # 宣传月: 30 days around today, city-wide, quotas per county.
    first = today - timedelta(days=20)
    month = _campaign(session, f"XCY{first:%Y%m}", f"{first.month}月反诈宣传月", "month", first,
                      first + timedelta(days=29), bureau, [city], "反诈中心、联席办")
    for c in session.scalars(select(Area).where(Area.level == Level.COUNTY)):
        pop = sum(a.population for a in leaves if a.path.startswith(c.path))
        session.add_all(Quota(campaign_id=month.id, area_id=c.id, metric=m, target=v) for m, v in
                        {"sessions": pop // 2000, "participants": pop // 10, "pledges": pop // 40}.items())
    for leaf in leaves:
        for _ in range(r.choice((0, 1, 1, 2))):
            kind = r.choice(MONTH_KINDS)
            n = r.randint(30, 300)
            activities.append(Activity(
                kind=kind, community_id=leaf.id, held_on=first + timedelta(days=r.randint(0, 20)),
                organiser=r.choice(("派出所", "村（社区）", "网格员", "税务分局", "教育局")), sessions=1, participants=n,
                leaflets=n + r.randint(0, 100), pledges=n // 3 if kind == "pledge" else 0,
                issues=1 if kind == "online" else 0, forwards=r.randint(200, 3000) if kind == "online" else 0,
                source="form"))

    # A week of 进校园 run by each staffed station, so station heads see a campaign of their own.
    heads = session.execute(select(User, Area).join(Area, User.area_id == Area.id)
                            .where(User.role == "station_head").order_by(User.username)).all()
    for user, station in heads:
        week = _campaign(session, f"XY{station.code}", f"{station.label}反诈进校园周", "week", today - timedelta(days=6),
                         today, station, [station], user.display_name)
        session.add(Quota(campaign_id=week.id, area_id=station.id, metric="sessions", target=5))
        session.add(CoverageTarget(area_id=station.id, label=f"{station.label}反诈APP安装率", metric="app_installs",
                                   denominator="population", target_pct=50, due_on=today + timedelta(days=30)))
        mine = [a for a in leaves if a.police_path and a.police_path.startswith(station.path)]
        for leaf in r.sample(mine, k=min(len(mine), r.randint(1, 4))):
            activities.append(Activity(kind="school", community_id=leaf.id, held_on=today - timedelta(days=r.randint(0, 6)),
                                       organiser_user_id=user.id, organiser=station.label,
                                       sessions=1, participants=r.randint(80, 600), leaflets=r.randint(50, 400),
                                       source="form"))

    # 金钟罩 registrations reported per community since the start of the year; targets 80 % by 06-30, 100 % by 07-31.
    year_start = date(today.year, 1, 1)
    for leaf in leaves:
        share = r.choice((0.35, 0.55, 0.7, 0.82, 0.9, 1.0))
        activities.append(Activity(kind="report", community_id=leaf.id, held_on=max(year_start, today - timedelta(days=3)),
                                   organiser="村（社区）", jzz_registrations=int(leaf.population * share),
                                   app_installs=int(leaf.population * share * 0.6), source="import"))
    for pct, due in ((80, date(today.year, 6, 30)), (100, date(today.year, 7, 31))):
        session.add(CoverageTarget(area_id=city.id, label=f"金钟罩注册率 {due:%m-%d} 前达{pct}%", metric="jzz_registrations",
                                   denominator="population", target_pct=pct, due_on=due, counts_from=year_start))
    session.add(CoverageTarget(area_id=county.id, label="扫楼商铺覆盖率", metric="shops", denominator="shops",
                               target_pct=90, due_on=today, counts_from=today - timedelta(days=1)))
    # Member units' own 六进 activities in the 宣传月, so each liaison sees its unit's work (and only that). A
    # generator of its own keeps every figure above as it was.
    ru = random.Random(seed + 61)
    liaisons = session.execute(select(User, Unit).join(Unit, User.unit_id == Unit.id)
                               .where(User.role == "unit_liaison").order_by(User.username)).all()
    for user, unit in liaisons:
        duty = list(unit.duty_groups or [])
        for i, leaf in enumerate(ru.sample(leaves, k=min(len(leaves), 3))):
            n = ru.randint(40, 400)
            group = duty[i % len(duty)] if duty else ""  # each of the unit's groups in turn (本单位工作)
            activities.append(Activity(
                kind=ru.choice(("lecture", "school", "enterprise", "training")), community_id=leaf.id,
                held_on=first + timedelta(days=ru.randint(0, 20)), organiser_user_id=user.id,
                unit_id=unit.id, organiser=unit.name, title=f"{unit.name}反诈宣讲", sessions=1, participants=n,
                leaflets=n + ru.randint(0, 100), source="form", target_group=group,
                fraud_type=GROUP_FRAUD_TYPES.get(group, "")))
    activities += _grid_worker(session, county, today, now)
    session.add_all(activities)
    session.flush()
    relink_all(session, activities)  # where each counts: the 扫楼 days inside the 宣传月 count toward both

    worst = next((t for t in townships if t.id in laggards), None)
    if worst is not None:
        session.add(Supervision(campaign_id=sweep.id, area_id=worst.id, kind="supervise", held_on=today,
                                note="入户进度不足三成，要求今日加派网格员", follow_up_on=today + timedelta(days=1)))
    _quiz(session, r, bureau, today, now)
    from fanzha.prevention.fraudfree.service import recompute

    recompute(session, now=now)
    return len(activities)


def _grid_worker(session: Session, county: Area, today: date, now: datetime) -> list[Activity]:
    """A grid worker's own 扫楼 today in the first county (inside both the 扫楼 and the 宣传月, and still theirs to
    correct), and yesterday's, recorded a second time and withdrawn (已撤回, counted nowhere)."""
    user, leaf = session.execute(select(User, Area).join(Area, User.area_id == Area.id)
                                 .where(User.role == "grid_worker", Area.path.startswith(county.path))
                                 .order_by(User.username)).first() or (None, None)
    if user is None:
        return []
    mine = dict(community_id=leaf.id, organiser_user_id=user.id, organiser=user.display_name, created_by=user.id,
                title="网格扫楼", source="form")
    # Recorded now (never before the day it was held, whatever the hour the demo is made).
    done = Activity(kind="sweep", held_on=today, households=36, shops=4, leaflets=60, app_installs=12,
                    created_at=now, **mine)
    twice = Activity(kind="sweep", held_on=today - timedelta(days=1), households=40, leaflets=80, created_at=now,
                     withdrawn_at=now, withdraw_reason="重复登记（同一次扫楼登记了两次）", **mine)
    return [done, twice]


def _quiz(session: Session, r: random.Random, bureau: Area, today: date, now: datetime) -> None:
    from fanzha.prevention.quiz.service import staff_bank

    bank = staff_bank()
    quiz = Quiz(title=f"{today.month}月反诈业务知识测试", area_id=bureau.id,
                roles=["station_officer", "dissuader", "community_police", "grid_worker", "station_head"],
                questions=list(bank), opens_on=today - timedelta(days=3), closes_on=today + timedelta(days=7))
    session.add(quiz)
    session.flush()
    takers = session.scalars(select(User).where(User.role.in_(("station_officer", "dissuader", "community_police")),
                                                User.username.not_like("ps01%")).order_by(User.username).limit(16))
    for user in takers:
        answers = {c: (q.answer if r.random() < 0.75 else (q.answer + 1) % len(q.options)) for c, q in bank.items()}
        session.add(QuizAttempt(quiz_id=quiz.id, user_id=user.id, answers=answers,
                                score=sum(answers[c] == q.answer for c, q in bank.items()), total=len(bank),
                                submitted_at=now - timedelta(hours=r.randint(1, 60))))
