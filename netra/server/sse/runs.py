"""Runs of the Agent Server API: a question for the Netra graph on one of the user's threads.

    POST /threads/{thread_id}/runs/stream          RunIn  -> SSE: metadata, <stream modes>..., [error], end
    POST /threads/{thread_id}/runs                 RunIn  -> the run (pending), at once; it runs in the background
    GET  /threads/{thread_id}/runs?limit=&offset=         -> [run], newest first
    GET  /threads/{thread_id}/runs/{run_id}               -> the run
    GET  /threads/{thread_id}/runs/{run_id}/join          -> when it ended: the thread's values ({"__error__"}: failed)
    GET  /threads/{thread_id}/runs/{run_id}/stream?stream_mode=...   (Last-Event-ID: n)   -> SSE, after event n
    POST /threads/{thread_id}/runs/{run_id}/cancel?wait=0|1          -> 202 (wait=1: as join)

Every run executes in the background run manager (`resources.runs`: its concurrency
limit, lease, event log), so a client that disconnects never stops it; its graph stream
is logged (`resources.streams`) and any number of clients read it, from any process
with Redis. `multitask_strategy` `reject` answers 409 `thread_busy` while the thread has
a run pending or running; `enqueue` (the default) queues the run after them. A run that
already ended cannot be cancelled (409). Stream answers carry `Location` (the run's
stream, where a client reconnects) and `Content-Location` (the run). See docs/sse.md.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from netra.errors import UserInputError
from netra.persistence.models import Thread
from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.uow import UnitOfWork
from netra.server.owned import SignedIn, Uow
from netra.server.resources import AppResources
from netra.server.runs import Ask, RunEndedError, RunHandle, error_data, with_pause
from netra.server.sse import wire
from netra.server.sse.access import Resources, RunAccess, RunRef, ThreadAccess, after_of, answer, modes_of, run_headers
from netra.server.sse.bodies import STREAM_MODES, SEARCH_LIMIT, RunIn
from netra.server.sse.listener import Listener, joined, run_of
from netra.server.sse.state import thread_values
from netra.server.sse.views import ASSISTANT_ID, GRAPH_ID, run_view
from netra.tenancy import Owner

router = APIRouter(prefix="/threads/{thread_id}/runs", tags=["agent server"])
JOIN_MODES = frozenset(STREAM_MODES) - {"debug", "events"}  # a join naming no mode (e.g. the SDK's reconnect)


async def _tag(uow: UnitOfWork, owner: Owner, thread: Thread) -> None:
    """Note the graph in the thread's metadata, as the Agent Server does (clients search by it)."""
    if (thread.meta or {}).get("graph_id") != GRAPH_ID:
        meta = {**(thread.meta or {}), "graph_id": GRAPH_ID, "assistant_id": ASSISTANT_ID}
        await uow.threads.update(owner.user_id, thread.id, meta=meta)


async def _start(resources: AppResources, uow: UnitOfWork, owner: Owner, thread: Thread, body: RunIn) -> RunHandle:
    """Start the run in the background manager (409 when rejecting on a busy thread)."""
    await _tag(uow, owner, thread)
    await uow.commit()  # the request's transaction ends before the run starts
    return await resources.runs.submit(owner, body.ask(thread.id), body.multitask_strategy)


def _sse(listener: Listener, thread_id: str) -> StreamingResponse:
    """Return the SSE answer of a listener."""
    headers = run_headers(thread_id, listener.run_id, "stream")
    return StreamingResponse(listener.frames(), media_type=wire.MEDIA_TYPE, headers=headers)


async def _result(ref: RunRef) -> Any:
    """Return what a wait answers: the thread's values, or {"__error__": ...} for a failed run."""
    run = await run_of(ref.resources, ref.owner, ref.run_id)
    if run is not None and run.status == "error":
        return {"__error__": error_data(run.status, run.error)}
    values = (await thread_values(ref.resources, ref.owner.workspace_id, [ref.thread_id]))[ref.thread_id] or {}
    return await with_pause(ref.resources, ref.thread_id, values)  # paused: + `__interrupt__`


def _joining(ref: RunRef) -> StreamingResponse:
    """Return the answer that waits for the run's end (newlines meanwhile), then its result."""
    body = joined(ref.resources, ref.owner, ref.run_id, lambda: _result(ref))
    return StreamingResponse(body, media_type="application/json", headers=run_headers(ref.thread_id, ref.run_id,
                                                                                        "join"))


@router.post("/stream")
async def stream_run(thread: ThreadAccess, body: RunIn, user: SignedIn, uow: Uow, resources: Resources) -> Response:
    """Start a run and stream it: metadata, the asked modes' events, error (failed), end."""
    handle = await _start(resources, uow, user.owner, thread, body)
    return _sse(Listener(resources, user.owner, handle.run_id, body.modes()), thread.id)


@router.post("")
async def create_run(thread: ThreadAccess, body: RunIn, user: SignedIn, uow: Uow, resources: Resources) -> Response:
    """Start a run in the background; answer the run (pending)."""
    handle = await _start(resources, uow, user.owner, thread, body)
    run = await run_of(resources, user.owner, handle.run_id)
    return answer(run_view(run), {"Content-Location": f"/threads/{thread.id}/runs/{handle.run_id}"})


@router.get("")
async def list_runs(thread: ThreadAccess, user: SignedIn, uow: Uow, status: str | None = None,
                    limit: int = Query(SEARCH_LIMIT, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0, le=10**9)) -> Response:
    """List the thread's runs, newest first."""
    if status:
        raise UserInputError("status: filtering runs by status is not supported")
    rows = await uow.runs.for_thread(user.user_id, thread.id, limit=limit, offset=offset)
    return answer([run_view(run) for run in rows])


@router.get("/{run_id}")
async def get_run(ref: RunAccess) -> JSONResponse:
    """Return the run (status `pending`, `running`, `success`, `error` or `interrupted`)."""
    return answer(ref.view)


@router.get("/{run_id}/join")
async def join_run(ref: RunAccess) -> Response:
    """Wait for the run to end; answer the thread's values (a failed run: {"__error__": ...})."""
    return _joining(ref)


@router.get("/{run_id}/stream")
async def join_stream(ref: RunAccess, stream_mode: list[str] = Query([]), cancel_on_disconnect: bool = False,
                      last_event_id: str | None = Header(None)) -> Response:
    """Stream the run: everything logged after `Last-Event-ID` (metadata first without one), live to its end."""
    if cancel_on_disconnect:
        raise UserInputError("cancel_on_disconnect: a disconnect never stops a Netra run; cancel it instead")
    modes = modes_of(stream_mode, STREAM_MODES, JOIN_MODES)
    return _sse(Listener(ref.resources, ref.owner, ref.run_id, modes, after_of(last_event_id)), ref.thread_id)


@router.post("/{run_id}/cancel")
async def cancel_run(ref: RunAccess, wait: bool = False, action: Literal["interrupt"] = "interrupt") -> Response:
    """Cancel the run (202); with `wait`, answer as join once it ended. A run that ended: 409."""
    if not await ref.resources.runs.cancel(ref.owner, ref.run_id):
        raise RunEndedError(f"run {ref.run_id!r} has already ended")
    return _joining(ref) if wait else Response(status_code=202)
