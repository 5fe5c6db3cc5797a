"""The run event log: every client event of a run, numbered 1, 2, 3… and replayable.

    log = open_event_log(settings)                  # Redis when NETRA_REDIS_URL is set, else in-process
    event = await log.append(run_id, event)         # -> the event with metadata.seq set
    await log.append(run_id, last, final=True)      # the run's terminal event: metadata.final = True
    await log.read(run_id, after_seq=3)             # events 4, 5, ... (already logged)
    async for event in log.follow(run_id, after_seq=3, heartbeat_s=15):
        ...                                         # logged ones, then live ones; None = heartbeat
    await log.close(run_id, ttl_s=3600)             # the log expires an hour after the run ended

`metadata.seq` is contiguous per run and assigned atomically, so a client that saw event
`n` resumes with `after_seq=n` and misses nothing. `follow` ends after yielding the final
event (at once when the run already ended at or before `after_seq`).

`RedisEventLog` keeps one Redis Stream per run, `run:{run_id}:events`, whose entry ids are
`{seq}-0` (the counter `run:{run_id}:seq` is incremented and the entry added in one Lua
script, so two appends never swap order); every server process sees the same log.
Followers block on their own connections (one each while waiting), apart from the pool of
appends and reads. `MemoryEventLog` keeps the logs of this process only (a restart forgets them); it drops a
closed log once its ttl passed and keeps at most `max_runs` logs (oldest ended first).
A second log of other records takes another `namespace` (`stream`: `run:{run_id}:stream`, `run:{run_id}:stream:seq`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Protocol

from netra.config import Settings
from netra.errors import ConfigError, ServiceError

Event = dict[str, Any]
IDLE_S = 5.0  # how long one wait lasts when the follower wants no heartbeats
BATCH = 500
ENDINGS = ("agent_completed", "interrupted")  # client event types that always end their run (besides `error`)
EVENTS = "events"  # the client-event namespace: run:{run_id}:events, run:{run_id}:seq
COMMANDS_MAX = 32  # Redis connections for appends and reads (callers wait for a free one)
FOLLOWERS_MAX = 10_000  # each follower holds one connection while its XREAD BLOCK waits
APPEND_LUA = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], seq .. '-0', 'event', ARGV[1])
return seq
"""
_CREDENTIALS = re.compile(r"//[^/@\s]*@")
LOG = logging.getLogger("netra.runs")


class EventLog(Protocol):
    """What both logs offer (every method is async; `follow` is an async generator)."""

    async def append(self, run_id: str, event: Event, final: bool = False) -> Event:
        """Log `event` as the run's next one; return it with `metadata.seq` (and `final`)."""

    async def read(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Return the logged events with a seq above `after_seq`, oldest first."""

    def follow(self, run_id: str, after_seq: int = 0,
               heartbeat_s: float | None = None) -> AsyncIterator[Event | None]:
        """Yield events after `after_seq`, then new ones as they come, until the final one."""

    async def close(self, run_id: str, ttl_s: int) -> None:
        """Let the run's log expire `ttl_s` seconds from now."""

    async def last_seq(self, run_id: str) -> int:
        """Return the seq of the run's last event (0 when none)."""

    async def is_finished(self, run_id: str) -> bool:
        """Return whether the run's final event is logged."""

    async def aclose(self) -> None:
        """Release the log's connections (on app shutdown)."""


def stamped(event: Event, seq: int, final: bool) -> Event:
    """Return a copy of `event` whose metadata carries `seq` (and `final` when true)."""
    metadata = {**event.get("metadata", {}), "seq": seq, **({"final": True} if final else {})}
    return {**event, "metadata": metadata}


def is_final(event: Event) -> bool:
    """Return whether `event` was logged as its run's final one."""
    return bool(event.get("metadata", {}).get("final"))


def is_terminal(event: Event) -> bool:
    """Return whether a client event ends its run: `agent_completed`, `interrupted`, or an `error` not marked non-terminal."""
    return event["type"] in ENDINGS or (event["type"] == "error" and event["data"].get("terminal", True))


def as_terminal(event: Event) -> Event:
    """Return the terminal event to log: an `error` gets `data.terminal = true` (others unchanged)."""
    return {**event, "data": {**event["data"], "terminal": True}} if event["type"] == "error" else event


def _through_final(batch: list[Event]) -> list[Event]:
    """Return `batch` up to and including its first final event."""
    ends = [i for i, event in enumerate(batch) if is_final(event)]
    return batch[:ends[0] + 1] if ends else batch


def _cursor_after(batch: list[Event], cursor: int) -> int:
    """Return the seq to follow on from after `batch`; -1 once the final event passed."""
    if any(is_final(event) for event in batch):
        return -1
    return batch[-1]["metadata"]["seq"] if batch else cursor


class _Following:
    """`follow` over a log's `_wait(run_id, after_seq, timeout_s) -> new events ([] on timeout)`."""

    async def _wait(self, run_id: str, after_seq: int, timeout_s: float) -> list[Event]:
        raise NotImplementedError

    async def _ended(self, run_id: str, after_seq: int) -> bool:
        """Return whether the run's final event is at or before `after_seq`."""
        return await self.is_finished(run_id) and await self.last_seq(run_id) <= after_seq  # type: ignore

    async def follow(self, run_id: str, after_seq: int = 0,
                     heartbeat_s: float | None = None) -> AsyncIterator[Event | None]:
        """Yield events after `after_seq`, then live ones, until the final one; None per heartbeat."""
        cursor = -1 if await self._ended(run_id, after_seq) else after_seq
        while cursor >= 0:
            batch = _through_final(await self._wait(run_id, cursor, heartbeat_s or IDLE_S))
            for event in batch if batch or not heartbeat_s else [None]:
                yield event
            cursor = _cursor_after(batch, cursor)


@dataclass
class _Log:
    """One run's events in memory, and when it ended and expires (monotonic seconds)."""

    events: list[Event] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    finished: bool = False
    ended_at: float | None = None
    expires_at: float | None = None

    def add(self, event: Event, final: bool) -> Event:
        """Append `event` with the next seq (no await: atomic in the event loop); return it."""
        logged = stamped(event, len(self.events) + 1, final)
        self.events.append(logged)
        if final:
            self.finished, self.ended_at = True, self.ended_at or time.monotonic()
        return logged


class MemoryEventLog(_Following):
    """The logs of this process: a list per run, followers woken by a condition."""

    def __init__(self, max_runs: int = 1000) -> None:
        self.logs: dict[str, _Log] = {}
        self.max_runs = max_runs

    def _log(self, run_id: str, keep: bool = True) -> _Log:
        """Return the run's log (after dropping expired ones); a missing one is empty, and kept when `keep`."""
        self._prune({run_id} if keep else set())
        return self.logs.setdefault(run_id, _Log()) if keep else self.logs.get(run_id, _Log())

    def _prune(self, needed: set[str]) -> None:
        """Drop expired logs, then the oldest ended ones beyond `max_runs` (counting the `needed` ones)."""
        now = time.monotonic()
        for run_id in [k for k, log in self.logs.items() if log.expires_at is not None and log.expires_at <= now]:
            del self.logs[run_id]
        ended = sorted((log.ended_at, k) for k, log in self.logs.items() if log.ended_at is not None)
        for _, run_id in ended[:max(0, len(self.logs.keys() | needed) - self.max_runs)]:
            del self.logs[run_id]

    async def append(self, run_id: str, event: Event, final: bool = False) -> Event:
        """Log `event` with the next seq; wake the run's followers."""
        log = self._log(run_id)
        logged = log.add(event, final)
        async with log.changed:
            log.changed.notify_all()
        return logged

    async def read(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Return the logged events after `after_seq` (at most `limit`)."""
        events = self._log(run_id, keep=False).events
        return events[max(0, after_seq):None if limit is None else max(0, after_seq) + limit]

    async def _wait(self, run_id: str, after_seq: int, timeout_s: float) -> list[Event]:
        """Wait up to `timeout_s` for events after `after_seq`; return them ([] on timeout)."""
        log = self._log(run_id)
        async with log.changed:
            try:
                await asyncio.wait_for(log.changed.wait_for(lambda: len(log.events) > after_seq), timeout_s)
            except TimeoutError:
                return []
        return log.events[after_seq:]

    async def close(self, run_id: str, ttl_s: int) -> None:
        """Let the log expire `ttl_s` seconds from now."""
        log, now = self._log(run_id), time.monotonic()
        log.ended_at, log.expires_at = log.ended_at or now, now + ttl_s

    async def last_seq(self, run_id: str) -> int:
        """Return the number of logged events."""
        return len(self._log(run_id, keep=False).events)

    async def is_finished(self, run_id: str) -> bool:
        """Return whether the final event is logged."""
        return self._log(run_id, keep=False).finished

    async def aclose(self) -> None:
        """Nothing to release."""


def _keys(run_id: str, namespace: str = EVENTS) -> tuple[str, str]:
    """Return the Redis keys of a run's stream and seq counter (`events`: run:{id}:events, run:{id}:seq)."""
    return f"run:{run_id}:{namespace}", f"run:{run_id}:{'' if namespace == EVENTS else namespace + ':'}seq"


def _decoded(entry_id: str, fields: dict[str, str]) -> Event:
    """Return the event of a stream entry, its seq taken from the entry id `{seq}-0`."""
    event = json.loads(fields["event"])
    return stamped(event, int(entry_id.split("-", 1)[0]), is_final(event))


def redis_failure(exc: Exception, what: str = "run event log") -> ServiceError:
    """Return the ServiceError of a Redis failure, naming its type only; its text (the host) is logged, masked."""
    LOG.warning("%s: Redis failed: %s", what, _CREDENTIALS.sub("//***@", str(exc)))
    return ServiceError(f"{what}: Redis failed ({type(exc).__name__})")


async def redis_call(pending: Awaitable[Any], what: str = "run event log") -> Any:
    """Await a Redis call; raise ServiceError (naming `what`) when Redis fails."""
    from redis.exceptions import RedisError

    try:
        return await pending
    except (RedisError, OSError) as exc:
        raise redis_failure(exc, what) from None


class RedisEventLog(_Following):
    """The logs in Redis Streams, shared by every server process on the same Redis."""

    def __init__(self, url: str, namespace: str = EVENTS) -> None:
        import redis.asyncio as aioredis

        options = {"decode_responses": True, "socket_connect_timeout": 2.0}
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=COMMANDS_MAX, timeout=10, **options)
        self.client = aioredis.Redis.from_pool(pool)  # appends queue for a connection rather than fail
        self.blocking = aioredis.Redis.from_url(url, max_connections=FOLLOWERS_MAX, socket_timeout=None, **options)
        self.script = self.client.register_script(APPEND_LUA)
        self.namespace = namespace  # key namespace: `events` (client events) or another log's

    async def append(self, run_id: str, event: Event, final: bool = False) -> Event:
        """Add `event` to the run's stream under the next seq (one atomic script)."""
        body = json.dumps(stamped(event, 0, final), default=str)  # the seq read back is the entry id's
        seq = await redis_call(self.script(keys=list(_keys(run_id, self.namespace)), args=[body]))
        return stamped(event, int(seq), final)

    async def read(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Return the logged events after `after_seq` (XRANGE from `{after_seq + 1}-0`)."""
        start = f"{max(0, after_seq) + 1}-0"
        entries = await redis_call(self.client.xrange(_keys(run_id, self.namespace)[0], start, "+", count=limit))
        return [_decoded(entry_id, fields) for entry_id, fields in entries]

    async def _wait(self, run_id: str, after_seq: int, timeout_s: float) -> list[Event]:
        """XREAD BLOCK for entries after `{after_seq}-0`; [] when none came within `timeout_s`."""
        block = max(1, int(timeout_s * 1000))
        stream = _keys(run_id, self.namespace)[0]
        found = await redis_call(self.blocking.xread({stream: f"{after_seq}-0"}, count=BATCH, block=block))
        return [_decoded(entry_id, fields) for _, entries in found or [] for entry_id, fields in entries]

    async def close(self, run_id: str, ttl_s: int) -> None:
        """EXPIRE the run's stream and counter in `ttl_s` seconds."""
        async with self.client.pipeline(transaction=True) as pipe:
            for key in _keys(run_id, self.namespace):
                pipe.expire(key, ttl_s)
            await redis_call(pipe.execute())

    async def last_seq(self, run_id: str) -> int:
        """Return the run's counter (0 when the log is empty or expired)."""
        return int(await redis_call(self.client.get(_keys(run_id, self.namespace)[1])) or 0)

    async def is_finished(self, run_id: str) -> bool:
        """Return whether the stream's last entry is the final event."""
        last = await redis_call(self.client.xrevrange(_keys(run_id, self.namespace)[0], "+", "-", count=1))
        return bool(last) and is_final(_decoded(*last[0]))

    async def aclose(self) -> None:
        """Close the clients' connections."""
        await asyncio.gather(self.client.aclose(), self.blocking.aclose())


def open_event_log(settings: Settings, namespace: str = EVENTS, max_runs: int = 1000) -> EventLog:
    """Return the Redis log (keys of `namespace`) when NETRA_REDIS_URL is set, else the in-process log."""
    url = settings.redis_url
    if url and url.split("://", 1)[0] not in ("redis", "rediss"):
        raise ConfigError(f"NETRA_REDIS_URL scheme {url.split('://', 1)[0]!r}: expected redis:// or rediss://")
    return RedisEventLog(url, namespace) if url else MemoryEventLog(max_runs)
