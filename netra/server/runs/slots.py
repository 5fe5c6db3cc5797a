"""Run slots shared fairly between users: a freed slot goes to the user served least recently.

    slots = FairSlots(4)
    async with slots.turn(user_id):    # waits while the slots are taken; runs in the slot
        ...

Each user's waiting runs form a queue of their own, in the order they came. When a slot
comes free it goes to the first run of the waiting user whose last turn is the oldest (a user
never served comes first; ties go to whoever waited first): round robin between users. So a
user who queued 100 runs holds back another user's one question by at most one run per
slot, where a single first-come queue would make it wait for all 100.

A waiter that is cancelled leaves its queue; one cancelled just as it was handed a slot
passes the slot on. Everything runs on one event loop, so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator

REMEMBERED_USERS = 10_000  # past this, the turns of users with nothing waiting are forgotten


@dataclass
class FairSlots:
    """`free` slots handed out round robin between the users waiting for one."""

    free: int
    waiting: dict[str, deque[asyncio.Future[None]]] = field(default_factory=dict)
    last_turn: dict[str, int] = field(default_factory=dict)  # user -> the tick of their last slot
    ticks: int = 0

    @asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        """Wait for a slot on `user_id`'s behalf; hold it for the block, then hand it on."""
        await self.acquire(user_id)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, user_id: str = "") -> None:
        """Take a slot: at once when one is free and nobody waits, else when the rotation reaches `user_id`.

        `user_id` "" is a holder outside any user (taking a slot as `asyncio.Semaphore.acquire()` does).
        """
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return self._served(user_id)
        await self._wait(user_id)

    def release(self) -> None:
        """Hand the slot to the next user in the rotation, or free it when nobody waits."""
        ticket = self._next_ticket()
        if ticket is None:
            self.free += 1
        else:
            ticket.set_result(None)

    async def _wait(self, user_id: str) -> None:
        """Queue a ticket for the user and wait until `release` hands it a slot."""
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(user_id, deque()).append(ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            self._withdraw(user_id, ticket)
            raise

    def _next_ticket(self) -> asyncio.Future[None] | None:
        """Take the first ticket of the waiting user served least recently (None: nobody waits)."""
        user_id = min(self.waiting, key=lambda user: self.last_turn.get(user, 0), default=None)
        if user_id is None:
            return None
        self._served(user_id)
        return self._take(user_id)

    def _take(self, user_id: str, ticket: asyncio.Future[None] | None = None) -> asyncio.Future[None]:
        """Remove `ticket` (by default the first) from the user's queue, dropping the queue once empty."""
        queue = self.waiting[user_id]
        ticket = queue[0] if ticket is None else ticket
        queue.remove(ticket)
        if not queue:
            del self.waiting[user_id]
        return ticket

    def _withdraw(self, user_id: str, ticket: asyncio.Future[None]) -> None:
        """Take a cancelled waiter out of its queue; one that was just handed a slot hands it on."""
        if not ticket.cancelled():
            return self.release()
        if ticket in self.waiting.get(user_id, ()):
            self._take(user_id, ticket)

    def _served(self, user_id: str) -> None:
        """Record the user's turn (forgetting idle users' turns once too many are remembered)."""
        self.ticks += 1
        self.last_turn[user_id] = self.ticks
        if len(self.last_turn) > REMEMBERED_USERS:
            self.last_turn = {user: tick for user, tick in self.last_turn.items() if user in self.waiting}
