"""Every Apex tool reads its own workspace only.

Bob's workspace holds a `mixed` workload. Each registered tool is first run in-process over
that workspace alone (no cache): the baseline. Then Alice ingests heavy events of her own
feature into her workspace, through her ingest key, inside Bob's time window. Run over HTTP
by Bob and by a viewer of his workspace, every tool must answer exactly its baseline (figures,
rows, notes, evidence), and no answer may name Alice's feature.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from netra.tools import ToolContext, ToolDispatcher, ToolRegistry
from netra.workloads.synthetic import generate_and_load
from tests.integration.api.workspaces import keyed, member, workspace_of

EVENTS = 2_000
ALICE_FEATURE = "alice_corp_merger_assistant"
ALICE_EVENTS = 50
NAMES = ToolRegistry().names()
# tools that simulate given policies: they get the first policies the proposer made over Bob's events
POLICY_TOOLS = frozenset(spec.name for spec in ToolRegistry().specs()
                         if "policies" in spec.args_model.model_json_schema().get("required", []))


def arguments(name: str, policies: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the arguments a tool runs with: the policies for a simulator, none for the others."""
    return {"policies": policies} if name in POLICY_TOOLS else {}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """Return a result without `cached` (a second caller of a workspace may be answered from the cache)."""
    return {key: value for key, value in result.items() if key != "cached"}


def alone(store: Any, catalog: Any, workspace: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return the proposer's first policies and every tool's result over the workspace's events (uncached)."""
    dispatcher = ToolDispatcher(ToolContext(store, catalog, workspace_id=workspace))
    policies = dispatcher.run("policy_proposer", {}).rows[:2]
    results = {name: dispatcher.run(name, arguments(name, policies)).model_dump(mode="json") for name in NAMES}
    return policies, {name: comparable(result) for name, result in results.items()}


def over_http(client: httpx.Client, policies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return every tool's result, run through `POST /api/tools/{name}` by `client`."""
    answers = {name: client.post(f"/api/tools/{name}", json=arguments(name, policies)) for name in NAMES}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(NAMES, 200)
    return {name: comparable(answer.json()) for name, answer in answers.items()}


def alices_events(store: Any, workspace: str) -> list[dict[str, Any]]:
    """Return Alice's expensive events, spread over the time window of `workspace`'s events."""
    first, last = store.rows("SELECT min(timestamp) AS a, max(timestamp) AS b FROM workload_events "
                             "WHERE workspace_id = {w:String}", {"w": workspace})[0].values()
    step = (last - first) / ALICE_EVENTS
    return [{"timestamp": (first + step * i + timedelta(seconds=1)).isoformat(), "request_id": f"alice-{i}",
             "feature": ALICE_FEATURE, "user_id": "alice-cfo", "model": "gpt-4o", "input_tokens": 90_000,
             "output_tokens": 4_000, "max_tokens": 16_000} for i in range(ALICE_EVENTS)]


def alice_ingests(api: Any, store: Any, window_of: str) -> None:
    """Alice ingests her events, in the time window of workspace `window_of`, into her own workspace."""
    alice = api.login("alice@example.com")
    loaded = keyed(api, alice, workspace_of(alice)).post("/api/ingest/events", json=alices_events(store, window_of))
    assert loaded.json()["accepted"] == ALICE_EVENTS


def test_every_tool_reads_its_own_workspace_only(api, store, catalog):
    bob = api.login("bob@example.com")
    generate_and_load(store, catalog, "mixed", EVENTS, 7, 14.0, workspace_id=workspace_of(bob))
    policies, expected = alone(store, catalog, workspace_of(bob))
    alice_ingests(api, store, workspace_of(bob))
    for client in (bob, member(api, bob, workspace_of(bob), "vera@example.com", "viewer")):
        got = over_http(client, policies)
        assert got == expected and ALICE_FEATURE not in json.dumps(got)
