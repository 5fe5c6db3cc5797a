"""policy_simulator's per-policy effects (cost, latency, quality) and bootstrap intervals, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._policy_effects import LATENCY_FIELDS as LATENCY
from netra.tools._policy_effects import rounds
from netra.tools.findings import Policy
from tests.support.factories import at, load

ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
        "provider": "openai", "status": "ok", "error_type": "", "ttft_ms": 0, "session_id": "s",
        "max_tokens": 4_000_000}


def event(when, feature: str, model: str, output: int, latency: int, **extra: Any) -> dict[str, Any]:
    """One unstreamed event of `output` tokens (gpt-4o output is $10 per million, gpt-4o-mini $0.60)."""
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
    # h runs on a model the catalog does not know: its policies cannot apply
    *[event(at(0, hours=h), "h", "mystery-model", 10, 100) for h in (2, 3, 4)],
    event(at(1), "h", "mystery-model", 10, 100),
    event(at(1), "f", "gpt-4o", 3_000_000, 4000, quality_score=0.9),
]
SPAN_DAYS = 1.0


def policy(kind: str, feature: str, model: str = "gpt-4o", risk: str = "low", **params: Any) -> dict[str, Any]:
    """A policy dump (its stated savings play no part in the simulation)."""
    return Policy(policy_id=f"{kind}:{feature}:{model}", kind=kind, feature=feature, model=model, params=params,
                  monthly_saving_usd=1.0, quality_risk=risk).model_dump()


ROUTE_F = policy("route_model", "f", risk="medium", target_model="gpt-4o-mini")
CAP_F = policy("cap_max_tokens", "f", cap=300_000)
BATCH_G = policy("batch_api", "g")
BATCH_H = policy("batch_api", "h", model="mystery-model")
CACHE_H = policy("prompt_cache", "h", model="mystery-model", ttl_option="5m")
ROUTE_G = policy("route_model", "g", target_model="gpt-4o-mini")
RETRY_G = policy("retry_budget", "g", risk="medium", max_retries=1)
GHOST = policy("batch_api", "f", model="gpt-4.1")  # f has no gpt-4.1 requests


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
    (ROUTE_F, 37.6 * 30, (2 * 9.4 * 30, 2 * 28.2 * 30)),   # f's days: 1M and 3M tokens x (10 - 0.6) per 1M
    (CAP_F, 31 * 30, (2 * 4 * 30, 2 * 27 * 30)),           # tokens above 300k: 100k + 300k, then 2.7M, x 10
    (BATCH_G, 10 * 30, (10 * 30, 10 * 30)),                # g has one day: half of $20
    (BATCH_H, 0, (0, 0)),                                  # h's model is unknown: not applied, saves 0
]


@pytest.mark.parametrize("given,point,bounds", INTERVALS)
def test_policy_saving_interval(ctx, given, point, bounds):
    found = row(simulate(ctx, [ROUTE_F, CAP_F, BATCH_G, BATCH_H]), given["policy_id"])
    assert found["standalone_monthly_saving_usd"] == pytest.approx(point)
    assert (found["saving_low_usd"], found["saving_high_usd"]) == pytest.approx(bounds)


def test_combined_interval_bootstraps_the_daily_sum_of_the_joint_savings(ctx):
    # together: route f 9.4 | 28.2, then the cap on mini (0.6 per 1M) 0.24 | 1.62, batch g 10 | 0
    result = simulate(ctx, [ROUTE_F, CAP_F, BATCH_G])
    assert result.value("combined_monthly_saving_usd") == pytest.approx(49.46 * 30)
    assert (result.value("combined_saving_low_usd"), result.value("combined_saving_high_usd")) == pytest.approx(
        (2 * 19.64 * 30, 2 * 29.82 * 30))


SETS = [[ROUTE_F, BATCH_G, BATCH_H], [CAP_F, ROUTE_F], [BATCH_H]]


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
    together = row(ToolDispatcher(ctx).run("policy_simulator", {"policies": [BATCH_G, CAP_F, ROUTE_F]}),
                   ROUTE_F["policy_id"])
    assert (alone["saving_low_usd"], alone["saving_high_usd"]) == (together["saving_low_usd"],
                                                                   together["saving_high_usd"])


def test_zero_samples_skip_the_intervals(ctx):
    result = simulate(ctx, [ROUTE_F, BATCH_G], bootstrap_samples=0)
    assert all(r["saving_low_usd"] is None and r["saving_high_usd"] is None for r in result.rows)
    assert not {"combined_saving_low_usd", "combined_saving_high_usd"} & set(result.figures)


def test_the_intervals_need_no_query_of_their_own(ctx):
    # the days come from the events the simulator already loaded
    sqls = [[e.sql for e in simulate(ctx, [ROUTE_F, CAP_F], bootstrap_samples=n).evidence] for n in (0, 500)]
    assert sqls[0] == sqls[1]


def test_a_pair_without_events_has_no_interval(ctx):
    result = simulate(ctx, [GHOST, ROUTE_F])
    assert (row(result, GHOST["policy_id"])["saving_low_usd"], row(result, GHOST["policy_id"])["saving_high_usd"]) == (
        None, None)
    assert any(n.startswith(f"{GHOST['policy_id']}: no events of f/gpt-4.1") for n in result.notes)


# ---------------------------------------------------------------- cost, latency, quality


@pytest.mark.parametrize("given,delta", [(ROUTE_F, -37.6 * 30), (CAP_F, -31 * 30), (BATCH_G, -10 * 30)])
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


def test_latency_rounds_give_each_policy_its_delta_alone(ctx):
    # f's two policies go to two rounds; g's route shares the first round with f's route
    together = simulate(ctx, [ROUTE_F, CAP_F, ROUTE_G])
    for given in (ROUTE_F, CAP_F, ROUTE_G):
        alone = row(ToolDispatcher(ctx).run("policy_simulator", {"policies": [given]}), given["policy_id"])
        assert [row(together, given["policy_id"])[k] for k in LATENCY] == [alone[k] for k in LATENCY]


def test_rounds_hold_at_most_one_policy_per_feature():
    ids = [[p.policy_id for p in group] for group in rounds([Policy(**p) for p in (ROUTE_F, CAP_F, ROUTE_G, BATCH_G)])]
    assert ids == [[ROUTE_F["policy_id"], ROUTE_G["policy_id"]], [CAP_F["policy_id"], BATCH_G["policy_id"]]]


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
    assert result.value("combined_monthly_saving_usd") == pytest.approx(31 * 30)


# a second free gpt-4o-mini request of f scored 0.8: with two scores on each model f's route is measured
SECOND_MINI_SCORE = event(at(0, hours=2), "f", "gpt-4o-mini", 0, 500, quality_score=0.8)


@pytest.mark.parametrize("given,extra,drop,basis", [
    (ROUTE_F, [SECOND_MINI_SCORE], 0.1, "measured"),  # mean quality on f: gpt-4o 0.9 (n=3), gpt-4o-mini 0.8 (n=2)
    (ROUTE_F, [], None, "unknown: 3 scored requests on gpt-4o and 1 on gpt-4o-mini"),  # one mini score is too few
    (ROUTE_G, [], None, "unknown: 0 scored requests on gpt-4o and 0 on gpt-4o-mini"),  # g has no scores
    (RETRY_G, [], 0.0, "fixed"),        # the simulator drops failed attempts only
    (CAP_F, [], 1.0, "measured: the cap of 300000 tokens cuts 3 of 3 answers"),  # finishes not logged: all cut
    (BATCH_G, [], 0.0, "fixed"),
    (CACHE_H, [], 0.0, "fixed"),
])
def test_quality_drop_follows_the_preservation_rule(ctx, given, extra, drop, basis):
    load(ctx.store, ctx.catalog, extra)
    found = row(simulate(ctx, [given]), given["policy_id"])
    assert found["quality_drop"] == (drop if drop is None else pytest.approx(drop, abs=1e-6))
    assert found["quality_basis"].startswith(basis)


def test_quality_scores_ignore_the_scope_model_filter(ctx):
    load(ctx.store, ctx.catalog, [SECOND_MINI_SCORE])
    found = row(simulate(ctx, [ROUTE_F], model="gpt-4o"), ROUTE_F["policy_id"])
    assert found["quality_drop"] == pytest.approx(0.1, abs=1e-6)


def test_rows_rank_the_savings_the_joint_simulation_attributes(ctx):
    result = simulate(ctx, [ROUTE_F, CAP_F, BATCH_G])
    # the cap acts after the route, on mini: 1.86 a day
    assert [r["policy_id"] for r in result.rows] == [ROUTE_F["policy_id"], BATCH_G["policy_id"], CAP_F["policy_id"]]
    assert [r["attributed_monthly_saving_usd"] for r in result.rows] == pytest.approx([37.6 * 30, 10 * 30, 1.86 * 30])


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize("value", [-1, 100_001, "many", 2.5])
def test_bad_bootstrap_samples_are_refused_naming_the_field(ctx, value):
    with pytest.raises(ToolArgumentsError, match=r"invalid arguments for policy_simulator: bootstrap_samples"):
        ToolDispatcher(ctx).run("policy_simulator", {"policies": [ROUTE_F], "bootstrap_samples": value})
