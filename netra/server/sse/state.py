"""A thread's graph state, read from the app's checkpointer: now, its history, and several threads' latest values.

    await thread_state(resources, thread)                    # the Agent Server's ThreadState
    await thread_latest(resources, workspace_id, [thread_id, ...])   # {thread_id: Latest(values, interrupts)}
    await history(resources, thread, limit=10, before="1f0...", metadata={"source": "loop"})
    graph_of(resources, workspace_id)                        # the compiled graph (blocking)

The graph is compiled over `resources.checkpointer()` (the one the runs write) and read in a
worker thread, since the checkpointer is synchronous. The LangGraph thread id is the Netra
thread id; the graph is built for the thread's workspace (reading a state runs no tool).
`before` (a checkpoint id, or a checkpoint {"checkpoint_id": ...}) lists the
states older than that checkpoint; `metadata` keeps the states whose metadata holds it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterable

from netra.graph.runner import run_config
from netra.graph.topology import build_graph
from netra.persistence.models import Thread
from netra.server.resources import AppResources
from netra.server.sse.views import Latest, state_view


def graph_of(resources: AppResources, workspace_id: str) -> Any:
    """Return the Netra graph of a workspace compiled over the app's checkpointer (blocking)."""
    return build_graph(resources.deps(workspace_id)).compile(checkpointer=resources.checkpointer())


def config_of(thread_id: str, checkpoint: str | dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the graph config of a thread, at `checkpoint` (an id or {"checkpoint_id": ...}) when given."""
    config = run_config(thread_id)
    checkpoint_id = checkpoint.get("checkpoint_id") if isinstance(checkpoint, dict) else checkpoint
    if checkpoint_id:
        config["configurable"] = {**config["configurable"], "checkpoint_ns": "", "checkpoint_id": checkpoint_id}
    return config


def _latest(resources: AppResources, workspace_id: str, thread_ids: list[str]) -> dict[str, Latest]:
    graph = graph_of(resources, workspace_id)
    return {thread_id: Latest.of(graph.get_state(config_of(thread_id))) for thread_id in thread_ids}


async def thread_latest(resources: AppResources, workspace_id: str, thread_ids: Iterable[str]) -> dict[str, Latest]:
    """Return each thread's latest values (None for a thread without a checkpoint) and pending interrupts."""
    return await asyncio.to_thread(_latest, resources, workspace_id, list(thread_ids))


async def thread_values(resources: AppResources, workspace_id: str, thread_ids: Iterable[str]) -> dict[str, Any]:
    """Return each thread's latest state values (None for a thread without a checkpoint)."""
    return {thread_id: latest.values for thread_id, latest in
            (await thread_latest(resources, workspace_id, thread_ids)).items()}


def _state(resources: AppResources, thread: Thread) -> dict[str, Any]:
    return state_view(graph_of(resources, thread.workspace_id).get_state(config_of(thread.id)))


async def thread_state(resources: AppResources, thread: Thread) -> dict[str, Any]:
    """Return the thread's latest state (values {} and checkpoint null before its first run)."""
    return await asyncio.to_thread(_state, resources, thread)


def _history(resources: AppResources, thread: Thread, limit: int, before: Any, metadata: Any) -> list[dict[str, Any]]:
    older = config_of(thread.id, before) if before else None
    states = graph_of(resources, thread.workspace_id).get_state_history(
        config_of(thread.id), filter=metadata or None, before=older, limit=limit)
    return [state_view(snapshot) for snapshot in states]


async def history(resources: AppResources, thread: Thread, limit: int = 10, before: str | dict[str, Any] | None = None,
                  metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Return up to `limit` states of the thread, newest first (older than `before`, holding `metadata`)."""
    return await asyncio.to_thread(_history, resources, thread, limit, before, metadata)
