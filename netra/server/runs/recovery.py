"""Run leases, and recovery of the runs no live process owns (on start-up, and then now and again).

    leases = open_leases(settings)      # Redis when NETRA_REDIS_URL is set, in-process otherwise
    manager = RunManager(pools, log, leases=leases)
    await recover(pools, manager)   # NETRA_RUNS_ON_RESTART: "resume" (default) or "interrupt"
    manager.spawn(keep_recovering(pools, manager))

A lease says which process runs a run (`netra.server.runs.leases`): the manager takes it
when it takes the run, refreshes it every 5 s while the run is queued or running
(`RunManager.keep_leases`, which also cancels the runs other processes flagged), and drops
it when the run ends or the app shuts down. This module imports the manager; the manager
knows nothing of recovery.

`recover` looks at every run `pending` or `running` in the records (all users, oldest
first) whose lease nobody holds:
- `resume`: the manager takes it under its owner's id. A `running` run whose thread has a
  checkpoint written since the run was created continues from that checkpoint
  (`resume=True`: agents that finished do not run again); a `pending` run, or one that had
  not checkpointed yet, starts afresh. Its event log continues from its last seq (in Redis
  the earlier events are still there; in memory mode a restart lost them).
  A run on a thread still waiting for approval is interrupted as below (its decision cannot
  be replayed from the record; the thread stays paused).
- `interrupt`: the run and its unfinished agent runs are marked `interrupted`, and its log
  ends with a terminal `error` event of code `interrupted`.
A process that crashed holds its leases until they expire, so `keep_recovering` repeats the
pass every 15 s. Only runs started through a `RunManager` hold leases: a run executed any
other way (e.g. awaited inside a request) looks orphaned to `recover`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from netra.errors import ConfigError
from netra.graph.runner import run_config
from netra.persistence.models import Run
from netra.server.runs import events
from netra.server.runs.approvals import paused
from netra.server.runs.events import RunIds
from netra.server.runs.handles import quietly
from netra.server.runs.leases import LEASE_TTL_S
from netra.server.runs.manager import RunManager
from netra.server.runs.pools import Pools
from netra.server.runs.records import owner_of
from netra.server.runs.status import RunStatus

INTERRUPTED_MESSAGE = "the server restarted while the run was in progress"


def _aware(moment: datetime) -> datetime:
    """Return `moment` as UTC-aware (SQLite may hand back naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _latest_checkpoint_at(pools: Pools, thread_id: str) -> datetime | None:
    """Return when the thread's latest checkpoint was written, or None (blocking: run in a thread)."""
    saved = pools.checkpointer().get_tuple(run_config(thread_id))
    return datetime.fromisoformat(saved.checkpoint["ts"]) if saved is not None else None


async def checkpointed_since(pools: Pools, thread_id: str, since: datetime) -> bool:
    """Return whether the thread has a checkpoint written at or after `since`."""
    written = await asyncio.to_thread(_latest_checkpoint_at, pools, thread_id)
    return written is not None and _aware(written) >= _aware(since)


async def _resume(pools: Pools, manager: RunManager, run: Run) -> bool:
    """Let the manager take the run: from its checkpoint when it was running and checkpointed.

    A run on a thread still waiting for approval is interrupted instead: a decision's run keeps
    its decision's text only, so the thread stays paused for the decision to be sent again.
    """
    if await paused(pools, run.thread_id) is not None:
        return await _interrupt(pools, manager, run)
    running = run.status == RunStatus.RUNNING.value
    resume = running and await checkpointed_since(pools, run.thread_id, run.created_at)
    return await manager.adopt(run, resume=resume) is not None


async def _interrupt(pools: Pools, manager: RunManager, run: Run) -> bool:
    """Take the run, mark it (and its unfinished agent runs) `interrupted`, end its log with a terminal error."""
    if not await manager.lease_store.claim(run.id, manager.owner):
        return False
    interrupted, ids = RunStatus.INTERRUPTED.value, RunIds(run.thread_id, run.id)
    await manager.records.close_agents(owner_of(run), run.id, interrupted, INTERRUPTED_MESSAGE)
    await manager.records.mark(owner_of(run), run.id, interrupted, INTERRUPTED_MESSAGE)
    await manager.end_log(run.id, events.run_error(ids, "interrupted", INTERRUPTED_MESSAGE))
    return True


POLICIES = {"resume": _resume, "interrupt": _interrupt}


async def recover(pools: Pools, manager: RunManager, policy: str | None = None) -> list[str]:
    """Resume (or interrupt, by `policy`, default NETRA_RUNS_ON_RESTART) the unfinished runs nobody holds.

    Returns the ids of the runs taken care of. Raises ConfigError for an unknown policy.
    """
    act = POLICIES.get(policy or pools.settings.runs_on_restart)
    if act is None:
        raise ConfigError(f"NETRA_RUNS_ON_RESTART {policy!r}: expected one of {sorted(POLICIES)}")
    candidates = await manager.records.unfinished_runs()
    held = await manager.lease_store.held(run.id for run in candidates)
    return [run.id for run in candidates if run.id not in held and await act(pools, manager, run)]


async def keep_recovering(pools: Pools, manager: RunManager, policy: str | None = None,
                          every_s: float = LEASE_TTL_S) -> None:
    """Run `recover` every `every_s` seconds, forever (spawn it on the manager); failures are logged."""
    while True:
        await asyncio.sleep(every_s)
        await quietly(recover(pools, manager, policy))
