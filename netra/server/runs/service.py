"""Execute a question as a recorded run: stream the graph, tell clients, keep the records.

    thread_id, run_id = await records.open_run(pools, owner, question)      # owner: (user, workspace)
    result = await execute_run(pools, owner, run_id, thread_id, question, emit=send)   # RunResult
    result["status"]   # "success" | "error" | "cancelled" | "interrupted"

The graph runs synchronously in a worker thread (`asyncio.to_thread`) on the app's
checkpointer, its tools reading the owner's workspace only, with the Netra thread id as the
LangGraph thread id, so a second question on a thread continues its conversation and
`resume=True` continues an interrupted run from its last checkpoint. `approval=True` pauses
the graph before the actions agent (LangGraph `interrupt`): the run then ends `interrupted`
with an `interrupted` event carrying the payload (the recommendations on offer); a later run
with `decision` continues it (`Command(resume=decision)`; `request.RunRequest`). Stream items
come back to the loop through an `asyncio.Queue`; each becomes client events
(`events.to_client_events`), recorded (agent runs, with timing: `records.RunRecords`), then
sent to the run's sinks (`sinks.RunSink`, in list order): the graph-stream log's
(`stream.stream_sinks`: mode `events`, then the graph stream, when the app keeps that log for
the SSE API) and the client events' (`emit`, when given).

`cancel` (a `threading.Event`) is checked before the graph starts and between stream items
(cancelled: an `error` event of code `cancelled`). Any exception, or a graph without a report,
ends the run `error` (event code `run_failed`); `execute_run` never raises. A sink that
fails is logged and skipped: the records are the run's truth. Concurrent runs only read the
analytics store (embedded chDB serves several threads): no lock is held. The checkpointer is
opened before the run writes anything: its first setup switches SQLite to WAL ("database is
locked" while another connection writes) and indexes PostgreSQL concurrently. The graph
streams the sinks' modes with their callbacks in its config; each sink shapes an item in the
worker thread, and writes it on the loop before the item's client events are sent, so the
graph-stream log's finale comes just before the terminal client event.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Awaitable, Iterable

from netra.errors import NetraError
from netra.graph.approval import waiting_for
from netra.graph.runner import run_config
from netra.graph.state import AGENTS
from netra.graph.topology import build_graph
from netra.metrics import AGENT_EXECUTIONS, RUNS
from netra.persistence.models import AgentRun
from netra.report.record import Report
from netra.server.runs import events
from netra.server.runs.approvals import still_paused
from netra.server.runs.ask import CANCELLED_MESSAGE, RunResult, run_result
from netra.server.runs.events import ClientEvent, RunIds
from netra.server.runs.pools import Pools
from netra.server.runs.records import RunRecords
from netra.server.runs.request import RunRequest
from netra.server.runs.sinks import ClientSink, Emit, RunSink, StreamEntry
from netra.server.runs.status import FINISHED, RunStatus
from netra.server.runs.stream import stream_sinks
from netra.tenancy import Owner

__all__ = ["ActiveRun", "Emit", "execute_run"]

STREAM_MODES = ("custom", "updates")  # what client events and agent-run records are made of
AFTER_LAST = "events"  # the mode of the item fed after the graph's last: what its callbacks left
LOG = logging.getLogger("netra.runs")
_DONE = object()
PAUSED = "__paused__"  # the key of a pending approval's payload in the values `_iterate` returns


class RunFailedError(NetraError):
    """The graph finished without a report."""


def paused_values(snapshot: Any) -> dict[str, Any]:
    """Return a state snapshot's values, with the payload of a pending approval under PAUSED (when paused)."""
    waiting = waiting_for(snapshot)
    return snapshot.values if waiting is None else {**snapshot.values, PAUSED: waiting}


def describe(exc: BaseException) -> str:
    """Return the message a failed run records: the exception's type and text."""
    return f"{type(exc).__name__}: {exc}"


def no_report(state: dict[str, Any]) -> str:
    """Return why a finished graph has no report: the agents' recorded errors."""
    errors = "; ".join(f"{e.get('agent', '?')}: {e.get('message', '')}" for e in state.get("errors") or [])
    return f"the run ended without a report ({errors or 'no error recorded'})"


@dataclass
class _Feed:
    """Carries stream items from the worker thread into the event loop's queue."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    def put(self, item: Any) -> None:
        """Queue `item` on the loop (safe from any thread)."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


@dataclass
class ActiveRun:
    """One run being executed: its owner (user and workspace) and ids, where its stream goes, and when to stop."""

    resources: Pools
    owner: Owner
    ids: RunIds
    sinks: list[RunSink] = field(default_factory=list)  # written in order (`ActiveRun.of`)
    cancel: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    records: RunRecords = field(init=False)

    def __post_init__(self) -> None:
        self.records = RunRecords.of(self.resources)

    @classmethod
    def of(cls, pools: Pools, owner: Owner, ids: RunIds, emit: Emit | None, cancel: threading.Event | None) -> ActiveRun:
        """Return the run with its sinks: the graph-stream log's (when the app keeps one), then `emit`'s (when given)."""
        clients: list[RunSink] = [] if emit is None else [ClientSink(emit, ids.run_id)]
        sinks = [*stream_sinks(pools.stream_log(), pools.settings, ids.run_id), *clients]
        return cls(pools, owner, ids, sinks, cancel or threading.Event())

    async def execute(self, request: RunRequest) -> RunResult:
        """Mark the run running, announce it, stream the graph, then finish, pause or cancel."""
        strategy = request.strategy or self.resources.settings.strategy
        await asyncio.to_thread(self.resources.checkpointer)  # set up once, before this run writes
        await self.records.mark(self.owner, self.ids.run_id, RunStatus.RUNNING)
        decided = {} if request.decision is None else {"decision": request.decision}
        await self.send(events.run_started(self.ids, request.question, strategy, request.continues, **decided))
        state = None if self.cancel.is_set() else await self.stream(request.inputs(strategy))
        return await (self.cancelled() if state is None else self.finish(state))

    async def stream(self, inputs: Any) -> dict[str, Any] | None:
        """Run the graph in a worker thread, handling its items here; return its final state (None: stopped)."""
        feed = _Feed(asyncio.get_running_loop())
        worker = asyncio.ensure_future(asyncio.to_thread(self._drive, inputs, feed))
        try:
            await self._consume(feed.queue)
        finally:
            await self._join(worker)
        return worker.result()

    async def _consume(self, queue: asyncio.Queue) -> None:
        while (item := await queue.get()) is not _DONE:
            await self.handle(*item)

    async def _join(self, worker: asyncio.Future) -> None:
        self.stop.set()  # a consumer that failed stops the worker at its next item
        await asyncio.wait({worker})

    def _drive(self, inputs: Any, feed: _Feed) -> dict[str, Any] | None:
        try:
            return self._iterate(inputs, feed)
        finally:
            feed.put(self._shaped(AFTER_LAST, None))  # the `events` after the last chunk (the graph's own end)
            feed.put(_DONE)

    def _iterate(self, inputs: Any, feed: _Feed) -> dict[str, Any] | None:
        graph = build_graph(self.resources.deps(self.owner.workspace_id)).compile(checkpointer=self.resources.checkpointer())
        config = self._config()
        still_paused(graph, config, inputs)
        with closing(graph.stream(inputs, config, stream_mode=self.stream_modes())) as items:
            for item in self._until_stopped(items):
                feed.put(self._shaped(*item))
        return None if self._stopped() else paused_values(graph.get_state(config))

    def _config(self) -> dict[str, Any]:
        """Return the graph's config: the thread, and the sinks' callbacks (when any)."""
        config = run_config(self.ids.thread_id)
        handlers = [handler for sink in self.sinks for handler in sink.callbacks]
        return {**config, "callbacks": [*(config.get("callbacks") or []), *handlers]} if handlers else config

    def stream_modes(self) -> list[str]:
        """Return the stream modes: the sinks', in order, then the client events' own."""
        return list(dict.fromkeys([*(mode for sink in self.sinks for mode in sink.modes), *STREAM_MODES]))

    def _shaped(self, mode: str, chunk: Any) -> tuple[str, Any, list[list[StreamEntry]]]:
        """Return the stream item with what each sink keeps of it (shaped here, in the worker thread)."""
        return mode, chunk, [sink.shape(mode, chunk) for sink in self.sinks]

    def _until_stopped(self, items: Iterable[Any]) -> Iterable[Any]:
        return itertools.takewhile(lambda _: not self._stopped(), items)

    def _stopped(self) -> bool:
        return self.cancel.is_set() or self.stop.is_set()

    async def handle(self, mode: str, chunk: Any, shaped: list[list[StreamEntry]]) -> None:
        """Write each sink what it shaped of the item; turn the item into client events, record each, then send it."""
        for sink, entries in zip(self.sinks, shaped):
            await sink.write(entries)
        for event in events.to_client_events(mode, chunk, self.ids):
            await self.record(event)
            await self.send(event)

    async def record(self, event: ClientEvent) -> None:
        """Record a planned agent's status change (a finished one gets `duration_ms` in its event)."""
        data = event["data"]
        if event["type"] == "sub_agent_update" and data["agent"] in AGENTS:
            row = await self.records.record_agent(self.owner, self.ids.run_id, data["agent"],
                                                  data["status"], data.get("error"))
            _count_finished(row, data)

    async def send(self, event: ClientEvent) -> None:
        """Send `event` to every sink, in order (each logs its own failures: the run goes on).

        A terminal event ends the graph-stream log before it reaches the client events' sink,
        so that log is complete once the run's client events are.
        """
        for sink in self.sinks:
            await sink.send(event)

    async def finish(self, state: dict[str, Any]) -> RunResult:
        """End the run as the graph left it: paused for approval (`PAUSED` in the state), or completed."""
        return await (self.paused(state[PAUSED]) if state.get(PAUSED) else self.completed(state))

    async def completed(self, state: dict[str, Any]) -> RunResult:
        """Save the report, mark the run `success`, send `agent_completed` (no report: the run failed)."""
        report = Report.of(state.get("report"))
        if not report.markdown:
            raise RunFailedError(no_report(state))
        out = report.to_wire(await self._save(report))
        await self._outcome(RunStatus.SUCCESS)
        await self.send(events.run_completed(self.ids, out))
        return self.result(RunStatus.SUCCESS, out)

    async def _save(self, report: Report) -> str:
        return await self.records.save_report(self.owner, self.ids.run_id, self.ids.thread_id, report)

    async def paused(self, interrupt: dict[str, Any]) -> RunResult:
        """Mark the run (and its unfinished agents) `interrupted`; send `interrupted` with what it waits for."""
        await self.settle(RunStatus.INTERRUPTED, None)
        await self.send(events.run_interrupted(self.ids, interrupt))
        return {**self.result(RunStatus.INTERRUPTED), "interrupt": interrupt}

    async def cancelled(self) -> RunResult:
        """Mark the run (and its unfinished agents) `cancelled`; send the `cancelled` error event."""
        await self.settle(RunStatus.CANCELLED, CANCELLED_MESSAGE)
        await self.send(events.run_error(self.ids, "cancelled", CANCELLED_MESSAGE))
        return self.result(RunStatus.CANCELLED, error=CANCELLED_MESSAGE)

    async def fail(self, exc: Exception) -> RunResult:
        """Mark the run (and its unfinished agents) `error`; send the `run_failed` error event."""
        message = describe(exc)
        LOG.warning("run %s failed: %s", self.ids.run_id, message, exc_info=exc)
        await _quietly(self.settle(RunStatus.ERROR, message), self.ids.run_id)
        await self.send(events.run_error(self.ids, "run_failed", message))
        return self.result(RunStatus.ERROR, error=message)

    async def settle(self, status: RunStatus, error: str | None) -> None:
        """End the run and its unfinished agent runs in `status` with `error`."""
        for row in await self.records.close_agents(self.owner, self.ids.run_id, status, error):
            _count_finished(row, {})
        await self._outcome(status, error)

    async def _outcome(self, status: RunStatus, error: str | None = None) -> None:
        await self.records.mark(self.owner, self.ids.run_id, status, error)
        RUNS.labels(status.value).inc()

    def result(self, status: RunStatus, report: dict[str, Any] | None = None, error: str | None = None) -> RunResult:
        """Return what `execute_run` answers."""
        return run_result(self.ids.run_id, self.ids.thread_id, status, report, error)


def _count_finished(row: AgentRun | None, data: dict[str, Any]) -> None:
    """Count a finished agent run and put its duration into its event's data."""
    if row is not None and row.status in FINISHED:
        data["duration_ms"] = row.duration_ms
        AGENT_EXECUTIONS.labels(row.agent, row.status).inc()


async def _quietly(step: Awaitable[None], run_id: str) -> None:
    """Await `step`, logging instead of raising (the records may be what failed)."""
    try:
        await step
    except Exception:  # a run's failure must still be answered
        LOG.exception("run %s: recording the failure failed", run_id)


async def execute_run(resources: Pools, owner: Owner, run_id: str, thread_id: str, question: str,
                      strategy: str | None = None, emit: Emit | None = None, cancel: threading.Event | None = None,
                      resume: bool = False, approval: bool = False, decision: Any = None) -> RunResult:
    """Execute the owner's pending run `run_id` of `thread_id` (in the owner's workspace); never raises.

    `approval` pauses the graph before the actions agent; `decision` continues the thread's
    paused run (checked by `approvals.admitted` before the run was recorded).
    Returns the run's `RunResult`: ids, status ("success" | "error" | "cancelled" |
    "interrupted"), report_id, report (`Report.to_wire`, or None), error (message or None), and
    for a paused run "interrupt" (what it waits for).
    """
    run = ActiveRun.of(resources, owner, RunIds(thread_id, run_id), emit, cancel)
    try:
        return await run.execute(RunRequest(question, strategy, approval, decision, resume))
    except Exception as exc:  # any failure ends the run `error`, answered, not raised
        return await run.fail(exc)
