"""What the Agent Server routes share: the dependencies of a user's thread and run, headers, parsing.

    @router.get("/threads/{thread_id}/runs/{run_id}")
    async def get_run(ref: RunAccess) -> JSONResponse: ...    # 404 unless the user's run of that thread

Every route needs a bearer token (`signed_in`: 401); a thread or run that is missing or
another user's answers 404 `not_found`, and so does a run asked for under another thread.
`RunAccess` ends the request's transaction (streams and waits hold no database connection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from netra.errors import UserInputError
from netra.persistence.models import Thread
from netra.persistence.repositories.base import NotFoundError
from netra.server.deps import get_resources
from netra.server.owned import SignedIn, Uow, owned
from netra.server.resources import AppResources
from netra.server.sse.views import run_view
from netra.tenancy import Owner

Resources = Annotated[AppResources, Depends(get_resources)]
EVENT_ID = re.compile(r"[0-9]{1,18}")


@dataclass
class RunRef:
    """A run of the signed-in user, found under its thread: its owner, ids and view (read before the rollback)."""

    resources: AppResources
    owner: Owner
    thread_id: str
    run_id: str
    view: dict[str, Any]


async def thread_ref(thread_id: str, user: SignedIn, uow: Uow) -> Thread:
    """Dependency: the user's thread (404 when missing or another user's)."""
    return await owned(uow.threads, user.user_id, thread_id, "thread")


async def run_ref(thread_id: str, run_id: str, user: SignedIn, uow: Uow, resources: Resources) -> RunRef:
    """Dependency: the user's run of the thread (404 otherwise); the request's transaction is ended."""
    run = await owned(uow.runs, user.user_id, run_id, "run")
    if run.thread_id != thread_id:
        raise NotFoundError("run not found")
    ref = RunRef(resources, user.owner, thread_id, run.id, run_view(run))
    await uow.rollback()  # a stream or a wait must not keep a connection in a transaction (records expire)
    return ref


ThreadAccess = Annotated[Thread, Depends(thread_ref)]
RunAccess = Annotated[RunRef, Depends(run_ref)]


def run_headers(thread_id: str, run_id: str, tail: str) -> dict[str, str]:
    """Return the headers of a run's stream or wait: `Location` (where to reconnect), `Content-Location` (the run)."""
    base = f"/threads/{thread_id}/runs/{run_id}"
    return {"Location": f"{base}/{tail}", "Content-Location": base, "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"}


def answer(content: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """Return `content` (plain JSON data) as a 200 JSON answer."""
    return JSONResponse(content, headers=headers)


def after_of(last_event_id: str | None) -> int | None:
    """Return the event id a client resumes after (`Last-Event-ID`), or None (400 when it is no id)."""
    if not last_event_id:
        return None
    if not EVENT_ID.fullmatch(last_event_id.strip()):
        raise UserInputError("Last-Event-ID: expected the id of an event this stream sent (a number)")
    return int(last_event_id)


def modes_of(given: list[str], allowed: tuple[str, ...], default: frozenset[str]) -> frozenset[str]:
    """Return the stream modes of a query (`stream_mode` repeated; empty values skipped), else `default` (422)."""
    modes = frozenset(mode for mode in given if mode)
    wrong = sorted(modes - set(allowed))
    if wrong:
        raise RequestValidationError([{"loc": ("query", "stream_mode"), "type": "literal_error",
                                       "msg": f"unknown stream mode {wrong[0]!r}: use one of {list(allowed)}"}])
    return modes or default
