"""Run leases, and recovery of the runs no live process owns (on start-up, and then now and again).

    leases = open_leases(settings)      # Redis when NETRA_REDIS_URL is set, in-process otherwise
    manager = RunManager(resources, log, leases=leases)
    await recover(resources, manager)   # NETRA_RUNS_ON_RESTART: "resume" (default) or "interrupt"
    manager.spawn(keep_recovering(resources, manager))

A lease says which process runs a run: the manager writes `run:{run_id}:lease` = its owner id
(host:pid:random) with a ttl of 15 s when it takes the run, refreshes it every 5 s while the
run is queued or running, and deletes it when the run ends or the app shuts down. Taking a
lease is atomic (`SET NX`), so two processes never both take a run. In memory mode the
leases live in the process: after a restart every unfinished run in the records is orphaned.
A cancel asked for on another process is a flag `run:{run_id}:cancel` the owner reads when
it refreshes its leases (so it lands within 5 s).

`recover` looks at every run `pending` or `running` in the records (all users, oldest
first) whose lease nobody holds:
- `resume`: the manager takes it under its owner's id. A `running` run whose thread has a
  checkpoint written since the run was created continues from that checkpoint
  (`resume=True`: agents that finished do not run again); a `pending` run, or one that had
  not checkpointed yet, starts afresh. Its event log continues from its last seq (in Redis
  the earlier events are still there; in memory mode a restart lost them).
- `interrupt`: the run and its unfinished agent runs are marked `interrupted`, and its log
  ends with a terminal `error` event of code `interrupted`.
A process that crashed holds its leases until they expire, so `keep_recovering` repeats the
pass every 15 s. Only runs started through a `RunManager` hold leases: a run executed any
other way (e.g. awaited inside a request) looks orphaned to `recover`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Iterable

from netra.config import Settings
from netra.errors import ConfigError
from netra.graph.runner import run_config
from netra.persistence.models import Run, RunStatus
from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.server.runs import events, records
from netra.server.runs.events import RunIds
from netra.server.runs.log import redis_call
from netra.tenancy import Owner

if TYPE_CHECKING:
    from netra.server.runs.manager import RunManager

LOG = logging.getLogger("netra.runs")
LEASE_TTL_S = 15
CANCEL_FLAG_TTL_S = 3600
UNFINISHED = (RunStatus.RUNNING.value, RunStatus.PENDING.value)
INTERRUPTED_MESSAGE = "the server restarted while the run was in progress"
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


def open_leases(settings: Settings) -> MemoryLeases | RedisLeases:
    """Return the Redis leases when NETRA_REDIS_URL is set, the in-process ones otherwise."""
    return RedisLeases(settings.redis_url) if settings.redis_url else MemoryLeases()


async def quietly(step: Awaitable[Any]) -> Any:
    """Await `step`; log a failure instead of raising (Redis or the records may be down: retried later)."""
    try:
        return await step
    except Exception as exc:  # a background step must not kill its loop or the manager
        LOG.warning("runs: %s: %s", type(exc).__name__, exc)
        return None


def _older(newest_first: list[Run], before: str | None) -> list[Run]:
    """Return the runs listed after run `before` (all of them when None; none when it is not listed)."""
    ids = [run.id for run in newest_first]
    return newest_first if before is None else newest_first[ids.index(before) + 1:] if before in ids else []


async def unfinished_of(resources: AppResources, owner: Owner, thread_id: str, before: str | None = None) -> list[str]:
    """Return the ids of the owner's thread's unfinished runs (only those older than run `before`, when given)."""
    async with UnitOfWork(resources.session_factory, workspace_id=owner.workspace_id) as uow:  # type: ignore[arg-type]
        newest_first = await uow.runs.for_thread(owner.user_id, thread_id, limit=MAX_LIMIT)
    return [run.id for run in _older(newest_first, before) if run.status in UNFINISHED]


async def keep_leases(manager: RunManager, every_s: float) -> None:
    """Refresh the manager's leases every `every_s`, and cancel its runs flagged by other processes."""
    while True:
        await asyncio.sleep(every_s)
        await quietly(_renew(manager))


async def _renew(manager: RunManager) -> None:
    live = manager.unfinished()
    await manager.leases.refresh(live, manager.owner)
    for run_id in await manager.leases.flagged(live) if live else ():
        manager.cancel_here(run_id)


async def flag_cancel(resources: AppResources, leases: Any, owner: Owner, run_id: str) -> bool:
    """Flag the owner's unfinished run for the process running it to cancel; False when there is none."""
    async with UnitOfWork(resources.session_factory, workspace_id=owner.workspace_id) as uow:  # type: ignore[arg-type]
        record = await uow.runs.get(owner.user_id, run_id)
    if record is None or record.status not in UNFINISHED:
        return False
    await leases.flag_cancel(run_id)
    return True


async def unfinished_runs(resources: AppResources) -> list[Run]:
    """Return every user's `running` and `pending` runs, oldest first (unscoped: for recovery only)."""
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        found = [run for status in UNFINISHED for run in await uow.runs.by_status(status, limit=MAX_LIMIT)]
    return sorted(found, key=lambda run: (run.created_at, run.id))


def _aware(moment: datetime) -> datetime:
    """Return `moment` as UTC-aware (SQLite may hand back naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _latest_checkpoint_at(resources: AppResources, thread_id: str) -> datetime | None:
    """Return when the thread's latest checkpoint was written, or None (blocking: run in a thread)."""
    saved = resources.checkpointer().get_tuple(run_config(thread_id))
    return datetime.fromisoformat(saved.checkpoint["ts"]) if saved is not None else None


async def checkpointed_since(resources: AppResources, thread_id: str, since: datetime) -> bool:
    """Return whether the thread has a checkpoint written at or after `since`."""
    written = await asyncio.to_thread(_latest_checkpoint_at, resources, thread_id)
    return written is not None and _aware(written) >= _aware(since)


async def _resume(resources: AppResources, manager: RunManager, run: Run) -> bool:
    """Let the manager take the run: from its checkpoint when it was running and checkpointed."""
    running = run.status == RunStatus.RUNNING.value
    resume = running and await checkpointed_since(resources, run.thread_id, run.created_at)
    return await manager.adopt(run, resume=resume) is not None


async def _interrupt(resources: AppResources, manager: RunManager, run: Run) -> bool:
    """Take the run, mark it (and its unfinished agent runs) `interrupted`, end its log with a terminal error."""
    if not await manager.leases.claim(run.id, manager.owner):
        return False
    interrupted, ids = RunStatus.INTERRUPTED.value, RunIds(run.thread_id, run.id)
    await records.close_agents(resources, records.owner_of(run), run.id, interrupted, INTERRUPTED_MESSAGE)
    await records.mark(resources, records.owner_of(run), run.id, interrupted, INTERRUPTED_MESSAGE)
    await manager.end_log(run.id, events.run_error(ids, "interrupted", INTERRUPTED_MESSAGE))
    return True


POLICIES = {"resume": _resume, "interrupt": _interrupt}


async def recover(resources: AppResources, manager: RunManager, policy: str | None = None) -> list[str]:
    """Resume (or interrupt, by `policy`, default NETRA_RUNS_ON_RESTART) the unfinished runs nobody holds.

    Returns the ids of the runs taken care of. Raises ConfigError for an unknown policy.
    """
    act = POLICIES.get(policy or resources.settings.runs_on_restart)
    if act is None:
        raise ConfigError(f"NETRA_RUNS_ON_RESTART {policy!r}: expected one of {sorted(POLICIES)}")
    candidates = await unfinished_runs(resources)
    held = await manager.leases.held(run.id for run in candidates)
    return [run.id for run in candidates if run.id not in held and await act(resources, manager, run)]


async def keep_recovering(resources: AppResources, manager: RunManager, policy: str | None = None,
                          every_s: float = LEASE_TTL_S) -> None:
    """Run `recover` every `every_s` seconds, forever (spawn it on the manager); failures are logged."""
    while True:
        await asyncio.sleep(every_s)
        await quietly(recover(resources, manager, policy))
