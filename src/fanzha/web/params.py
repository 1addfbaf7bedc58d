"""Path and query parameter types shared by routes."""

from typing import Annotated

from fastapi import Path, Query

from fanzha.common.text import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
