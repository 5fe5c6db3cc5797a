"""The run service's sink seam: a sink added to a run's list gets its modes, its callbacks, its
shaped entries in stream order and every client event, without touching the service.

A real graph runs over embedded records (SQLite) and the session's chDB store; the sink under
test sits after the client events' sink, as a new kind of sink would be added.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from netra.server.runs import records
from netra.server.runs.events import RunIds
from netra.server.runs.request import RunRequest
from netra.server.runs.service import ActiveRun
from netra.server.runs.sinks import StreamEntry
from tests.support.graphs import PLAIN, load_mixed
from tests.support.run_service import Collector, embedded_resources, run_scenario


@pytest.fixture
def resources(tmp_path, store, catalog):
    """The app's resources over embedded records (SQLite), the session's store and the catalog."""
    return embedded_resources(tmp_path, store, catalog)


@pytest.fixture
def mixed(store, catalog) -> dict:
    """A mixed workload in the session's store."""
    return load_mixed(store, catalog)


class ChainCounter(BaseCallbackHandler):
    """Counts the graph's chain starts (a handler a sink puts in the graph's config)."""

    def __init__(self) -> None:
        self.starts = 0

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        """Count one chain start."""
        self.starts += 1


@dataclass
class RecordingSink:
    """A sink that keeps what the service gives it, and on which thread it shaped each item."""

    modes: tuple[str, ...] = ("values",)
    callbacks: tuple[BaseCallbackHandler, ...] = field(default_factory=lambda: (ChainCounter(),))
    shaped: list[StreamEntry] = field(default_factory=list)
    shaping_threads: set[int] = field(default_factory=set)
    written: list[StreamEntry] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def shape(self, mode: str, chunk: Any) -> list[StreamEntry]:
        """Keep one entry per `values` item (numbered, so the order of writes can be checked)."""
        self.shaping_threads.add(threading.get_ident())
        entries = [{"event": mode, "data": str(len(self.shaped))}] if mode in self.modes else []
        self.shaped.extend(entries)
        return entries

    async def write(self, entries: list[StreamEntry]) -> None:
        """Keep the entries written."""
        self.written.extend(entries)

    async def send(self, event: dict[str, Any]) -> None:
        """Keep the client event."""
        self.sent.append(event)


@dataclass
class Seen:
    """What a run with the recording sink produced."""

    sink: RecordingSink
    emitted: list[dict[str, Any]]
    result: dict[str, Any]
    loop_thread: int
    modes: list[str]


async def _run_with_sink(resources, owner) -> Seen:
    thread_id, run_id = await records.open_run(resources, owner, PLAIN)
    emit, sink = Collector(), RecordingSink()
    run = ActiveRun.of(resources, owner, RunIds(thread_id, run_id), emit, None)
    run.sinks.append(sink)
    result = await run.execute(RunRequest(PLAIN))
    return Seen(sink, emit.events, result, threading.get_ident(), run.stream_modes())


def _seen(resources) -> Seen:
    return run_scenario(resources, _run_with_sink)


def test_an_added_sink_gets_its_mode_shaped_off_the_loop_and_written_in_order(resources, mixed):
    seen = _seen(resources)
    assert seen.result["status"] == "success"
    assert seen.sink.shaped and seen.sink.written == seen.sink.shaped
    assert [int(e["data"]) for e in seen.sink.written] == list(range(len(seen.sink.written)))
    assert seen.loop_thread not in seen.sink.shaping_threads


def test_an_added_sink_gets_every_client_event_in_order_and_its_callbacks_run(resources, mixed):
    seen = _seen(resources)
    assert seen.sink.sent == seen.emitted and seen.emitted[-1]["type"] == "agent_completed"
    assert seen.sink.callbacks[0].starts > 0


def test_the_run_streams_the_union_of_the_sinks_modes(resources, mixed):
    seen = _seen(resources)
    assert "values" in seen.modes and {"custom", "updates"} <= set(seen.modes)
