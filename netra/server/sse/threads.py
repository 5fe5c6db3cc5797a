"""Threads of the Agent Server API: the signed-in user's Netra threads, their state and history.

    POST /threads                          {"metadata"?}                       -> thread
    GET  /threads/{thread_id}                                                   -> thread (with its values)
    POST /threads/search                   {"limit"?, "offset"?, "metadata"?, "ids"?, "status"?}  -> [thread]
    GET  /threads/{thread_id}/state                                             -> ThreadState
    POST /threads/{thread_id}/history      {"limit"?, "before"?, "metadata"?}  -> [ThreadState], newest first

A thread is {"thread_id", "created_at", "updated_at", "metadata", "status" ("idle"|"busy"),
"config", "values", "interrupts"} (views.thread_view); the thread is a Netra thread, also
listed by `GET /api/threads`. Search lists the user's threads newest first; `metadata`
keeps those whose metadata holds every given key and value. Answers are bare lists, as
the SDK expects (not the `/api` page shape). Missing or another user's thread: 404.
"""

from __future__ import annotations

from typing import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from netra.persistence.models import Thread
from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.uow import UnitOfWork
from netra.server.owned import SignedIn, Uow, plausible_id
from netra.server.resources import AppResources
from netra.server.runs.recovery import UNFINISHED
from netra.server.sse.access import Resources, ThreadAccess, answer
from netra.server.sse.bodies import HistoryIn, ThreadIn, ThreadSearch
from netra.server.sse.state import history, thread_state, thread_values
from netra.server.sse.views import thread_view

router = APIRouter(tags=["agent server"])


async def busy(uow: UnitOfWork, user_id: str, thread_id: str) -> bool:
    """Return whether the thread has a run pending or running."""
    runs = await uow.runs.for_thread(user_id, thread_id, limit=MAX_LIMIT)
    return any(run.status in UNFINISHED for run in runs)


async def viewed(resources: AppResources, uow: UnitOfWork, user_id: str, threads: list[Thread]) -> list[dict]:
    """Return the threads as the Agent Server shows them: status and latest values."""
    values = await thread_values(resources, uow.tenant.required(), [thread.id for thread in threads])
    return [thread_view(thread, await busy(uow, user_id, thread.id), values[thread.id]) for thread in threads]


async def _all(uow: UnitOfWork, user_id: str) -> AsyncIterator[Thread]:
    """Yield the user's threads, newest first, a page at a time."""
    offset = 0
    while page := await uow.threads.list(user_id, limit=MAX_LIMIT, offset=offset):
        for thread in page:
            yield thread
        offset += len(page)


async def _named(uow: UnitOfWork, user_id: str, ids: list[str]) -> AsyncIterator[Thread]:
    """Yield the user's threads of `ids`, in that order (others' and missing ones skipped)."""
    for thread_id in ids:
        thread = await uow.threads.get(user_id, thread_id) if plausible_id(thread_id) else None
        if thread is not None:
            yield thread


async def _fits(uow: UnitOfWork, user_id: str, thread: Thread, search: ThreadSearch) -> bool:
    """Return whether the thread passes the search's metadata and status filters."""
    if any((thread.meta or {}).get(key) != value for key, value in (search.metadata or {}).items()):
        return False
    return search.status is None or search.status == ("busy" if await busy(uow, user_id, thread.id) else "idle")


async def _fitting(uow: UnitOfWork, user_id: str, search: ThreadSearch) -> AsyncIterator[Thread]:
    """Yield the user's threads the search's filters keep, newest first (or in the order of `ids`)."""
    threads = _named(uow, user_id, search.ids) if search.ids is not None else _all(uow, user_id)
    async for thread in threads:
        if await _fits(uow, user_id, thread, search):
            yield thread


async def _first(threads: AsyncIterator[Thread], count: int) -> list[Thread]:
    """Return the first `count` threads."""
    found: list[Thread] = []
    async for thread in threads:
        found.append(thread)
        if len(found) >= count:
            break
    return found


async def matching(uow: UnitOfWork, user_id: str, search: ThreadSearch) -> list[Thread]:
    """Return the page of the user's threads the search asks for."""
    if search.ids is None and not search.metadata and search.status is None:
        return await uow.threads.list(user_id, limit=search.limit, offset=search.offset)
    return (await _first(_fitting(uow, user_id, search), search.offset + search.limit))[search.offset:]


@router.post("/threads")
async def create_thread(body: ThreadIn, user: SignedIn, uow: Uow) -> JSONResponse:
    """Create a thread of the signed-in user (`metadata` kept)."""
    thread = await uow.threads.create(user.user_id, title="", meta=body.metadata)
    await uow.commit()
    return answer(thread_view(thread, busy=False))


@router.post("/threads/search")
async def search_threads(body: ThreadSearch, user: SignedIn, uow: Uow, resources: Resources) -> JSONResponse:
    """List the user's threads the search matches, newest first."""
    return answer(await viewed(resources, uow, user.user_id, await matching(uow, user.user_id, body)))


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
