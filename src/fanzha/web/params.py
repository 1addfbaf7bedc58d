"""Path and query parameter types shared by routes."""

from typing import Annotated

from fastapi import Form, Path, Query

from fanzha.common.text import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
IdForm = Annotated[int, Form(ge=0, le=MAX_ID)]



def aware(value):
    """A datetime from a query string: without a zone it is Beijing time (the configured zone)."""
    from zoneinfo import ZoneInfo

    from fanzha.config import get_settings

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(get_settings().timezone))
