"""Run leases: which process runs a run, and cancels asked for on another process.

    leases = open_leases(settings)      # Redis when NETRA_REDIS_URL is set, in-process otherwise
    await leases.claim(run_id, owner)   # True: `owner` (host:pid:random) now runs it
    await leases.refresh(run_ids, owner); await leases.release(run_ids, owner)
    await leases.flag_cancel(run_id); await leases.flagged(run_ids)

The manager writes `run:{run_id}:lease` = its owner id with a ttl of 15 s when it takes the
run, refreshes it every 5 s while the run is queued or running, and deletes it when the run
ends or the app shuts down. Taking a lease is atomic (`SET NX`), so two processes never both
take a run. In memory mode the leases live in the process: after a restart every unfinished
run in the records is orphaned. A cancel asked for on another process is a flag
`run:{run_id}:cancel` (one hour) the owner reads when it refreshes its leases (so it lands
within 5 s). Recovery of the runs nobody holds: `netra.server.runs.recovery`.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Protocol

from netra.config import Settings
from netra.server.runs.log import redis_call

LEASE_TTL_S = 15
CANCEL_FLAG_TTL_S = 3600
REFRESH_LUA = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if (not holder) or holder == ARGV[1] then redis.call('SET', key, ARGV[1], 'EX', ARGV[2]) end
end
return #KEYS
"""
RELEASE_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return #KEYS
"""


class Leases(Protocol):
    """What both lease stores offer (every method is async)."""

    async def claim(self, run_id: str, owner: str) -> bool:
        """Take the run's lease unless someone holds it; return whether `owner` got it."""

    async def refresh(self, run_ids: Iterable[str], owner: str) -> None:
        """Extend `owner`'s leases of `run_ids`."""

    async def release(self, run_ids: Iterable[str], owner: str) -> None:
        """Drop `owner`'s leases of `run_ids`."""

    async def held(self, run_ids: Iterable[str]) -> set[str]:
        """Return which of `run_ids` someone holds."""

    async def flag_cancel(self, run_id: str) -> None:
        """Ask the run's holder to cancel it."""

    async def flagged(self, run_ids: Iterable[str]) -> set[str]:
        """Return which of `run_ids` are flagged for cancelling."""

    async def aclose(self) -> None:
        """Release the store's connections."""


class MemoryLeases:
    """The leases of this process (lost with it) and its cancel flags."""

    def __init__(self, ttl_s: int = LEASE_TTL_S) -> None:
        self.ttl_s = ttl_s
        self.holders: dict[str, tuple[str, float]] = {}  # run id -> (owner, monotonic expiry)
        self.flags: set[str] = set()

    def _holder(self, run_id: str) -> str:
        """Return who holds the run's live lease ("" for nobody)."""
        holder, until = self.holders.get(run_id, ("", 0.0))
        return holder if until > time.monotonic() else ""

    async def claim(self, run_id: str, owner: str) -> bool:
        """Take the run's lease unless someone holds it; return whether `owner` got it."""
        if self._holder(run_id):
            return False
        self.holders[run_id] = (owner, time.monotonic() + self.ttl_s)
        return True

    async def refresh(self, run_ids: Iterable[str], owner: str) -> None:
        """Extend `owner`'s leases of `run_ids` (and take back ones that expired unclaimed)."""
        for run_id in run_ids:
            if self._holder(run_id) in ("", owner):
                self.holders[run_id] = (owner, time.monotonic() + self.ttl_s)

    async def release(self, run_ids: Iterable[str], owner: str) -> None:
        """Drop `owner`'s leases of `run_ids` and their cancel flags."""
        for run_id in run_ids:
            self.flags.discard(run_id)
            if self._holder(run_id) == owner:
                del self.holders[run_id]

    async def held(self, run_ids: Iterable[str]) -> set[str]:
        """Return those of `run_ids` whose lease someone holds."""
        return {run_id for run_id in run_ids if self._holder(run_id)}

    async def flag_cancel(self, run_id: str) -> None:
        """Ask the run's owner to cancel it."""
        self.flags.add(run_id)

    async def flagged(self, run_ids: Iterable[str]) -> set[str]:
        """Return those of `run_ids` whose cancel was asked for."""
        return set(run_ids) & self.flags

    async def aclose(self) -> None:
        """Nothing to release."""


def _lease(run_id: str) -> str:
    return f"run:{run_id}:lease"


def _flag(run_id: str) -> str:
    return f"run:{run_id}:cancel"


class RedisLeases:
    """Leases and cancel flags in Redis, seen by every server process; failures raise ServiceError."""

    def __init__(self, url: str, ttl_s: int = LEASE_TTL_S) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2.0)
        self.ttl_s = ttl_s
        self.renew, self.drop = self.client.register_script(REFRESH_LUA), self.client.register_script(RELEASE_LUA)

    async def claim(self, run_id: str, owner: str) -> bool:
        """SET NX the run's lease; return whether `owner` got it."""
        return bool(await redis_call(self.client.set(_lease(run_id), owner, nx=True, ex=self.ttl_s), "run leases"))

    async def refresh(self, run_ids: Iterable[str], owner: str) -> None:
        """Extend `owner`'s leases of `run_ids` (one script; others' leases are left alone)."""
        keys = [_lease(run_id) for run_id in run_ids]
        if keys:
            await redis_call(self.renew(keys=keys, args=[owner, self.ttl_s]), "run leases")

    async def release(self, run_ids: Iterable[str], owner: str) -> None:
        """Delete `owner`'s leases of `run_ids` (others' are left alone)."""
        keys = [_lease(run_id) for run_id in run_ids]
        if keys:
            await redis_call(self.drop(keys=keys, args=[owner]), "run leases")

    async def held(self, run_ids: Iterable[str]) -> set[str]:
        """Return those of `run_ids` whose lease someone holds."""
        return await self._present(run_ids, _lease)

    async def flag_cancel(self, run_id: str) -> None:
        """Ask the run's owner, whichever process it is, to cancel it."""
        await redis_call(self.client.set(_flag(run_id), "1", ex=CANCEL_FLAG_TTL_S), "run leases")

    async def flagged(self, run_ids: Iterable[str]) -> set[str]:
        """Return those of `run_ids` whose cancel was asked for."""
        return await self._present(run_ids, _flag)

    async def _present(self, run_ids: Iterable[str], key_of: Any) -> set[str]:
        ids = list(run_ids)
        values = await redis_call(self.client.mget([key_of(i) for i in ids]), "run leases") if ids else []
        return {run_id for run_id, value in zip(ids, values) if value is not None}

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()


def open_leases(settings: Settings) -> Leases:
    """Return the Redis leases when NETRA_REDIS_URL is set, the in-process ones otherwise."""
    return RedisLeases(settings.redis_url) if settings.redis_url else MemoryLeases()
