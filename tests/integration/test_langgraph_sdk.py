"""langgraph-sdk's own async client against Netra's Agent Server API, on both backends.

Each backend (`embedded`: SQLite, in-process logs; `services`: a fresh PostgreSQL database,
real Redis) gets one Netra server for the module, with its lifespan, over the session's chDB
store holding `mixed` (20k events, seed 7, 14 days), and one signed-in user whose bearer
token the SDK sends. One run is streamed (values, updates, custom) and then joined from an
event id in its middle, and for its report message (modes `messages`, `messages-tuple`);
another runs in the background and is joined.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

import httpx
import pytest
from langchain_core.messages import AIMessageChunk
from langgraph_sdk import get_client
from langgraph_sdk.schema import StreamPart

from netra.server import create_app
from netra.server.runs.stream import StreamRecorder
from tests.support.graphs import OPTIMIZE
from tests.support.run_world import backend_settings
from tests.support.servers import serving
from tests.support.tenants import IN_LOCAL, add_to_workspace

pytestmark = pytest.mark.timeout(300)
DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False}
MODES = ["values", "updates", "custom"]
ASK = {"messages": [{"role": "user", "content": OPTIMIZE}]}
AGENTS = {"triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting"}
DEADLINE_S = 120


@dataclass
class Netra:
    """A running Netra server and a user's bearer token."""

    url: str
    token: str

    def client(self) -> Any:
        """Return the SDK's async client, signed in, acting in `local` (use it as `async with`)."""
        return get_client(url=self.url, api_key=None, headers={"Authorization": f"Bearer {self.token}", **IN_LOCAL})


@pytest.fixture(scope="module", params=["embedded", "services"])
def netra(request, workload, catalog, tmp_path_factory) -> Iterator[Netra]:
    """The module's server over the backend under test, and a new user's token."""
    with backend_settings(request.param, tmp_path_factory.mktemp("sdk")) as base:
        with serving(lambda url: create_app(base.model_copy(update=DEV), store=workload, catalog=catalog),
                     lifespan="on") as url:
            email = f"u{uuid.uuid4().hex[:8]}@example.com"
            answer = httpx.post(f"{url}/auth/dev-login", json={"email": email})
            add_to_workspace(base, email)  # the workload is in `local`
            yield Netra(url, answer.json()["access_token"])


def run(scenario: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run one async scenario to its end (within the deadline)."""
    return asyncio.run(asyncio.wait_for(scenario(*args), DEADLINE_S))


@dataclass
class Streamed:
    """A run streamed by the SDK, the events of a join from the middle, the thread and its state after."""

    parts: list[StreamPart]
    middle: int
    rest: list[StreamPart]
    thread: dict[str, Any]
    state: dict[str, Any]

    def of(self, event: str) -> list[Any]:
        """Return the data of the streamed events named `event`."""
        return [part.data for part in self.parts if part.event == event]


async def _resumed(client: Any, thread_id: str, parts: list[StreamPart]) -> Streamed:
    """Join the run's stream after the event in the middle; read the thread and its state."""
    middle = len(parts) // 2
    joined = client.runs.join_stream(thread_id, parts[0].data["run_id"], stream_mode=MODES,
                                     last_event_id=parts[middle].id)
    rest = [part async for part in joined]
    return Streamed(parts, middle, rest, await client.threads.get(thread_id), await client.threads.get_state(thread_id))


async def _stream_and_resume(netra: Netra) -> Streamed:
    async with netra.client() as client:
        thread_id = (await client.threads.create())["thread_id"]
        parts = [part async for part in client.runs.stream(thread_id, "netra", input=ASK, stream_mode=MODES)]
        return await _resumed(client, thread_id, parts)


@pytest.fixture(scope="module")
def streamed(netra) -> Streamed:
    """One run of the optimisation question streamed through the SDK, then joined from its middle."""
    return run(_stream_and_resume, netra)


def test_the_stream_opens_with_metadata_and_closes_with_end(streamed):
    run_id = streamed.parts[0].data["run_id"]
    assert (streamed.parts[0].event, streamed.parts[0].data) == ("metadata", {"run_id": run_id, "attempt": 1})
    assert (streamed.parts[-1].event, streamed.parts[-1].data) == ("end", {"run_id": run_id, "status": "success"})
    assert {part.event for part in streamed.parts[1:-1]} == set(MODES)


def test_values_hold_the_report_updates_name_the_agents_custom_carries_tools(streamed):
    assert streamed.of("values")[-1]["report"]["markdown"].startswith("# Netra report")
    assert AGENTS <= {node for update in streamed.of("updates") for node in update}
    tools = [custom for custom in streamed.of("custom") if custom.get("event") in ("tool_call", "tool_result")]
    assert {"cost_analyzer", "policy_simulator"} <= {custom["tool"] for custom in tools}


def test_join_stream_from_an_event_id_gets_exactly_the_remaining_events(streamed):
    assert streamed.rest == streamed.parts[streamed.middle + 1:] and streamed.rest


async def _messages(netra: Netra, thread_id: str, run_id: str) -> dict[str, list[StreamPart]]:
    async with netra.client() as client:
        return {mode: [part async for part in client.runs.join_stream(thread_id, run_id, stream_mode=[mode])]
                for mode in ("messages", "messages-tuple")}


def test_the_report_message_comes_whole_and_as_a_tuple(netra, streamed):
    seen = run(_messages, netra, streamed.thread["thread_id"], streamed.parts[0].data["run_id"])
    assert [part.event for part in seen["messages"]] == ["metadata", "messages/metadata", "messages/complete", "end"]
    (message,), (as_tuple, metadata) = seen["messages"][2].data, seen["messages-tuple"][1].data
    assert message == as_tuple and message["type"] == "ai" and message["content"].startswith("# Netra report")
    assert metadata["langgraph_node"] == "reporting" and [p.event for p in seen["messages-tuple"]] == [
        "metadata", "messages", "end"]


def test_message_chunks_add_up_in_messages_partial_and_come_alone_in_tuples():
    recorder = StreamRecorder(log=None, run_id="run-1", ttl_s=1)
    shaped = [recorder.shape("messages", (AIMessageChunk(content=text, id="m1"), {"langgraph_node": "reporting"}))
              for text in ("Hel", "lo")]
    assert [[r["event"] for r in records] for records in shaped] == [
        ["messages", "messages/metadata", "messages/partial"], ["messages", "messages/partial"]]
    assert json.loads(shaped[1][-1]["data"])[0]["content"] == "Hello"
    assert json.loads(shaped[1][0]["data"])[0]["content"] == "lo"


def test_the_thread_state_shows_the_final_values(streamed):
    final = streamed.of("values")[-1]
    assert streamed.state["values"] == final and streamed.state["next"] == []
    assert streamed.thread["status"] == "idle" and streamed.thread["values"] == final
    assert streamed.thread["metadata"]["graph_id"] == "netra"


async def _read_back(client: Any, thread_id: str, run_id: str) -> dict[str, Any]:
    """Return the run, the thread's runs and history, the threads and assistants searches found."""
    return {"run": await client.runs.get(thread_id, run_id), "runs": await client.runs.list(thread_id),
            "history": await client.threads.get_history(thread_id),
            "found": await client.threads.search(metadata={"team": "finops"}),
            "assistants": await client.assistants.search(graph_id="netra")}


async def _in_the_background(netra: Netra) -> dict[str, Any]:
    async with netra.client() as client:
        thread_id = (await client.threads.create(metadata={"team": "finops"}))["thread_id"]
        created = await client.runs.create(thread_id, "agent", input={"question": OPTIMIZE})
        joined = await client.runs.join(thread_id, created["run_id"])
        return {"created": created, "joined": joined, **await _read_back(client, thread_id, created["run_id"])}


def test_a_background_run_is_created_pending_and_joined_to_its_values(netra):
    seen = run(_in_the_background, netra)
    run_id, thread_id = seen["created"]["run_id"], seen["created"]["thread_id"]
    assert seen["created"]["status"] == "pending" and seen["joined"]["report"]["markdown"]
    assert seen["run"]["status"] == "success" and [r["run_id"] for r in seen["runs"]] == [run_id]
    assert seen["history"][0]["values"] == seen["joined"] and len(seen["history"]) == 10
    assert [t["thread_id"] for t in seen["found"]] == [thread_id]
    assert [a["assistant_id"] for a in seen["assistants"]] == ["netra"]
