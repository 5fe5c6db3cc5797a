"""A thread's checkpoints written: a state update (or a fork), a copy to a new thread, their removal.

    await update_state(resources, thread, {"question": "..."}, as_node="triage", checkpoint_id="1f0...")
    await copy_checkpoints(resources, source_id, target_id)    # every checkpoint and pending write
    await drop_checkpoints(resources, thread_id)               # the saver's `delete_thread`

An update goes through the compiled graph (`update_state`, as LangGraph and the Agent Server
do): the values pass the state's reducers as if node `as_node` had returned them, and a new
checkpoint is written after the latest one, or after `checkpoint_id` (a fork: the thread's
next run continues from there). A copy writes the source's checkpoints under the target's
thread id with their own ids, parents and pending writes, oldest first, so the copy's state
and history are the source's. The savers (SQLite, PostgreSQL) are synchronous: everything
runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from langgraph.errors import InvalidUpdateError

from netra.errors import UserInputError
from netra.graph.topology import NODES
from netra.persistence.models import Thread
from netra.server.resources import AppResources
from netra.server.sse.state import config_of, graph_of

AS_NODES = frozenset(NODES) | {"__start__", "__input__"}


def _channels_checked(graph: Any, values: dict[str, Any] | None) -> None:
    """Raise UserInputError when `values` names a key that is no channel of the state (LangGraph drops those)."""
    wrong = sorted(set(values or {}) - set(graph.stream_channels_list))
    if wrong:
        raise UserInputError(f"values: {wrong[0][:100]!r} is no key of the state: use {graph.stream_channels_list}")


def _update(resources: AppResources, thread: Thread, values: Any, as_node: str | None, at: str | None) -> dict:
    graph = graph_of(resources, thread.workspace_id)
    _channels_checked(graph, values)
    try:
        changed = graph.update_state(config_of(thread.id, at), values, as_node=as_node)
    except InvalidUpdateError as exc:  # an update LangGraph cannot place (no node named, a wrong channel)
        raise UserInputError(f"state update: {exc}") from exc
    return changed["configurable"]


async def update_state(resources: AppResources, thread: Thread, values: Any, as_node: str | None = None,
                       checkpoint_id: str | None = None) -> dict[str, Any]:
    """Write `values` to the thread's state as `as_node`; answer the new checkpoint as the Agent Server does."""
    if as_node is not None and as_node not in AS_NODES:
        raise UserInputError(f"as_node {as_node[:100]!r}: use one of {sorted(AS_NODES)}")
    written = await asyncio.to_thread(_update, resources, thread, values, as_node, checkpoint_id)
    return {"checkpoint": written, "configurable": written, "checkpoint_id": written["checkpoint_id"]}


def _writes_by_task(pending: list[tuple[str, str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    """Return a checkpoint's pending writes grouped by the task that made them."""
    grouped: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for task_id, channel, value in pending or []:
        grouped[task_id].append((channel, value))
    return grouped


def _copy(resources: AppResources, source_id: str, target_id: str) -> int:
    saver = resources.checkpointer()
    copied = list(saver.list({"configurable": {"thread_id": source_id}}))[::-1]  # oldest first: parents first
    for item in copied:
        _put(saver, item, target_id)
    return len(copied)


def _put(saver: Any, item: Any, target_id: str) -> None:
    """Write one checkpoint tuple (and its pending writes) under the target thread."""
    namespace = item.config["configurable"].get("checkpoint_ns", "")
    parent = (item.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    config = {"configurable": {"thread_id": target_id, "checkpoint_ns": namespace, "checkpoint_id": parent}}
    written = saver.put(config, item.checkpoint, item.metadata, dict(item.checkpoint["channel_versions"]))
    for task_id, writes in _writes_by_task(item.pending_writes).items():
        saver.put_writes(written, writes, task_id)


async def copy_checkpoints(resources: AppResources, source_id: str, target_id: str) -> int:
    """Copy every checkpoint of thread `source_id` to thread `target_id`; return how many."""
    return await asyncio.to_thread(_copy, resources, source_id, target_id)


async def drop_checkpoints(resources: AppResources, thread_id: str) -> None:
    """Delete every checkpoint and pending write of the thread."""
    await asyncio.to_thread(lambda: resources.checkpointer().delete_thread(thread_id))
