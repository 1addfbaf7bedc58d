"""What a viewer is shown of a person's identity: the one place serializers, pages and exports mask through.

A resident ID number (身份证号) is 6 digits of region, 8 of birth date, 3 of sequence (the last odd for men) and a
check digit. What is shown together must never narrow a masked number to fewer than `MIN_CANDIDATES` possible
numbers, whatever else the page shows:
- the region is no secret (the person's community gives it away), so a masked ID shows those 6 digits only;
- the last four (sequence and check digit) are not shown: with them the birth date alone is left to guess, and
  a birth year leaves about 33 numbers (365 days over the 11 values of the check digit);
- the birth date is not shown either; an age band (`common.ages`, at least 5 years wide) and 性别 are, which leave
  about 1.4 million for the narrowest band (18—25岁).
Derived facts (age bands, 老年人) are computed from the raw values before masking, so masking never changes them.

Each `Identity` says which fields it shows (`fields`), and that list is what the audit entry of the view records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fanzha.common.ages import age_on, band_of
from fanzha.common.identity import mask_id_number, mask_name, mask_phone

PII_FIELDS = ("name", "id_number", "phone")  # what a change to a person-carrying record is audited with
MIN_CANDIDATES = 10_000


def age_band(birth: date | None, today: date | None = None) -> str:
    """The age band (common.ages: 18—25岁 … 60岁及以上) on `today`; '' without a birth date."""
    band = band_of(age_on(birth, today or date.today()))
    return band.label if band else ""


@dataclass(frozen=True)
class Identity:
    """A person's identity as one viewer sees it. `fields` names what is shown, ':masked' for masked values."""

    name: str
    id_number: str
    phone: str
    gender: str
    age_band: str
    birth_date: date | None
    masked: bool
    fields: tuple[str, ...]


def identity_fields(*, full: bool, name_full: bool = True, with_ages: bool = True) -> list[str]:
    """The fields an Identity shows at this level, as the audit entry lists them."""
    out = ["name" if name_full or full else "name:masked",
           "id_number" if full else "id_number:masked",
           "phone" if full else "phone:masked"]
    if with_ages:
        out += ["gender", "birth_date" if full else "age_band"]
    return out


def identity(*, name: str | None, id_number: str | None, phone: str | None, gender: str | None = "",
             birth_date: date | None = None, full: bool, name_full: bool = True,
             today: date | None = None) -> Identity:
    """Show one person: full values only when `full` (the caller has checked the reveal permission)."""
    return Identity(
        name=(name or "") if name_full or full else mask_name(name),
        id_number=(id_number or "") if full else mask_id_number(id_number),
        phone=(phone or "") if full else mask_phone(phone),
        gender=gender or "",
        age_band=age_band(birth_date, today),
        birth_date=birth_date if full else None,
        masked=not full,
        fields=tuple(identity_fields(full=full, name_full=name_full)),
    )
