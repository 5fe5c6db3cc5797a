"""Run leases, and recovery of the runs no live process owns (on start-up, and then now and again).

    leases = open_leases(settings)      # Redis when NETRA_REDIS_URL is set, in-process otherwise
    manager = RunManager(resources, log, leases=leases)
    await recover(resources, manager)   # NETRA_RUNS_ON_RESTART: "resume" (default) or "interrupt"
    manager.spawn(keep_recovering(resources, manager))

A lease says which process runs a run (`netra.server.runs.leases`): the manager takes it
when it takes the run, refreshes it every 5 s while the run is queued or running
(`keep_leases`, which also cancels the runs other processes flagged), and drops it when the
run ends or the app shuts down.

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
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable

from netra.errors import ConfigError
from netra.graph.runner import run_config
from netra.persistence.models import Run, RunStatus
from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.server.runs import events, records
from netra.server.runs.approvals import paused
from netra.server.runs.events import RunIds
from netra.server.runs.leases import LEASE_TTL_S
from netra.tenancy import Owner

if TYPE_CHECKING:
    from netra.server.runs.manager import RunManager

LOG = logging.getLogger("netra.runs")
UNFINISHED = (RunStatus.RUNNING.value, RunStatus.PENDING.value)
INTERRUPTED_MESSAGE = "the server restarted while the run was in progress"


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
    """Let the manager take the run: from its checkpoint when it was running and checkpointed.

    A run on a thread still waiting for approval is interrupted instead: a decision's run keeps
    its decision's text only, so the thread stays paused for the decision to be sent again.
    """
    if await paused(resources, run.thread_id) is not None:
        return await _interrupt(resources, manager, run)
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
