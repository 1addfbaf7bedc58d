"""三告 (seed 002: 一案一函告、一季度一通告、每年向党工委、管委会报告) as official documents in the bulletin layout.

- 函告 `letter`: one case → the victim's employer unit (or a unit with a duty over the victim's group), filled from
  the case, read and edited by an officer (the draft's paragraphs are plain text), then issued with a number and date.
- 通告 `notice`: one quarter → all member units and townships, with each one's cases against the same quarter last
  year (counted as the 滨州 scheme counts them: employer or duty group).
- 报告 `report`: one year → 党工委、管委会, with an assessment run's totals and places and the year's cases by quarter.
Each is numbered per kind per year in the register of issued documents (发文登记), with its DOCX and PDF stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.assess import figures as fig
from fanzha.assess import service as assess
from fanzha.assess.scheme import POOLS
from fanzha.audit import service as audit
from fanzha.cases.models import Case
from fanzha.cases.service import visible as cases_visible
from fanzha.cases.stats.definitions import MEASURES
from fanzha.common.errors import Forbidden, Invalid, NotFound
from fanzha.common.localtime import zone
from fanzha.detect.advice import ADVICE
from fanzha.detect.taxonomy import FRAUD_TYPE_NAMES
from fanzha.org.enums import Chain
from fanzha.org.models import Area, Unit, User
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import top_area
from fanzha.reports import service as reports
from fanzha.reports.bulletin import Heading, heading, number_text
from fanzha.reports.document import OfficialDocument, Table, parse_blocks
from fanzha.reports.docx_out import render_docx
from fanzha.reports.models import IssuedDocument
from fanzha.reports.pdf_out import render_pdf
from fanzha.reports.wording import wan

FILED = MEASURES["cases"].counted_by  # 通告 and 报告 count 立案 as 案件研判 and the bulletins do (立案时间)

KINDS = {"letter": "函告", "notice": "通告", "report": "报告"}


def _masked_name(name: str) -> str:
    """张某某 → 张某; the letter names the person to their own employer, but not in full."""
    name = (name or "").strip()
    return f"{name[0]}某" if name else "（姓名未登记）"


def _local(dt: datetime) -> date:
    return dt.astimezone(zone()).date()


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class Draft:
    kind: str
    title: str
    addressee: str
    body: str  # the text an officer reviews and may edit: one paragraph a line, headings 一、（一）
    tables: dict[str, Table]
    period: str = ""
    area_id: int | None = None
    summary: dict[str, Any] | None = None
    units: list[Unit] = field(default_factory=list)  # 函告: the units it may go to (the page offers the others)


# -- 函告 -------------------------------------------------------------------------------------------------------------

def letter_units(session: Session, case: Case) -> list[Unit]:
    """Units a case's 函告 may go to: the employer first, then units with a duty over the victim's groups."""
    units: list[Unit] = []
    employer = session.get(Unit, case.employer_unit_id) if case.employer_unit_id else None
    if employer is not None:
        units.append(employer)
    groups = set(case.victim_groups or [])
    if groups:
        for u in session.scalars(select(Unit).where(Unit.is_member.is_(True)).order_by(Unit.code)):
            if u.id != case.employer_unit_id and groups & set(u.duty_groups or []):
                units.append(u)
    return units


def letter_draft(session: Session, scope: Scope, case_id: int, unit_id: int | None = None) -> Draft:
    scope.require(Perm.ISSUE_LETTERS)
    case = session.scalar(select(Case).where(Case.id == case_id, cases_visible(scope)))
    if case is None:
        raise NotFound("案件不存在或不在您的管辖范围内")
    units = letter_units(session, case)
    if not units:
        raise Invalid("该案件没有登记受害人工作单位，也不属于任何成员单位的职责人群，无需函告")
    unit = next((u for u in units if u.id == unit_id), None) if unit_id else units[0]
    if unit is None:
        raise Invalid("所选单位与该案件无关")
    relation = "职工" if unit.id == case.employer_unit_id else "服务管理对象"
    who = _masked_name(case.name) + (f"（{case.victim_sex}，{case.victim_age}岁）" if case.victim_sex and case.victim_age
                                      else "")
    place = case.community.label if case.community else "本辖区"
    type_label = FRAUD_TYPE_NAMES.get(case.fraud_type, "其他")
    lines = [
        f"{_cn_date(_local(case.loss_at))}，你单位{relation}{who}在{place}遭遇“{type_label}”电信网络诈骗，"
        f"损失人民币{wan(case.loss_amount)}（案件编号{case.case_number}，{_cn_date(_local(case.filed_at))}立案）。"
        "现将有关情况函告如下：",
        "一、基本案情",
        (case.narrative.strip() or "（案情见案件登记）")[:600],
        "二、防范提示",
        f"此类诈骗的识别要点：{ADVICE.get(case.fraud_type, ADVICE['other'])}",
        "三、工作要求",
        "请你单位高度重视，一是立即在单位内部通报此案，组织职工开展一次反诈宣传教育；二是督促职工下载注册国家反诈中心APP、"
        "开通金钟罩；三是对财务、采购等重点岗位落实资金支付复核制度。请于收函后15日内将整改落实情况书面反馈。",
        "单位内部人员发案情况将按规定纳入年度反诈工作考核。",
    ]
    return Draft("letter", f"关于{unit.name}人员被电信网络诈骗案件的函告", f"{unit.name}：", "\n".join(lines), {},
                 area_id=case.community_id, summary={"case_id": case.id, "case_number": case.case_number,
                                                    "unit_id": unit.id, "unit": unit.name}, units=units)


# -- 通告 -------------------------------------------------------------------------------------------------------------

def _root(session: Session, area_id: int | None) -> Area:
    root = session.get(Area, area_id) if area_id else top_area(session, Chain.ADMIN)
    if root is None or root.chain != Chain.ADMIN:
        raise Invalid("请选择市或区县")
    return root


def _change(this: int, last: int) -> str:
    if last == 0:
        return "持平" if this == 0 else "无可比基数"
    r = Decimal(100 * (this - last)) / last
    if r == 0:
        return "持平"
    return ("上升" if r > 0 else "下降") + f"{abs(r).quantize(Decimal('0.1'))}%"


def notice_draft(session: Session, scope: Scope, quarter: str, area_id: int | None = None) -> Draft:
    scope.require(Perm.ISSUE_LETTERS)
    where = [{"loc": ["quarter"], "msg": "应写作 2026-Q3"}]
    try:
        period = fig.parse_period(quarter)
    except Invalid as exc:
        raise Invalid(exc.message, details=where) from exc
    if period.kind != "quarter":
        raise Invalid("通告按季度发布，期间写作 2026-Q3", details=where)
    root = _root(session, area_id)
    people = fig.assessees(session, root, ("unit", "township"))
    rule = dict(unit_rule="employer_or_duty", date_column=FILED)
    now_f = fig.gather(session, root, people, period, **rule)
    last_f = fig.gather(session, root, people, period.year_ago(), **rule)
    tables = {}
    for pool in ("unit", "township"):
        rows = sorted(((a.name, now_f[(pool, a.id)], last_f[(pool, a.id)]) for a in people if a.pool == pool),
                      key=lambda r: (-r[1].cases, r[0]))
        tables[pool] = Table([POOLS[pool], "本季度发案", "去年同期", "同比", "损失"],
                             [[n, str(f.cases), str(last.cases), _change(f.cases, last.cases), wan(f.loss)] for n, f, last in rows],
                             [3, 1, 1, 1.2, 1.3])
    total_now = fig.count_cases(session, root, period, FILED)
    total_last = fig.count_cases(session, root, period.year_ago(), FILED)
    y, q = period.start.year, (period.start.month - 1) // 3 + 1
    units_with = [r[0] for r in tables["unit"].rows if r[1] != "0"]
    lines = [
        f"{y}年第{q}季度（{_cn_date(period.start)}至{_cn_date(period.end)}），{root.label}共立电信网络诈骗案件"
        f"{total_now}起，同比{_change(total_now, total_last)}。现将各成员单位、各乡镇（街道）发案情况通告如下：",
        "一、各成员单位发案情况",
        "成员单位发案数含本单位职工及其主管服务对象（职责人群）被骗案件，同一案件可能计入多个单位。"
        + (f"本季度有发案的单位：{'、'.join(units_with)}。" if units_with else "本季度各成员单位均无发案。"),
        "[[table:unit]]",
        "二、各乡镇（街道）发案情况",
        "[[table:township]]",
        "三、工作要求",
        "发案较多、同比上升的单位和乡镇（街道）要认真分析原因，针对本单位、本辖区高发类型开展精准宣传，"
        "发案情况将纳入年度考核。",
    ]
    return Draft("notice", f"关于{y}年第{q}季度电信网络诈骗发案情况的通告", "各成员单位，各乡镇人民政府（街道办事处）：",
                 "\n".join(lines), tables, period=period.label, area_id=root.id,
                 summary={"cases": total_now, "last_year": total_last})


# -- 报告 -------------------------------------------------------------------------------------------------------------

def report_draft(session: Session, scope: Scope, run_id: int) -> Draft:
    scope.require(Perm.ISSUE_LETTERS)
    run = assess.get_run(session, scope, run_id)
    period = fig.parse_period(run.period)
    if period.kind != "year":
        raise Invalid("年度报告依据年度考核")
    root = run.area
    standings = assess.standings(session, scope, run.id)
    tables = {pool: Table(["名次", POOLS[pool], "总分", "较上年"],
                          [[str(s.place), s.name, f"{s.total.normalize():f}",
                            "—" if s.change is None else f"{s.change.normalize():+f}"] for s in table], [0.8, 3, 1, 1])
              for pool, table in standings.items()}
    quarters = []
    for q in range(1, 5):
        this = fig.parse_period(f"{period.start.year}-Q{q}")
        quarters.append([f"第{q}季度", str(fig.count_cases(session, root, this, FILED)),
                         str(fig.count_cases(session, root, this.year_ago(), FILED))])
    total = sum(int(r[1]) for r in quarters)
    last = sum(int(r[2]) for r in quarters)
    tables["quarters"] = Table(["季度", "本年发案", "上年同期"], quarters, [1.5, 1, 1])
    leaders = "、".join(t[0].name for t in standings.values() if t)
    lines = [
        f"{period.start.year}年，{root.label}共立电信网络诈骗案件{total}起，同比{_change(total, last)}。"
        f"按《{run.title}》，对各成员单位、乡镇（街道）进行了考核{'（结果已锁定）' if run.status == 'locked' else '（初步结果，尚未定稿）'}，"
        "现将有关情况报告如下：",
        "一、全年发案趋势",
        "[[table:quarters]]",
        "二、考核结果",
        f"各组得分最高的是：{leaders}。" if leaders else "本年度没有考核对象。",
        *[f"[[table:{pool}]]" for pool in standings],
        "三、下一步工作",
        "对排名靠后、发案同比上升的单位和乡镇（街道），建议由联席办进行督导约谈，压实行业主管责任和属地责任。",
    ]
    return Draft("report", f"关于{period.start.year}年度反电信网络诈骗工作考核情况的报告", "党工委、管委会：",
                 "\n".join(lines), tables, period=run.period, area_id=root.id,
                 summary={"run_id": run.id, "cases": total, "last_year": last})


def draft(session: Session, scope: Scope, kind: str, *, case_id: int | None = None, unit_id: int | None = None,
          quarter: str = "", run_id: int | None = None) -> Draft:
    """The draft of a 函告 (from a case, to one of its units), a 通告 (a quarter) or a 报告 (a year's assessment run)."""
    scope.require(Perm.ISSUE_LETTERS)
    if kind == "letter":
        if not case_id:
            raise Invalid("请选择案件", details=[{"loc": ["case_id"], "msg": "必填"}])
        return letter_draft(session, scope, case_id, unit_id)
    if kind == "notice":
        return notice_draft(session, scope, quarter)
    if kind == "report":
        if not run_id:
            raise Invalid("请选择年度考核", details=[{"loc": ["run_id"], "msg": "必填"}])
        return report_draft(session, scope, run_id)
    raise NotFound("没有这种文书")


# -- issuing ----------------------------------------------------------------------------------------------------------

def compose(draft: Draft, body: str, head: Heading, *, number: str, issued_on: date) -> OfficialDocument:
    return OfficialDocument(mark=head.mark, number=number, title=draft.title, addressee=draft.addressee,
                            signature=head.signature, date=issued_on, blocks=parse_blocks(body, draft.tables, {}))


def preview(session: Session, draft: Draft, body: str | None = None) -> bytes:
    """The PDF as it would go out, without a number yet."""
    head = heading(session, draft.kind, None, None)
    today = reports.local_today()
    return render_pdf(compose(draft, body or draft.body, head, number=number_text(head.prefix, today.year, None),
                              issued_on=today))


def next_number(session: Session, kind: str, issued_on: date | None = None) -> str:
    """The 发文字号 the next document of `kind` would take (a confirmation shows it; issuing takes it)."""
    issued_on = issued_on or reports.local_today()
    head = heading(session, kind, None, None)
    return number_text(head.prefix, issued_on.year, reports.next_seq(session, kind, issued_on.year))


def issue(session: Session, scope: Scope, draft: Draft, body: str | None = None, *,
          issued_on: date | None = None) -> IssuedDocument:
    """Number, render and register the document; `body` is the officer's reviewed text (the draft's when None)."""
    scope.require(Perm.ISSUE_LETTERS)
    text = (body if body is not None else draft.body).strip()
    if not text:
        raise Invalid("正文不能为空")
    if len(text) > 20000:
        raise Invalid("正文过长（超过2万字）")
    issued_on = issued_on or reports.local_today()
    head = heading(session, draft.kind, None, None)
    name = session.scalar(select(User.display_name).where(User.id == scope.user_id)) if scope.user_id else ""

    def fill(seq: int) -> IssuedDocument:
        number = number_text(head.prefix, issued_on.year, seq)
        document = compose(draft, text, head, number=number, issued_on=issued_on)
        return IssuedDocument(number=number, period=draft.period, area_id=draft.area_id, title=draft.title,
                              addressee=draft.addressee, issued_on=issued_on, issued_by=scope.user_id,
                              issued_by_name=name or scope.username, summary=draft.summary or {},
                              docx=render_docx(document), pdf=render_pdf(document))

    doc = reports.allocate(session, kind=draft.kind, year=issued_on.year, fill=fill)
    audit.record(session, scope, "create", "document", doc.id, detail={"number": doc.number, "kind": draft.kind})
    return doc


# -- the register (发文登记 of 三告) -----------------------------------------------------------------------------------

def reads_all(scope: Scope) -> bool:
    """Whether `scope` reads every 三告 document (the centre, the 联席办); a member-unit liaison reads some."""
    if scope.can(Perm.READ_ASSESSMENT) or scope.can(Perm.ISSUE_LETTERS):
        return True
    if scope.can(Perm.READ_OWN_ASSESSMENT) and scope.unit_id:
        return False
    raise Forbidden("您的角色没有此项权限")


def sees(scope: Scope, doc: IssuedDocument, everything: bool) -> bool:
    """A liaison sees the 通告 (sent to every unit) and the 函告 sent to their own unit."""
    return everything or doc.kind == "notice" or (doc.kind == "letter"
                                                  and (doc.summary or {}).get("unit_id") == scope.unit_id)


def register(session: Session, scope: Scope, kind: str = "", *, limit: int = 500) -> list[IssuedDocument]:
    """The 三告 register as `scope` may see it, newest first."""
    everything = reads_all(scope)
    stmt = select(IssuedDocument).where(IssuedDocument.kind.in_([kind] if kind else list(KINDS)))
    rows = session.scalars(stmt.order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc()).limit(limit))
    return [d for d in rows if sees(scope, d, everything)]


def issued_file(session: Session, scope: Scope, document_id: int, fmt: str) -> IssuedDocument:
    """An issued 三告 document the reader may see, for downloading as `fmt` (audited)."""
    if fmt not in reports.FORMATS:
        raise NotFound("格式应为 docx 或 pdf")
    doc = session.scalar(select(IssuedDocument).where(IssuedDocument.id == document_id,
                                                      IssuedDocument.kind.in_(list(KINDS))))
    if doc is None or not sees(scope, doc, reads_all(scope)):
        raise NotFound("公文不存在或不在您的查看范围内")
    audit.record(session, scope, "view", "document", doc.id, detail={"format": fmt})
    return doc
