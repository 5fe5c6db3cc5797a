"""On `mixed` (seed 7, 200k events) the recommendations recover every planted inefficiency."""

from __future__ import annotations

import pytest

from netra.graph.runner import ask
from tests.support.graphs import OPTIMIZE, Recorder, load_mixed, make_deps

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# manifest kind -> the policy kind that fixes it
FIXES = {"premium_on_simple": "route_model", "uncached_prefix": "prompt_cache",
         "oversized_max_tokens": "cap_max_tokens", "retry_storm": "retry_budget",
         "batchable_offline": "batch_api"}
TOLERANCE = 0.10


@pytest.fixture(scope="module")
def outcome(session_store, catalog, tmp_path_factory):
    """Load the 200k-event mixed workload once and run the default question on it."""
    session_store.truncate()
    manifest = load_mixed(session_store, catalog, events=200_000, seed=7)
    deps = make_deps(session_store, catalog, tmp_path_factory.mktemp("recovery"), Recorder())
    return manifest, ask(deps, OPTIMIZE, strategy="conditional")


@pytest.mark.parametrize("kind", sorted(FIXES))
def test_each_planted_inefficiency_is_recommended_within_tolerance(outcome, kind):
    manifest, state = outcome
    truth = next(i for i in manifest["inefficiencies"] if i["kind"] == kind)
    found = [r for r in state["recommendations"] if r["kind"] == FIXES[kind] and r["feature"] == truth["feature"]]
    assert len(found) == 1, f"no {FIXES[kind]} recommendation for {truth['feature']}"
    estimate = found[0]["monthly_saving_usd"]
    assert estimate == pytest.approx(truth["monthly_saving_usd"], rel=TOLERANCE)


def test_no_recommendation_on_healthy_features(outcome):
    manifest, state = outcome
    planted = {i["feature"] for i in manifest["inefficiencies"]}
    assert {r["feature"] for r in state["recommendations"]} <= planted


def test_combined_saving_is_not_double_counted(outcome):
    _, state = outcome
    combined = state["simulation"]["figures"]["combined_monthly_saving_usd"]["value"]
    standalone = sum(r["monthly_saving_usd"] for r in state["recommendations"])
    assert 0 < combined <= standalone + 1e-6
    assert state["report"]["grounded"], state["report"]["ungrounded"]
