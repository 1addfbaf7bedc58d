"""Demo 举报 and 黑名单: a bundle of reports from the public app, half of them reviewed, the approved numbers listed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportBundle, ReportEntity
from fanzha.blocklist.service import mark_changed, report_entities
from fanzha.org.models import User

# (channel, fraud type, text with {phone} {qq} {site} {wx} {card} slots)
TEMPLATES = [
    ("sms", "credit_repair", "【京东金融】您的校园贷账户未注销，将影响个人征信，请致电{phone}办理注销"),
    ("call", "fake_customer_service", "自称快递客服，说包裹丢失可双倍理赔，让我加QQ {qq} 并开启屏幕共享"),
    ("wechat", "brushing", "兼职刷单，日结三百，先垫付后返佣金，加微信 {wx} 领任务"),
    ("sms", "other", "您的ETC已失效，请立即登录 {site} 认证，逾期将停用"),
    ("call", "impersonate_authority", "对方说是公安局民警，说我涉嫌洗钱，让把钱转到安全账户 {card}"),
    ("qq", "investment", "导师带单炒虚拟币，稳赚不赔，下载APP后充值，客服电话 {phone}"),
    ("web", "loan", "网贷说额度已批，需要先交解冻金才能放款，收款卡号 {card}"),
    ("sms", "other", "恭喜您抽中二等奖，请访问 {site} 领取，需先缴纳手续费"),
]


def generate_reports(session: Session, *, seed: int, count: int = 24, now: datetime | None = None) -> int:
    r = random.Random(seed * 7 + 11)
    now = now or datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    analyst = session.scalar(select(User.id).where(User.username == "yanpan"))
    bundle = ReportBundle(bundle_id=f"demo-{seed}", digest="0" * 64, filename="演示举报包.jsonl",
                          exported_at=(now - timedelta(days=1)).isoformat(timespec="seconds"), reports=count,
                          created=count, imported_by=analyst, imported_at=now - timedelta(hours=20))
    session.add(bundle)
    session.flush()
    listed: set[tuple[str, str]] = set()
    for i in range(count):
        channel, ftype, template = TEMPLATES[i % len(TEMPLATES)]
        text = template.format(phone=f"1{r.choice('3578')}{r.randint(0, 9)}{r.randint(10_000_000, 99_999_999)}",
                               qq=str(r.randint(10_000_000, 3_999_999_999)), wx=f"jz_{r.randint(1000, 9999)}a",
                               site=f"{r.choice(['etc-rz', 'jd-kf', 'cj-lq', 'yh-rz'])}{r.randint(10, 99)}.top",
                               card=f"6222{r.randint(10**14, 10**15 - 1)}")
        report = PublicReport(uid=f"demo{seed:04d}{i:024d}"[:32], bundle_id=bundle.id,
                              reported_at=now - timedelta(days=r.randint(1, 30), minutes=r.randint(0, 1440)),
                              channel=channel, text=text, value="", risk="fraud", fraud_type=ftype)
        report.entities = [ReportEntity(kind=k, value=v, key=key) for k, v, key in report_entities(text, "")]
        reviewed = i % 2 == 0
        for e in report.entities:
            if reviewed:
                e.status = "rejected" if i % 8 == 6 else "approved"
                e.decided_by, e.decided_at = analyst, report.reported_at + timedelta(hours=3)
        report.status = "reviewed" if reviewed or not report.entities else "pending"
        session.add(report)
        session.flush()
        for e in report.entities:
            if e.status == "approved" and (e.kind, e.key) not in listed:
                listed.add((e.kind, e.key))
                session.add(BlocklistEntry(kind=e.kind, value=e.value, key=e.key, source=f"举报 {report.uid[:8]}",
                                           report_entity_id=e.id, approved_by=analyst, approved_at=e.decided_at))
                mark_changed(session)
    session.flush()
    return count


def generate_bulletins(session: Session, *, today: date) -> int:
    """Last month's bulletin as the analyst issued it, and its revision (修订) a day later after a case was corrected:
    the register shows an original and the revision that replaces it."""
    from fanzha.org.scope import Scope
    from fanzha.reports import bulletin, service

    analyst = session.scalar(select(User).where(User.username == "yanpan"))
    if analyst is None:
        return 0
    scope = Scope.for_user(analyst)
    period = bulletin.latest("monthly", today)
    first = max(period.end, today - timedelta(days=1))
    service.issue_bulletin(session, scope, period, None, issued_on=first)
    service.issue_bulletin(session, scope, period, None, issued_on=today,
                           revision_note="补录一起月末立案的案件，更正发案数与损失金额")
    return 2
