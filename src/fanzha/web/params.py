"""Path, query and form parameter types shared by routes.

An empty value of an optional form field means "not given" (web/forms.py): FastAPI gives "" the parameter's
default, and the Optional…Form types read a value of only spaces the same way, so `= None` is what the route sees.
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import BeforeValidator

from fanzha.common.localtime import zone
from fanzha.common.text import MAX_ID
from fanzha.web.forms import is_blank

MAX_OFFSET = 10_000_000  # rows skipped by an API list: far past any real list, well inside a 64-bit integer
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
IdForm = Annotated[int, Form(ge=0, le=MAX_ID)]

NotGiven = BeforeValidator(lambda value: None if is_blank(value) else value)
OptionalIdForm = Annotated[int | None, Form(ge=1, le=MAX_ID), NotGiven]
OptionalDateForm = Annotated[date | None, Form(), NotGiven]


def aware(value: datetime | None) -> datetime | None:
    """A datetime from a query string: without a zone it is Beijing time (the configured zone)."""


    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone())
