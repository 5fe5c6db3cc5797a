"""One client's view of a run: its graph stream as SSE frames, and the wait for its end.

    listener = Listener(resources, owner, run_id, frozenset({"values", "updates"}), after=None)
    StreamingResponse(listener.frames(), media_type="text/event-stream")    # the SSE body
    StreamingResponse(joined(resources, owner, run_id, result), media_type="application/json")

`frames()` sends `metadata` ({"run_id", "attempt": 1}, id 0) unless the client resumes
after an id (`Last-Event-ID`), then the entries of the run's stream log (`resources.streams`)
after that id whose mode the client asked for (`error` and `end` always), each with its
seq as id, live until the log's final `end`. A stream that sent nothing for
`settings.sse_heartbeat_s` (5 s) sends a `: heartbeat` comment, and each idle tick (TICK_S without an entry) checks the
run's record: a run that ended without its stream's finale (cancelled before it started,
failed outside the graph, interrupted by a restart, or whose log expired) gets
`error`/`end` made from the record, numbered on from the last seq. A failure of the log itself ends the stream with an `error`
event (no id). A client that disconnects only stops its own reading: the run goes on.
"""

from __future__ import annotations

import logging
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from netra.errors import NetraError
from netra.persistence.models import Run
from netra.server.errors import INTERNAL_MESSAGE
from netra.server.resources import AppResources
from netra.server.runs import FINISHED, StreamEntry, finale, quietly
from netra.server.sse import wire
from netra.tenancy import Owner

TICK_S = 1.0  # how often an idle stream looks at the run's record
ALWAYS = ("error", "end")
LOG = logging.getLogger("netra.server.sse")


async def run_of(resources: AppResources, owner: Owner, run_id: str) -> Run | None:
    """Return the owner's run record (None: missing, another user's or workspace's, or deleted with its thread)."""
    async with resources.uow(owner.workspace_id) as uow:
        return await uow.runs.get(owner.user_id, run_id)


async def run_over(resources: AppResources, owner: Owner, run_id: str) -> bool:
    """Return whether the run has ended in the records (or is gone)."""
    run = await run_of(resources, owner, run_id)
    return run is None or run.status in FINISHED


def failure_frame(exc: Exception) -> bytes:
    """Return the `error` event of a stream that failed (the cause's message only for Netra's own errors)."""
    LOG.warning("SSE stream failed: %s: %s", type(exc).__name__, exc)
    message = str(exc) if isinstance(exc, NetraError) else INTERNAL_MESSAGE
    return wire.frame("error", {"error": type(exc).__name__, "message": message})


def encoded(entry: StreamEntry | None) -> bytes:
    """Return a logged stream entry as its SSE event (id: its seq), or a heartbeat for None."""
    if entry is None:
        return wire.HEARTBEAT
    return wire.frame_json(entry["event"], entry["data"], entry["metadata"]["seq"])


@dataclass
class Listener:
    """Reads one run's stream log for one client: the entries of the modes it asked for, after the id it saw."""

    resources: AppResources
    owner: Owner
    run_id: str
    modes: frozenset[str]
    after: int | None = None  # the Last-Event-ID; None: from the start, metadata first
    cursor: int = 0
    sent_at: float = field(default_factory=time.monotonic)  # when the client was last sent something
    done: bool = False

    def __post_init__(self) -> None:
        self.cursor = self.after or 0

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield the SSE body: metadata (unless resumed), the wanted entries, heartbeats, the end."""
        if self.after is None:
            yield wire.frame("metadata", {"run_id": self.run_id, "attempt": 1}, 0)
        try:
            async for entry in self.entries():
                yield encoded(entry)
        except Exception as exc:  # the log failed (e.g. Redis): say so on the stream, as the Agent Server does
            yield failure_frame(exc)

    async def entries(self) -> AsyncIterator[StreamEntry | None]:
        """Yield the wanted stream entries after `after` (None: time for a heartbeat), through the run's end."""
        follow = self.resources.streams.follow(self.run_id, self.cursor, heartbeat_s=TICK_S)
        async with aclosing(follow) as items:
            async for item in items:
                for out in await self._step(item):
                    yield out
                if self.done:
                    return

    async def _step(self, item: StreamEntry | None) -> list[StreamEntry | None]:
        """Return what one followed entry (None: an idle tick) sends."""
        if item is not None:
            return self._logged(item)
        if await run_over(self.resources, self.owner, self.run_id):
            return await self._finale()
        return self._beat()

    def _logged(self, entry: StreamEntry) -> list[StreamEntry | None]:
        self.cursor = entry["metadata"]["seq"]
        if entry.get("mode", entry["event"]) in self.modes or entry["event"] in ALWAYS:
            self.sent_at = time.monotonic()
            return [entry]
        return self._beat()  # entries of other modes only: the client still hears from us

    def _beat(self) -> list[StreamEntry | None]:
        """Return a heartbeat (None) when the client was sent nothing for `sse_heartbeat_s`, else nothing."""
        if time.monotonic() - self.sent_at < self.resources.settings.sse_heartbeat_s:
            return []
        self.sent_at = time.monotonic()
        return [None]

    async def _finale(self) -> list[StreamEntry | None]:
        """Return the `error`/`end` of a run that ended without them in its log (from its record)."""
        self.done = True
        run = await run_of(self.resources, self.owner, self.run_id)
        status, error = (run.status, run.error) if run is not None else ("error", "the run was deleted")
        await quietly(self.resources.streams.close(self.run_id, self.resources.settings.run_event_ttl_s))
        return [{**entry, "metadata": {"seq": self.cursor + n}}
                for n, entry in enumerate(finale(self.run_id, status, error), 1)]


async def joined(resources: AppResources, owner: Owner, run_id: str,
                 result: Callable[[], Awaitable[Any]]) -> AsyncIterator[bytes]:
    """Yield a newline per idle tick until the run has ended, then `await result()` as JSON."""
    async for beat in _until_over(resources, owner, run_id):
        yield beat
    yield wire.dumps(await result()).encode()


async def _until_over(resources: AppResources, owner: Owner, run_id: str) -> AsyncIterator[bytes]:
    """Yield a newline per idle tick until the run's terminal client event is logged or its record has ended."""
    events = resources.events
    async with aclosing(events.follow(run_id, await events.last_seq(run_id), heartbeat_s=TICK_S)) as items:
        async for item in items:
            if item is None and await run_over(resources, owner, run_id):
                return
            if item is None:
                yield b"\n"  # JSON readers skip leading whitespace; the connection stays alive
