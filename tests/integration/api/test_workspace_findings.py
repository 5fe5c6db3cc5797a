"""The three findings of "Workspaces: each account's telemetry is its own", as regression tests.

1. Alice ingests an event of her feature `alice_corp_merger_assistant`; Bob's
   `cost_driver_identifier` by feature must show neither her feature nor her cost.
2. Bob ingests an event with Alice's `request_id`: it is accepted into his workspace, not
   answered as a duplicate (which told him her event exists).
3. Bob ingests 60 fake events of his own feature; Alice's figures and her next report must
   not count them (they said 81.9% of her spend was his feature).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.api.workspaces import keyed, workspace_of

ALICE_FEATURE = "alice_corp_merger_assistant"
BOB_FEATURE = "bob_fake_feature"
T0 = "2026-03-02T09:00:00Z"


def event(request_id: str, feature: str, tokens: int, minute: int = 0) -> dict[str, Any]:
    """One gpt-4o event of `tokens` input tokens (and a tenth of that in output)."""
    return {"timestamp": f"2026-03-02T09:{minute:02d}:00Z", "request_id": request_id, "feature": feature,
            "user_id": feature.split("_")[0], "model": "gpt-4o", "input_tokens": tokens, "output_tokens": tokens // 10}


def ingest(client: httpx.Client, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Post events with a workspace key; return the answer's body."""
    answer = client.post("/api/ingest/events", json=events)
    assert answer.status_code == 200, answer.text
    return answer.json()


def drivers(client: httpx.Client) -> dict[str, Any]:
    """Return `cost_driver_identifier` by feature, run by `client` in its workspace."""
    answer = client.post("/api/tools/cost_driver_identifier", json={"dimension": "feature"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def report_of(client: httpx.Client, question: str) -> str:
    """Run the question as `client` (`POST /api/agent/run`); return the report's markdown."""
    answer = client.post("/api/agent/run", json={"question": question})
    assert answer.status_code == 200 and answer.json()["run"]["status"] == "success", answer.text
    return answer.json()["report"]["markdown"]


def users(api: Any) -> tuple[httpx.Client, httpx.Client, httpx.Client, httpx.Client]:
    """Return Alice and Bob (signed in) and a client holding an ingest key of each one's workspace."""
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    return alice, bob, keyed(api, alice, workspace_of(alice)), keyed(api, bob, workspace_of(bob))


def test_another_workspace_never_reads_my_feature_or_its_cost(api):
    alice, bob, alice_key, bob_key = users(api)
    ingest(alice_key, [event("merger-1", ALICE_FEATURE, 500_000)])
    ingest(bob_key, [event("bob-1", "bob_search", 1_000)])
    mine, theirs = drivers(alice), drivers(bob)
    assert [row["feature"] for row in theirs["rows"]] == ["bob_search"] and ALICE_FEATURE not in str(theirs)
    assert theirs["figures"]["total_cost_usd"]["value"] < mine["figures"]["total_cost_usd"]["value"] / 100


def test_my_request_ids_are_no_oracle_for_another_workspace(api, store):
    alice, bob, alice_key, bob_key = users(api)
    assert ingest(alice_key, [event("merger-1", ALICE_FEATURE, 500_000)])["accepted"] == 1
    probe = ingest(bob_key, [event("merger-1", "bob_probe", 10)])
    assert (probe["accepted"], probe["duplicates"]) == (1, 0)
    assert (ingest(bob_key, [event("merger-1", "bob_probe", 10)])["duplicates"]) == 1  # his own twin is his
    assert store.count(workspace_of(alice)) == 1 and store.count(workspace_of(bob)) == 1


def test_another_workspaces_fake_events_never_enter_my_spend_or_my_report(api):
    alice, bob, alice_key, bob_key = users(api)
    ingest(alice_key, [event(f"alice-{i}", ALICE_FEATURE, 20_000, i) for i in range(10)])
    assert ingest(bob_key, [event(f"fake-{i}", BOB_FEATURE, 200_000, i % 60) for i in range(60)])["accepted"] == 60
    assert [(row["feature"], row["share"]) for row in drivers(alice)["rows"]] == [(ALICE_FEATURE, 1.0)]
    report = report_of(alice, "Which features drive our LLM spend?")
    assert "requests in scope (`cost`): 10\n" in report and "largest driver (`cost_by_feature`): 100.0%" in report
    assert BOB_FEATURE not in report and "fake-" not in report
