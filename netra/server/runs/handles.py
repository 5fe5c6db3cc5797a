"""The run manager's bookkeeping of its runs: what `start` answers, and one run it drives.

    handle = RunHandle(run_id, thread_id, "pending")                 # what `RunManager.start` answers
    run = ManagedRun(owner, run_id, thread_id, RunRequest(question))  # the executor's request, task, state
    final_event(RunIds(thread_id, run_id), result)                    # the terminal event a result calls for
    await quietly(leases.refresh(...))                                # a background step: logged, not raised

A managed run goes `queued` -> `running` -> `finished`; `final_logged` says its terminal event
is in the log (an executor logs its own; the manager adds one from the result otherwise).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Literal

from netra.persistence.models import Run
from netra.server.runs import events
from netra.server.runs.ask import RunResult
from netra.server.runs.events import ClientEvent, RunIds
from netra.server.runs.request import RunRequest
from netra.server.runs.status import ERROR_EVENT_CODES, RunStatus
from netra.tenancy import Owner

SHUTDOWN_GRACE_S = 10.0
LOG = logging.getLogger("netra.runs")
ManagedState = Literal["queued", "running", "finished"]


@dataclass
class RunHandle:
    """A started run: its ids and status (`pending` while it waits its turn)."""

    run_id: str
    thread_id: str
    status: str


@dataclass
class ManagedRun:
    """One run of a manager: its owner, ids and request, its task and where it stands."""

    user_id: Owner  # the owner (user, workspace)
    run_id: str
    thread_id: str
    request: RunRequest
    opened_thread: bool = False  # the run opened its thread, so no earlier run of it can exist
    cancel: threading.Event = field(default_factory=threading.Event)
    state: ManagedState = "queued"
    task: asyncio.Task | None = None
    final_logged: bool = False
    result: RunResult | None = None

    @classmethod
    def recovered(cls, record: Run, resume: bool) -> ManagedRun:
        """Return the run of a record recovery takes over (`resume`: from the thread's last checkpoint)."""
        request = RunRequest(record.question, record.strategy or None, resume=resume)
        return cls(Owner(record.user_id, record.workspace_id), record.id, record.thread_id, request)

    def executor_kwargs(self) -> dict[str, Any]:
        """Return the request as the executor's keyword arguments (besides `emit` and `cancel`)."""
        request = self.request
        return {"strategy": request.strategy, "resume": request.resume, "approval": request.approval,
                "decision": request.decision}


# a result's status -> the terminal client event it calls for (others: an `error` of ERROR_EVENT_CODES, `run_failed`)
FINAL_EVENTS = {
    RunStatus.SUCCESS.value: lambda ids, result: events.run_completed(ids, result.get("report") or {}),
    RunStatus.INTERRUPTED.value: lambda ids, result: events.run_interrupted(ids, result.get("interrupt") or {}),
}


def final_event(ids: RunIds, result: RunResult) -> ClientEvent:
    """Return the terminal event a run's result calls for (when the executor logged none)."""
    status = str(result.get("status"))
    made = FINAL_EVENTS.get(status)
    if made is not None:
        return made(ids, result)
    return events.run_error(ids, ERROR_EVENT_CODES.get(status, "run_failed"), str(result.get("error") or "the run failed"))


def began(task: asyncio.Task) -> bool:
    """Return whether the task's coroutine has started (one cancelled before would never run its handlers)."""
    return inspect.getcoroutinestate(task.get_coro()) != inspect.CORO_CREATED


async def stopped(tasks: list[asyncio.Task]) -> None:
    """Cancel `tasks` and wait (a while) for them to end."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)


async def quietly(step: Awaitable[Any]) -> Any:
    """Await `step`; log a failure instead of raising (Redis or the records may be down: retried later)."""
    try:
        return await step
    except Exception as exc:  # a background step must not kill its loop or the manager
        LOG.warning("runs: %s: %s", type(exc).__name__, exc)
        return None
