"""Human in the loop over the Agent Server API with langgraph-sdk's own async client, on both backends.

A run streamed with `interrupt_before=["actions_to_meet_goals"]` pauses: its last `values`
event holds `__interrupt__` with the recommendations, its stream ends with `end` (status
`interrupted`, no `error` event), the run reads `interrupted` and the thread's state waits on
the actions agent. A run with `command={"resume": {"drop": [id]}}` continues the thread and
its report leaves the recommendation out. `context={"approval": true}` pauses a background
run whose join answers `__interrupt__`. Bad decisions answer 400/422, and one for a thread no
longer waiting 409. `POST /api/agent/run` pauses with `approval: true` and continues with a
`decision`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from langgraph_sdk import get_client

from tests.support.agent_server import ASK, PAUSE, served_member
from tests.support.graphs import OPTIMIZE
from tests.support.tenants import IN_LOCAL

pytestmark = pytest.mark.timeout(300)


@dataclass(frozen=True)
class Netra:
    """The module's server and a signed-in member of `local`: the SDK's client, or plain REST."""

    url: str
    token: str

    def headers(self) -> dict[str, str]:
        """The user's bearer token, acting in `local`."""
        return {"Authorization": f"Bearer {self.token}", **IN_LOCAL}

    def __call__(self) -> Any:
        """Return the SDK's async client (use it as `async with`)."""
        return get_client(url=self.url, api_key=None, headers=self.headers())

    def ask(self, body: dict[str, Any]) -> httpx.Response:
        """POST /api/agent/run (waits for the run's end)."""
        return httpx.post(f"{self.url}/api/agent/run", json=body, headers=self.headers(), timeout=120)


@pytest.fixture(scope="module", params=["embedded", "services"])
def client_of(request, workload, catalog, tmp_path_factory) -> Iterator[Netra]:
    """The module's server over the backend under test, and a signed-in member of `local`."""
    with served_member(request.param, tmp_path_factory.mktemp("sdk-approval"), workload, catalog) as (url, token):
        yield Netra(url, token)


@dataclass
class Seen:
    """The paused stream, the run and state after it, the refusals, the resumed stream, a background pause."""

    paused: list[Any]
    run: dict[str, Any]
    state: dict[str, Any]
    refused: list[int]
    resumed: list[Any]
    again: int
    joined: dict[str, Any]

    def offered(self) -> list[str]:
        """The ids of the recommendations the pause offers."""
        return [r["policy_id"] for r in self.paused[-2].data["__interrupt__"][0]["value"]["recommendations"]]


async def status_of(call: Any) -> int:
    """Return the HTTP status a call answers (200 when it succeeds)."""
    try:
        await call
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


async def _refusals(client: Any, thread_id: str) -> list[int]:
    bad = [{"resume": {"drop": ["no-such-policy"]}}, {"resume": "yes"}, {"resume": True, "goto": "reporting"}]
    return [await status_of(client.runs.create(thread_id, "netra", command=command)) for command in bad]


async def _stream(client: Any, thread_id: str, **body: Any) -> list[Any]:
    return [part async for part in client.runs.stream(thread_id, "netra", stream_mode=["values", "updates"], **body)]


async def _joined(client: Any) -> dict[str, Any]:
    thread_id = (await client.threads.create())["thread_id"]
    created = await client.runs.create(thread_id, "agent", input=ASK, context={"approval": True})
    return await client.runs.join(thread_id, created["run_id"])


async def _resumed(client: Any, thread_id: str, paused: list[Any]) -> dict[str, Any]:
    """Refuse bad decisions, drop the first recommendation, then decide once more (409)."""
    refused = await _refusals(client, thread_id)
    offered = [r["policy_id"] for r in paused[-2].data["__interrupt__"][0]["value"]["recommendations"]]
    resumed = await _stream(client, thread_id, command={"resume": {"drop": offered[:1]}})
    again = await status_of(client.runs.create(thread_id, "netra", command={"resume": True}))
    return {"refused": refused, "resumed": resumed, "again": again}


async def _session(client_of: Any) -> Seen:
    async with client_of() as client:
        thread_id = (await client.threads.create())["thread_id"]
        paused = await _stream(client, thread_id, input=ASK, interrupt_before=PAUSE)
        run, state = (await client.runs.list(thread_id))[0], await client.threads.get_state(thread_id)
        after = await _resumed(client, thread_id, paused)
        return Seen(paused, run, state, joined=await _joined(client), **after)


@pytest.fixture(scope="module")
def seen(client_of) -> Seen:
    """One approval session through the SDK on the module's server."""
    return asyncio.run(asyncio.wait_for(_session(client_of), 240))


def test_a_stream_with_interrupt_before_pauses_and_ends_interrupted(seen):
    events = [part.event for part in seen.paused]
    assert events[0] == "metadata" and "error" not in events
    assert (seen.paused[-1].event, seen.paused[-1].data["status"]) == ("end", "interrupted")
    assert seen.paused[-2].data["__interrupt__"][0]["value"]["kind"] == "approve_recommendations"
    assert seen.run["status"] == "interrupted" and seen.offered()


def test_the_thread_state_waits_on_the_actions_agent(seen):
    assert seen.state["next"] == PAUSE and seen.state["interrupts"][0]["value"]["recommendations"]
    assert seen.state["values"]["actions"] == []


def test_a_resume_command_continues_without_the_dropped_recommendation(seen):
    final = [part.data for part in seen.resumed if part.event == "values"][-1]
    assert (seen.resumed[-1].event, seen.resumed[-1].data["status"]) == ("end", "success")
    assert seen.offered()[0] not in final["report"]["markdown"] and "__interrupt__" not in final
    assert [a["policy_id"] for a in final["actions"]] == seen.offered()[1:]


def test_bad_decisions_and_a_thread_not_waiting_are_refused(seen):
    assert seen.refused == [400, 422, 422] and seen.again == 409


def test_a_background_run_with_the_approval_context_joins_to_its_interrupt(seen):
    interrupt = seen.joined["__interrupt__"][0]
    assert interrupt["value"]["recommendations"] and interrupt["id"] and seen.joined["actions"] == []


def test_the_rest_route_pauses_with_approval_and_continues_with_a_decision(client_of):
    paused = client_of.ask({"question": OPTIMIZE, "approval": True})
    thread_id = paused.json()["thread_id"]
    refused = [client_of.ask(body).status_code for body in ({}, {"thread_id": thread_id, "decision": "yes"})]
    done = client_of.ask({"thread_id": thread_id, "decision": True})
    assert (paused.status_code, paused.json()["run"]["status"], paused.json()["report"]) == (200, "interrupted", None)
    assert refused == [422, 422] and done.json()["run"]["status"] == "success" and done.json()["report"]["markdown"]
