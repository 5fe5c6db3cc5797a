"""rollout_planner on a planted workload: stages, watched metrics with data thresholds, rollback rows."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.findings import Policy
from netra.tools.rollout import FIGURES, rollback_rows, stage_rows
from netra.workloads.playbooks import ANTHROPIC_BATCH, ANTHROPIC_CACHE, OPENAI_BATCH, OPENAI_CACHE, VERTEX_BATCH
from tests.support.factories import at, load

ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
                        "prompt_hash": 0, "ttft_ms": 0, "input_tokens": 1000, "finish_reason": "stop"}


def chat(i: int) -> dict[str, Any]:
    """Chat request i of 20, one an hour, max_tokens 1000: latency 100·(i+1) ms, i < 2 failed, i < 10 scored
    0.5, i ≥ 15 output 300 (else 100), i = 19 cut at its length limit."""
    return {**ZERO, "timestamp": at(hours=i), "feature": "chat", "model": "gpt-4o", "request_id": f"chat-{i}",
            "max_tokens": 1000,
            "latency_ms": 100 * (i + 1), "status": "error" if i < 2 else "ok",
            "quality_score": 0.5 if i < 10 else None, "output_tokens": 300 if i >= 15 else 100,
            "finish_reason": "length" if i == 19 else "stop"}


def report(hours: float) -> dict[str, Any]:
    """A report request on gpt-4o-mini: 10000 input, 1000 output tokens, 500 ms, unscored."""
    return {**ZERO, "timestamp": at(hours=hours), "feature": "report", "model": "gpt-4o-mini", "status": "ok",
            "request_id": f"report-{hours}", "input_tokens": 10000, "output_tokens": 1000, "latency_ms": 500}


EVENTS = [chat(i) for i in range(20)] + [report(0), report(19)]
SPAN_DAYS = 19 / 24
CHAT_RATE = 20 / 19   # requests per hour


def policy(kind: str, feature: str = "chat", model: str = "gpt-4o", **params: Any) -> dict[str, Any]:
    """A policy as the dispatcher receives it."""
    return {"policy_id": f"{kind}:{feature}:{model}", "kind": kind, "feature": feature, "model": model,
            "params": params}


ROUTE = policy("route_model", target_model="gpt-4o-mini")
POLICIES = [ROUTE, policy("prompt_cache"), policy("cap_max_tokens", cap=200), policy("batch_api"),
            policy("retry_budget")]

WATCHED = [
    ("route_model", ["quality_score", "p95_latency_ms", "error_rate", "cost_per_request_usd"]),
    ("prompt_cache", ["cache_read_share", "p95_latency_ms", "error_rate", "cost_per_request_usd"]),
    ("cap_max_tokens", ["truncation_rate", "quality_score", "error_rate", "cost_per_request_usd"]),
    ("batch_api", ["batch_completion_hours", "error_rate", "cost_per_request_usd"]),
    ("retry_budget", ["error_rate", "p95_latency_ms", "cost_per_request_usd"]),
]
# metric -> (baseline, threshold, breach) with the default tolerances
THRESHOLDS = [
    ("p95_latency_ms", 2000.0, 2200.0, "p95_latency_ms > 2200 ms"),          # p95 of 100..2000 ms
    ("error_rate", 0.1, 0.11, "error_rate > 0.11 ratio"),
    ("quality_score", 0.5, 0.48, "quality_score < 0.48 score"),
    ("cost_per_request_usd", 0.004, 0.004, "cost_per_request_usd > 0.004 USD"),  # (15·0.0035 + 5·0.0055) / 20
    ("truncation_rate", 0.05, 0.26, "truncation_rate > 0.26 ratio"),         # 5 of 20 outputs exceed the cap
    ("cache_read_share", 0.0, 0.0, "cache_read_share <= 0 ratio"),
    ("batch_completion_hours", None, 24.0, "batch_completion_hours > 24 h"),
]
TOLERANCES = {"latency_tolerance_pct": 50, "error_rate_margin": 0.05, "quality_budget": 0.1}
TOLERATED = [("p95_latency_ms", 3000.0), ("error_rate", 0.15), ("quality_score", 0.4), ("truncation_rate", 0.3)]
# kind -> (stage, hours): the longer of the stage's minimum hours and its minimum requests at its share
STAGE_HOURS = [
    ("route_model", [("shadow", 200 / (CHAT_RATE * 0.10)), ("canary_5", 200 / (CHAT_RATE * 0.05)),
                     ("canary_25", 500 / (CHAT_RATE * 0.25)), ("full", 1000 / CHAT_RATE)]),
    ("prompt_cache", [("canary_5", 200 / (CHAT_RATE * 0.05)), ("canary_25", 500 / (CHAT_RATE * 0.25)),
                      ("full", 1000 / CHAT_RATE)]),
]
INVALID = [({"error_rate_margin": 2}, "error_rate_margin"), ({"latency_tolerance_pct": -1}, "latency_tolerance"),
           ({"quality_budget": -0.5}, "quality_budget"), ({"policies": [policy("teleport")]}, "policies.0.kind"),
           ({"stages": 3}, "stages")]


@pytest.fixture
def planted(ctx) -> ToolDispatcher:
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def plan(dispatcher: ToolDispatcher, policies: list[dict[str, Any]], table: str, **args: Any) -> list[dict]:
    """Run the planner; return the rows of one table."""
    result = dispatcher.run("rollout_planner", {"policies": policies, **args})
    return [r for r in result.rows if r["table"] == table]


def watched(dispatcher: ToolDispatcher, **args: Any) -> dict[str, dict[str, Any]]:
    """Return the watch rows of every policy in POLICIES by metric (the first policy watching it)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in plan(dispatcher, POLICIES, "watch", **args):
        rows.setdefault(row["metric"], row)
    return rows


@pytest.mark.parametrize("kind,metrics", WATCHED)
def test_each_kind_watches_its_metrics(planted, kind, metrics):
    mine = next(p for p in POLICIES if p["kind"] == kind)
    assert [r["metric"] for r in plan(planted, [mine], "watch")] == metrics


@pytest.mark.parametrize("metric,baseline,threshold,breach", THRESHOLDS)
def test_thresholds_come_from_the_pairs_data(planted, metric, baseline, threshold, breach):
    row = watched(planted)[metric]
    assert (row["baseline"], row["threshold"], row["breach"]) == (
        baseline if baseline is None else pytest.approx(baseline), pytest.approx(threshold), breach)


@pytest.mark.parametrize("metric,threshold", TOLERATED)
def test_tolerances_move_the_thresholds(planted, metric, threshold):
    assert watched(planted, **TOLERANCES)[metric]["threshold"] == pytest.approx(threshold)


@pytest.mark.parametrize("kind,hours", STAGE_HOURS)
def test_stages_last_long_enough_to_see_their_minimum_requests(planted, kind, hours):
    mine = next(p for p in POLICIES if p["kind"] == kind)
    assert [(r["stage"], r["hours"]) for r in plan(planted, [mine], "stage")] == [
        (s, pytest.approx(h)) for s, h in hours]


def test_busy_pairs_stay_in_each_stage_for_its_minimum_hours():
    rows = stage_rows(Policy(**ROUTE), {"requests_per_hour": 1e6})
    assert [(r["stage"], r["users_pct"], r["hours"]) for r in rows] == [
        ("shadow", 0, 24), ("canary_5", 5, 24), ("canary_25", 25, 24), ("full", 100, 48)]


def test_rollback_rows_name_the_policy_specifics(planted):
    rows = plan(planted, [ROUTE, policy("cap_max_tokens", cap=200)], "rollback")
    assert [r["condition"] for r in rows][1::2] == ["shadow answers of gpt-4o-mini fall below the quality floor",
                                                    "truncation rate above its ceiling"]
    assert rows[3]["action"] == "raise the cap above 200 or remove it"


def test_figures_count_the_plan(planted):
    result = planted.run("rollout_planner", {"policies": POLICIES})
    longest = 200 / (CHAT_RATE * 0.1) + 200 / (CHAT_RATE * 0.05) + 500 / (CHAT_RATE * 0.25) + 1000 / CHAT_RATE
    assert {k: f.value for k, f in result.figures.items()} == {
        "policies": 5, "stages": 17, "watch_metrics": 18, "rollback_conditions": 10, "unmeasured_thresholds": 0,
        "longest_rollout_hours": pytest.approx(longest, abs=1e-6)}


def test_unscored_pairs_leave_quality_unmeasured(planted):
    rows = plan(planted, [policy("route_model", "report", "gpt-4o-mini", target_model="gpt-4.1-nano")], "watch")
    quality = next(r for r in rows if r["metric"] == "quality_score")
    assert (quality["baseline"], quality["threshold"], quality["breach"]) == (None, None, "not measurable here")


def test_policies_without_events_are_noted(planted):
    result = planted.run("rollout_planner", {"policies": [policy("batch_api", "absent")], "feature": "chat"})
    assert result.rows == [] and result.notes == [
        "batch_api:absent:gpt-4o: no events of absent/gpt-4o in scope; not planned", "no policies to plan"]


def test_without_policies_the_optimal_set_is_planned(planted):
    result = planted.run("rollout_planner", {})
    assert result.notes[0].startswith("no policies given: planning optimal_policy_proposer's chosen set")


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("rollout_planner", args)


def test_empty_scope_gives_zero_figures_and_a_note(planted):
    result = planted.run("rollout_planner", {"policies": POLICIES, "feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])


# ---------------------------------------------------------------- rollback by provider

CLAUDE_CACHE = Policy(policy_id="prompt_cache:bot:claude-sonnet-4-5", kind="prompt_cache", feature="bot",
                      model="claude-sonnet-4-5", params={"provider": "anthropic", "ttl_option": "1h", "ttl_s": 3600})
# (policy, provider family) -> (its kind's condition, action, source)
PROVIDER_ROWS = [
    (CLAUDE_CACHE, "anthropic", ("cache-read share has not risen by the end of canary_5", "hold: end the static prefix "
     "with a cache_control breakpoint (TTL 1h) and keep everything before it byte-identical", ANTHROPIC_CACHE)),
    (Policy(**policy("prompt_cache")), "openai", ("cache-read share has not risen by the end of canary_5", "hold: put "
     "the static prefix first and keep it byte-identical across requests, and send a stable prompt_cache_key",
     OPENAI_CACHE)),
    (Policy(**policy("batch_api")), "anthropic", ("a Message Batch ends with expired requests (not processed within "
     "24 h)", "send the expired requests interactively and pause the Message Batches route", ANTHROPIC_BATCH)),
    (Policy(**policy("batch_api")), "vertex_ai", ("the batch job has not succeeded within 24 h", "send its requests "
     "interactively and pause the batch route", VERTEX_BATCH)),
    (Policy(**policy("batch_api")), "", ("a batch is not complete within 24 h", "send its requests interactively and "
     "pause the Batch API route", "docs/tools.md")),
]


@pytest.mark.parametrize("chosen,family,expected", PROVIDER_ROWS,
                         ids=["claude-cache", "openai-cache", "anthropic-batch", "vertex-batch", "unknown-batch"])
def test_rollback_follows_the_provider(chosen, family, expected):
    rows = rollback_rows(chosen, family)
    assert (rows[1]["condition"], rows[1]["action"], rows[1]["source"]) == expected
    assert rows[0]["source"] == "docs/tools.md" and {r["provider"] for r in rows} == {family}


def test_the_planner_takes_the_provider_from_the_catalog(planted):
    rows = plan(planted, [policy("batch_api")], "rollback")
    assert (rows[1]["provider"], rows[1]["source"]) == ("openai", OPENAI_BATCH)
    assert rows[1]["condition"] == "a batch is not completed within its 24h completion window (status expired)"
