"""policy_proposer and policy_simulator on small planted datasets with hand-computed answers."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher, ToolRegistry
from netra.tools.findings import Finding, Policy
from netra.tools.policies import FINDERS, describe, to_policy
from tests.support.factories import at, bound_params, load

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
# 60 short gpt-4o classifications (route to gpt-4o-mini) and 10 storms of 2 billed timeouts (10 tokens of
# output each: a timeout with no output is refused, not billed) then success
CLASSIFIER = [event(at(hours=i), "ticket_classifier", "gpt-4o", 1000 + i, (400, 4)) for i in range(60)]
STORMS = [event(at(hours=g, seconds=2 * a), "agent_tools", "gpt-4.1", g + 1, (1000, 100 if a == 2 else 10),
                "" if a == 2 else "timeout") for g in range(10) for a in range(3)]
ROUTE_WINDOW = 60 * (400 * (GPT4O["input"] - MINI["input"]) + 4 * (GPT4O["output"] - MINI["output"]))
RETRY_WINDOW = 20 * (1000 * GPT41["input"] + 10 * GPT41["output"])
ROUTE_ID, RETRY_ID = "route_model:ticket_classifier:gpt-4o", "retry_budget:agent_tools:gpt-4.1"
BOTH = ["route_model", "retry_budget"]
# no request is scored and no category is given: the route's quality is unknown (docs/quality.md)
UNKNOWN_QUALITY = {"quality_basis": "unknown", "quality_delta": None, "quality_interval": None, "scored_current": 0,
                   "scored_target": 0, "quality_source": "unknown: 0 scored requests on gpt-4o and 0 on gpt-4o-mini "
                   "(2 needed on each), no task category for a prior: shadow-test first"}

EXPECTED_POLICIES = {
    ROUTE_ID: {"kind": "route_model", "feature": "ticket_classifier", "model": "gpt-4o",
               "params": {"target_model": "gpt-4o-mini", **UNKNOWN_QUALITY}, "source_tool": "model_routing_recommender",
               "window_saving_usd": pytest.approx(ROUTE_WINDOW), "affected_requests": 60,
               "monthly_saving_usd": pytest.approx(ROUTE_WINDOW * 30 / SPAN_DAYS), "quality_risk": "unknown",
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
    (0.0, [ROUTE_ID, RETRY_ID]),   # route saves ~0.72/month, retries ~0.51/month
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


# queries per finder: retries: span + two; routing: span + pairs + tokens + one quality comparison per simple,
# cheaper pair (ticket_classifier only: agent_tools' 30 requests are below min_requests 50)
RETRY_QUERIES, ROUTE_QUERIES = 3, 3 + 1


@pytest.mark.parametrize(("kinds", "ids", "queries"), [
    (["retry_budget"], [RETRY_ID], RETRY_QUERIES),
    (["route_model"], [ROUTE_ID], ROUTE_QUERIES),
    (["retry_budget", "route_model"], [ROUTE_ID, RETRY_ID], RETRY_QUERIES + ROUTE_QUERIES),
])
def test_proposer_runs_only_the_finders_of_the_requested_kinds(ctx, catalog, kinds, ids, queries):
    result = propose(ctx, catalog, min_monthly_saving_usd=0, kinds=kinds)
    assert [row["policy_id"] for row in result.rows] == ids
    assert len(result.evidence) == queries


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
    ("prompt_cache", {"ttl_option": "5m"}, "Enable prompt caching for the shared prompt prefix of chat on gpt-4o "
                                           "(5m TTL, the cheapest option of the exact replay)."),
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

BIG = (0, 5_000_000)  # 5M output tokens: $50 on gpt-4o, $3 on gpt-4o-mini
# feature f costs $100 and g $50 over exactly one day
BASELINE = [event(at(0), "f", "gpt-4o", 1, BIG), event(at(1), "f", "gpt-4o", 2, BIG),
            event(at(hours=12), "g", "gpt-4o", 3, BIG)]
BASE_MONTHLY = 150 * 30.0


def policy(kind: str, feature: str, **params: Any) -> dict[str, Any]:
    """A policy dump on (feature, gpt-4o); its stated savings play no part in the simulation."""
    return Policy(policy_id=f"{kind}:{feature}:gpt-4o", kind=kind, feature=feature, model="gpt-4o", params=params,
                  monthly_saving_usd=1.0, quality_risk="medium" if kind == "route_model" else "low").model_dump()


ROUTE_F = policy("route_model", "f", target_model="gpt-4o-mini")
BATCH_F, BATCH_G = policy("batch_api", "f"), policy("batch_api", "g")
# together, in order: route f saves 2 x (50 - 3) = 94, then batch f 2 x 1.5 = 3 (on mini), batch g 25: 122 a day
# over a window of exactly one day (at(0) to at(1))
SIM_FIGURES = {"baseline_window_cost_usd": 150, "baseline_monthly_cost_usd": BASE_MONTHLY,
               "combined_monthly_saving_usd": 122 * 30, "combined_saving_pct": 100 * 122 / 150,
               "combined_window_saving_usd": 122, "window_days": 1.0}
INTERVAL_FIGURES = ("combined_saving_low_usd", "combined_saving_high_usd")  # see test_policy_bootstrap.py


def simulate(ctx, catalog, policies: list[dict], target: float | None = None):
    """Load the baseline events and run the simulator."""
    load(ctx.store, catalog, BASELINE)
    args = {"policies": policies} | ({} if target is None else {"target_saving_pct": target})
    return ToolDispatcher(ctx).run("policy_simulator", args)


@pytest.mark.parametrize(("target", "extra"), [
    (None, {}),
    (80.0, {"target_saving_pct": 80, "meets_target": 1, "gap_monthly_usd": 0}),
    (90.0, {"target_saving_pct": 90, "meets_target": 0, "gap_monthly_usd": 0.9 * BASE_MONTHLY - 122 * 30}),
])
def test_simulator_figures_and_target(ctx, catalog, target, extra):
    result = simulate(ctx, catalog, [ROUTE_F, BATCH_F, BATCH_G], target)
    expected = SIM_FIGURES | extra
    assert {k: result.value(k) for k in expected} == pytest.approx(expected)
    assert set(result.figures) == set(expected) | set(INTERVAL_FIGURES)


@pytest.mark.parametrize(("policy_id", "expected"), [
    # alone, batch f halves $100; together it acts on f routed to mini ($6): 3 a day
    (ROUTE_F["policy_id"], {"rank": 1, "standalone_monthly_saving_usd": 94 * 30, "quality_risk": "medium",
                            "attributed_monthly_saving_usd": 94 * 30, "kind": "route_model", "applied": True}),
    (BATCH_G["policy_id"], {"rank": 2, "standalone_monthly_saving_usd": 25 * 30, "feature": "g",
                            "attributed_monthly_saving_usd": 25 * 30, "pct_of_baseline": 100 * 25 / 150}),
    (BATCH_F["policy_id"], {"rank": 3, "standalone_monthly_saving_usd": 50 * 30,
                            "attributed_monthly_saving_usd": 3 * 30}),
])
def test_simulator_rows_attribute_and_rank(ctx, catalog, policy_id, expected):
    row = next(r for r in simulate(ctx, catalog, [BATCH_G, BATCH_F, ROUTE_F]).rows if r["policy_id"] == policy_id)
    assert {k: row[k] for k in expected} == pytest.approx(expected)


def test_the_attributed_savings_add_up_to_the_combined_saving(ctx, catalog):
    result = simulate(ctx, catalog, [ROUTE_F, BATCH_F, BATCH_G])
    assert sum(r["attributed_monthly_saving_usd"] for r in result.rows) == pytest.approx(
        result.value("combined_monthly_saving_usd"), abs=1e-6)


@pytest.mark.parametrize(("policies", "combined", "note_part"), [
    ([ROUTE_F], 94 * 30, None),                                    # one policy: evaluated alone
    ([ROUTE_F, ROUTE_F], 94 * 30, "1 duplicate policy_ids ignored"),
    ([ROUTE_F, policy("batch_api", "zzz")], 94 * 30,
     "batch_api:zzz:gpt-4o: not applied: no events of this (feature, model) in scope"),
    ([policy("route_model", "g", target_model="nope-1")], 0, "target model 'nope-1' is not in the price catalog"),
])
def test_simulator_edge_cases(ctx, catalog, policies, combined, note_part):
    result = simulate(ctx, catalog, policies)
    assert result.value("combined_monthly_saving_usd") == pytest.approx(combined)
    assert note_part is None or any(note_part in note for note in result.notes)


@pytest.mark.parametrize(("scope", "baseline"), [({"feature": "g"}, 50), ({"start": "2026-03-02T06:00:00Z"}, 100)])
def test_simulator_baseline_follows_the_scope_with_bound_parameters(ctx, catalog, scope, baseline):
    load(ctx.store, catalog, BASELINE)
    result = ToolDispatcher(ctx).run("policy_simulator", {"policies": [BATCH_G], **scope})
    assert result.value("baseline_window_cost_usd") == pytest.approx(baseline)
    cost, span, frame = result.evidence[:3]  # the scope's cost, its span, the events the policies target
    assert all(bound_params(scope, e.sql).keys() <= e.params.keys() and "'g'" not in e.sql for e in (cost, span, frame))
    assert span.params.keys() == bound_params(scope, span.sql).keys()  # the window only, never the feature
    assert frame.params["pairs"] == [("g", "gpt-4o")]
