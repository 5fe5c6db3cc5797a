"""Run a question through the compiled graph, streaming progress events to a callback."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from langchain_core.messages import HumanMessage

from netra.config import Settings
from netra.graph.deps import Deps
from netra.graph.state import fresh_run
from netra.graph.topology import build_graph
from netra.persistence.checkpoint import open_checkpointer

OnEvent = Callable[[str, Any], None]
RECURSION_LIMIT = 200


def run_config(thread_id: str) -> dict[str, Any]:
    """Return the LangGraph config of a thread."""
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}


def state_reader(settings: Settings, checkpointer: Any) -> Any:
    """Return the graph compiled to read thread states (`get_state`, history): no node runs, so no store opens."""
    deps = Deps(store=None, catalog=None, settings=settings)  # type: ignore[arg-type]  # nodes never run here
    return build_graph(deps).compile(checkpointer=checkpointer)


def stream_run(graph, inputs: dict | None, config: dict, on_event: OnEvent | None) -> dict:
    """Stream a run (custom progress and node updates); return the final state values."""
    for mode, chunk in graph.stream(inputs, config, stream_mode=["custom", "updates"]):
        if on_event is not None:
            on_event(mode, chunk)
    return graph.get_state(config).values


def ask(deps: Deps, question: str, thread_id: str | None = None, strategy: str | None = None,
        on_event: OnEvent | None = None) -> dict:
    """Answer one question on a thread (new thread when None); return the final state."""
    inputs = fresh_run(question, strategy or deps.settings.strategy)
    inputs["messages"] = [HumanMessage(content=question)]
    with open_checkpointer(deps.settings.resolved_database_url()) as saver:
        graph = build_graph(deps).compile(checkpointer=saver)
        return stream_run(graph, inputs, run_config(thread_id or uuid.uuid4().hex), on_event)


def resume(deps: Deps, thread_id: str, on_event: OnEvent | None = None) -> dict:
    """Continue an interrupted run of a thread from its last checkpoint."""
    with open_checkpointer(deps.settings.resolved_database_url()) as saver:
        graph = build_graph(deps).compile(checkpointer=saver)
        return stream_run(graph, None, run_config(thread_id), on_event)
