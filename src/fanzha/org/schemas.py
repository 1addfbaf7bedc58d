"""Pydantic shapes for areas, units and users in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fanzha.common.text import Code, Id, PlainText, ShortText
from fanzha.org.enums import GROUPS, UNIT_KINDS, Level
from fanzha.org.roles import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaIn(Strict):
    name: ShortText
    code: Code
    level: Level
    kind_label: ShortText | None = None
    parent_id: Id | None = None
    police_area_id: Id | None = Field(None, description="村/社区 only: the 警务区 or 派出所 that covers it")
    population: int = Field(0, ge=0, le=10_000_000)
    households: int = Field(0, ge=0, le=10_000_000)
    shops: int = Field(0, ge=0, le=1_000_000)


class AreaPatch(Strict):
    name: ShortText | None = None
    kind_label: ShortText | None = None
    police_area_id: Id | None = None
    population: int | None = Field(None, ge=0, le=10_000_000)
    households: int | None = Field(None, ge=0, le=10_000_000)
    shops: int | None = Field(None, ge=0, le=1_000_000)


class AreaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    chain: str
    level: str
    kind_label: str
    name: str = Field(description="名称，如“金鸡村”（导入按名称匹配时用它）")
    label: str = Field(description="显示名：名称在本系统内重复时带上级名称，如“河口镇·金鸡村”（规则见 docs/areas.md）")
    code: str
    parent_id: Id | None
    police_area_id: Id | None
    population: int
    households: int
    shops: int


class UnitIn(Strict):
    name: PlainText = Field(min_length=2)
    code: Code
    kind: str = "other"
    area_id: Id
    duty_groups: list[str] = []
    is_member: bool = True
    contact_name: PlainText = ""
    contact_phone: PlainText = ""

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in UNIT_KINDS:
            raise ValueError(f"单位类别应为 {'、'.join(UNIT_KINDS)} 之一")
        return v

    @field_validator("duty_groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        bad = [g for g in v if g not in GROUPS]
        if bad:
            raise ValueError(f"未知的群体：{'、'.join(bad)}")
        return v


class UnitPatch(Strict):
    name: PlainText | None = None
    duty_groups: list[str] | None = None
    is_member: bool | None = None
    contact_name: PlainText | None = None
    contact_phone: PlainText | None = None

    _groups = field_validator("duty_groups")(lambda cls, v: UnitIn._groups(v) if v is not None else v)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    code: str
    kind: str
    area_id: Id
    duty_groups: list[str]
    is_member: bool
    contact_name: str


class UserIn(Strict):
    username: str = Field(min_length=3, max_length=32, pattern=r"^[a-z][a-z0-9_]{2,31}$")
    display_name: ShortText
    password: str = Field(min_length=8, max_length=128)
    role: Role
    area_id: Id
    unit_id: Id | None = None
    phone: PlainText = ""


class UserPatch(Strict):
    display_name: ShortText | None = None
    role: Role | None = None
    area_id: Id | None = None
    unit_id: Id | None = None
    phone: PlainText | None = None
    is_active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=128)
    unlock: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    area_id: Id
    unit_id: Id | None
    is_active: bool
    last_login_at: datetime | None
