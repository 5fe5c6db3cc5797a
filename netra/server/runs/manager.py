"""The background run manager: runs execute as tasks of the app, not of any connection.

    manager = RunManager(pools, log)                     # log: netra.server.runs.log.open_event_log
    handle = await manager.submit(owner, Ask(question="Cut spend by 30%?"), multitask="reject")
    async for event in log.follow(handle.run_id): ...    # any client, on any process (Redis)
    await manager.cancel(user_id, handle.run_id); await manager.wait(handle.run_id)

`start` records the run `pending` and returns at once; a task of the manager waits for the
run's turn (the thread's earlier unfinished runs, then one of `concurrency` slots, handed out
round robin between users by `slots.FairSlots`) and calls the executor (`service.execute_run`)
with an `emit` that appends each client event to the log, the terminal one as final.
`admission` refuses a question on a busy thread under `multitask="reject"` (ThreadBusyError,
409) and one past the user's queue cap (RunQueueFullError, 429). A run may ask for approval
(it pauses before the actions agent and ends `interrupted`), and a later run of its thread
continues it with the human's decision (`approvals.admitted` checks it first). `handles` holds
the manager's bookkeeping of its runs. It keeps its leases (`keep_leases`: refreshed every
`lease_refresh_s`, runs other processes flagged are cancelled) and flags a cancel for the
process running a run it does not hold. The lifecycle: docs/runs.md, "Background runs and
the event log" and "Human in the loop".
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Coroutine

from netra.persistence.models import Run
from netra.server.runs import approvals, service
from netra.server.runs.admission import MULTITASK, RunQueueFullError, ThreadBusyError, refuse_busy, refuse_full
from netra.server.runs.ask import CANCELLED_MESSAGE, Ask, RunResult, run_result
from netra.server.runs.events import ClientEvent, RunIds
from netra.server.runs.handles import ManagedRun, RunHandle, began, final_event, quietly, stopped
from netra.server.runs.leases import Leases, open_leases
from netra.server.runs.log import EventLog, as_terminal, is_terminal
from netra.server.runs.pools import Pools
from netra.server.runs.records import RunRecords
from netra.server.runs.request import RunRequest
from netra.server.runs.slots import FairSlots
from netra.server.runs.status import RunStatus
from netra.tenancy import Owner

__all__ = ["MULTITASK", "RunHandle", "RunManager", "RunQueueFullError", "ThreadBusyError", "final_event"]

LOG = logging.getLogger("netra.runs")
KEEP_FINISHED = 1000  # finished runs remembered for `wait`
Executor = Callable[..., Awaitable[RunResult]]  # `service.execute_run`'s signature


@dataclass
class RunManager:
    """Runs questions as background tasks, `concurrency` at a time, logging their events."""

    resources: Pools
    log: EventLog
    executor: Executor = service.execute_run
    concurrency: int | None = None
    leases: Leases | None = None  # default: leases.open_leases(settings)
    lease_refresh_s: float = 5.0
    busy_poll_s: float = 1.0
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    runs: dict[str, ManagedRun] = field(default_factory=dict, init=False)
    finished: int = field(default=0, init=False)
    tasks: set[asyncio.Task] = field(default_factory=set, init=False, repr=False)
    records: RunRecords = field(init=False, repr=False)  # the runs' rows, over the pools' units of work

    def __post_init__(self) -> None:
        settings = self.resources.settings
        self.executor = self.executor or service.execute_run
        self.records = RunRecords.of(self.resources)
        self.concurrency = max(1, self.concurrency or settings.run_concurrency)
        self.lease_store: Leases = self.leases or open_leases(settings)
        self.slots, self.opening = FairSlots(self.concurrency), asyncio.Lock()

    async def submit(self, owner: Owner, ask: Ask, multitask: str = "reject") -> RunHandle:
        """Record the run `ask` asks for `pending` and schedule it; return at once (as `start`)."""
        return await self.start(owner, ask.question, ask.thread_id, ask.strategy, multitask, ask.approval, ask.decision)

    async def start(self, user_id: Owner, question: str, thread_id: str | None = None, strategy: str | None = None,
                    multitask: str = "reject", approval: bool = False, decision: Any = None) -> RunHandle:
        """Record the run `pending` and schedule it; return at once.

        `user_id` is the owner (netra.tenancy.Owner). `approval` asks the graph to pause before
        the actions agent (the run then ends `interrupted`); `decision` (true, {"approve": [ids]}
        or {"drop": [ids]}) continues the thread's paused run instead of asking `question` (the
        run's question becomes the decision as the thread shows it; see `request.RunRequest`).

        Raises RunQueueFullError (the user has `run_queue_per_user` runs waiting), ThreadBusyError
        ("reject" and the thread has an unfinished run), NotFoundError (the thread is missing or
        another user's), UserInputError (`multitask` not "reject"/"enqueue"; a decision without a
        thread, of the wrong shape or naming ids the paused run did not offer: DecisionError),
        NotWaitingError (a decision for a thread that is not waiting for approval).
        """
        async with self.opening:
            request = await self._admit(user_id, thread_id, multitask, RunRequest(question, strategy, approval, decision))
            opened, run_id = await self.records.open_run(user_id, request.question, thread_id, strategy)
            claimed = await self.lease_store.claim(run_id, self.owner)
        run = ManagedRun(user_id, run_id, opened, request, opened_thread=thread_id is None)
        return self._schedule(run) if claimed else RunHandle(run_id, opened, "pending")  # another process took it

    async def adopt(self, record: Run, resume: bool = False) -> RunHandle | None:
        """Take over an unfinished run of the records (recovery); None when someone holds it."""
        async with self.opening:
            if not await self.lease_store.claim(record.id, self.owner):
                return None
        run = ManagedRun.recovered(record, resume)
        if await self.lease_store.flagged([record.id]):
            run.cancel.set()
        return self._schedule(run)

    async def _admit(self, user_id: Owner, thread_id: str | None, multitask: str, request: RunRequest) -> RunRequest:
        """Refuse a run past the user's queue cap, on a busy thread under "reject" (`admission`), or with a bad decision.

        Returns the request (a decision's with its question set: `approvals.admitted`).
        """
        refuse_full(self.waiting(user_id), self.resources.settings.run_queue_per_user)
        await refuse_busy(self.records, user_id, thread_id, multitask)
        return await approvals.admitted(self.resources, user_id, thread_id, request)

    def _schedule(self, run: ManagedRun) -> RunHandle:
        """Register the run and start its task (after the thread's last unfinished run here)."""
        after = self._last_of(run.thread_id)
        self.runs[run.run_id] = run
        run.task = asyncio.create_task(self._drive(run, after), name=f"run:{run.run_id}")
        if not any(task.get_name() == "run-leases" for task in self.tasks):
            self.spawn(self.keep_leases(), "run-leases")
        return RunHandle(run.run_id, run.thread_id, RunStatus.PENDING.value)

    def _last_of(self, thread_id: str) -> ManagedRun | None:
        """Return this manager's latest unfinished run of the thread."""
        live = [run for run in self.runs.values() if run.thread_id == thread_id and run.state != "finished"]
        return live[-1] if live else None

    def unfinished(self) -> list[str]:
        """Return the ids of this manager's queued and running runs."""
        return [run.run_id for run in self.runs.values() if run.state != "finished"]

    def waiting(self, user_id: str) -> int:
        """Return how many of the user's runs wait here (for a slot, or for their thread's earlier runs)."""
        return sum(1 for run in self.runs.values() if run.user_id == user_id and run.state == "queued")

    async def _drive(self, run: ManagedRun, after: ManagedRun | None) -> None:
        """Wait for the run's turn and execute it; a queued run that is cancelled ends `cancelled`."""
        try:
            run.result = await self._in_turn(run, after)
        except asyncio.CancelledError:
            run.result = await self._cancelled_in_queue(run)
        finally:
            self._settle(run)

    async def _in_turn(self, run: ManagedRun, after: ManagedRun | None) -> RunResult:
        """Wait for the thread's earlier runs, then for a slot; execute the run."""
        await self._turn(run, after)
        async with self.slots.turn(run.user_id):
            run.state = "running"
            return await self._execute(run)

    async def _turn(self, run: ManagedRun, after: ManagedRun | None) -> None:
        """Wait for the thread's earlier runs (this manager's, then live processes'); a cancel ends the wait."""
        if run.cancel.is_set():  # cancelled before its task began, or flagged before recovery took it
            raise asyncio.CancelledError
        if after is not None and after.task is not None:
            await asyncio.wait({after.task})
        while not run.opened_thread and await self._live_before(run):
            await asyncio.sleep(self.busy_poll_s)

    async def _live_before(self, run: ManagedRun) -> bool:
        """Return whether an earlier unfinished run of the thread is held by a live process."""
        earlier = await self.records.unfinished_of(run.user_id, run.thread_id, before=run.run_id)
        return bool(earlier) and bool(await self.lease_store.held(earlier))

    async def _execute(self, run: ManagedRun) -> RunResult:
        """Call the executor, logging its events; make sure the log ends with a terminal event."""
        try:
            result = await self.executor(self.resources, run.user_id, run.run_id, run.thread_id,  # type: ignore[misc]
                                         run.request.question, emit=functools.partial(self._emit, run),
                                         cancel=run.cancel, **run.executor_kwargs())
        except Exception as exc:  # executors should not raise; the run still ends, recorded and logged
            result = await self._ended(run, RunStatus.ERROR, f"{type(exc).__name__}: {exc}")
        return await self._concluded(run, result)

    async def _emit(self, run: ManagedRun, event: ClientEvent) -> None:
        """Append one client event to the run's log (the terminal one as final)."""
        final = is_terminal(event)
        await self.log.append(run.run_id, as_terminal(event) if final else event, final=final)
        run.final_logged = run.final_logged or final

    async def _cancelled_in_queue(self, run: ManagedRun) -> RunResult:
        """Record a run cancelled before it started; re-raise a cancellation that was not the user's."""
        if not run.cancel.is_set() or run.state != "queued":
            raise asyncio.CancelledError  # app shutdown: the run stays unfinished for recovery
        return await self._concluded(run, await self._ended(run, RunStatus.CANCELLED, CANCELLED_MESSAGE))

    async def _ended(self, run: ManagedRun, status: RunStatus, error: str) -> RunResult:
        """Record the run `status` with `error` (the executor did not); return its result."""
        LOG.warning("run %s ended %s: %s", run.run_id, status.value, error)
        await quietly(self.records.mark(run.user_id, run.run_id, status.value, error))
        return run_result(run.run_id, run.thread_id, status, error=error)

    async def _concluded(self, run: ManagedRun, result: RunResult) -> RunResult:
        """End the run's log (with a terminal event if none was logged) and drop its lease; return `result`."""
        ids = RunIds(run.thread_id, run.run_id)
        await quietly(self.end_log(run.run_id, None if run.final_logged else final_event(ids, result)))
        return result

    async def end_log(self, run_id: str, last: ClientEvent | None) -> None:
        """Append `last` (when given) as the final event, let the log expire, release the lease."""
        if last is not None:
            await self.log.append(run_id, as_terminal(last), final=True)
        await self.log.close(run_id, self.resources.settings.run_event_ttl_s)
        await self.lease_store.release([run_id], self.owner)

    def _settle(self, run: ManagedRun) -> None:
        """Mark the run finished; forget the oldest finished runs beyond KEEP_FINISHED."""
        run.state, self.finished = "finished", self.finished + (run.result is not None)
        done = [run_id for run_id, kept in self.runs.items() if kept.state == "finished"]
        for run_id in done[:max(0, len(done) - KEEP_FINISHED)]:
            del self.runs[run_id]

    async def cancel(self, user_id: str, run_id: str) -> bool:
        """Cancel the user's unfinished run; False when it is unknown, another user's or finished."""
        run = self.runs.get(run_id)
        if run is None:
            return await self.flag_cancel(user_id, run_id)
        return run.user_id == user_id and self.cancel_here(run_id)

    def cancel_here(self, run_id: str) -> bool:
        """Set this manager's run's cancel event; a queued run's task is cancelled at once."""
        run = self.runs[run_id]
        if run.state == "finished" or run.final_logged:
            return False
        run.cancel.set()
        if run.state == "queued" and run.task is not None and began(run.task):
            run.task.cancel()  # a task that has not begun sees the cancel event first thing
        return True

    async def flag_cancel(self, owner: Owner, run_id: str) -> bool:
        """Flag the owner's unfinished run for the process running it to cancel; False when there is none."""
        if not await self.records.unfinished_run(owner, run_id):
            return False
        await self.lease_store.flag_cancel(run_id)
        return True

    async def keep_leases(self) -> None:
        """Refresh this manager's leases every `lease_refresh_s`; cancel its runs other processes flagged."""
        while True:
            await asyncio.sleep(self.lease_refresh_s)
            await quietly(self._renew())

    async def _renew(self) -> None:
        live = self.unfinished()
        await self.lease_store.refresh(live, self.owner)
        for run_id in await self.lease_store.flagged(live) if live else ():
            self.cancel_here(run_id)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task:
        """Run `work` as a background task of the manager (cancelled by `shutdown`)."""
        task = asyncio.create_task(work, name=name or None)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def wait(self, run_id: str) -> RunResult | None:
        """Wait for the run to end; return its result (None when this manager does not know it)."""
        run = self.runs.get(run_id)
        if run is not None and run.task is not None:
            await asyncio.wait({run.task})
        return run.result if run is not None else None

    def stats(self) -> dict[str, Any]:
        """Return counts of running, queued and finished runs, the concurrency and the queue (run ids, in order)."""
        states = [run.state for run in self.runs.values()]
        queue = [run.run_id for run in self.runs.values() if run.state == "queued"]
        return {"running": states.count("running"), "queued": len(queue), "finished": self.finished,
                "concurrency": self.concurrency, "queue": queue}

    async def shutdown(self) -> None:
        """Stop every task; unfinished runs keep their status (recovery resumes them) and lose their lease."""
        live = self.unfinished()
        await stopped([task for task in [*(self.runs[run_id].task for run_id in live), *self.tasks] if task])
        await quietly(self.lease_store.release(live, self.owner))
        await quietly(self.lease_store.aclose())

