"""policy_simulator's per-policy effects (cost, latency, quality) and bootstrap intervals, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools.findings import Policy
from tests.factories import at, load

ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
        "provider": "openai", "status": "ok", "error_type": "", "ttft_ms": 0, "session_id": "s"}


def event(when, feature: str, model: str, output: int, latency: int, **extra: Any) -> dict[str, Any]:
    """One unstreamed event of `output` tokens (gpt-4o output is $10 per million)."""
    return {**ZERO, "timestamp": when, "feature": feature, "model": model, "output_tokens": output,
            "latency_ms": latency, "prompt_hash": 1 + int(when.timestamp()), "request_id": f"{feature}-{when}",
            **extra}


# span: exactly one day. f on gpt-4o costs $10 on day 0 ($4 + $6) and $30 on day 1; g costs $20 on day 0.
# f also has a free gpt-4o-mini request, scored lower than its gpt-4o requests.
EVENTS = [
    event(at(0), "f", "gpt-4o", 400_000, 1000, quality_score=0.9),
    event(at(0, hours=1), "f", "gpt-4o-mini", 0, 500, quality_score=0.8),
    event(at(0, hours=6), "f", "gpt-4o", 600_000, 2000, quality_score=0.9),
    event(at(0, hours=12), "g", "gpt-4o", 2_000_000, 3000),
    # h runs on a model the catalog does not know: it costs $0, so its days weigh by requests (3 : 1)
    *[event(at(0, hours=h), "h", "mystery-model", 10, 100) for h in (2, 3, 4)],
    event(at(1), "h", "mystery-model", 10, 100),
    event(at(1), "f", "gpt-4o", 3_000_000, 4000, quality_score=0.9),
]
SPAN_DAYS = 1.0


def policy(kind: str, feature: str, window: float, model: str = "gpt-4o", risk: str = "low",
           **params: Any) -> dict[str, Any]:
    """A policy dump saving `window` USD over the window."""
    return Policy(policy_id=f"{kind}:{feature}:{model}", kind=kind, feature=feature, model=model, params=params,
                  window_saving_usd=window, monthly_saving_usd=window * 30 / SPAN_DAYS,
                  quality_risk=risk).model_dump()


ROUTE_F = policy("route_model", "f", 20, risk="medium", target_model="gpt-4o-mini")
RETRY_G = policy("retry_budget", "g", 20, risk="medium")
CAP_F = policy("cap_max_tokens", "f", 4, cap=300_000)
BATCH_G = policy("batch_api", "g", 5)
CACHE_H = policy("prompt_cache", "h", 8, model="mystery-model")
ROUTE_G = policy("route_model", "g", 1, target_model="gpt-4o-mini")
GHOST = policy("batch_api", "f", 3, model="gpt-4.1")  # f has no gpt-4.1 requests


def simulate(ctx, policies: list[dict], **args: Any):
    """Load EVENTS and run the simulator."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx).run("policy_simulator", {"policies": policies, **args})


def row(result, policy_id: str) -> dict[str, Any]:
    """Return the simulator row of one policy."""
    return next(r for r in result.rows if r["policy_id"] == policy_id)


# ---------------------------------------------------------------- bootstrap intervals

# With two days [a, b], resampled sums are 2a, a + b or 2b (1/4, 1/2, 1/4 of 500 draws), so the
# 5th percentile is 2a and the 95th 2b; x 30 / 1 day. One day: every resample is the point.
INTERVALS = [
    (ROUTE_F, 20 * 30, (2 * 5 * 30, 2 * 15 * 30)),        # f's days: $20 x 10/40 and x 30/40
    (RETRY_G, 20 * 30, (20 * 30, 20 * 30)),               # g has one day
    (CACHE_H, 8 * 30, (2 * 2 * 30, 2 * 6 * 30)),          # h's days by requests: $8 x 1/4 and x 3/4
]


@pytest.mark.parametrize("given,point,bounds", INTERVALS)
def test_policy_saving_interval(ctx, given, point, bounds):
    found = row(simulate(ctx, [ROUTE_F, RETRY_G, CACHE_H]), given["policy_id"])
    assert found["standalone_monthly_saving_usd"] == pytest.approx(point)
    assert (found["saving_low_usd"], found["saving_high_usd"]) == pytest.approx(bounds)


def test_combined_interval_bootstraps_the_daily_sum_of_attributed_savings(ctx):
    # day 0: 20 x 10/40 + 20 = 25, day 1: 20 x 30/40 = 15 (h's saving is attributed 0: h costs $0)
    result = simulate(ctx, [ROUTE_F, RETRY_G, CACHE_H])
    assert result.value("combined_monthly_saving_usd") == pytest.approx(40 * 30)
    assert (result.value("combined_saving_low_usd"), result.value("combined_saving_high_usd")) == pytest.approx(
        (2 * 15 * 30, 2 * 25 * 30))


SETS = [[ROUTE_F, RETRY_G, CACHE_H], [CAP_F, ROUTE_F], [CACHE_H]]


@pytest.mark.parametrize("policies", SETS)
def test_bootstrap_is_deterministic(ctx, policies):
    first = simulate(ctx, policies)
    assert first.model_dump() == ToolDispatcher(ctx).run("policy_simulator", {"policies": policies}).model_dump()


@pytest.mark.parametrize("policies", SETS)
def test_intervals_contain_the_point_estimates(ctx, policies):
    result = simulate(ctx, policies)
    assert all(r["saving_low_usd"] <= r["standalone_monthly_saving_usd"] + 1e-9 <= r["saving_high_usd"] + 2e-9
               for r in result.rows)
    low, point, high = (result.value(k) for k in ("combined_saving_low_usd", "combined_monthly_saving_usd",
                                                  "combined_saving_high_usd"))
    assert low <= point + 1e-6 <= high + 2e-6


def test_interval_does_not_depend_on_the_other_policies(ctx):
    alone = row(simulate(ctx, [ROUTE_F]), ROUTE_F["policy_id"])
    together = row(ToolDispatcher(ctx).run("policy_simulator", {"policies": [RETRY_G, CAP_F, ROUTE_F]}),
                   ROUTE_F["policy_id"])
    assert (alone["saving_low_usd"], alone["saving_high_usd"]) == (together["saving_low_usd"],
                                                                   together["saving_high_usd"])


def test_zero_samples_skip_the_intervals_and_their_queries(ctx):
    result = simulate(ctx, [ROUTE_F, RETRY_G], bootstrap_samples=0)
    assert all(r["saving_low_usd"] is None and r["saving_high_usd"] is None for r in result.rows)
    assert not {"combined_saving_low_usd", "combined_saving_high_usd"} & set(result.figures)
    assert not any("p_feature" in e.params for e in result.evidence)


def test_one_bound_daily_query_per_feature_and_model(ctx):
    result = simulate(ctx, [ROUTE_F, CAP_F, RETRY_G])
    daily = [e for e in result.evidence if "p_feature" in e.params]
    assert [e.params for e in daily] == [{"p_feature": "f", "p_model": "gpt-4o"}, {"p_feature": "g", "p_model": "gpt-4o"}]
    assert all("gpt-4o" not in e.sql and "{p_model:String}" in e.sql for e in daily)


def test_a_pair_without_events_has_no_interval(ctx):
    result = simulate(ctx, [GHOST, ROUTE_F])
    assert (row(result, GHOST["policy_id"])["saving_low_usd"], row(result, GHOST["policy_id"])["saving_high_usd"]) == (
        None, None)
    assert any(n.startswith(f"{GHOST['policy_id']}: no events of f/gpt-4.1") for n in result.notes)


# ---------------------------------------------------------------- cost, latency, quality


@pytest.mark.parametrize("given,delta", [(ROUTE_F, -600), (CAP_F, -120), (CACHE_H, -240)])
def test_cost_delta_is_minus_the_standalone_monthly_saving(ctx, given, delta):
    assert row(simulate(ctx, [given]), given["policy_id"])["cost_delta_monthly_usd"] == pytest.approx(delta)


def test_latency_delta_of_a_cap(ctx):
    # f's requests: 1000, 2000, 4000 ms on gpt-4o (all generation) and 500 on mini. Capped at 300k tokens:
    # 750, 1000, 400 and 500. p50 (index 2 of 4): 2000 -> 750; p95 (index 3): 4000 -> 1000.
    found = row(simulate(ctx, [CAP_F]), CAP_F["policy_id"])
    assert (found["latency_p50_delta_ms"], found["latency_p95_delta_ms"]) == pytest.approx((-1250, -3000))


def test_latency_is_simulated_per_policy_alone(ctx):
    together = row(simulate(ctx, [CAP_F, ROUTE_F]), CAP_F["policy_id"])
    assert (together["latency_p50_delta_ms"], together["latency_p95_delta_ms"]) == pytest.approx((-1250, -3000))


def test_latency_is_skipped_when_every_request_goes_async(ctx):
    result = simulate(ctx, [BATCH_G])
    assert (row(result, BATCH_G["policy_id"])["latency_p95_delta_ms"], row(result, BATCH_G["policy_id"])[
        "latency_p50_delta_ms"]) == (None, None)
    assert f"{BATCH_G['policy_id']}: no latency delta: all its feature's requests leave the interactive path" in (
        result.notes)


def test_latency_is_skipped_with_a_note_when_the_simulator_fails(ctx, monkeypatch):
    monkeypatch.setattr("netra.tools._policy_effects.GAINS", "no_such_simulator")
    result = simulate(ctx, [CAP_F])
    assert row(result, CAP_F["policy_id"])["latency_p95_delta_ms"] is None
    assert f"{CAP_F['policy_id']}: latency not simulated: no_such_simulator failed (ToolNotFoundError: no tool " \
           "named 'no_such_simulator'; known tools: " in "\n".join(result.notes)
    assert result.value("combined_monthly_saving_usd") == pytest.approx(4 * 30)


@pytest.mark.parametrize("given,drop,basis", [
    (ROUTE_F, 0.1, "measured"),    # mean quality on f: gpt-4o 0.9, gpt-4o-mini 0.8
    (ROUTE_G, 0.01, "prior"),       # g has no scores: the low-risk prior
    (RETRY_G, 0.05, "prior"),       # medium-risk prior
    (BATCH_G, 0.0, "fixed"),
    (CACHE_H, 0.0, "fixed"),
])
def test_quality_drop_follows_the_preservation_rule(ctx, given, drop, basis):
    found = row(simulate(ctx, [given]), given["policy_id"])
    assert found["quality_drop"] == pytest.approx(drop, abs=1e-6) and found["quality_basis"].startswith(basis)


def test_quality_scores_ignore_the_scope_model_filter(ctx):
    found = row(simulate(ctx, [ROUTE_F], model="gpt-4o"), ROUTE_F["policy_id"])
    assert found["quality_drop"] == pytest.approx(0.1, abs=1e-6)


def test_existing_rows_and_figures_keep_their_values(ctx):
    result = simulate(ctx, [ROUTE_F, CAP_F, RETRY_G])
    by_id = {r["policy_id"]: r for r in result.rows}
    # f costs $40: 20 and 4 combine to 40 x (1 - 0.5 x 0.9) = 22, shared 20 : 4
    assert by_id[ROUTE_F["policy_id"]]["attributed_monthly_saving_usd"] == pytest.approx(22 * 20 / 24 * 30)
    assert [r["rank"] for r in result.rows] == [1, 2, 3]
    assert result.value("combined_monthly_saving_usd") == pytest.approx((22 + 20) * 30)


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize("value", [-1, 100_001, "many", 2.5])
def test_bad_bootstrap_samples_are_refused_naming_the_field(ctx, value):
    with pytest.raises(ToolArgumentsError, match=r"invalid arguments for policy_simulator: bootstrap_samples"):
        ToolDispatcher(ctx).run("policy_simulator", {"policies": [ROUTE_F], "bootstrap_samples": value})
