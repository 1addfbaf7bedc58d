"""Demo case register: the 打 side and victim profiles on the cases that followed warnings, cases of people never
warned (so 宣防漏洞 has misses to show), 止付/冻结/断卡/封号 records, and APP/金钟罩 registration dates on people.

About one case in twenty comes with a narrative and no type, so the type suggestion (when installed) has work to show.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.cases.intake import suggest
from fanzha.cases.models import Case, CaseAction
from fanzha.cases.profile import victim_profile
from fanzha.common.localtime import local_day
from fanzha.org.models import Area, Unit
from fanzha.people.models import Person

# How each type reaches its victims (seed 000/001: social apps and phone calls dominate), and how preventable it is.
CHANNELS_BY_TYPE = {
    "brushing": {"social": 6, "app": 3, "sms": 1},
    "fake_customer_service": {"phone": 7, "sms": 2, "social": 1},
    "investment": {"social": 5, "app": 4, "website": 1},
    "loan": {"app": 5, "sms": 3, "phone": 2},
    "credit_repair": {"phone": 8, "social": 2},
    "shopping": {"livestream": 4, "social": 3, "website": 3},
    "impersonate_authority": {"phone": 8, "social": 2},
    "impersonate_acquaintance": {"social": 9, "phone": 1},
    "game_trade": {"game": 8, "social": 2},
    "romance": {"social": 7, "app": 3},
    "wanghei": {"app": 6, "social": 4},
    "military_purchase": {"phone": 6, "social": 4},
    "other": {"phone": 4, "social": 4, "other": 2},
}
PREVENTABLE = {"brushing": 0.85, "fake_customer_service": 0.8, "impersonate_authority": 0.8, "credit_repair": 0.8,
               "loan": 0.7, "investment": 0.6, "romance": 0.5, "impersonate_acquaintance": 0.6}
NARRATIVES = {
    "brushing": "报警称其在{ch}上看到兼职刷单广告，按对方要求垫付做任务，先得小额返利，后被以“卡单”为由多次转账，共被骗{amt}元。",
    "fake_customer_service": "报警称接到自称快递客服的电话，称其包裹丢失可理赔，按对方指引下载会议软件并共享屏幕，被骗{amt}元。",
    "investment": "报警称在{ch}上被拉入“炒股交流群”，经“导师”推荐在虚假投资平台充值，无法提现，共被骗{amt}元。",
    "loan": "报警称在网上申请贷款，对方以交纳保证金、解冻费为由要求转账，被骗{amt}元，贷款未到账。",
    "credit_repair": "报警称接到自称金融平台客服电话，称其学生时期开通校园贷影响征信，需注销，按要求转账被骗{amt}元。",
    "shopping": "报警称在{ch}上购买低价商品，付款后对方以各种理由要求追加费用，未收到货，被骗{amt}元。",
    "impersonate_authority": "报警称接到自称公安民警的电话，称其涉嫌洗钱需配合调查，将资金转入“安全账户”，被骗{amt}元。",
    "impersonate_acquaintance": "报警称有人冒充其单位领导添加微信，以急需周转为由让其转账，被骗{amt}元。",
    "game_trade": "报警称在游戏平台上出售游戏账号，买家引导其到虚假交易网站提现，以解冻为由转账，被骗{amt}元。",
    "romance": "报警称在{ch}上结识网友，发展为恋爱关系后对方以投资、急用等理由多次借钱，共被骗{amt}元。",
    "wanghei": "报警称下载网贷APP后被以逾期为由威胁曝光通讯录，被迫多次转账，被骗{amt}元。",
    "military_purchase": "报警称有人自称部队采购人员订购货物，要求其先向指定供应商垫付采购款，被骗{amt}元。",
    "other": "报警称被对方以各种理由诱导转账，被骗{amt}元。",
}
OCCUPATIONS = {"student_teacher": ("学生", "教师"), "accountant": ("会计", "出纳"), "medical": ("护士", "医生"),
               "company_head": ("企业负责人", "个体工商户"), "elderly": ("退休人员", "农民")}
INSTITUTIONS = ("中国工商银行江州支行", "中国农业银行江州支行", "中国建设银行江州分行", "白沙农商银行", "邮储银行江州支行")


def _pick(r: random.Random, weights: dict[str, int]) -> str:
    return r.choices(list(weights), weights=list(weights.values()))[0]


def _card(r: random.Random) -> str:
    return "62" + "".join(str(r.randrange(10)) for _ in range(17))


def _occupation(r: random.Random, groups: list[str]) -> str:
    for key, words in OCCUPATIONS.items():
        if key in groups:
            return r.choice(words)
    return r.choice(("务工人员", "个体经营", "公司职员", "无业", "自由职业", ""))


def _extra_cases(session: Session, r: random.Random, now: datetime, count: int) -> None:
    """Victims who were never warned: lost money on a day no warning came down."""
    people = session.scalars(select(Person).order_by(Person.id)).all()
    types = list(NARRATIVES)
    for n in range(count):
        p = r.choice(people)
        loss = now - timedelta(days=r.uniform(1, 365))
        fraud_type = r.choice(types[:-1]) if r.random() < 0.95 else "other"
        session.add(_imported_case(r, p, f"9{n:05d}", loss, fraud_type, now))
    session.flush()


def _imported_case(r: random.Random, p: Person, serial: str, loss: datetime, fraud_type: str, now: datetime) -> Case:
    """A 立案 record as an import brings it: the person's details, a loss of hundreds to hundreds of thousands of yuan,
    filed two to 72 hours after the loss (never after now)."""
    amount = Decimal(r.choice((r.randint(5, 80) * 100, r.randint(1, 30) * 1000, r.randint(3, 50) * 10000)))
    return Case(case_number=f"JZ{loss:%Y%m%d}{serial}", person_id=p.id, name=p.name, id_number=p.id_number,
                phone=p.phone, community_id=p.community_id, address=p.address,
                filed_at=min(now, loss + timedelta(hours=r.randint(2, 72))), loss_at=loss, fraud_type=fraud_type,
                loss_amount=amount, source="import")


def _history(session: Session, r: random.Random, now: datetime) -> int:
    """The year before the demo's year of warnings: cases only (the county imported its old 立案 records), about as
    many as this year, more in some townships and fewer in others, so that 同比, rankings and the 考核 case-change
    item have something to say."""
    this_year = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    people = session.scalars(select(Person).order_by(Person.id)).all()
    if not people or not this_year:
        return 0
    leaf_town = dict(session.execute(select(Area.id, Area.parent_id).where(Area.level == "community")).all())
    factor = {t: r.uniform(0.6, 1.6) for t in sorted(set(leaf_town.values()), key=lambda v: v or 0)}
    weights = [factor.get(leaf_town.get(p.community_id), 1.0) for p in people]
    types = list(NARRATIVES)
    count = int(this_year * r.uniform(1.0, 1.2))
    for n, p in enumerate(r.choices(people, weights=weights, k=count)):
        loss = now - timedelta(days=r.uniform(366, 730))
        session.add(_imported_case(r, p, f"8{n:05d}", loss, r.choice(types[:-1]), now))
    session.flush()
    return count


def _registrations(session: Session, r: random.Random, now: datetime) -> int:
    """国家反诈中心APP (about 30 %) and 金钟罩 (about 40 %) registration dates over the last two years."""
    today = local_day(now)
    n = 0
    for p in session.scalars(select(Person).order_by(Person.id)):
        if r.random() < 0.30:
            p.app_registered_on = today - timedelta(days=r.randint(1, 730))
            n += 1
        if r.random() < 0.40:
            p.jzz_registered_on = today - timedelta(days=r.randint(1, 730))
    return n


def generate_cases(session: Session, *, seed: int, now: datetime, extra: int | None = None) -> dict[str, int]:
    r = random.Random(seed + 7)
    people = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
    _registrations(session, r, now)
    from fanzha.demo.registry import import_registration_list

    import_registration_list(session, now=now)  # one station's list in: its APP rate counts people
    _extra_cases(session, r, now, extra if extra is not None else max(10, people // 25))
    history = _history(session, r, now)
    employers = session.scalars(select(Unit.id).where(Unit.is_member.is_(False)).order_by(Unit.id)).all()
    counts = {"cases_solved": 0, "case_actions": 0, "cases_untyped": 0, "cases_year_before": history}
    for case in session.scalars(select(Case).order_by(Case.id)).all():
        person = session.get(Person, case.person_id) if case.person_id else None
        _describe(r, session, case, person, employers, now, counts)
    session.flush()
    counts["case_actions"] = int(session.scalar(select(func.count()).select_from(CaseAction)) or 0)
    return counts


def _describe(r: random.Random, session: Session, case: Case, person: Person | None, employers: list[int],
              now: datetime, counts: dict[str, int]) -> None:
    case.channel = _pick(r, CHANNELS_BY_TYPE.get(case.fraud_type, CHANNELS_BY_TYPE["other"]))
    case.narrative = case.narrative or NARRATIVES.get(case.fraud_type, NARRATIVES["other"]).format(
        ch={"social": "微信", "app": "某APP", "website": "某网站", "livestream": "短视频平台"}.get(case.channel, "网上"),
        amt=f"{case.loss_amount:.0f}")
    case.preventable = r.random() < PREVENTABLE.get(case.fraud_type, 0.4)
    occupation = _occupation(r, list(person.groups or []) if person else [])
    profile = victim_profile(session, person=person, id_number=case.id_number, loss_at=case.loss_at,
                             occupation=occupation)
    case.victim_sex, case.victim_age, case.victim_groups = profile.sex, profile.age, profile.groups
    case.victim_occupation = occupation
    if person is not None and person.unit_id:
        case.employer_unit_id = person.unit_id
    elif occupation in ("公司职员", "务工人员") and employers and r.random() < 0.5:
        case.employer_unit_id = r.choice(employers)
    if r.random() < 0.05:  # typed later: the register came in with a narrative only
        case.fraud_type, case.type_status = "other", "given"
        found = suggest(case.narrative)
        if found:
            case.fraud_type, case.type_confidence = found
            case.type_status = "suggested"
        counts["cases_untyped"] += 1
    if r.random() < 0.3:
        case.frozen_amount = (case.loss_amount * Decimal(r.uniform(0.1, 0.8))).quantize(Decimal("0.01"))
        _action(session, r, case, "freeze", case.frozen_amount, now)
    if r.random() < 0.3:
        _action(session, r, case, "stop_payment", (case.loss_amount * Decimal(r.uniform(0.2, 1))).quantize(
            Decimal("0.01")), now)
    solved_at = case.filed_at + timedelta(days=r.randint(5, 90))
    if r.random() < 0.3 and solved_at < now:
        case.solved_at = solved_at
        case.suspects_caught = r.choice((1, 1, 1, 2, 2, 3, 5))
        case.caught_at = solved_at - timedelta(days=r.randint(0, 3))
        case.recovered_amount = (case.loss_amount * Decimal(r.uniform(0.05, 0.7))).quantize(Decimal("0.01"))
        counts["cases_solved"] += 1
        for _ in range(r.randint(1, 3)):
            _action(session, r, case, "card_lead", Decimal(0), now)
    if case.channel in ("social", "app", "livestream") and r.random() < 0.3:
        _action(session, r, case, "account_block", Decimal(0), now)


def _action(session: Session, r: random.Random, case: Case, kind: str, amount: Decimal, now: datetime) -> None:
    if kind == "account_block":
        target_type = {"social": "wechat", "app": "app", "livestream": "app"}.get(case.channel, "qq")
        target = f"wxid_{r.randrange(16**10):010x}" if target_type == "wechat" else str(r.randrange(10**9, 10**10))
        institution = {"wechat": "微信", "app": "涉诈APP平台", "qq": "QQ"}[target_type]
    else:
        target_type, target, institution = "bank_card", _card(r), r.choice(INSTITUTIONS)
    requested = min(case.filed_at + timedelta(hours=r.randint(0, 48) if kind in ("stop_payment", "freeze") else
                                              r.randint(24, 24 * 30)), now)
    status = r.choices(("done", "requested", "failed", "referred"), weights=(7, 1, 1, 2 if kind == "card_lead" else 0))[0]
    session.add(CaseAction(kind=kind, case_id=case.id, community_id=case.community_id, target_type=target_type,
                           target=target, holder_name="", institution=institution, amount=amount, status=status,
                           requested_at=requested, done_at=min(now, requested + timedelta(hours=r.randint(1, 72)))
                           if status == "done" else None))
