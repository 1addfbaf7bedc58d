"""Text rules shared by schemas: structured fields refuse markup and SQL punctuation outright."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

# Names, codes, addresses and labels never need these; refusing them keeps stored data
# clean for exports and documents, not only safe on screen (templates escape anyway).
_FORBIDDEN = re.compile(r"[<>\"';\\`\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|--|/\*|\*/")


def check_plain(value: str) -> str:
    value = value.strip()
    if _FORBIDDEN.search(value):
        raise ValueError("含有不允许的字符（< > \" ' ; \\ 或控制字符）")
    return value


PlainText = Annotated[str, StringConstraints(max_length=200), AfterValidator(check_plain)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_plain)]
NoteText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(check_plain)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-.]+$")]

# Database ids: positive and within a 32-bit column, so absurd numbers are a 422, not an overflow.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
