"""API shapes for warnings; the values go through the same check as imported rows (intake.parse_row)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from fanzha.common.text import Id, RowText
from fanzha.org.schemas import Strict


class WarningIn(Strict):
    external_id: str = Field(min_length=1, max_length=64, description="预警编号")
    kind: str = Field(min_length=1, max_length=20, description="预警类型：资金预警/涉诈电话/… 或 funds/call/…")
    grade: str | None = Field(None, max_length=8, description="预警级别 高/中/低（上级下发则以此为准）")
    warned_at: datetime | str | float = Field(description="预警时间（ISO 8601、常见文本格式或 Excel 序列号）")
    feedback_deadline: datetime | str | float | None = Field(None, description="反馈时限：时间或时长，如 24小时")
    name: RowText | None = Field(None, max_length=32)
    id_number: str | None = Field(None, max_length=24)
    phone: str | None = Field(None, max_length=24)
    household_address: RowText | None = Field(None, max_length=200)
    current_address: RowText | None = Field(None, max_length=200)
    fraud_type: RowText | None = Field(None, max_length=30, description="涉诈类型；认不出的类型记为其他，原文写入备注")
    amount: Decimal | str | None = Field(None, description="拟转账金额（元）")
    counterparty_account: RowText | None = Field(None, max_length=64)
    issuing_unit: RowText | None = Field(None, max_length=64)
    note: RowText | None = Field(None, max_length=1000)
    counterparty_phones: RowText | None = Field(None, max_length=1000, description="对方电话，多个以、，,;；或空格分隔")
    counterparty_urls: RowText | None = Field(None, max_length=1000, description="对方网址，多个以、，,;；或空格分隔")
    counterparty_apps: RowText | None = Field(None, max_length=1000, description="涉诈APP名称，多个以、，,;；分隔")
    counterparty_social: RowText | None = Field(None, max_length=1000, description="对方QQ号或微信号，多个以、，,;；或空格分隔")


class WarningBatchIn(Strict):
    warnings: list[WarningIn] = Field(min_length=1, max_length=10_000)


class PlaceIn(Strict):
    community_id: Id
    add_address: bool = False


class WarningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    kind: str
    upstream_grade: str | None
    risk_grade: str
    grade_reasons: list[str]
    warned_at: datetime
    sign_deadline: datetime
    contact_deadline: datetime
    face_deadline: datetime | None
    feedback_deadline: datetime
    face_required: bool
    name: str
    id_number: str
    phone: str
    fraud_type: str | None
    amount: Decimal | None
    repeat_count: int
    community_id: int | None
    station_id: int | None
    match_source: str | None
    status: str
    assignee_id: int | None
    masked: bool
