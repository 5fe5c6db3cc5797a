"""Pagination of every list endpoint: `?limit=&offset=` in, one page shape out.

    @router.get("/api/threads", response_model=Page[ThreadOut])
    async def threads(page: PageParams = Depends(page_params), ...):
        rows = await uow.threads.list(user.user_id, limit=page.limit, offset=page.offset)
        return page_of([ThreadOut.of(r) for r in rows], page)

Answers `{"items": [...], "limit": 50, "offset": 0, "next_offset": 50 | null}`: `next_offset`
is null when the page came back short, so a client follows it until null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from fastapi import Query
from pydantic import BaseModel

from netra.persistence.repositories import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    """The page a client asked for."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


def page_params(limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page"),
                offset: int = Query(0, ge=0, le=10**9, description="items to skip")) -> PageParams:
    """Dependency: the validated `limit` and `offset` query parameters (400 when out of range)."""
    return PageParams(limit, offset)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def page_of(items: Sequence[T], params: PageParams) -> Page[T]:
    """Return the page of `items` fetched with `params` (next_offset null when it is the last)."""
    full = len(items) >= params.limit
    return Page[T](items=list(items), limit=params.limit, offset=params.offset,
                   next_offset=params.offset + len(items) if full else None)
