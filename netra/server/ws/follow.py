"""The runs one WebSocket connection follows: a relay task per run, from a seq to its final event.

    followers = Followers(resources.events, session.send)
    followers.room_for(run_id)         # TooManyRunsError past MAX_FOLLOWED_RUNS
    followers.follow(run_id, after_seq=0)

A connection follows a run at most once at a time (a second `resume` of the same run
replaces the first), and at most MAX_FOLLOWED_RUNS runs at once (`too_many_runs`). A
follower waits on the log FOLLOW_POLL_S at a time; a failed read of the log (Redis) is
retried from the last seq sent, RELAY_RETRIES times in a row, before the client gets an
`error` (`service_unavailable`).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Awaitable, Callable

from netra.errors import NetraError
from netra.server.runs.log import EventLog
from netra.server.ws.protocol import MAX_FOLLOWED_RUNS, TooManyRunsError, failure

LOG = logging.getLogger("netra.ws")
FOLLOW_POLL_S = 2.0  # one wait of a follower on the log (below the Redis client's 5 s socket timeout)
RELAY_RETRIES = 3  # failed log reads in a row a follower retries before it answers `service_unavailable`
RELAY_BACKOFF_S = 1.0


@dataclass
class Cursor:
    """Where a follower of a run stands: the last seq it sent, and its failed reads in a row."""

    run_id: str
    seq: int
    failures: int = 0


@dataclass
class Followers:
    """The relay tasks of one connection, by run id; each sends the run's events through `send`."""

    events: EventLog
    send: Callable[[dict[str, Any]], Awaitable[None]]
    tasks: dict[str, asyncio.Task] = field(default_factory=dict)

    def room_for(self, run_id: str | None) -> None:
        """Raise TooManyRunsError when following one more run would pass MAX_FOLLOWED_RUNS."""
        if run_id not in self.tasks and len(self.tasks) >= MAX_FOLLOWED_RUNS:
            raise TooManyRunsError(f"this connection already follows {MAX_FOLLOWED_RUNS} runs: wait for one to end")

    def follow(self, run_id: str, after_seq: int) -> None:
        """Relay the run's logged events after `after_seq` to this connection (replacing an earlier follower)."""
        previous = self.tasks.pop(run_id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.create_task(self._relay(run_id, after_seq), name=f"ws-follow:{run_id}")
        self.tasks[run_id] = task
        task.add_done_callback(partial(self._forget, run_id))

    def _forget(self, run_id: str, task: asyncio.Task) -> None:
        if self.tasks.get(run_id) is task:
            del self.tasks[run_id]

    async def _relay(self, run_id: str, after_seq: int) -> None:
        """Send the run's events after `after_seq` until its final one, retrying a failed log read a few times."""
        cursor = Cursor(run_id, after_seq)
        while not await self._forward(cursor):
            await asyncio.sleep(RELAY_BACKOFF_S)

    async def _forward(self, cursor: Cursor) -> bool:
        """Follow the log from the cursor; True when done (final event sent, or failures given up on)."""
        try:
            async with aclosing(self.events.follow(cursor.run_id, cursor.seq, FOLLOW_POLL_S)) as events:
                async for event in events:
                    await self._deliver(cursor, event)
            return True
        except NetraError as exc:  # the log's store failed (ServiceError): retry from the last seq sent
            return await self._failed(cursor, exc)

    async def _deliver(self, cursor: Cursor, event: dict[str, Any] | None) -> None:
        if event is not None:  # None: FOLLOW_POLL_S passed without an event
            cursor.seq, cursor.failures = event["metadata"]["seq"], 0
            await self.send(event)

    async def _failed(self, cursor: Cursor, exc: NetraError) -> bool:
        """Count a failed read; past RELAY_RETRIES in a row, answer it as an `error` and stop following."""
        cursor.failures += 1
        LOG.warning("websocket: following run %s failed (%d): %s", cursor.run_id, cursor.failures, exc)
        if cursor.failures <= RELAY_RETRIES:
            return False
        await self.send(failure(exc, "follow", cursor.run_id))
        return True
