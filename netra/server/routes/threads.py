"""Threads of the signed-in user, their messages and their runs.

    POST   /api/threads                        {"title"?, "metadata"?}   -> 201 thread
    GET    /api/threads?limit=&offset=                                   -> page of my threads, newest first
    GET    /api/threads/{thread_id}                                      -> thread
    PATCH  /api/threads/{thread_id}            {"title"?, "metadata"?}   -> thread (renamed)
    DELETE /api/threads/{thread_id}                                      -> 204 (messages, runs, reports go too)
    GET    /api/threads/{thread_id}/messages?limit=&offset=              -> page of messages, newest first
    POST   /api/threads/{thread_id}/messages   {"content", "role": "user"} -> 201 message
    GET    /api/threads/{thread_id}/runs?limit=&offset=                  -> page of runs, newest first

Every route needs a bearer token (401). A thread that is missing or another user's answers
404 `not_found` on every route, lists of its children included. Bodies with unknown
fields, out-of-range values or a bad page answer 422 `validation_failed`; so does metadata
nested deeper than 32 levels or over 64 KiB of JSON (`netra.server.bounded`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field, model_validator

from netra.persistence.repositories.base import NotFoundError
from netra.server.bounded import JsonObject
from netra.server.owned import Body, PageQuery, SignedIn, Uow, owned, plausible_id
from netra.server.pagination import Page, page_of
from netra.server.views import MessageOut, RunOut, ThreadOut

router = APIRouter(prefix="/api/threads", tags=["threads"])
MAX_TITLE = 300
MAX_CONTENT = 20_000


class ThreadIn(Body):
    """A new thread."""

    title: str = Field("", max_length=MAX_TITLE)
    metadata: JsonObject = Field(default_factory=dict)


class ThreadChange(Body):
    """A change to a thread: a new title, new metadata (replacing the old), or both."""

    title: str | None = Field(None, max_length=MAX_TITLE)
    metadata: JsonObject | None = None

    @model_validator(mode="after")
    def _something(self) -> ThreadChange:
        if self.title is None and self.metadata is None:
            raise ValueError("send a title, metadata or both")
        return self

    def columns(self) -> dict[str, Any]:
        """Return the column values to set (`metadata` is the `meta` attribute)."""
        values = {"title": self.title, "meta": self.metadata}
        return {key: value for key, value in values.items() if value is not None}


class MessageIn(Body):
    """A message a client adds to a thread (only the user speaks through the API)."""

    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    role: Literal["user"] = "user"


@router.post("", status_code=201, response_model=ThreadOut)
async def create_thread(body: ThreadIn, user: SignedIn, uow: Uow) -> ThreadOut:
    """Create a thread of the signed-in user."""
    thread = await uow.threads.create(user.user_id, title=body.title, meta=body.metadata)
    await uow.commit()
    return ThreadOut.of(thread)


@router.get("", response_model=Page[ThreadOut])
async def list_threads(page: PageQuery, user: SignedIn, uow: Uow) -> Page[ThreadOut]:
    """List the signed-in user's threads, newest first."""
    rows = await uow.threads.list(user.user_id, limit=page.limit, offset=page.offset)
    return page_of([ThreadOut.of(row) for row in rows], page)


@router.get("/{thread_id}", response_model=ThreadOut)
async def get_thread(thread_id: str, user: SignedIn, uow: Uow) -> ThreadOut:
    """Return one of the user's threads (404 when missing or another user's)."""
    return ThreadOut.of(await owned(uow.threads, user.user_id, thread_id, "thread"))


@router.patch("/{thread_id}", response_model=ThreadOut)
async def change_thread(thread_id: str, body: ThreadChange, user: SignedIn, uow: Uow) -> ThreadOut:
    """Rename a thread and/or replace its metadata."""
    await owned(uow.threads, user.user_id, thread_id, "thread")
    thread = await uow.threads.update(user.user_id, thread_id, **body.columns())
    await uow.commit()
    return ThreadOut.of(thread)


@router.delete("/{thread_id}", status_code=204, response_class=Response)
async def delete_thread(thread_id: str, user: SignedIn, uow: Uow) -> Response:
    """Delete a thread; its messages, runs, agent runs and reports cascade."""
    if not (plausible_id(thread_id) and await uow.threads.delete(user.user_id, thread_id)):
        raise NotFoundError("thread not found")
    await uow.commit()
    return Response(status_code=204)


@router.get("/{thread_id}/messages", response_model=Page[MessageOut])
async def list_messages(thread_id: str, page: PageQuery, user: SignedIn, uow: Uow) -> Page[MessageOut]:
    """List a thread's messages, newest first (404 when the thread is not the user's)."""
    await owned(uow.threads, user.user_id, thread_id, "thread")
    rows = await uow.messages.for_thread(user.user_id, thread_id, limit=page.limit, offset=page.offset)
    return page_of([MessageOut.of(row) for row in rows], page)


@router.post("/{thread_id}/messages", status_code=201, response_model=MessageOut)
async def add_message(thread_id: str, body: MessageIn, user: SignedIn, uow: Uow) -> MessageOut:
    """Add a user message to a thread (404 when the thread is not the user's)."""
    await owned(uow.threads, user.user_id, thread_id, "thread")
    message = await uow.messages.create(user.user_id, thread_id=thread_id, role=body.role, content=body.content)
    await uow.commit()
    return MessageOut.of(message)


@router.get("/{thread_id}/runs", response_model=Page[RunOut])
async def list_runs(thread_id: str, page: PageQuery, user: SignedIn, uow: Uow) -> Page[RunOut]:
    """List a thread's runs, newest first (404 when the thread is not the user's)."""
    await owned(uow.threads, user.user_id, thread_id, "thread")
    rows = await uow.runs.for_thread(user.user_id, thread_id, limit=page.limit, offset=page.offset)
    return page_of([RunOut.of(row) for row in rows], page)
