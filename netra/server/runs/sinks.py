"""Where a run's stream goes: a list of sinks behind one protocol, written in list order.

    sinks = [*stream_sinks(pools.stream_log(), pools.settings, run_id), ClientSink(emit, run_id)]
    entries = [sink.shape(mode, chunk) for sink in sinks]     # in the graph's worker thread
    await sink.write(entries_of_that_sink)                    # on the event loop, in stream order
    await sink.send(client_event)                             # each client event; a terminal one ends the sink

The run service (`service.ActiveRun`) streams the graph with the union of the sinks' `modes`
(and the client events' own, `custom` and `updates`), puts every sink's `callbacks` in the
graph's config, and for each stream item calls `shape` in the worker thread (blocking work:
encoding), then, on the loop, `write` on every sink with what it shaped, then `send` on every
sink with each of the item's client events (recorded first: the records are the run's truth).
After the graph's last item it feeds one more, of mode `events` and no chunk: what callbacks
left behind. A sink is one object: the client-event emitter (`ClientSink`), the graph-stream
log (`stream.StreamRecorder`), the `events` mode (`stream_events.EventsSink`); adding one adds
an object to the list, not a parameter. A sink's failures are its own (logged): the run goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol

from langchain_core.callbacks import BaseCallbackHandler

from netra.server.runs.events import ClientEvent
from netra.server.runs.handles import quietly
from netra.server.runs.log import EventLog

StreamEntry = dict[str, Any]  # one entry of the graph-stream log: {"event", "data"[, "mode"]} ("data": JSON text)
Emit = Callable[[ClientEvent], Awaitable[None]]
LOG = logging.getLogger("netra.runs")


class RunSink(Protocol):
    """One place a run's stream is written to."""

    modes: tuple[str, ...]  # the graph stream modes it reads
    callbacks: tuple[BaseCallbackHandler, ...]  # the handlers it puts in the graph's config

    def shape(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Return what the sink keeps of one stream item (blocking: called in the graph's worker thread)."""

    async def write(self, entries: list[StreamEntry]) -> None:
        """Write what `shape` returned, in stream order."""

    async def send(self, event: ClientEvent) -> None:
        """Take one client event of the run (a terminal one ends the run's stream)."""


async def logged(log: EventLog, run_id: str, entries: list[StreamEntry]) -> None:
    """Append `entries` to the run's log in order; a failing log is logged, not fatal (the run goes on)."""
    for entry in entries:
        await quietly(log.append(run_id, entry))


@dataclass
class ClientSink:
    """Passes each client event to `emit` (the manager's event log, a socket); a listener that fails is logged."""

    emit: Emit
    run_id: str
    modes: tuple[str, ...] = ("custom", "updates")  # what client events are made of (`events.to_client_events`)
    callbacks: tuple[BaseCallbackHandler, ...] = ()

    def shape(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Return nothing: client events are made on the loop, once recorded."""
        return []

    async def write(self, entries: list[StreamEntry]) -> None:
        """Write nothing (see `shape`)."""

    async def send(self, event: ClientEvent) -> None:
        """Pass `event` to `emit`; a failure is logged and skipped."""
        try:
            await self.emit(event)
        except Exception:  # the run goes on without that listener
            LOG.exception("run %s: emitting %s failed", self.run_id, event["type"])
