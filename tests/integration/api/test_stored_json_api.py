"""What a client's values cannot do, on both backends: break later reads, or get a 500.

JSON that is kept (thread metadata, a run's input) is held to 32 levels and 64 KiB (422); a
body nesting too deeply to parse answers 400; a value the database refuses answers 400 and
stores nothing; a value the analytics store cannot read answers 400 without its text. After
every one of them the owner's thread list still answers 200.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from netra.persistence.db import make_engine
from netra.persistence.models import Thread
from netra.server.bounded import UNREADABLE

BACKEND_TEXT = ("DB::Exception", "SELECT", "workload_events", "Code:", "chdb", "/tmp", "postgresql", "psycopg")


def nested(depth: int) -> dict[str, Any]:
    """Return an object whose objects nest `depth` levels deep (`{}` is one level)."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def raw(text: str) -> dict[str, Any]:
    """Return request options sending `text` as a JSON body as is."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


# what is sent -> the status on each backend (embedded, services); the thread list must answer 200 after each
SENT: list[tuple[str, str, dict[str, Any], tuple[int, int]]] = [
    ("POST", "/api/threads", {"json": {"metadata": nested(500)}}, (422, 422)),
    ("POST", "/api/threads", {"json": {"metadata": nested(33)}}, (422, 422)),
    ("POST", "/api/threads", {"json": {"metadata": nested(32)}}, (201, 201)),
    ("POST", "/api/threads", {"json": {"metadata": {"blob": "x" * 70_000}}}, (422, 422)),
    ("POST", "/api/threads", raw('{"metadata": {"ratio": NaN}}'), (422, 422)),
    ("PATCH", "/api/threads/{thread}", {"json": {"metadata": nested(500)}}, (422, 422)),
    ("POST", "/threads", {"json": {"metadata": nested(500)}}, (422, 422)),
    ("POST", "/threads/{thread}/runs", {"json": {"assistant_id": "netra", "input": nested(500)}}, (422, 422)),
    ("POST", "/api/tools/cost_analyzer", {"json": {"feature": "x", "extra": nested(100)}}, (422, 422)),
    ("POST", "/api/threads", raw("[" * 100_000 + "]" * 100_000), (400, 400)),
    ("POST", "/api/tools/cost_analyzer", raw("[" * 100_000 + "]" * 100_000), (400, 400)),
    ("POST", "/api/threads", {"json": {"title": "nul\u0000byte"}}, (201, 400)),
    ("POST", "/api/threads", {"json": {"metadata": {"note": "nul\u0000byte"}}}, (201, 400)),
]
IDS = ["depth-500", "depth-33", "depth-32", "70-KiB", "NaN", "patch", "sse-thread", "sse-run-input", "tool-args",
       "unparseable", "unparseable-tool", "nul-title", "nul-metadata"]


def reads(client: httpx.Client, thread: str) -> list[int]:
    """Return the statuses of the owner's reads of threads: the list, the thread, the Agent Server search."""
    return [client.get("/api/threads").status_code, client.get(f"/api/threads/{thread}").status_code,
            client.post("/threads/search", json={}).status_code]


@pytest.mark.parametrize(("method", "path", "sent", "statuses"), SENT, ids=IDS)
def test_no_value_breaks_the_owners_reads(api, method, path, sent, statuses):
    alice = api.login("alice@example.com")
    thread = alice.post("/api/threads", json={"title": "kept"}).json()["id"]
    answer = alice.request(method, path.format(thread=thread), **sent)
    assert answer.status_code == statuses[api.settings.redis_url != ""], answer.text[:300]
    assert reads(alice, thread) == [200, 200, 200]


# tool arguments the analytics store cannot use -> the argument its message names
UNUSABLE = [({"start": "0001-01-01T00:00:00"}, "start"), ({"end": "0001-01-01T00:00:00Z"}, "end")]


@pytest.mark.parametrize(("arguments", "named"), UNUSABLE, ids=["start", "end"])
def test_a_value_the_analytics_store_refuses_is_a_400_without_its_text(api, arguments, named):
    answer = api.login("alice@example.com").post("/api/tools/cost_analyzer", json=arguments)
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (400, "bad_request"), answer.text
    assert f"`{named}`" in error["message"] and not [text for text in BACKEND_TEXT if text in error["message"]]


async def plant_metadata(url: str, thread_id: str, metadata: dict[str, Any]) -> None:
    """Write a thread's metadata straight into the records, as a server without the caps would have."""
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(update(Thread).where(Thread.id == thread_id).values(meta=metadata))
    await engine.dispose()


def test_metadata_kept_before_the_caps_is_shown_as_a_note(api):
    """A 500-deep metadata already stored no longer breaks the thread list: it shows as UNREADABLE."""
    alice = api.login("alice@example.com")
    thread = alice.post("/api/threads", json={}).json()["id"]
    asyncio.run(plant_metadata(api.settings.resolved_database_url(), thread, nested(500)))
    shown = [alice.get("/api/threads").json()["items"][0]["metadata"], alice.get(f"/api/threads/{thread}").json()["metadata"]]
    assert shown == [UNREADABLE, UNREADABLE] and reads(alice, thread) == [200, 200, 200]
