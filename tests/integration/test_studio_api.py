"""What LangGraph Studio and agent-chat-ui call besides runs, through langgraph-sdk's own client, on both backends.

Each backend (`embedded`: SQLite, in-process logs; `services`: a fresh PostgreSQL database,
real Redis) gets one Netra server for the module with its lifespan, over the session's chDB
store holding `mixed`, and two users of the `local` workspace. One run of the optimisation
question gives a thread checkpoints; the tests read the graph's drawing and schemas, update
thread metadata and state (also from an earlier checkpoint), copy and delete threads, and
check that the other user (or the owner in another workspace) gets 404 for all of it.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from langgraph_sdk import get_client

from netra.graph.topology import NODES
from netra.server import create_app
from tests.support.graphs import OPTIMIZE
from tests.support.run_world import backend_settings
from tests.support.servers import serving
from tests.support.tenants import IN_LOCAL, add_to_workspace

pytestmark = pytest.mark.timeout(300)
DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False}
ASK = {"messages": [{"role": "user", "content": OPTIMIZE}]}
DEADLINE_S = 120


@dataclass
class Studio:
    """A running Netra server, its app, and two signed-in users of `local`."""

    url: str
    app: Any
    tokens: list[str]

    def client(self, who: int = 0, workspace: dict[str, str] = IN_LOCAL) -> Any:
        """Return the SDK's async client of user `who`, acting in `workspace` (default `local`)."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **workspace}
        return get_client(url=self.url, api_key=None, headers=headers)

    def checkpoints(self, thread_id: str) -> int:
        """Return how many checkpoints the app's checkpointer holds for the thread."""
        saver = self.app.state.resources.checkpointer()
        return len(list(saver.list({"configurable": {"thread_id": thread_id}})))


def _signed_in(url: str, settings: Any) -> str:
    email = f"u{uuid.uuid4().hex[:8]}@example.com"
    token = httpx.post(f"{url}/auth/dev-login", json={"email": email}).json()["access_token"]
    add_to_workspace(settings, email)
    return token


@pytest.fixture(scope="module", params=["embedded", "services"])
def studio(request, workload, catalog, tmp_path_factory) -> Iterator[Studio]:
    """The module's server over the backend under test, and two users' tokens."""
    apps: list[Any] = []
    with backend_settings(request.param, tmp_path_factory.mktemp("studio")) as base:
        settings = base.model_copy(update=DEV)
        with serving(lambda url: apps.append(create_app(settings, store=workload, catalog=catalog)) or apps[-1],
                     lifespan="on") as url:
            yield Studio(url, apps[0], [_signed_in(url, base), _signed_in(url, base)])


def run(scenario: Any, *args: Any) -> Any:
    """Run one async scenario to its end (within the deadline)."""
    return asyncio.run(asyncio.wait_for(scenario(*args), DEADLINE_S))


async def _ran(studio: Studio) -> str:
    async with studio.client() as client:
        thread_id = (await client.threads.create(metadata={"team": "finops"}))["thread_id"]
        created = await client.runs.create(thread_id, "netra", input=ASK)
        await client.runs.join(thread_id, created["run_id"])
        return thread_id


@pytest.fixture(scope="module")
def answered(studio) -> str:
    """The id of a thread whose run of the optimisation question succeeded."""
    return run(_ran, studio)


DESCRIBED = {  # what a test reads about the assistant, by name
    "plain": lambda client: client.assistants.get_graph("netra"),
    "xray": lambda client: client.assistants.get_graph("agent", xray=True),
    "depth": lambda client: client.assistants.get_graph("netra", xray=2),
    "schemas": lambda client: client.assistants.get_schemas("netra"),
    "subgraphs": lambda client: client.assistants.get_subgraphs("netra", recurse=True),
    "under": lambda client: client.assistants.get_subgraphs("netra", namespace="data"),
}


async def _described(studio: Studio) -> dict[str, Any]:
    async with studio.client() as client:
        seen = {name: await call(client) for name, call in DESCRIBED.items()}
        return {**seen, "info": (await client.http.client.get("/info")).json()}


def test_the_graph_drawing_has_every_node_and_route(studio):
    seen = run(_described, studio)
    nodes = {node["id"] for node in seen["plain"]["nodes"]}
    assert nodes == set(NODES) | {"__start__", "__end__"}
    edges = {(edge["source"], edge["target"]) for edge in seen["plain"]["edges"]}
    assert {("__start__", "supervisor"), ("supervisor", "reporting"), ("supervisor", "__end__")} <= edges
    assert all("id" not in node.get("data", {}) for node in seen["plain"]["nodes"])
    assert seen["xray"] == seen["plain"] == seen["depth"]  # no subgraphs to open


def test_the_schemas_describe_the_state(studio):
    seen = run(_described, studio)
    schemas = seen["schemas"]
    assert schemas["graph_id"] == "netra" and schemas["input_schema"] == schemas["state_schema"]
    properties = schemas["state_schema"]["properties"]
    assert properties["question"] == {"type": "string"} and properties["plan"]["type"] == "array"
    assert {"messages", "report", "findings", "recommendations"} <= set(properties)
    assert schemas["config_schema"] == {} and schemas["context_schema"] is None


def test_the_graph_has_no_subgraphs(studio):
    seen = run(_described, studio)
    assert seen["subgraphs"] == {} and seen["under"] == {}


def test_info_names_the_version_and_needs_no_token(studio):
    info = httpx.get(f"{studio.url}/info").json()
    assert info["flags"]["assistants"] is True and info["version"] and info["langgraph_py_version"]


@pytest.mark.parametrize("query, status", [("xray=0", 422), ("xray=maybe", 422), ("xray=1000", 422),
                                           ("xray=1", 200), ("xray=False", 200)])
def test_xray_takes_true_false_or_a_depth(studio, query, status):
    answer = httpx.get(f"{studio.url}/assistants/netra/graph?{query}",
                       headers={"Authorization": f"Bearer {studio.tokens[0]}", **IN_LOCAL})
    assert answer.status_code == status


@pytest.mark.parametrize("path", ["/assistants/netra/graph", "/assistants/netra/schemas",
                                  "/assistants/netra/subgraphs"])
def test_the_graph_routes_need_a_token_and_a_known_assistant(studio, path):
    assert httpx.get(f"{studio.url}{path}").status_code == 401
    other = httpx.get(f"{studio.url}{path.replace('netra', 'nobody')}",
                      headers={"Authorization": f"Bearer {studio.tokens[0]}", **IN_LOCAL})
    assert other.status_code == 404


async def _both(client: Any, thread_ids: tuple[str, str]) -> dict[str, Any]:
    """Return the states and full histories of two threads."""
    return {"states": [await client.threads.get_state(tid) for tid in thread_ids],
            "histories": [await client.threads.get_history(tid, limit=100) for tid in thread_ids]}


async def _copied_and_updated(studio: Studio, thread_id: str) -> dict[str, Any]:
    async with studio.client() as client:
        patched = await client.threads.update(thread_id, metadata={"stage": "review"})
        copy = await client.threads.copy(thread_id)
        read = await _both(client, (thread_id, copy["thread_id"]))
        updated = await client.threads.update_state(copy["thread_id"], {"plan": ["data"]}, as_node="triage")
        return {"patched": patched, "copy": copy, **read, "updated": updated, "after": await client.threads.get_state(
            copy["thread_id"]), "source_after": await client.threads.get_state(thread_id)}


def test_metadata_merges_and_a_copy_has_the_same_state_and_history(studio, answered):
    seen = run(_copied_and_updated, studio, answered)
    assert seen["patched"]["metadata"] == {"team": "finops", "stage": "review", "graph_id": "netra",
                                           "assistant_id": "netra"}
    assert seen["copy"]["thread_id"] != answered and seen["copy"]["metadata"] == seen["patched"]["metadata"]
    source, copied = seen["states"]
    assert copied["values"] == source["values"] and copied["checkpoint_id"] == source["checkpoint_id"]
    assert [s["checkpoint_id"] for s in seen["histories"][1]] == [s["checkpoint_id"] for s in seen["histories"][0]]


def test_a_state_update_writes_a_checkpoint_as_the_node_on_the_copy_only(studio, answered):
    seen = run(_copied_and_updated, studio, answered)
    assert seen["updated"]["checkpoint_id"] == seen["after"]["checkpoint_id"]
    assert seen["after"]["values"]["plan"] == ["data"] and seen["after"]["next"] == ["supervisor"]
    assert seen["after"]["metadata"]["source"] == "update"
    assert seen["source_after"]["values"]["plan"] != ["data"]


async def _forked(studio: Studio, thread_id: str) -> dict[str, Any]:
    async with studio.client() as client:
        copy = (await client.threads.copy(thread_id))["thread_id"]
        earlier = (await client.threads.get_history(copy, limit=5))[-1]
        forked = await client.threads.update_state(copy, {"question": "What did gpt-4o cost?"}, as_node="triage",
                                                   checkpoint=earlier["checkpoint"])
        return {"earlier": earlier, "forked": forked, "state": await client.threads.get_state(copy)}


def test_a_state_update_from_an_earlier_checkpoint_forks_the_thread(studio, answered):
    seen = run(_forked, studio, answered)
    assert seen["state"]["parent_checkpoint_id"] == seen["earlier"]["checkpoint_id"]
    assert seen["state"]["checkpoint_id"] == seen["forked"]["checkpoint_id"]
    assert seen["state"]["values"]["question"] == "What did gpt-4o cost?" and seen["state"]["next"] == ["supervisor"]


async def _status_of(call: Any) -> int:
    try:
        await call
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


def _thread_calls(client: Any, thread_id: str) -> tuple[Any, ...]:
    """Return every thread call of a client on the thread (not yet awaited)."""
    return (client.threads.update(thread_id, metadata={"x": 1}), client.threads.copy(thread_id),
            client.threads.update_state(thread_id, {"plan": []}, as_node="triage"),
            client.threads.delete(thread_id), client.threads.get(thread_id))


async def _refused(studio: Studio, thread_id: str) -> dict[str, list[int]]:
    intruders = {"other user": studio.client(1), "own, other workspace": studio.client(0, {})}
    seen: dict[str, list[int]] = {}
    for name, client in intruders.items():
        async with client:
            seen[name] = [await _status_of(call) for call in _thread_calls(client, thread_id)]
    return seen


def test_another_user_or_workspace_gets_404_for_every_thread_call(studio, answered):
    seen = run(_refused, studio, answered)
    assert seen == {"other user": [404] * 5, "own, other workspace": [404] * 5}
    assert studio.checkpoints(answered) > 0


async def _bad_updates(studio: Studio, thread_id: str) -> list[int]:
    async with studio.client() as client:
        return [await _status_of(call) for call in (
            client.threads.update_state(thread_id, {"plan": []}, as_node="nobody"),
            client.threads.update_state(thread_id, {"no_such_channel": 1}, as_node="triage"),
            client.threads.update(thread_id, metadata={"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}))]


def test_bad_updates_are_refused_with_4xx(studio, answered):
    assert run(_bad_updates, studio, answered) == [400, 400, 422]


async def _gone(client: Any, thread_id: str, run_id: str) -> list[int]:
    """Return the statuses of reading a deleted thread, its state and run, and of deleting it again."""
    calls = (client.threads.get(thread_id), client.threads.get_state(thread_id), client.runs.get(thread_id, run_id),
             client.runs.join(thread_id, run_id), client.threads.delete(thread_id))
    return [await _status_of(call) for call in calls]


async def _deleted(studio: Studio) -> dict[str, Any]:
    thread_id = await _ran(studio)
    async with studio.client() as client:
        run_id, before = (await client.runs.list(thread_id))[0]["run_id"], studio.checkpoints(thread_id)
        await client.threads.delete(thread_id)
        return {"before": before, "after": studio.checkpoints(thread_id), "statuses": await _gone(client, thread_id,
                run_id), "listed": [t["thread_id"] for t in await client.threads.search(limit=500)], "thread_id": thread_id}


def test_a_deleted_thread_loses_its_runs_and_checkpoints(studio):
    seen = run(_deleted, studio)
    assert seen["before"] > 0 and seen["after"] == 0
    assert seen["statuses"] == [404] * 5 and seen["thread_id"] not in seen["listed"]
