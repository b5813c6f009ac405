"""Shared path and query parameters of the REST routers."""

from typing import Annotated

from fastapi import Path, Query

from protocol import limits

PathId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="an id")
]
"""An id in the path: short, letters, digits, ``-`` and ``_`` only (else 400)."""

Limit = Annotated[
    int, Query(ge=1, le=limits.MAX_PAGE_SIZE, description="page size (default 30, max 100)")
]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="``next_cursor`` of the previous page"),
]
