"""What the routes of owned resources share: their dependencies and the one 404 lookup.

    @router.get("/api/threads/{thread_id}", response_model=ThreadOut)
    async def thread(thread_id: str, user: SignedIn, uow: Uow) -> ThreadOut:
        return ThreadOut.of(await owned(uow.threads, user.user_id, thread_id, "thread"))

`SignedIn` is the signed-in user as a member of the request's workspace
(`netra.server.membership.member`): by then `uow` is bound to that workspace, so a record of
another workspace is not found either, the user's own included.

`owned` answers a missing record, another user's record and a path segment that cannot be
an id at all (longer than an id, or holding control characters such as `%00`, which
PostgreSQL refuses) with the same `NotFoundError` (404, `not_found`), so a client learns
nothing about other users' ids. `Body` is the base of request bodies: unknown fields are
refused (422, `validation_failed`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict

from netra.persistence.repositories.base import NotFoundError, OwnedRepository
from netra.persistence.uow import UnitOfWork
from netra.server.deps import get_uow
from netra.server.membership import Member, member
from netra.server.pagination import PageParams, page_params

__all__ = ["Body", "MAX_ID_LENGTH", "PageQuery", "SignedIn", "Uow", "owned", "plausible_id"]
MAX_ID_LENGTH = 36  # record ids are UUID strings (`String(36)`)

SignedIn = Annotated[Member, Depends(member)]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
PageQuery = Annotated[PageParams, Depends(page_params)]


class Body(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def plausible_id(record_id: str) -> bool:
    """Return whether `record_id` could name a record: 1..36 printable characters."""
    return 0 < len(record_id) <= MAX_ID_LENGTH and record_id.isprintable()


async def owned(repository: OwnedRepository[Any], owner_id: str, record_id: str, kind: str) -> Any:
    """Return the owner's record `record_id` of `repository`.

    Raises:
        NotFoundError: the record is missing, another user's, or `record_id` is no id (404).
    """
    record = await repository.get(owner_id, record_id) if plausible_id(record_id) else None
    if record is None:
        raise NotFoundError(f"{kind} not found")
    return record
