"""A paused thread in the Agent Server's thread views, and the token sent as `x-api-key`, on both backends.

The SDK's client signs in the way Studio and agent-chat-ui do: `api_key=token` (the header
`x-api-key`), no Authorization header. A run streamed with `interrupt_before` pauses; the
thread then reads `interrupted` with its interrupt under the task that waits
(`{task_id: [{"value", "id"}]}`) in `threads.get`, in `threads.search(status="interrupted")`
and in the state's `tasks`; after `command={"resume": true}` it is `idle` again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from langgraph_sdk import get_client

from tests.support.agent_server import ASK, PAUSE, served_member
from tests.support.tenants import IN_LOCAL

pytestmark = pytest.mark.timeout(300)


@dataclass(frozen=True)
class Netra:
    """The module's server and a signed-in member of `local`."""

    url: str
    token: str

    def __call__(self) -> Any:
        """Return the SDK's async client sending the token as `x-api-key` only (use it as `async with`)."""
        return get_client(url=self.url, api_key=self.token, headers=IN_LOCAL)

    def status(self, headers: dict[str, str]) -> int:
        """Return the status of `POST /threads/search` sent with `headers` only."""
        return httpx.post(f"{self.url}/threads/search", json={}, headers={**IN_LOCAL, **headers}).status_code


@pytest.fixture(scope="module", params=["embedded", "services"])
def netra(request, workload, catalog, tmp_path_factory) -> Iterator[Netra]:
    """The module's server over the backend under test, and a signed-in member of `local`."""
    with served_member(request.param, tmp_path_factory.mktemp("sdk-hitl"), workload, catalog) as (url, token):
        yield Netra(url, token)


async def _views(client: Any, thread_id: str) -> dict[str, Any]:
    """Return the thread, its state and which searches by status find it."""
    found = {status: thread_id in [t["thread_id"] for t in await client.threads.search(status=status, limit=100)]
             for status in ("interrupted", "idle", "busy")}
    return {"thread": await client.threads.get(thread_id), "state": await client.threads.get_state(thread_id),
            "found": found}


async def _ended(parts: Any) -> str:
    """Read a run's stream to its end; return the status `end` tells."""
    return [part.data["status"] async for part in parts if part.event == "end"][-1]


async def _session(netra: Netra) -> dict[str, Any]:
    async with netra() as client:
        thread_id = (await client.threads.create())["thread_id"]
        paused = await _ended(client.runs.stream(thread_id, "netra", input=ASK, interrupt_before=PAUSE))
        views = await _views(client, thread_id)
        resumed = await _ended(client.runs.stream(thread_id, "netra", command={"resume": True}))
        return {"paused": views, "resumed": await _views(client, thread_id), "ends": [paused, resumed]}


@pytest.fixture(scope="module")
def seen(netra) -> dict[str, Any]:
    """A paused and then resumed thread, viewed through the SDK signed in with `x-api-key`."""
    return asyncio.run(asyncio.wait_for(_session(netra), 240))


def test_a_paused_thread_is_interrupted_with_its_interrupt_by_task(seen):
    assert seen["ends"] == ["interrupted", "success"]
    thread, state = seen["paused"]["thread"], seen["paused"]["state"]
    (task,) = state["tasks"]
    assert thread["status"] == "interrupted" and list(thread["interrupts"]) == [task["id"]]
    (interrupt,) = thread["interrupts"][task["id"]]
    assert interrupt["value"]["kind"] == "approve_recommendations" and interrupt["id"]
    assert task["interrupts"] == [interrupt] and task["name"] == "actions_to_meet_goals" and state["next"] == PAUSE


def test_searching_by_status_finds_a_paused_thread_as_interrupted_only(seen):
    assert seen["paused"]["found"] == {"interrupted": True, "idle": False, "busy": False}


def test_a_resumed_thread_is_idle_again(seen):
    thread = seen["resumed"]["thread"]
    assert (thread["status"], thread["interrupts"]) == ("idle", {}) and thread["values"]["report"]["markdown"]
    assert seen["resumed"]["found"] == {"interrupted": False, "idle": True, "busy": False}


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"x-api-key": "not-a-token"}, 401),
    ({"Authorization": "Bearer not-a-token", "x-api-key": "{token}"}, 401),  # Authorization, when sent, decides
    ({"x-api-key": "{token}"}, 200),
    ({"Authorization": "Bearer {token}", "x-api-key": "not-a-token"}, 200),
], ids=["none", "bad-key", "bad-bearer-wins", "key", "bearer-wins"])
def test_the_token_is_read_from_x_api_key_when_no_authorization_is_sent(netra, headers, status):
    assert netra.status({name: value.format(token=netra.token) for name, value in headers.items()}) == status
