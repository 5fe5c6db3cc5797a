"""policy_proposer and policy_simulator on small planted datasets with hand-computed answers."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher, ToolRegistry
from netra.tools.findings import Finding, Policy
from netra.tools.policies import FINDERS, attribute, combine, describe, to_policy
from tests.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "output": 6e-7}
GPT41 = {"input": 2e-6, "output": 8e-6}

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "openai", "status": "ok", "error_type": "",
        "ttft_ms": 200, "session_id": "s", "prompt_hash": 0}


def event(when, feature: str, model: str, prompt: int, tokens: tuple[int, int], error: str = "") -> dict[str, Any]:
    """One event with (input, output) tokens; an `error` makes it a failure."""
    return {**ZERO, "timestamp": when, "feature": feature, "model": model, "prompt_hash": prompt,
            "input_tokens": tokens[0], "output_tokens": tokens[1], "status": "error" if error else "ok",
            "error_type": error, "request_id": f"{feature}-{prompt}-{when}"}


# ---------------------------------------------------------------- proposer

SPAN_DAYS = 59 / 24  # classifier requests one an hour for 60 hours
# 60 short gpt-4o classifications (route to gpt-4o-mini) and 10 storms of 2 billed timeouts then success
CLASSIFIER = [event(at(hours=i), "ticket_classifier", "gpt-4o", 1000 + i, (400, 4)) for i in range(60)]
STORMS = [event(at(hours=g, seconds=2 * a), "agent_tools", "gpt-4.1", g + 1, (1000, 100 if a == 2 else 0),
                "" if a == 2 else "timeout") for g in range(10) for a in range(3)]
ROUTE_WINDOW = 60 * (400 * (GPT4O["input"] - MINI["input"]) + 4 * (GPT4O["output"] - MINI["output"]))
RETRY_WINDOW = 20 * 1000 * GPT41["input"]
ROUTE_ID, RETRY_ID = "route_model:ticket_classifier:gpt-4o", "retry_budget:agent_tools:gpt-4.1"
BOTH = ["route_model", "retry_budget"]

EXPECTED_POLICIES = {
    ROUTE_ID: {"kind": "route_model", "feature": "ticket_classifier", "model": "gpt-4o",
               "params": {"target_model": "gpt-4o-mini"}, "source_tool": "model_routing_recommender",
               "window_saving_usd": pytest.approx(ROUTE_WINDOW), "affected_requests": 60,
               "monthly_saving_usd": pytest.approx(ROUTE_WINDOW * 30 / SPAN_DAYS), "quality_risk": "low",
               "description": "Route ticket_classifier requests from gpt-4o to gpt-4o-mini."},
    RETRY_ID: {"kind": "retry_budget", "feature": "agent_tools", "model": "gpt-4.1",
               "source_tool": "retry_waste_analyzer", "window_saving_usd": pytest.approx(RETRY_WINDOW),
               "monthly_saving_usd": pytest.approx(RETRY_WINDOW * 30 / SPAN_DAYS), "affected_requests": 20,
               "description": "Give agent_tools on gpt-4.1 a retry budget of 1 and back off "
                              "(exponential with jitter)."},
}


def propose(ctx, catalog, **args: Any):
    """Load the planted events and run the proposer."""
    load(ctx.store, catalog, CLASSIFIER + STORMS)
    return ToolDispatcher(ctx).run("policy_proposer", args)


@pytest.mark.parametrize(("minimum", "ids"), [
    (0.0, [ROUTE_ID, RETRY_ID]),   # route saves ~0.72/month, retries ~0.49/month
    (0.6, [ROUTE_ID]),
    (0.8, []),
])
def test_proposer_keeps_flagged_findings_above_the_minimum_largest_first(ctx, catalog, minimum, ids):
    result = propose(ctx, catalog, min_monthly_saving_usd=minimum, kinds=BOTH)
    assert [row["policy_id"] for row in result.rows] == ids
    assert result.value("policies") == len(ids)
    assert result.value("proposed_monthly_saving_usd") == pytest.approx(
        sum(row["monthly_saving_usd"] for row in result.rows), abs=1e-6)


@pytest.mark.parametrize(("policy_id", "expected"), sorted(EXPECTED_POLICIES.items()))
def test_proposer_converts_findings_into_policies(ctx, catalog, policy_id, expected):
    row = next(r for r in propose(ctx, catalog, min_monthly_saving_usd=0, kinds=BOTH).rows
               if r["policy_id"] == policy_id)
    assert {k: row[k] for k in expected} == expected
    assert row["source_call_id"] == ToolDispatcher(ctx).run(expected["source_tool"], {}).call_id


@pytest.mark.parametrize(("kinds", "ids"), [
    (["retry_budget"], [RETRY_ID]),
    (["route_model"], [ROUTE_ID]),
    (["retry_budget", "route_model"], [ROUTE_ID, RETRY_ID]),
])
def test_proposer_runs_only_the_finders_of_the_requested_kinds(ctx, catalog, kinds, ids):
    result = propose(ctx, catalog, min_monthly_saving_usd=0, kinds=kinds)
    assert [row["policy_id"] for row in result.rows] == ids
    assert len(result.evidence) == 3 * len(kinds)  # span + two queries per finder


@pytest.mark.parametrize("finder", sorted(FINDERS.values()))
def test_proposer_runs_every_finder_and_keeps_its_evidence(ctx, catalog, finder):
    result = propose(ctx, catalog, min_monthly_saving_usd=0)
    assert {ROUTE_ID, RETRY_ID} <= {row["policy_id"] for row in result.rows}
    if finder not in ToolRegistry().names():
        assert f"finder {finder} is not available; its policies were not proposed" in result.notes
        return
    sqls = [e.sql for e in result.evidence]
    assert all(e.sql in sqls for e in ToolDispatcher(ctx).run(finder, {}).evidence)


@pytest.mark.parametrize(("kind", "params", "text"), [
    ("route_model", {"target_model": "gpt-4o-mini"}, "Route chat requests from gpt-4o to gpt-4o-mini."),
    ("prompt_cache", {}, "Enable prompt caching for the shared prompt prefix of chat on gpt-4o."),
    ("cap_max_tokens", {"cap": 512}, "Cap max_tokens of chat on gpt-4o at 512."),
    ("cap_max_tokens", {}, "Cap max_tokens of chat on gpt-4o at the recommended value."),
    ("batch_api", {}, "Send chat requests on gpt-4o through the Batch API."),
    ("retry_budget", {"max_retries": 1, "backoff": "exponential with jitter"},
     "Give chat on gpt-4o a retry budget of 1 and back off (exponential with jitter)."),
])
def test_descriptions_come_from_the_template_table(kind, params, text):
    finding = Finding(kind=kind, feature="chat", model="gpt-4o", flagged=True, reason="", params=params)
    assert describe(finding) == text
    assert to_policy(finding, "finder", "finder-1234").policy_id == f"{kind}:chat:gpt-4o"


# ---------------------------------------------------------------- simulator

BIG = (0, 5_000_000)  # $50 of gpt-4o output
# feature f costs $100 and g $50 over exactly one day
BASELINE = [event(at(0), "f", "gpt-4o", 1, BIG), event(at(1), "f", "gpt-4o", 2, BIG),
            event(at(hours=12), "g", "gpt-4o", 3, BIG)]
BASE_MONTHLY = 150 * 30.0


def policy(kind: str, feature: str, window: float, monthly: float | None = None) -> dict[str, Any]:
    """A policy dump saving `window` USD over the window (and `monthly`, default window x 30)."""
    return Policy(policy_id=f"{kind}:{feature}:gpt-4o", kind=kind, feature=feature, model="gpt-4o",
                  window_saving_usd=window, monthly_saving_usd=window * 30 if monthly is None else monthly,
                  quality_risk="medium" if kind == "route_model" else "low").model_dump()


P1, P2, P3 = policy("route_model", "f", 40), policy("prompt_cache", "f", 30), policy("retry_budget", "g", 10)


def simulate(ctx, catalog, policies: list[dict], target: float | None = None):
    """Load the baseline events and run the simulator."""
    load(ctx.store, catalog, BASELINE)
    args = {"policies": policies} | ({} if target is None else {"target_saving_pct": target})
    return ToolDispatcher(ctx).run("policy_simulator", args)


@pytest.mark.parametrize(("cost", "savings", "joint"), [
    (100, [40, 30], 58), (100, [40], 40), (100, [50, 50], 75), (100, [150], 100), (100, [], 0), (0, [10], 0),
])
def test_combine_compounds_savings_on_one_feature(cost, savings, joint):
    assert combine(cost, savings) == pytest.approx(joint)


@pytest.mark.parametrize(("features", "savings", "baseline", "shares"), [
    (["f", "f"], [40, 30], {"f": 100}, [40 * 58 / 70, 30 * 58 / 70]),
    (["f", "g"], [40, 10], {"f": 100, "g": 50}, [40, 10]),
    (["f", "x"], [40, 10], {"f": 100}, [40, 0]),
    (["f"], [0], {"f": 100}, [0]),
])
def test_attribute_shares_the_joint_saving_in_proportion(features, savings, baseline, shares):
    assert attribute(features, savings, baseline) == pytest.approx(shares)


SIM_FIGURES = {"baseline_window_cost_usd": 150, "baseline_monthly_cost_usd": BASE_MONTHLY,
               "combined_monthly_saving_usd": 68 * 30, "combined_saving_pct": 100 * 68 / 150}
INTERVAL_FIGURES = ("combined_saving_low_usd", "combined_saving_high_usd")  # see test_policy_bootstrap.py


@pytest.mark.parametrize(("target", "extra"), [
    (None, {}),
    (40.0, {"target_saving_pct": 40, "meets_target": 1, "gap_monthly_usd": 0}),
    (50.0, {"target_saving_pct": 50, "meets_target": 0, "gap_monthly_usd": 0.5 * BASE_MONTHLY - 68 * 30}),
])
def test_simulator_figures_and_target(ctx, catalog, target, extra):
    result = simulate(ctx, catalog, [P1, P2, P3], target)
    expected = SIM_FIGURES | extra
    assert {k: result.value(k) for k in expected} == pytest.approx(expected)
    assert set(result.figures) == set(expected) | set(INTERVAL_FIGURES)


@pytest.mark.parametrize(("policy_id", "expected"), [
    ("route_model:f:gpt-4o", {"rank": 1, "standalone_monthly_saving_usd": 1200, "quality_risk": "medium",
                              "attributed_monthly_saving_usd": 40 * 58 / 70 * 30, "kind": "route_model"}),
    ("prompt_cache:f:gpt-4o", {"rank": 2, "standalone_monthly_saving_usd": 900, "feature": "f",
                               "attributed_monthly_saving_usd": 30 * 58 / 70 * 30}),
    ("retry_budget:g:gpt-4o", {"rank": 3, "standalone_monthly_saving_usd": 300,
                               "attributed_monthly_saving_usd": 300, "pct_of_baseline": 100 * 300 / BASE_MONTHLY}),
])
def test_simulator_rows_attribute_and_rank(ctx, catalog, policy_id, expected):
    row = next(r for r in simulate(ctx, catalog, [P3, P2, P1]).rows if r["policy_id"] == policy_id)
    assert {k: row[k] for k in expected} == pytest.approx(expected)


@pytest.mark.parametrize(("policies", "combined", "note_part"), [
    ([P1], 1200, None),                                            # one policy: evaluated alone
    ([P1, P1], 1200, "1 duplicate policy_ids ignored"),
    ([P1, policy("batch_api", "zzz", 5)], 1200, "feature 'zzz' has no cost in scope"),
    ([policy("retry_budget", "g", 0, monthly=300)], 300, None),    # window saving from the monthly one
    ([policy("route_model", "g", 80)], 50 * 30, None),             # capped at the feature's cost
])
def test_simulator_edge_cases(ctx, catalog, policies, combined, note_part):
    result = simulate(ctx, catalog, policies)
    assert result.value("combined_monthly_saving_usd") == pytest.approx(combined)
    assert note_part is None or any(note_part in note for note in result.notes)


@pytest.mark.parametrize(("scope", "baseline"), [({"feature": "g"}, 50), ({"start": "2026-03-02T06:00:00Z"}, 100)])
def test_simulator_baseline_follows_the_scope_with_bound_parameters(ctx, catalog, scope, baseline):
    load(ctx.store, catalog, BASELINE)
    result = ToolDispatcher(ctx).run("policy_simulator", {"policies": [P3], **scope})
    assert result.value("baseline_window_cost_usd") == pytest.approx(baseline)
    span, base = result.evidence[:2]
    assert all(e.params.keys() == scope.keys() and "{" in e.sql for e in (span, base))
    daily = next(e for e in result.evidence if "p_feature" in e.params)  # the bootstrap's per-day query
    assert daily.params.keys() == scope.keys() | {"p_feature", "p_model"} and "'g'" not in daily.sql
