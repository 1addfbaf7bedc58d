"""Shapes of a person in and out; ID numbers and phones go out masked unless revealed."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from fanzha.common.identity import normalize_id_number, normalize_phone
from fanzha.common.text import Id, PlainText
from fanzha.org.enums import GROUPS
from fanzha.org.schemas import Strict

NAME_PATTERN = r"^[\u4e00-\u9fff·•]{2,15}$|^[A-Za-z][A-Za-z .]{1,40}$"


class PersonIn(Strict):
    name: str = Field(min_length=2, max_length=32, pattern=NAME_PATTERN)
    id_number: str | None = None
    phone: str | None = None
    community_id: Id
    address: PlainText = ""
    groups: list[str] = []
    unit_id: Id | None = None

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return normalize_id_number(v) if v else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v) if v else None

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        bad = [g for g in v if g not in GROUPS]
        if bad:
            raise ValueError(f"未知的群体：{'、'.join(bad)}")
        return sorted(set(v))


class PersonPatch(Strict):
    phone: str | None = None
    community_id: Id | None = None
    address: PlainText | None = None
    groups: list[str] | None = None

    _phone = field_validator("phone")(lambda cls, v: normalize_phone(v) if v else v)
    _groups = field_validator("groups")(lambda cls, v: PersonIn._groups(v) if v is not None else v)


class PersonOut(BaseModel):
    """ID number and phone masked unless revealed; the birth date only with them (an age band otherwise)."""

    id: int
    name: str
    id_number: str
    phone: str
    gender: str
    age_band: str
    birth_date: date | None
    community_id: Id
    community_name: str
    address: str
    groups: list[str]
    unit_id: Id | None
    masked: bool
