"""Runs paused for approval: what a thread waits for, and whether a decision may continue it.

    payload = await paused(pools, thread_id)               # the interrupt's payload, or None
    values = await with_pause(pools, thread_id, values)    # + "__interrupt__" while paused
    request = await admitted(pools, owner, thread_id, RunRequest("", decision={"drop": [...]}))

A thread waits for approval while its latest checkpoint holds a pending interrupt of the
actions agent (`netra.graph.approval`); the payload lists the recommendations on offer.
`admitted` checks a decision before its run is recorded: the thread must be the owner's
(NotFoundError), be waiting (NotWaitingError, 409) and the decision must be of the right
shape and name offered ids only (DecisionError, 400). The run's question becomes the
decision as the thread shows it ("Approve all recommendations", "Drop: id, ...").
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from netra.errors import ConflictError, UserInputError
from langgraph.types import Command

from netra.graph.approval import checked, offered_ids, pending_approval, waiting_for
from netra.graph.runner import run_config, state_reader
from netra.persistence.repositories import NotFoundError
from netra.server.runs.pools import Pools
from netra.server.runs.request import RunRequest
from netra.tenancy import Owner

# a decision's key -> how the thread shows it
SAID = {"approve": "Approve only", "drop": "Drop"}


class NotWaitingError(ConflictError):
    """A decision was sent for a thread that is not waiting for approval (409)."""


def _pending(pools: Pools, thread_id: str) -> Any:
    """Return the thread's pending approval interrupt (`value`, `id`), or None (blocking)."""
    graph = state_reader(pools.settings, pools.checkpointer())
    return pending_approval(graph.get_state(run_config(thread_id)))


def still_paused(graph: Any, config: dict[str, Any], inputs: Any) -> None:
    """Raise NotWaitingError when a decision reaches a thread no longer paused (another decision came first)."""
    if isinstance(inputs, Command) and waiting_for(graph.get_state(config)) is None:
        raise NotWaitingError("the thread is no longer waiting for approval: another decision continued it")


async def paused(pools: Pools, thread_id: str) -> dict[str, Any] | None:
    """Return what the thread waits for (the interrupt's payload), or None (the caller checked whose it is)."""
    pending = await asyncio.to_thread(_pending, pools, thread_id)
    return None if pending is None else pending.value


async def with_pause(pools: Pools, thread_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a thread's values with `__interrupt__` ([{"value", "id"}]) while it waits for approval (Agent Server)."""
    pending = await asyncio.to_thread(_pending, pools, thread_id)
    return values if pending is None else {**values, "__interrupt__": [{"value": pending.value, "id": pending.id}]}


async def _owned(pools: Pools, owner: Owner, thread_id: str | None) -> str:
    """Return the thread id when it is the owner's (UserInputError: none given; NotFoundError: not theirs)."""
    if thread_id is None:
        raise UserInputError("a decision continues a paused run: name its thread (thread_id)")
    async with pools.uow(owner.workspace_id) as uow:
        if await uow.threads.get(owner.user_id, thread_id) is None:
            raise NotFoundError(f"thread {thread_id!r} not found")
    return thread_id


def said(decision: Any) -> str:
    """Return a (checked) decision as the thread shows it."""
    if decision is True:
        return "Approve all recommendations"
    key, ids = next(iter(decision.items()))
    return f"{SAID[key]}: {', '.join(ids) or 'none'}"


async def admitted(pools: Pools, owner: Owner, thread_id: str | None, request: RunRequest) -> RunRequest:
    """Return the request, a decision checked against what the thread waits for (its question: the decision)."""
    if request.decision is None:
        return request
    payload = await paused(pools, await _owned(pools, owner, thread_id))
    if payload is None:
        raise NotWaitingError(f"thread {thread_id!r} is not waiting for approval: there is no paused run to resume")
    checked(request.decision, offered_ids(payload))
    return dataclasses.replace(request, question=said(request.decision))
