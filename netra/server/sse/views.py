"""The Agent Server shapes of Netra's records and graph state, as langgraph-sdk reads them.

    assistant()                           # the one assistant: id and graph id `netra`
    thread_view(thread, busy, latest)     # {"thread_id", "created_at", "updated_at", "metadata", "status", ...}
    run_view(run)                         # {"run_id", "thread_id", "assistant_id", "status", ...}
    state_view(snapshot)                  # a LangGraph StateSnapshot as the Agent Server's ThreadState

Times are ISO 8601 with the UTC offset. A thread is `busy` while it has a run pending or
running, else `interrupted` while its latest checkpoint waits on a human (`interrupts`:
{task id: [{"value", "id"}]}), else `idle`; its `values` are its latest checkpoint's state
(null before its first run). A run's status is the record's, with `cancelled` shown as the Agent Server's
`interrupted`. State values are plain JSON (`wire.jsonable`: messages as their dicts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from netra.persistence.models import Run, Thread
from netra.server.bounded import shown
from netra.server.runs.status import agent_server_status, thread_status as status_of
from netra.server.sse.wire import jsonable

ASSISTANT_ID = GRAPH_ID = "netra"
ASSISTANT_IDS = (ASSISTANT_ID, "agent")  # "agent": the id agent-chat-ui and the LangGraph templates use
EPOCH = "1970-01-01T00:00:00+00:00"
DESCRIPTION = ("Netra's agents (triage, data, optimizations_core, actions_to_meet_goals, reporting) answer a "
               "question about LLM workload telemetry with a grounded report.")


def iso(moment: datetime | None) -> str | None:
    """Return `moment` as ISO 8601 with its UTC offset (a naive time is UTC), or None."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def assistant() -> dict[str, Any]:
    """Return the one assistant: the Netra graph."""
    return {"assistant_id": ASSISTANT_ID, "graph_id": GRAPH_ID, "name": GRAPH_ID, "description": DESCRIPTION,
            "config": {}, "context": {}, "metadata": {"created_by": "system"}, "version": 1,
            "created_at": EPOCH, "updated_at": EPOCH}


@dataclass(frozen=True)
class Latest:
    """A thread's latest checkpoint as its view shows it: values (None before any run), pending interrupts."""

    values: Any = None
    interrupts: dict[str, list[Any]] = field(default_factory=dict)  # task id -> [{"value", "id"}]

    @classmethod
    def of(cls, snapshot: Any) -> Latest:
        """Return what a state snapshot shows of a thread."""
        return cls(None if snapshot.created_at is None else jsonable(snapshot.values), interrupts_of(snapshot))


def interrupts_of(snapshot: Any) -> dict[str, list[Any]]:
    """Return a snapshot's pending interrupts by task id, as the Agent Server's `Thread.interrupts`."""
    return {task.id: jsonable(list(task.interrupts)) for task in snapshot.tasks if task.interrupts}


def thread_status(busy: bool, latest: Latest) -> str:
    """Return a thread's status: `busy` (a run pending or running), `interrupted` (waiting on a human), `idle`."""
    return status_of(busy, bool(latest.interrupts))


def thread_view(thread: Thread, busy: bool, latest: Latest = Latest()) -> dict[str, Any]:
    """Return a thread of the user as the Agent Server shows it."""
    return {"thread_id": thread.id, "created_at": iso(thread.created_at), "updated_at": iso(thread.updated_at),
            "metadata": shown(thread.meta or {}), "status": thread_status(busy, latest), "config": {},
            "values": latest.values, "interrupts": latest.interrupts}


def run_view(run: Run) -> dict[str, Any]:
    """Return a run of the user as the Agent Server shows it (`kwargs.input` holds its question)."""
    return {"run_id": run.id, "thread_id": run.thread_id, "assistant_id": ASSISTANT_ID,
            "created_at": iso(run.created_at), "updated_at": iso(run.finished_at or run.started_at or run.created_at),
            "status": agent_server_status(run.status), "metadata": {}, "multitask_strategy": None,
            "kwargs": {"input": {"question": run.question, "strategy": run.strategy}}, "error": run.error}


def checkpoint_of(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the checkpoint a config names ({"checkpoint_id", "thread_id", "checkpoint_ns"}), or None."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("checkpoint_id"):
        return None
    return {key: configurable.get(key, "") for key in ("checkpoint_id", "thread_id", "checkpoint_ns")}


def task_view(task: Any) -> dict[str, Any]:
    """Return a pending task of a state snapshot."""
    return {"id": task.id, "name": task.name, "path": jsonable(task.path), "error": task.error and str(task.error),
            "interrupts": jsonable(list(task.interrupts)), "checkpoint": None, "state": None,
            "result": jsonable(getattr(task, "result", None))}


def state_view(snapshot: Any) -> dict[str, Any]:
    """Return a LangGraph StateSnapshot as the Agent Server's thread state."""
    checkpoint, parent = checkpoint_of(snapshot.config), checkpoint_of(snapshot.parent_config)
    return {"values": jsonable(snapshot.values), "next": list(snapshot.next),
            "tasks": [task_view(task) for task in snapshot.tasks], "metadata": jsonable(snapshot.metadata),
            "created_at": snapshot.created_at, "checkpoint": checkpoint, "parent_checkpoint": parent,
            "interrupts": jsonable(list(snapshot.interrupts)),
            "checkpoint_id": checkpoint and checkpoint["checkpoint_id"],
            "parent_checkpoint_id": parent and parent["checkpoint_id"]}
