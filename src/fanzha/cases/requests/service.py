"""Account requests the centre answers within minutes: 快速查询 (query), 止付 (stop_payment), 冻结 (freeze).

One model holds them: `CaseAction`, raised from a warning (the dissuader's 申请查询/止付/冻结) or a case. Each gets a
minute deadline from the rules file (requests_default.toml, validated here); the centre's queue (/requests) lists
待处理 first, oldest first, 已超时 marked; an answer records the result (已查询/已止付/已冻结 or 未成功), the amount the
bank confirmed and its reference, and tells the requester. Overdue requests escalate once (the worker calls
`escalate` every minute, beside dissuasion.escalation.run); a 止付 nearing its lapse asks the centre to 冻结. The
bulletin's 反诈中心处理情况 counts come from `counts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PositiveInt, model_validator
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased, joinedload

from fanzha.audit import service as audit
from fanzha.cases.actions import action_visible, guess_target_type, mask_target
from fanzha.cases.enums import ACTION_KINDS, ACTION_STATUSES
from fanzha.cases.models import CaseAction
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.rules import RulesModel, load_rules_file, register
from fanzha.common.timefmt import fmt_minute
from fanzha.db import utcnow
from fanzha.dissuasion.models import TimelineEvent
from fanzha.notify.service import notify
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import communities_under
from fanzha.warnings.models import Warning
from fanzha.warnings.service import visible as warning_visible

DEFAULT_RULES = Path(__file__).with_name("requests_default.toml")
REQUEST_KINDS = {k: ACTION_KINDS[k] for k in ("query", "stop_payment", "freeze")}
DONE_LABELS = {"query": "已查询", "stop_payment": "已止付", "freeze": "已冻结"}
ANSWERS = ("done", "failed")
MAX_AMOUNT = Decimal("1e12")


class AnswerMinutes(RulesModel):
    """Minutes the centre has to answer a request of each kind; a table written names all three."""

    query: PositiveInt = Field(description="快速查询 (quick account query).")
    stop_payment: PositiveInt = Field(description="止付 (stop payment).")
    freeze: PositiveInt = Field(description="冻结 (freeze).")

    def __getitem__(self, kind: str) -> int:
        return int(getattr(self, kind))


class RequestRules(RulesModel):
    """requests_default.toml: the answer deadlines of 快速查询/止付/冻结 and the 止付 lapse."""

    answer_minutes: AnswerMinutes = Field(AnswerMinutes(query=10, stop_payment=15, freeze=120),
                                          description="Answer deadlines (回复时限), minutes, per kind; without the "
                                                      "table 10, 15 and 120.")
    stop_lapse_hours: PositiveInt = Field(48, description="How long a 止付 holds the money (紧急止付 lapses after 48 "
                                                          "hours unless frozen).")
    freeze_prompt_hours: PositiveInt = Field(12, description="From this many hours before a 止付 lapses the queue asks "
                                                             "the centre to 冻结; shorter than stop_lapse_hours.")

    @model_validator(mode="after")
    def _prompt_before_lapse(self) -> RequestRules:
        if self.freeze_prompt_hours >= self.stop_lapse_hours:
            raise ValueError("freeze_prompt_hours 应短于 stop_lapse_hours")
        return self


FILE = register("requests", "查询/止付/冻结规则文件", RequestRules, DEFAULT_RULES, setting="FANZHA_REQUEST_RULES",
                summary="The minutes the centre has to answer 快速查询, 止付 and 冻结 requests, and the 止付 lapse.")


def load_rules(path: Path | None = None) -> RequestRules:
    return load_rules_file(RequestRules, path or DEFAULT_RULES, what=FILE.title)


@lru_cache
def current_rules() -> RequestRules:
    from fanzha.config import get_settings

    return load_rules(get_settings().request_rules)


def status_label(a: CaseAction) -> str:
    """待处理, then 已查询/已止付/已冻结 by kind, or 未成功/已移交."""
    if a.status == "requested":
        return "待处理"
    if a.status == "done":
        return DONE_LABELS.get(a.kind, ACTION_STATUSES["done"])
    return ACTION_STATUSES.get(a.status, a.status)


def overdue(a: CaseAction, now: datetime) -> bool:
    return a.status == "requested" and a.deadline_at is not None and a.deadline_at <= now


def deadline_for(kind: str, at: datetime, rules: RequestRules | None = None) -> datetime:
    return at + timedelta(minutes=(rules or current_rules()).answer_minutes[kind])


def _clean_account(account: str) -> str:
    text = re.sub(r"[\s\-]", "", account)
    if not text or len(text) > 64 or not re.fullmatch(r"[0-9A-Za-z_@.+]+", text):
        raise Invalid("请填写正确的账号（卡号、手机号或账户）", details=[{"loc": ["account"], "msg": "必填"}])
    return text


def _check_amount(amount: Decimal | None) -> Decimal:
    """An amount given, or 0 when not (the centre confirms the amount in its answer)."""
    if amount is None:
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise Invalid("金额不对", details=[{"loc": ["amount"], "msg": "超出范围"}])
    return amount


def _event(session: Session, warning_id: int | None, scope: Scope | None, text: str, at: datetime) -> None:
    if warning_id is not None:
        session.add(TimelineEvent(warning_id=warning_id, at=at, kind="request", text=text,
                                  by_user_id=scope.user_id if scope else None))


def _centre(session: Session) -> list[int]:
    from fanzha.warnings.recipients import Recipients

    return Recipients(session).of("centre", None)  # type: ignore[arg-type]  (the centre needs no warning)


def raise_for_warning(session: Session, scope: Scope, warning_id: int, *, kind: str, account: str, bank: str = "",
                      amount: Decimal | None = None, now: datetime | None = None) -> CaseAction:
    """申请查询/止付/冻结 from a warning: scoped by the warning, timed by the rules, on its timeline, the centre told."""
    scope.require(Perm.CLAIM_WARNINGS)
    now = now or utcnow()
    if kind not in REQUEST_KINDS:
        raise Invalid("请求类型应为 快速查询、止付 或 冻结", details=[{"loc": ["kind"], "msg": "未知"}])
    account = _clean_account(account)
    amount = _check_amount(amount)
    w = session.scalar(select(Warning).where(Warning.id == warning_id, warning_visible(scope)))
    if w is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    _refuse_repeat(session, w.id, kind, account, now)
    a = CaseAction(kind=kind, warning_id=w.id, community_id=w.community_id, target_type=guess_target_type(account),
                   target=account, institution=" ".join(bank.split())[:64], amount=amount, status="requested",
                   requested_at=now, deadline_at=deadline_for(kind, now), created_by=scope.user_id, created_at=now)
    session.add(a)
    session.flush()
    money = f"，金额 {amount:,.2f} 元" if amount else ""
    _event(session, w.id, scope, f"申请{REQUEST_KINDS[kind]}：账号 {mask_target(account)}{money}，"
                                 f"请反诈中心于 {current_rules().answer_minutes[kind]} 分钟内回复", now)
    notify(session, _centre(session), f"新的{REQUEST_KINDS[kind]}申请",
           f"{REQUEST_KINDS[kind]}申请待处理，请在 {current_rules().answer_minutes[kind]} 分钟内回复", "/requests",
           now=now)
    audit.record(session, scope, "create", "case_action", a.id, detail={"warning": w.id, "kind": kind})
    return a


def _refuse_repeat(session: Session, warning_id: int, kind: str, account: str, now: datetime) -> None:
    """A second request of the same kind for the same account on the same warning while the first still stands:
    one 待处理, a 止付 done and not lapsed, or a 冻结 done. (A 查询 answered may be asked again: balances move.)"""
    for a in session.scalars(select(CaseAction).where(CaseAction.warning_id == warning_id, CaseAction.kind == kind,
                                                      CaseAction.target == account)):
        if a.status == "requested":
            raise Conflict(f"该账号的{REQUEST_KINDS[kind]}申请（{fmt_minute(a.requested_at)}）"
                           "正在等待反诈中心回复，无需重复申请",
                           details=[{"loc": ["account"], "msg": "重复申请"}])
        if a.status == "done" and kind == "stop_payment" and (lapse := lapses_at(a)) and lapse > now:
            raise Conflict(f"该账号已止付，将于 {fmt_minute(lapse)} 失效；需要继续控制资金请申请冻结",
                           details=[{"loc": ["account"], "msg": "已止付"}])
        if a.status == "done" and kind == "freeze":
            raise Conflict("该账号已冻结，无需重复申请", details=[{"loc": ["account"], "msg": "已冻结"}])


def visible(scope: Scope):
    """Requests within the user's areas (the centre also those placed nowhere)."""
    return and_(action_visible(scope), CaseAction.kind.in_(tuple(REQUEST_KINDS)))


def within(scope: Scope, area: Area | None = None):
    """The requests a figure counts: in the user's areas and, with `area`, under it; the centre's whole-county figure
    also counts those placed nowhere. The metrics page, the bulletin and the wall screen all count through this."""
    if area is not None:
        return scope.community_clause(CaseAction.community_id) & CaseAction.community_id.in_(
            select(Area.id).where(communities_under(area)))
    return scope.records_clause(CaseAction.community_id)


def get(session: Session, scope: Scope, request_id: int) -> CaseAction:
    scope.require(Perm.READ_WARNINGS)
    a = session.scalar(select(CaseAction).where(CaseAction.id == request_id, visible(scope)))
    if a is None:
        raise NotFound("申请不存在或不在您的管辖范围内")
    return a


@dataclass
class Answer:
    """An answer checked and not yet recorded: what the confirmation shows and the 确认 button sends."""

    request: CaseAction
    outcome: str
    result: str
    amount: Decimal | None
    reference: str

    def sentence(self) -> str:
        a = self.request
        label = DONE_LABELS[a.kind] if self.outcome == "done" else ACTION_STATUSES["failed"]
        money = f"，金额 {self.amount:,.2f} 元" if self.amount else ""
        ref = f"，银行回执号 {self.reference}" if self.reference else ""
        note = f"，结果：{self.result}" if self.result else ""
        return f"{REQUEST_KINDS[a.kind]}申请（账号 {mask_target(a.target)}）：{label}{money}{ref}{note}"


def check_answer(session: Session, scope: Scope, request_id: int, *, outcome: str, result: str = "",
                 amount: Decimal | None = None, reference: str = "") -> Answer:
    """What refuses an answer before anything is written (the confirmation asks only about a valid one)."""
    scope.require(Perm.INTAKE_WARNINGS)  # the centre answers: it talks to the banks
    if outcome not in ANSWERS:
        raise Invalid("请选择办理结果", details=[{"loc": ["outcome"], "msg": "必选"}])
    a = get(session, scope, request_id)
    if a.status != "requested":
        raise Conflict("该申请已回复")
    amount = _check_amount(amount) or None
    if a.kind == "query" and outcome == "done" and not result.strip():
        raise Invalid("请填写查询结果", details=[{"loc": ["result"], "msg": "必填"}])
    return Answer(request=a, outcome=outcome, result=" ".join(result.split())[:1000], amount=amount,
                  reference=" ".join(reference.split())[:64])


def answer(session: Session, scope: Scope, request_id: int, *, outcome: str, result: str = "",
           amount: Decimal | None = None, reference: str = "", now: datetime | None = None) -> Answer:
    """The centre's answer: recorded, on the warning's timeline, and told to whoever asked (and the warning's
    dissuader)."""
    now = now or utcnow()
    ans = check_answer(session, scope, request_id, outcome=outcome, result=result, amount=amount, reference=reference)
    a = ans.request
    a.status, a.done_at, a.answered_by = outcome, now, scope.user_id
    a.result, a.result_amount, a.reference = ans.result, ans.amount, ans.reference
    text = ans.sentence()
    _event(session, a.warning_id, scope, f"反诈中心回复：{text}", now)
    told = {a.created_by} if a.created_by else set()
    link = "/requests"
    if a.warning_id is not None:
        link = f"/warnings/{a.warning_id}"
        holder = session.scalar(select(Warning.assignee_id).where(Warning.id == a.warning_id))
        told |= {holder} if holder else set()
    elif a.case_id is not None:
        link = f"/cases/{a.case_id}"
    notify(session, sorted(told - {scope.user_id}), f"{REQUEST_KINDS[a.kind]}申请已回复：{status_label(a)}",
           f"您提交的{REQUEST_KINDS[a.kind]}申请已回复：{status_label(a)}", link, now=now)
    audit.record(session, scope, "update", "case_action", a.id, detail={"status": outcome, "kind": a.kind})
    return ans


def queue(session: Session, scope: Scope, *, answered: int = 30) -> tuple[list[CaseAction], list[CaseAction]]:
    """The queue: 待处理 oldest first, then the latest answered. Only requests put to the centre (they carry a
    deadline): a case register's imported 止付/冻结 records are kept on /cases/actions."""
    scope.require(Perm.READ_WARNINGS)
    base = select(CaseAction).where(visible(scope), CaseAction.deadline_at.is_not(None)).options(joinedload(CaseAction.creator),
                                                             joinedload(CaseAction.community))
    pending = list(session.scalars(base.where(CaseAction.status == "requested")
                                   .order_by(CaseAction.requested_at, CaseAction.id)))
    done = list(session.scalars(base.where(CaseAction.status != "requested")
                                .order_by(CaseAction.done_at.desc(), CaseAction.id.desc()).limit(answered)))
    if pending or done:
        audit.record(session, scope, "view", "case_action", "", fields=["id_number"],
                     detail={"ids": [a.id for a in pending + done]})
    return pending, done


def of_warning(session: Session, warning_id: int) -> list[CaseAction]:
    """A warning's requests, oldest first (the warning page is already scoped)."""
    return list(session.scalars(select(CaseAction).where(CaseAction.warning_id == warning_id)
                                .order_by(CaseAction.requested_at, CaseAction.id)))


def _freeze_after(stop):
    later = aliased(CaseAction)
    return exists().where(later.kind == "freeze", later.target == stop.target,
                          later.requested_at >= stop.requested_at)


def lapsing(session: Session, scope: Scope, now: datetime | None = None) -> list[CaseAction]:
    """止付 done whose hold lapses within freeze_prompt_hours (or has lapsed within the last day) and no 冻结 of the
    same account asked since: the centre is prompted to 冻结."""
    now = now or utcnow()
    rules = current_rules()
    lapse = timedelta(hours=rules.stop_lapse_hours)
    return list(session.scalars(select(CaseAction).where(
        visible(scope), CaseAction.kind == "stop_payment", CaseAction.status == "done",
        CaseAction.done_at <= now - lapse + timedelta(hours=rules.freeze_prompt_hours),
        CaseAction.done_at > now - lapse - timedelta(days=1), ~_freeze_after(CaseAction))
        .order_by(CaseAction.done_at)))


def lapses_at(a: CaseAction) -> datetime | None:
    return a.done_at + timedelta(hours=current_rules().stop_lapse_hours) if a.done_at else None


def freeze_from(session: Session, scope: Scope, stop_id: int, *, now: datetime | None = None) -> CaseAction:
    """申请冻结 from a lapsing 止付: the same account, bank, amount stopped, warning and case."""
    scope.require(Perm.INTAKE_WARNINGS)
    now = now or utcnow()
    stop = get(session, scope, stop_id)
    if stop.kind != "stop_payment" or stop.status != "done":
        raise Conflict("只有已止付的申请可以转冻结")
    if session.scalar(select(_freeze_after(stop))):
        raise Conflict("该账号已申请冻结")
    a = CaseAction(kind="freeze", warning_id=stop.warning_id, case_id=stop.case_id, community_id=stop.community_id,
                   target_type=stop.target_type, target=stop.target, institution=stop.institution,
                   amount=stop.result_amount or stop.amount, status="requested", requested_at=now,
                   deadline_at=deadline_for("freeze", now), created_by=scope.user_id, created_at=now)
    session.add(a)
    session.flush()
    _event(session, a.warning_id, scope, f"止付即将到期，申请冻结：账号 {mask_target(a.target)}", now)
    audit.record(session, scope, "create", "case_action", a.id, detail={"kind": "freeze", "from": stop.id})
    return a


def escalate(session: Session, now: datetime) -> list[CaseAction]:
    """Requests past their deadline unanswered: the centre and the warning's station head are told once."""
    from fanzha.warnings.recipients import Recipients

    rows = list(session.scalars(select(CaseAction).where(
        CaseAction.status == "requested", CaseAction.deadline_at <= now, CaseAction.escalated_at.is_(None))))
    recipients = Recipients(session)
    for a in rows:
        users = set(recipients.of("centre", None))  # type: ignore[arg-type]
        if a.warning_id is not None:
            station = session.scalar(select(Warning.station_id).where(Warning.id == a.warning_id))
            users |= set(recipients.station_heads(station)) if station else set()
        late = int((now - a.deadline_at).total_seconds() // 60)
        text = f"{REQUEST_KINDS[a.kind]}申请已超时{late}分钟未回复，升级至反诈中心和所长"
        a.escalated_at = now
        _event(session, a.warning_id, None, text, now)
        notify(session, sorted(users), f"{REQUEST_KINDS[a.kind]}申请超时", text, "/requests", now=now)
    session.flush()
    return rows


@dataclass
class Counts:
    """反诈中心处理情况 of a period: accounts queried, 止付 and 冻结 done with their amounts."""

    queries: int = 0
    stops: int = 0
    stop_amount: Decimal = Decimal(0)
    freezes: int = 0
    frozen_amount: Decimal = Decimal(0)


def counts(session: Session, clause, since: datetime, until: datetime) -> Counts:
    """The one definition: requests answered successfully (status done) with the answer's time (done_at) in
    [since, until), within `clause` (a CaseAction scope clause); the amount is the answered amount, else the amount
    asked."""
    out = Counts()
    amount = func.coalesce(CaseAction.result_amount, CaseAction.amount)
    for kind, n, total in session.execute(
            select(CaseAction.kind, func.count(), func.coalesce(func.sum(amount), 0))
            .where(clause, CaseAction.status == "done", CaseAction.kind.in_(tuple(REQUEST_KINDS)),
                   CaseAction.done_at >= since, CaseAction.done_at < until)
            .group_by(CaseAction.kind)):
        if kind == "query":
            out.queries = int(n)
        elif kind == "stop_payment":
            out.stops, out.stop_amount = int(n), Decimal(total or 0)
        else:
            out.freezes, out.frozen_amount = int(n), Decimal(total or 0)
    return out



@dataclass
class KindFigures:
    """One kind's requests raised in a period (by 申请时间): how many, answered, answered within the deadline, the
    mean minutes to the answer, and those still unanswered (of which past their deadline now)."""

    kind: str
    label: str
    raised: int = 0
    answered: int = 0
    in_time: int = 0
    answer_minutes: float = 0.0
    pending: int = 0
    overdue: int = 0

    @property
    def mean_answer_minutes(self) -> float | None:
        return round(self.answer_minutes / self.answered, 1) if self.answered else None

    @property
    def in_time_rate(self) -> float | None:
        return self.in_time / self.answered if self.answered else None


@dataclass
class Performance:
    """反诈中心处理情况 on the metrics page: the requests raised in the period by kind, and `handled` — the same
    counts the bulletin prints (requests answered successfully in the period, with amounts)."""

    kinds: list[KindFigures]
    handled: Counts


def performance(session: Session, clause, since: datetime, until: datetime, now: datetime | None = None) -> Performance:
    """The one definition of the request figures: raised = 申请时间 in [since, until); answered = a 回复 recorded
    (已查询/已止付/已冻结 or 未成功); in time = answered no later than its deadline; pending overdue = unanswered and
    past its deadline at `now`. Only requests put to the centre (with a deadline) count."""
    now = now or utcnow()
    kinds = {k: KindFigures(k, label) for k, label in REQUEST_KINDS.items()}
    for a in session.execute(select(CaseAction.kind, CaseAction.status, CaseAction.requested_at, CaseAction.done_at,
                                    CaseAction.deadline_at).where(
            clause, CaseAction.kind.in_(tuple(REQUEST_KINDS)), CaseAction.deadline_at.is_not(None),
            CaseAction.requested_at >= since, CaseAction.requested_at < until)):
        f = kinds[a.kind]
        f.raised += 1
        if a.status == "requested":
            f.pending += 1
            f.overdue += a.deadline_at <= now
        elif a.done_at is not None:
            f.answered += 1
            f.in_time += a.done_at <= a.deadline_at
            f.answer_minutes += (a.done_at - a.requested_at).total_seconds() / 60
    return Performance(kinds=list(kinds.values()), handled=counts(session, clause, since, until))
