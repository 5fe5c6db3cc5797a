"""Threads of the Agent Server API: the signed-in user's Netra threads, their state and history.

    POST /threads                          {"metadata"?}                       -> thread
    GET  /threads/{thread_id}                                                   -> thread (with its values)
    POST /threads/search                   {"limit"?, "offset"?, "metadata"?, "ids"?, "status"?}  -> [thread]
    GET  /threads/{thread_id}/state                                             -> ThreadState
    POST /threads/{thread_id}/history      {"limit"?, "before"?, "metadata"?}  -> [ThreadState], newest first
    PATCH  /threads/{thread_id}            {"metadata"}                        -> thread (metadata merged)
    DELETE /threads/{thread_id}                                                 -> 204
    POST /threads/{thread_id}/copy                                              -> a new thread, same checkpoints
    POST /threads/{thread_id}/state        {"values"?, "as_node"?, "checkpoint"?|"checkpoint_id"?}  -> {"checkpoint"}

A thread is {"thread_id", "created_at", "updated_at", "metadata", "status" ("idle"|"busy"|"interrupted"),
"config", "values", "interrupts"} (views.thread_view); the thread is a Netra thread, also
listed by `GET /api/threads`. Search lists the user's threads newest first; `metadata`
keeps those whose metadata holds every given key and value, `status` those of that status. Answers are bare lists, as
the SDK expects (not the `/api` page shape). Missing or another user's thread: 404.
Deleting a thread cancels its unfinished runs, deletes it with its runs (the records
cascade, so their streams answer 404) and then its checkpoints. A copy is a new thread of
the same user and workspace with the source's title, metadata and checkpoints (not its runs).
A state update is refused (409 `thread_busy`) while a run of the thread is pending or running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from netra.persistence.models import Thread
from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.uow import UnitOfWork
from netra.server.owned import SignedIn, Uow, plausible_id
from netra.server.resources import AppResources
from netra.server.runs import UNFINISHED, RunRecords, ThreadBusyError
from netra.server.sse.access import Resources, ThreadAccess, answer
from netra.server.sse.bodies import HistoryIn, StateUpdate, ThreadIn, ThreadPatch, ThreadSearch
from netra.server.sse.checkpoints import copy_checkpoints, drop_checkpoints, update_state
from netra.server.sse.state import history, thread_latest, thread_state
from netra.server.sse.views import thread_status, thread_view

router = APIRouter(tags=["agent server"])


async def busy(uow: UnitOfWork, user_id: str, thread_id: str) -> bool:
    """Return whether the thread has a run pending or running."""
    runs = await uow.runs.for_thread(user_id, thread_id, limit=MAX_LIMIT)
    return any(run.status in UNFINISHED for run in runs)


async def viewed(resources: AppResources, uow: UnitOfWork, user_id: str, threads: list[Thread]) -> list[dict]:
    """Return the threads as the Agent Server shows them: status, latest values and pending interrupts."""
    latest = await thread_latest(resources, uow.tenant.required(), [thread.id for thread in threads])
    return [thread_view(thread, await busy(uow, user_id, thread.id), latest[thread.id]) for thread in threads]


@dataclass
class Search:
    """One `POST /threads/search` of the signed-in user: the page of their threads its filters keep."""

    resources: AppResources
    uow: UnitOfWork
    user_id: str
    body: ThreadSearch

    async def page(self) -> list[Thread]:
        """Return the page of the user's threads the search asks for."""
        body = self.body
        if body.ids is None and not body.metadata and body.status is None:
            return await self.uow.threads.list(self.user_id, limit=body.limit, offset=body.offset)
        return (await _first(self._fitting(), body.offset + body.limit))[body.offset:]

    async def _fitting(self) -> AsyncIterator[Thread]:
        """Yield the user's threads the filters keep, newest first (or in the order of `ids`)."""
        threads = self._all() if self.body.ids is None else self._named(self.body.ids)
        async for thread in threads:
            if await self._fits(thread):
                yield thread

    async def _fits(self, thread: Thread) -> bool:
        """Return whether the thread passes the metadata and status filters."""
        if any((thread.meta or {}).get(key) != value for key, value in (self.body.metadata or {}).items()):
            return False
        return self.body.status is None or self.body.status == await self._status(thread)

    async def _status(self, thread: Thread) -> str:
        if await busy(self.uow, self.user_id, thread.id):
            return "busy"
        latest = await thread_latest(self.resources, thread.workspace_id, [thread.id])
        return thread_status(False, latest[thread.id])

    async def _all(self) -> AsyncIterator[Thread]:
        """Yield the user's threads, newest first, a page at a time."""
        offset = 0
        while page := await self.uow.threads.list(self.user_id, limit=MAX_LIMIT, offset=offset):
            for thread in page:
                yield thread
            offset += len(page)

    async def _named(self, ids: list[str]) -> AsyncIterator[Thread]:
        """Yield the user's threads of `ids`, in that order (others' and missing ones skipped)."""
        for thread_id in ids:
            thread = await self.uow.threads.get(self.user_id, thread_id) if plausible_id(thread_id) else None
            if thread is not None:
                yield thread


async def _first(threads: AsyncIterator[Thread], count: int) -> list[Thread]:
    """Return the first `count` threads."""
    found: list[Thread] = []
    async for thread in threads:
        found.append(thread)
        if len(found) >= count:
            break
    return found


@router.post("/threads")
async def create_thread(body: ThreadIn, user: SignedIn, uow: Uow) -> JSONResponse:
    """Create a thread of the signed-in user (`metadata` kept)."""
    thread = await uow.threads.create(user.user_id, title="", meta=body.metadata)
    await uow.commit()
    return answer(thread_view(thread, busy=False))


@router.post("/threads/search")
async def search_threads(body: ThreadSearch, user: SignedIn, uow: Uow, resources: Resources) -> JSONResponse:
    """List the user's threads the search matches, newest first."""
    found = await Search(resources, uow, user.user_id, body).page()
    return answer(await viewed(resources, uow, user.user_id, found))


@router.get("/threads/{thread_id}")
async def get_thread(thread: ThreadAccess, user: SignedIn, uow: Uow, resources: Resources) -> JSONResponse:
    """Return one of the user's threads with its status and latest values."""
    return answer((await viewed(resources, uow, user.user_id, [thread]))[0])


@router.get("/threads/{thread_id}/state")
async def get_state(thread: ThreadAccess, resources: Resources) -> JSONResponse:
    """Return the thread's latest state (values, next, tasks, checkpoint, metadata, ...)."""
    return answer(await thread_state(resources, thread))


@router.post("/threads/{thread_id}/history")
async def get_history(thread: ThreadAccess, body: HistoryIn, resources: Resources) -> JSONResponse:
    """Return the thread's states from the checkpointer, newest first."""
    return answer(await history(resources, thread, body.limit, body.before, body.metadata))


@router.patch("/threads/{thread_id}")
async def patch_thread(thread: ThreadAccess, body: ThreadPatch, user: SignedIn, uow: Uow,
                       resources: Resources) -> JSONResponse:
    """Merge `metadata` into the thread's (the result held to the same caps); answer the thread."""
    changed = await uow.threads.update(user.user_id, thread.id, meta=body.merged(thread.meta))
    await uow.commit()
    return answer((await viewed(resources, uow, user.user_id, [changed]))[0])


@router.delete("/threads/{thread_id}", status_code=204, response_class=Response)
async def delete_thread(thread: ThreadAccess, user: SignedIn, uow: Uow, resources: Resources) -> Response:
    """Delete the thread: its unfinished runs cancelled, its records (runs cascade), then its checkpoints."""
    for run_id in await RunRecords.of(resources).unfinished_of(user.owner, thread.id):
        await resources.runs.cancel(user.owner, run_id)
    await uow.threads.delete(user.user_id, thread.id)
    await uow.commit()
    await drop_checkpoints(resources, thread.id)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy")
async def copy_thread(thread: ThreadAccess, user: SignedIn, uow: Uow, resources: Resources) -> JSONResponse:
    """Copy the thread to a new thread of the user: its title, metadata and checkpoints."""
    copy = await uow.threads.create(user.user_id, title=thread.title, meta=dict(thread.meta or {}))
    await uow.commit()
    await copy_checkpoints(resources, thread.id, copy.id)
    return answer((await viewed(resources, uow, user.user_id, [copy]))[0])


@router.post("/threads/{thread_id}/state")
async def post_state(thread: ThreadAccess, body: StateUpdate, user: SignedIn, resources: Resources) -> JSONResponse:
    """Write `values` to the thread's state as node `as_node`, after the latest checkpoint or `checkpoint_id`."""
    if await RunRecords.of(resources).unfinished_of(user.owner, thread.id):
        raise ThreadBusyError(f"thread {thread.id!r} has a run pending or running: update its state after it ends")
    return answer(await update_state(resources, thread, body.values, body.as_node, body.at()))
