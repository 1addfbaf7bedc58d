"""Cases (立案) and the 打 side recorded with them.

The Case core (number, person, place, filing and loss time, type, loss) is extended with what leaders report:
recovered and frozen amounts, 破案 and 抓获, the channel, the victim's profile (snapshotted at filing, so a later change
to the person does not rewrite history), 可防性, and whether the type was suggested by the narrative model.
快速查询/止付/冻结 requests, 断卡 leads and 封号 requests are their own records (`CaseAction`) linked to a case, a
warning or both (the one request model: a dissuader's 申请止付 on a warning is a CaseAction too, see cases/requests/service.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanzha.db import Base, UTCDateTime, utcnow
from fanzha.org.models import Area, Unit, User
from fanzha.people.models import Person
from fanzha.warnings import losses


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)  # 案件编号
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    name: Mapped[str] = mapped_column(String(32), default="")
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # 立案时间
    loss_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # 损失（被骗）时间: what 预后被骗率 uses
    fraud_type: Mapped[str] = mapped_column(String(32), default="other")
    loss_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")  # 案情
    source: Mapped[str] = mapped_column(String(8), default="form")
    # How fraud_type was set: given 录入 / suggested 系统建议 (from the narrative, until an officer confirms) / confirmed
    type_status: Mapped[str] = mapped_column(String(10), default="given")
    type_confidence: Mapped[float | None] = mapped_column(Float)
    recovered_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)  # 追回/返还
    frozen_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)  # 冻结
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # 破案时间 (solved when set)
    suspects_caught: Mapped[int] = mapped_column(Integer, default=0)  # 抓获犯罪嫌疑人
    caught_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default="")  # cases.enums.CHANNELS key, "" unknown
    victim_sex: Mapped[str] = mapped_column(String(2), default="")  # 男/女, as Person.gender
    victim_age: Mapped[int | None] = mapped_column(Integer)  # at the loss time
    victim_occupation: Mapped[str] = mapped_column(String(32), default="")
    victim_groups: Mapped[list] = mapped_column(JSON, default=list)  # org.enums.GROUPS keys at filing
    employer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    employer_name: Mapped[str] = mapped_column(String(100), default="")  # as written, when no unit matched
    preventable: Mapped[bool | None] = mapped_column(Boolean)  # 可防性案件
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person | None] = relationship()
    community: Mapped[Area | None] = relationship()
    employer_unit: Mapped[Unit | None] = relationship()
    actions: Mapped[list[CaseAction]] = relationship(back_populates="case", order_by="CaseAction.requested_at")


class CaseAction(Base):
    """One 打-side request: 快速查询 query, 止付 stop_payment, 冻结 freeze, 断卡线索 card_lead, 封号 account_block.

    Linked to a case and/or the warning it was raised from; a lead found in an operation may have neither, and is
    then scoped by its community. The target (card/account number) and its holder are personal data.
    A request the centre answers (查询/止付/冻结 raised on a page) carries its minute deadline and, once answered, the
    result, the amount the bank confirmed, its reference, who answered and when (done_at).
    """

    __tablename__ = "case_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # cases.enums.ACTION_KINDS
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(16), default="")  # bank_card/phone_card/wechat/qq/alipay/app/other
    target: Mapped[str] = mapped_column(String(64), default="")  # card, phone or account number
    holder_name: Mapped[str] = mapped_column(String(32), default="")
    holder_id_number: Mapped[str | None] = mapped_column(String(18))
    institution: Mapped[str] = mapped_column(String(64), default="")  # bank / carrier / platform
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    status: Mapped[str] = mapped_column(String(12), default="requested")  # requested/done/failed/referred
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the centre answers by then (requests only)
    result: Mapped[str] = mapped_column(Text, default="")  # 查询结果 / the bank's answer
    result_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # amount stopped or frozen, as answered
    reference: Mapped[str] = mapped_column(String(64), default="")  # the bank's reference (回执编号)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # overdue, told once

    case: Mapped[Case | None] = relationship(back_populates="actions")
    community: Mapped[Area | None] = relationship()
    creator: Mapped[User | None] = relationship(foreign_keys=[created_by])
    answerer: Mapped[User | None] = relationship(foreign_keys=[answered_by])


# The warning figures (预后被骗率, the feedback file's 损失) read a person's losses from these columns.
losses.register(Case.person_id, Case.loss_at, Case.loss_amount)
