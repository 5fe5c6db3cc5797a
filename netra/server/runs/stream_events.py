"""The `events` stream mode: LangChain callbacks of a run, shaped as `astream_events` v2 events.

    sink = EventsSink(streams, run_id)               # one per run (a `sinks.RunSink`; `stream.stream_sinks`)
    graph.stream(inputs, {**config, "callbacks": [*sink.callbacks]}, stream_mode=GRAPH_MODES)
    sink.shape(mode, chunk)                          # the entries so far: {"event": "events", "data": JSON text}

The run's one execution feeds it: LangGraph hands the handler down to every node and to
every model call inside one, so nothing runs twice. Each callback becomes an event of
LangChain's `astream_events(version="v2")` shape, {"event", "name", "run_id",
"parent_ids", "tags", "metadata", "data"}: `on_chain_start`/`on_chain_end` (the graph and
its nodes), `on_chat_model_start`/`_stream`/`_end` (`data.chunk`: the message chunk),
`on_llm_*`, `on_tool_start`/`on_tool_end`. LangGraph's internal runs (tagged
`langsmith:hidden`: channel writes, routing) are left out, as `astream_events` leaves them.
Ends carry `output` only (not the input again). Bounds: a `data` field whose JSON passes
FIELD_BYTES is replaced by {"trimmed_bytes", "keys"} (a node's input is the whole state),
and a run records at most MAX_EVENTS events. Callbacks may come from the graph's worker
threads at once: the buffer is locked. Encoding happens here, in those threads.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from netra.server.runs.events import ClientEvent
from netra.server.runs.log import EventLog
from netra.server.runs.sinks import StreamEntry, logged
from netra.server.sse.wire import dumps

HIDDEN = "langsmith:hidden"
FIELD_BYTES = 16 * 1024  # a data field encoded larger than this is trimmed
MAX_EVENTS = 20_000  # events recorded per run; a run's tokens are the bulk of them
LOG = logging.getLogger("netra.runs")


def name_of(serialized: dict[str, Any] | None, given: dict[str, Any]) -> str:
    """Return a run's name: the callback's `name`, else the serialized object's name or class."""
    serialized = serialized or {}
    return str(given.get("name") or serialized.get("name") or (serialized.get("id") or ["unnamed"])[-1])


def trimmed(value: Any) -> Any:
    """Return `value`, or {"trimmed_bytes", "keys"} when its JSON passes FIELD_BYTES."""
    size = len(dumps(value).encode())
    if size <= FIELD_BYTES:
        return value
    return {"trimmed_bytes": size, "keys": sorted(map(str, value))[:100] if isinstance(value, dict) else None}


def bounded_text(event: dict[str, Any]) -> str:
    """Return the event's JSON, its data fields trimmed when the whole passes FIELD_BYTES."""
    text = dumps(event)
    if len(text) <= FIELD_BYTES:
        return text
    return dumps({**event, "data": {key: trimmed(value) for key, value in event["data"].items()}})


def shown_text(event: dict[str, Any]) -> str | None:
    """Return the event's bounded JSON, or None when it cannot be shown (logged; the run goes on)."""
    try:
        return bounded_text(event)
    except Exception:  # the events are a view of the run: one that cannot be shown must not fail it
        LOG.exception("an %s event cannot be shown on the stream log", event["event"])
        return None


def reply_of(response: Any) -> Any:
    """Return what a model call answered: its first generation's message (chat) or text."""
    generation = response.generations[0][0] if response.generations and response.generations[0] else None
    return getattr(generation, "message", getattr(generation, "text", None))


def chunk_of(token: str, chunk: Any) -> Any:
    """Return a streamed piece: the message chunk of a chat model, else the text."""
    return getattr(chunk, "message", None) or token


@dataclass(frozen=True)
class Started:
    """A run the callbacks opened: what its events repeat."""

    kind: str  # chain | chat_model | llm | tool
    name: str
    tags: list[str]
    metadata: dict[str, Any]
    parent_ids: list[str]

    @property
    def hidden(self) -> bool:
        """Whether the run is LangGraph's own plumbing (not shown)."""
        return HIDDEN in self.tags


@dataclass(eq=False)  # callback managers keep handlers in sets: hashed by identity
class EventRecorder(BaseCallbackHandler):
    """Turns one run's callbacks into `events` stream entries, buffered until drained."""

    runs: dict[UUID, Started] = field(default_factory=dict)
    pending: list[StreamEntry] = field(default_factory=list)
    recorded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    run_inline = True  # called in the thread that runs the step, in order

    def drain(self) -> list[StreamEntry]:
        """Return the entries since the last drain (and forget them)."""
        with self.lock:
            entries, self.pending = self.pending, []
        return entries

    def open(self, kind: str, serialized: dict[str, Any] | None, given: Any, info: dict[str, Any]) -> None:
        """Remember a started run and record its `on_<kind>_start` with `data.input`."""
        parent = info.get("parent_run_id")
        above = self.runs.get(parent)
        parents = [*above.parent_ids, str(parent)] if above else [str(parent)] if parent else []
        run = Started(kind, name_of(serialized, info), list(info.get("tags") or []), dict(info.get("metadata") or {}),
                      parents)
        self.runs[info["run_id"]] = run
        self.record(run, "start", info["run_id"], {"input": given})

    def close(self, run_id: UUID, output: Any) -> None:
        """Record a run's `on_<kind>_end` with `data.output`; forget it."""
        run = self.runs.pop(run_id, None)
        if run is not None:
            self.record(run, "end", run_id, {"output": output})

    def record(self, run: Started, phase: str, run_id: UUID, data: dict[str, Any]) -> None:
        """Buffer one event of a shown run (within MAX_EVENTS)."""
        if run.hidden or self.recorded >= MAX_EVENTS:
            return
        event = {"event": f"on_{run.kind}_{phase}", "name": run.name, "run_id": str(run_id),
                 "parent_ids": run.parent_ids, "tags": run.tags, "metadata": run.metadata, "data": data}
        text = shown_text(event)
        if text is not None:
            self._push(text)

    def _push(self, text: str) -> None:
        with self.lock:
            self.recorded += 1
            self.pending.append({"event": "events", "data": text})

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, **info: Any) -> None:
        """Record `on_chain_start` (the graph, a node)."""
        self.open("chain", serialized, inputs, info)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **info: Any) -> None:
        """Record `on_chain_end`."""
        self.close(run_id, outputs)

    def on_chat_model_start(self, serialized: dict[str, Any] | None, messages: Any, **info: Any) -> None:
        """Record `on_chat_model_start` (`data.input.messages`)."""
        self.open("chat_model", serialized, {"messages": messages}, info)

    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: Any, **info: Any) -> None:
        """Record `on_llm_start` (`data.input.prompts`)."""
        self.open("llm", serialized, {"prompts": prompts}, info)

    def on_llm_new_token(self, token: str, *, chunk: Any = None, run_id: UUID, **info: Any) -> None:
        """Record `on_chat_model_stream` (or `on_llm_stream`) with `data.chunk`."""
        run = self.runs.get(run_id)
        if run is not None:
            self.record(run, "stream", run_id, {"chunk": chunk_of(token, chunk)})

    def on_llm_end(self, response: Any, *, run_id: UUID, **info: Any) -> None:
        """Record `on_chat_model_end` (or `on_llm_end`) with the answer."""
        self.close(run_id, reply_of(response))

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, **info: Any) -> None:
        """Record `on_tool_start` (`data.input`: the tool's arguments)."""
        self.open("tool", serialized, info.get("inputs") or input_str, info)

    def on_tool_end(self, output: Any, *, run_id: UUID, **info: Any) -> None:
        """Record `on_tool_end`."""
        self.close(run_id, output)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **info: Any) -> None:
        """Forget a failed run (v2 has no error event: the run's `error` record tells)."""
        self.runs.pop(run_id, None)

    on_llm_error = on_tool_error = on_chain_error


@dataclass
class EventsSink:
    """The `events` mode of one run: its callbacks' events, logged before each chunk's entries (a `sinks.RunSink`)."""

    log: EventLog
    run_id: str
    handler: EventRecorder = field(default_factory=EventRecorder)
    modes: tuple[str, ...] = ()  # it reads callbacks, not stream items

    @property
    def callbacks(self) -> tuple[BaseCallbackHandler, ...]:
        """The handler the graph's config carries."""
        return (self.handler,)

    def shape(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Return the events the callbacks recorded since the last item (whatever the item)."""
        return self.handler.drain()

    async def write(self, entries: list[StreamEntry]) -> None:
        """Log `entries` in order (a failing log is logged, not fatal)."""
        await logged(self.log, self.run_id, entries)

    async def send(self, event: ClientEvent) -> None:
        """Take nothing of client events: the graph-stream sink ends the log."""
