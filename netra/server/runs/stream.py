"""The runs' graph-stream log: every LangGraph stream chunk of a run, kept for the SSE API.

    streams = open_stream_log(settings)          # resources.streams; Redis keys run:{run_id}:stream
    sinks = stream_sinks(streams, settings, run_id)      # [EventsSink, StreamRecorder]; [] without a log
    recorder = StreamRecorder(streams, run_id, ttl_s)
    entries = recorder.shape("values", chunk)    # in the graph's worker thread: entries holding JSON text
    await recorder.write(entries)                # on the event loop, in stream order
    await recorder.send(terminal_client_event)   # `error` (unless the run succeeded), then `end` (final)

When the app has a stream log, the run service (`netra.server.runs.service`) writes these
two sinks (`sinks.RunSink`): it streams the graph with GRAPH_MODES and hands every chunk
here, once per run, whoever started the run (SSE, WebSocket or REST). A stream entry is
{"event", "data"} or {"event", "data", "mode"}, its `data` the JSON text of the event's data
(encoded once, in the worker thread, and sent as is): a client that asked for stream mode
`mode` (default: the event name) is sent it, with the entry's seq in the log as its SSE id. A `messages` chunk becomes, for mode `messages`,
`messages/metadata` (the first time its message id is seen) and `messages/partial` (a chunk,
added up with the earlier ones) or `messages/complete`; for mode `messages-tuple`, the
`messages` event [message, metadata]. `end` ({"run_id", "status"}) closes the log; a run
that did not succeed has an `error` ({"error": type, "message"}) just before it. The other
sink, `stream_events.EventsSink`, logs mode `events` (from callbacks in the run's config);
it comes first in the list, so its entries are logged before each chunk's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessageChunk

from netra.config import Settings
from netra.server.runs.events import ClientEvent
from netra.server.runs.handles import quietly
from netra.server.runs.log import EventLog, is_terminal, open_event_log
from netra.server.runs.sinks import RunSink, StreamEntry, logged
from netra.server.runs.status import RunStatus, agent_server_status, ending_of
from netra.server.runs.stream_events import EventsSink
from netra.server.sse.wire import dumps

GRAPH_MODES = ("values", "updates", "custom", "messages", "debug")
NAMESPACE = "stream"
MAX_RUNS_IN_MEMORY = 100  # a run's stream repeats its state many times over: keep fewer runs in process
ERROR_NAMES = {"cancelled": "UserInterrupt", "interrupted": "Interrupted"}  # when the error names no type
LOG = logging.getLogger("netra.runs")


def open_stream_log(settings: Settings) -> EventLog:
    """Return the stream log: Redis (namespace `stream`) when NETRA_REDIS_URL is set, else in process."""
    return open_event_log(settings, NAMESPACE, MAX_RUNS_IN_MEMORY)


def error_data(status: str, error: str | None) -> dict[str, str]:
    """Return the data of a run's `error` event: {"error": type, "message"} (from `Type: message`)."""
    name, _, text = (error or "").partition(": ")
    if name.isidentifier() and text:
        return {"error": name, "message": text}
    return {"error": ERROR_NAMES.get(status, "RunFailed"), "message": error or f"the run ended {status}"}


def finale(run_id: str, status: str, error: str | None) -> list[StreamEntry]:
    """Return the entries that end a run's stream: `error` unless it succeeded (or paused for approval), then `end`."""
    end = {"event": "end", "data": dumps({"run_id": run_id, "status": agent_server_status(status)})}
    quiet = status == RunStatus.SUCCESS or (status == RunStatus.INTERRUPTED and not error)  # a pause for approval is no error
    return [end] if quiet else [{"event": "error", "data": dumps(error_data(status, error))}, end]


def _message_entries(key: str, message: Any, meta: Any, first: bool) -> list[StreamEntry]:
    """Return the entries of one `messages` chunk: the tuple, then the metadata (at first sight)."""
    seen = [{"event": "messages/metadata", "mode": "messages", "data": dumps({key: {"metadata": meta}})}]
    return [{"event": "messages", "mode": "messages-tuple", "data": dumps([message, meta])}, *(seen if first else [])]


@dataclass
class StreamRecorder:
    """Shapes one run's graph stream into stream entries and logs them (a `sinks.RunSink`)."""

    log: EventLog
    run_id: str
    ttl_s: int
    messages: dict[str, Any] = field(default_factory=dict)  # message id -> the message so far
    ended: bool = False
    modes: tuple[str, ...] = GRAPH_MODES  # what the graph is streamed with
    callbacks: tuple[BaseCallbackHandler, ...] = ()

    def shape(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Return the entries of one stream chunk, as plain JSON data (none for a mode it does not read).

        Blocking: call it in the graph's worker thread.
        """
        return self._chunk(mode, chunk) if mode in self.modes else []

    def _chunk(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Return the entries of one chunk (none when it cannot be shaped)."""
        try:
            return self._messages(*chunk) if mode == "messages" else [{"event": mode, "data": dumps(chunk)}]
        except Exception:  # the stream log is a view of the run: a chunk it cannot show must not fail the run
            LOG.exception("run %s: the %s chunk cannot be shown on the stream log", self.run_id, mode)
            return []

    def _messages(self, message: Any, metadata: Any) -> list[StreamEntry]:
        key, is_chunk = str(getattr(message, "id", "") or ""), isinstance(message, BaseMessageChunk)
        first, known = key not in self.messages, self.messages.get(key)
        self.messages[key] = known + message if is_chunk and isinstance(known, BaseMessageChunk) else message
        kind = "messages/partial" if is_chunk else "messages/complete"
        shown = {"event": kind, "mode": "messages", "data": dumps([self.messages[key]])}
        return [*_message_entries(key, message, metadata, first), shown]

    async def write(self, entries: list[StreamEntry]) -> None:
        """Log `entries` in order; a failing log is logged, not fatal (the run goes on)."""
        await logged(self.log, self.run_id, entries)

    async def send(self, event: ClientEvent) -> None:
        """End the log with the run's finale at its terminal client event (so it is complete before the event goes out)."""
        if is_terminal(event):
            await self.end(event)

    async def end(self, event: ClientEvent) -> None:
        """Log the run's finale from its terminal client event (once); let the log expire."""
        if self.ended:
            return
        self.ended = True
        *fault, last = finale(self.run_id, *ending_of(event))
        await self.write(fault)
        await quietly(self.log.append(self.run_id, last, final=True))
        await quietly(self.log.close(self.run_id, self.ttl_s))


def stream_sinks(streams: EventLog | None, settings: Settings, run_id: str) -> list[RunSink]:
    """Return a run's sinks over the app's stream log: mode `events`, then the graph stream (none without a log)."""
    if streams is None:
        return []
    return [EventsSink(streams, run_id), StreamRecorder(streams, run_id, settings.run_event_ttl_s)]
