"""Stream modes `messages` and `events` of a model-mode run, through langgraph-sdk's own client.

One Netra server (SQLite, in-process logs) in model mode: the real `ChatOpenAI` client talks
to the scripted server (`tests.support.llm_server`), which streams its answers as SSE chunks, a word
each. One run of the optimisation question is streamed with `messages-tuple`, `messages`
and `events`, then its log is joined again for `events` alone. The optimisations agent's
answer ("Routing and caching matter most.") arrives as several chunks of one message, in
order, which add up to it; the same tokens are `on_chat_model_stream` events.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from langgraph_sdk import get_client

from netra.llm.breaker import BREAKERS
from netra.server import create_app
from netra.server.runs.stream_events import FIELD_BYTES
from tests.support.graphs import OPTIMIZE
from tests.integration.test_model_path import full_script
from tests.support.llm_server import ScriptedLLM
from tests.support.run_world import backend_settings
from tests.support.servers import serving
from tests.support.tenants import IN_LOCAL, add_to_workspace

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings(
    "ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")]
DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False, "llm_max_retries": 1}
ASK = {"messages": [{"role": "user", "content": OPTIMIZE}], "strategy": "conditional"}
MODES = ["messages-tuple", "messages", "events"]
SAID = "Routing and caching matter most."  # the optimisations agent's scripted answer


@dataclass
class Streamed:
    """The parts of the run's stream and of a join of its `events`."""

    parts: list[Any]
    joined: list[Any]

    def of(self, event: str) -> list[Any]:
        """Return the data of the streamed parts named `event`."""
        return [part.data for part in self.parts if part.event == event]

    def tuples_of(self, node: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Return the `messages-tuple` pairs a node's model streamed."""
        return [(message, meta) for message, meta in self.of("messages") if meta.get("langgraph_node") == node]

    def events(self, kind: str) -> list[dict[str, Any]]:
        """Return the `events` parts of one kind (e.g. `on_chat_model_stream`)."""
        return [event for event in self.of("events") if event["event"] == kind]


async def _stream(url: str, token: str) -> Streamed:
    headers = {"Authorization": f"Bearer {token}", **IN_LOCAL}
    async with get_client(url=url, api_key=None, headers=headers) as client:
        thread_id = (await client.threads.create())["thread_id"]
        parts = [part async for part in client.runs.stream(thread_id, "netra", input=ASK, stream_mode=MODES)]
        joined = client.runs.join_stream(thread_id, parts[0].data["run_id"], stream_mode="events")
        return Streamed(parts, [part async for part in joined])


@pytest.fixture(scope="module")
def streamed(workload, catalog, tmp_path_factory) -> Iterator[Streamed]:
    """One model-mode run streamed in `messages-tuple`, `messages` and `events`, then joined for `events`."""
    llm = ScriptedLLM()
    with serving(llm.app), backend_settings("embedded", tmp_path_factory.mktemp("modes")) as base:
        settings = base.model_copy(update={**DEV, "llm_base_url": llm.base_url})
        with serving(lambda url: create_app(settings, store=workload, catalog=catalog), lifespan="on") as url:
            full_script(llm)
            yield asyncio.run(asyncio.wait_for(_stream(url, _signed_in(url, base)), 240))
    BREAKERS.pop(llm.base_url, None)


def _signed_in(url: str, base: Any) -> str:
    """Return the token of a new member of `local` (where the workload is)."""
    email = f"u{uuid.uuid4().hex[:8]}@example.com"
    token = httpx.post(f"{url}/auth/dev-login", json={"email": email}).json()["access_token"]
    add_to_workspace(base, email)
    return token


def test_the_run_succeeds_in_model_mode(streamed):
    assert (streamed.parts[-1].event, streamed.parts[-1].data["status"]) == ("end", "success")
    assert {part.event for part in streamed.parts} >= {"messages", "messages/partial", "events"}


def test_a_streamed_answer_comes_token_by_token_in_tuples_and_adds_up(streamed):
    pieces = [message for message, _ in streamed.tuples_of("optimizations_core") if message["type"] == "AIMessageChunk"]
    said = [message for message in pieces if message["id"] == pieces[-1]["id"]]
    assert len([m for m in said if m["content"]]) >= 5
    assert "".join(message["content"] for message in said) == SAID


def test_messages_partial_adds_the_chunks_up_in_order(streamed):
    partial = [message for (message,) in streamed.of("messages/partial") if SAID.startswith(message["content"] or "-")]
    texts = [message["content"] for message in partial]
    assert texts[-1] == SAID and len(set(texts)) >= 5
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))


def test_events_open_and_close_the_graph_and_its_nodes(streamed):
    events = streamed.of("events")
    assert (events[0]["event"], events[0]["name"]) == ("on_chain_start", "LangGraph")
    assert (events[-1]["event"], events[-1]["name"]) == ("on_chain_end", "LangGraph")
    started = {event["name"] for event in streamed.events("on_chain_start")}
    assert {"triage", "data", "optimizations_core", "reporting"} <= started
    assert all(set(event) == {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"} for event in events)


def test_the_models_tokens_are_chat_model_stream_events(streamed):
    tokens = [e for e in streamed.events("on_chat_model_stream") if e["metadata"].get("langgraph_node") ==
              "optimizations_core"]
    runs = {event["run_id"] for event in tokens}
    said = ["".join(e["data"]["chunk"]["content"] for e in tokens if e["run_id"] == run) for run in runs]
    assert SAID in said and streamed.of("events")[0]["run_id"] in tokens[0]["parent_ids"]
    assert streamed.events("on_chat_model_start") and streamed.events("on_chat_model_end")


def test_large_payloads_are_trimmed(streamed):
    ends = [e for e in streamed.events("on_chain_end") if e["name"] == "reporting"]
    assert ends[0]["data"]["output"]["trimmed_bytes"] > FIELD_BYTES
    assert "report" in ends[0]["data"]["output"]["keys"]


def test_a_join_reads_the_same_events_from_the_log(streamed):
    joined = [part.data for part in streamed.joined if part.event == "events"]
    assert joined == streamed.of("events")
    assert [part.event for part in streamed.joined if part.event != "events"] == ["metadata", "end"]
