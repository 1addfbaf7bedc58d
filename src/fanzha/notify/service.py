"""Notifying users: an in-app row for the bell, and one delivery per outward channel, retried until sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.db import utcnow
from fanzha.notify.channels import Channel, Message, configured_channels
from fanzha.notify.models import Delivery, Notification
from fanzha.org.models import User

MAX_ATTEMPTS = 6


def notify(session: Session, user_ids: list[int], title: str, body: str = "", link: str = "",
           channels: dict[str, Channel] | None = None, now: datetime | None = None,
           outward: bool = True) -> list[Notification]:
    """The bell for each user, and with `outward` a delivery per configured outward channel (SMS gateway, webhook,
    log file). Texts that go outward must carry nothing personal (no name, phone or amount)."""
    now = now or utcnow()
    names = list((channels if channels is not None else configured_channels()).keys()) if outward else []
    made = []
    for uid in dict.fromkeys(user_ids):
        n = Notification(user_id=uid, title=title[:120], body=body, link=link[:200], created_at=now)
        session.add(n)
        session.flush()
        for name in names:
            session.add(Delivery(notification_id=n.id, channel=name, next_try_at=now))
        made.append(n)
    return made


def deliver_due(session: Session, channels: dict[str, Channel] | None = None, now: datetime | None = None,
                limit: int = 200) -> dict[str, int]:
    """Sends what is due; a failure is recorded and tried again after 1, 2, 4 … minutes, up to MAX_ATTEMPTS."""
    now = now or utcnow()
    channels = channels if channels is not None else configured_channels()
    counts = {"sent": 0, "failed": 0, "gave_up": 0}
    due = session.scalars(select(Delivery).where(Delivery.status == "pending", Delivery.next_try_at <= now)
                          .order_by(Delivery.id).limit(limit)).all()
    for d in due:
        channel = channels.get(d.channel)
        n = session.get_one(Notification, d.notification_id)  # both exist: the foreign keys cascade on delete
        user = session.get_one(User, n.user_id)
        d.attempts += 1
        try:
            if channel is None:
                raise RuntimeError(f"通道 {d.channel} 未配置")
            channel.send(Message(user.id, user.username, user.phone, n.title, n.body, n.link))
        except Exception as exc:  # any failure of an outside system is retried, never lost
            d.last_error = str(exc)[:500]
            if d.attempts >= MAX_ATTEMPTS:
                d.status = "failed"
                counts["gave_up"] += 1
            else:
                d.next_try_at = now + timedelta(minutes=2 ** (d.attempts - 1))
                counts["failed"] += 1
            continue
        d.status, d.sent_at, d.last_error = "sent", now, ""
        counts["sent"] += 1
    return counts


def unread_count(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0)


def inbox(session: Session, user_id: int, limit: int = 100) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> None:
    stmt = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    for n in session.scalars(stmt):
        n.read_at = utcnow()
