"""查询/止付/冻结 in the demo: ps01's dissuader asked the centre about accounts of open warnings — one 止付 just
raised (待处理), one left past its 15 minutes (已超时, escalated), a 快速查询 answered, a 止付 answered 46 hours ago
(已止付, the queue prompts a 冻结 before it lapses) and a 冻结 the bank could not do (未成功)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.requests import service as requests
from fanzha.org.models import User
from fanzha.org.scope import Scope
from fanzha.warnings.models import Warning

# (minutes ago raised, kind, answer: (outcome, result, amount, reference) or None, answered after minutes)
PLAYS = (
    (3, "stop_payment", None),
    (40, "stop_payment", None),
    (300, "query", ("done", "账户余额 3.2 万元，近 24 小时转入 5 笔", Decimal("32000"), "")),
    (46 * 60, "stop_payment", ("done", "已紧急止付", Decimal("48000"), "ZF20260001")),
    (30 * 60, "freeze", ("failed", "账户已被他案冻结，无法重复冻结", None, "DJ20260002")),
)
BANKS = ("中国工商银行江州支行", "中国农业银行江州支行", "中国建设银行城南支行", "中国银行江州分行", "江州农商银行")


def play_requests(session: Session, now: datetime) -> int:
    asker = session.scalar(select(User).where(User.username == "ps01_quanzu"))
    centre = session.scalar(select(User).where(User.username == "yanpan"))
    if asker is None or centre is None:
        return 0
    held = session.scalars(select(Warning).where(
        Warning.station_id == asker.area_id, Warning.assignee_id == asker.id, Warning.community_id.is_not(None))
        .order_by(Warning.warned_at.desc()).limit(len(PLAYS))).all()
    ask, answer = Scope.for_user(asker), Scope.for_user(centre)
    for n, (w, (ago, kind, reply)) in enumerate(zip(held, PLAYS, strict=False)):
        at = now - timedelta(minutes=ago)
        account = w.counterparty_account or f"62220202001122{n:05d}"
        a = requests.raise_for_warning(session, ask, w.id, kind=kind, account=account, bank=BANKS[n],
                                       amount=w.amount or Decimal(50000), now=at)
        if reply is not None:
            outcome, result, amount, reference = reply
            requests.answer(session, answer, a.id, outcome=outcome, result=result, amount=amount,
                            reference=reference, now=at + timedelta(minutes=8))
    requests.escalate(session, now)
    session.flush()
    return len(held)
