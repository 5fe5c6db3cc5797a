"""Threads of a user and the messages of a thread (both owner-scoped)."""

from __future__ import annotations

from netra.persistence.models import Message, Thread
from netra.persistence.repositories.base import DEFAULT_LIMIT, WorkspaceOwnedRepository


class ThreadRepository(WorkspaceOwnedRepository[Thread]):
    """A user's threads: `list(owner_id)` is the threads of that user, newest first."""

    model = Thread


class MessageRepository(WorkspaceOwnedRepository[Message]):
    """Messages; `create` needs a `thread_id` of the same owner."""

    model = Message
    parents = {"thread_id": Thread}

    async def for_thread(self, owner_id: str, thread_id: str, *, limit: int = DEFAULT_LIMIT,
                         offset: int = 0) -> list[Message]:
        """Return one page of a thread's messages, newest first ([] for another user's thread)."""
        return await self._children(owner_id, "thread_id", thread_id, limit, offset)
