"""Text rules shared by schemas: free text takes every printable character and is escaped where it is shown.

Notes quote what people said (“他说<安全账户>”, a URL with a semicolon, an apostrophe in a name); refusing such
characters on input loses what was said and protects nothing: pages escape on output (Jinja autoescape) and every
CSV/XLSX export neutralises formula cells. Only control characters, which no keyboard types and which break files,
are refused (tab, line feed and carriage return stay: notes have lines).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_control(value: str) -> str:
    """Files from upstream systems keep their text; only control characters are dropped."""
    return _CONTROL.sub("", value)


def check_plain(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("含有控制字符（请删去不可见字符后重新填写）")
    return value


# Marks free text in the OpenAPI document (and for tests): any printable character is accepted.
FREE_TEXT = {"x-free-text": True}
PlainText = Annotated[str, StringConstraints(max_length=200), AfterValidator(check_plain),
                      Field(json_schema_extra=FREE_TEXT)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_plain),
                      Field(json_schema_extra=FREE_TEXT)]
NoteText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(check_plain),
                     Field(json_schema_extra=FREE_TEXT)]
# Free text of a record that a row check cleans itself (a warning batch reports a bad row by its index rather
# than refusing the whole body).
RowText = Annotated[str, Field(json_schema_extra=FREE_TEXT)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-.]+$")]

# Database ids: positive and within a 32-bit column, so absurd numbers are a 422, not an overflow.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
