"""Netra's own usage workspace (`<id>/netra`) is reachable by no request: member, outsider or squatter.

A real server over a fresh PostgreSQL database (records), real Redis and the session's chDB
store (events). Alice's workspace holds a team workload and, apart, Netra's own model calls
made for it (priced and stored as the run's accounting stores them). Naming the usage
workspace, in the workspace header or a workspace path, answers 404 to Alice as to Bob,
even when a workspace of such an id was planted in the records; a new workspace named like
it gets an id of its own; Bob's key cannot write into it; the team's tools in Alice's
workspace never see Netra's calls; and the usage events stay exactly as stored.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Iterator

import pytest

from netra.config import Settings
from netra.llm.accounting import RunUsage, usage_workspace
from netra.llm.usage import CallRecord
from netra.server import create_app
from netra.server.auth.records import unit_of_work
from netra.workloads.synthetic import generate_and_load
from tests.integration.api.conftest import Api, backend_settings
from tests.integration.api.workspaces import HEADER, key_of, workspace_of
from tests.support.servers import serving
from tests.support.tenants import add_to_workspace

# Netra's own calls of one run: the tokens each agent's call reported
CALLS = [("triage", 981, 56), ("data", 1112, 5), ("reporting", 2447, 23)]
SQUATTED = "squatted/netra"  # what a client might send in a header, besides the real usage workspace


@pytest.fixture(params=["services"])
def pg_settings(request, tmp_path) -> Iterator[Settings]:
    """Settings over a fresh PostgreSQL database and real Redis."""
    with backend_settings(request, tmp_path / "home") as settings:
        yield settings


@pytest.fixture
def api(pg_settings, store, catalog) -> Iterator[Api]:
    """A server over PostgreSQL records and the session's chDB store (emptied for the test)."""
    with serving(lambda url: create_app(pg_settings, store=store, catalog=catalog), lifespan="on") as url:
        running = Api(url, pg_settings)
        yield running
        running.close()


def own_calls(store: Any, catalog: Any, workspace: str) -> int:
    """Store Netra's own model calls of one run made for `workspace` (as accounting does); return how many."""
    records = [CallRecord(agent, "structured", input_tokens=i, output_tokens=o, attempts=1).to_dict()
               for agent, i, o in CALLS]
    table = RunUsage(Settings(), workspace, "thread-1", uuid.uuid4().hex).priced(catalog, records)
    return store.insert_events(table)


@pytest.fixture
def world(api, store, catalog) -> dict[str, Any]:
    """Alice's workspace with a team workload and Netra's own calls for it; Alice and Bob signed in."""
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    workspace = workspace_of(alice)
    generate_and_load(store, catalog, "mixed", 1_000, 7, 7.0, workspace_id=workspace)
    own_calls(store, catalog, workspace)
    return {"alice": alice, "bob": bob, "workspace": workspace, "usage": usage_workspace(workspace)}


def routes(client: Any, workspace: str) -> list[int]:
    """The statuses `client` gets acting in `workspace`: records, a tool run, the workspace's members."""
    named = {HEADER: workspace}
    return [client.get("/api/threads", headers=named).status_code,
            client.post("/api/tools/cost_analyzer", json={}, headers=named).status_code,
            client.get(f"/api/workspaces/{workspace}/members").status_code]


def usage_rows(store: Any, workspace: str) -> list[tuple[str, int, int]]:
    """Netra's own events of `workspace`: feature, input and output tokens."""
    rows = store.rows("SELECT feature, input_tokens, output_tokens FROM workload_events "
                      "WHERE workspace_id = {w:String} ORDER BY feature", {"w": usage_workspace(workspace)})
    return [(row["feature"], row["input_tokens"], row["output_tokens"]) for row in rows]


STORED = [("netra.data", 1112, 5), ("netra.reporting", 2447, 23), ("netra.triage", 981, 56)]


def test_no_one_acts_in_a_usage_workspace_not_even_a_member(world):
    for who in ("alice", "bob"):
        for workspace in (world["usage"], usage_workspace("local"), SQUATTED):
            assert routes(world[who], workspace) == [404, 404, 404], (who, workspace)
    assert routes(world["alice"], world["workspace"]) == [200, 200, 200]


async def _planted_workspace(settings: Settings, workspace_id: str) -> None:
    async with unit_of_work(settings) as uow:
        await uow.workspaces.create(id=workspace_id, name="planted behind the API's back")
        await uow.commit()


def test_a_usage_workspace_planted_in_the_records_is_still_no_ones(api, world):
    asyncio.run(_planted_workspace(api.settings, SQUATTED))
    add_to_workspace(api.settings, "alice@example.com", SQUATTED, "owner")
    assert routes(world["alice"], SQUATTED) == [404, 404, 404]


def test_a_workspace_named_like_a_usage_workspace_gets_an_id_of_its_own(world, store):
    made = world["bob"].post("/api/workspaces", json={"name": world["usage"]})
    assert made.status_code == 201 and made.json()["name"] == world["usage"]
    assert uuid.UUID(made.json()["id"]) and made.json()["id"] != world["usage"]
    assert routes(world["bob"], world["usage"]) == [404, 404, 404]
    assert usage_rows(store, world["workspace"]) == STORED


def test_a_key_cannot_write_into_another_usage_workspace(api, world, store):
    bobs = workspace_of(world["bob"])
    key = key_of(world["bob"], bobs)["key"]
    event = {"timestamp": "2026-03-02T00:00:00Z", "model": "gpt-4o-mini", "input_tokens": 5, "output_tokens": 1,
             "feature": "netra.triage", "workspace_id": world["usage"]}
    answer = api.anonymous.post("/api/ingest/events", json=[event], headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    assert store.count(bobs) == 1 and usage_rows(store, world["workspace"]) == STORED


def test_the_teams_tools_never_see_netras_own_calls(world, store):
    answer = world["alice"].post("/api/tools/cost_driver_identifier", json={"dimension": "feature"})
    features = {row["feature"] for row in answer.json()["rows"]}
    assert answer.status_code == 200 and features and not any(f.startswith("netra.") for f in features)
    assert store.count(world["workspace"]) == 1_000 and store.count(world["usage"]) == len(CALLS)
