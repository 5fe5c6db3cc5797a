"""optimal_policy_proposer on planted workloads with hand-computed savings."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.policy_optimal import FIGURES
from tests.support.factories import at, load

ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
                        "status": "ok", "prompt_hash": 0, "ttft_ms": 0, "latency_ms": 1000, "max_tokens": 1000,
                        "input_tokens": 1000, "block_size": 256, "prefix_hashes": []}
U = 1e-6  # one µ$ in USD; amounts below are in µ$ (catalog prices per 1M tokens)


def event(hours: float, feature: str, model: str, output: int = 100, **extra: Any) -> dict[str, Any]:
    """One event (1000 input tokens unless `extra` says otherwise)."""
    return {**ZERO, "timestamp": at(hours=hours), "feature": feature, "model": model,
            "output_tokens": output, "request_id": f"{feature}-{model}-{hours}", **extra}


def policy(kind: str, suffix: str = "", **fields: Any) -> dict[str, Any]:
    """A policy on chat/gpt-4o, as the dispatcher receives it."""
    return {"policy_id": f"{kind}:chat:gpt-4o{suffix}", "kind": kind, "feature": "chat", "model": "gpt-4o", **fields}


def shadow(hours: float, model: str, feature: str = "chat", score: float = 0.89) -> dict[str, Any]:
    """A scored shadow request of `feature` on `model` (1000 in / 100 out); it logs no latency, so no p95 moves."""
    return {k: v for k, v in event(hours, feature, model, quality_score=score).items() if k != "latency_ms"}


# four chat requests on gpt-4o of 2,000 in / 100 out, sharing a 1,280-token prefix: three a minute apart, the
# last a day later (span one day), each scored 0.9. gpt-4o: input 2.5, read 1.25, output 10 per 1M.
HASHES = [0xC0 + k for k in range(5)]
CHAT = [event(h, "chat", "gpt-4o", input_tokens=2000, prefix_hashes=HASHES, quality_score=0.9)
        for h in (0, 1 / 60, 2 / 60, 24)]
# two scored shadow requests on each route target: every route's drop is measured (2 scores on each model,
# docs/quality.md): 0.9 - 0.89 = 0.01
SHADOWS = [shadow(h, m) for m in ("gpt-4o-mini", "gpt-4.1-nano", "gpt-3.5-turbo") for h in (4, 5)]
MONTH = 30.0
GPT4O_CHAT = 4 * (2000 * 2.5 + 100 * 10)                   # 24,000
# the shadows: 2 x (1000 x 0.15 + 100 x 0.6) + 2 x (1000 x 0.1 + 100 x 0.4) + 2 x (1000 x 0.5 + 100 x 1.5)
BASELINE = GPT4O_CHAT + 2 * 210 + 2 * 140 + 2 * 650        # 26,000
ROUTE = GPT4O_CHAT - 4 * (2000 * 0.15 + 100 * 0.6)         # to gpt-4o-mini: 4 x 360 left
NANO_ROUTE = GPT4O_CHAT - 4 * (2000 * 0.1 + 100 * 0.4)     # to gpt-4.1-nano: 4 x 240 left
GPT35_ROUTE = GPT4O_CHAT - 4 * (2000 * 0.5 + 100 * 1.5)    # to gpt-3.5-turbo: 4 x 1,150 left
CACHE = 2 * 1280 * (2.5 - 1.25)                            # the second and third read the prefix (5-minute TTL)
# cache first (on gpt-4o), then route: the readers cost 720 x 0.15 + 1,280 x 0.075 + 60 = 264 on mini
JOINT = GPT4O_CHAT - (2 * 360 + 2 * 264)
ROUTE_MINI = policy("route_model", params={"target_model": "gpt-4o-mini"}, monthly_saving_usd=10)
ROUTE_NANO = policy("route_model", ":nano", params={"target_model": "gpt-4.1-nano"}, monthly_saving_usd=9)
CACHE_5M = policy("prompt_cache", params={"ttl_option": "5m"}, monthly_saving_usd=1)
CAP_50 = policy("cap_max_tokens", params={"cap": 50}, quality_risk="medium")
BATCH = policy("batch_api", latency_impact="asynchronous: results within 24 h")

# (quality budget, allow_async) -> (decision per [route, cap, batch], combined window saving); the route's
# measured drop is 0.01, the cap's 1.0 (it cuts all 4 answers of 100 tokens; their finishes are not logged)
BUDGETS = [
    ((0.005, False), (["rejected", "rejected", "rejected"], 0.0)),                     # 0.01 > 0.005
    ((0.05, False), (["chosen", "rejected", "rejected"], ROUTE)),                      # 1.0 > 0.05
    ((1.0, False), (["chosen", "chosen", "rejected"], ROUTE + 4 * 50 * 0.6)),          # the cap acts on mini
    ((1.0, True), (["chosen", "chosen", "chosen"], GPT4O_CHAT - 4 * (300 + 30) / 2)),  # mini, capped, batched
]
# the route to mini with no scores on mini: (category, budget) -> (decision, expected drop, words of its basis).
# Priors (docs/quality.md): MMLU 88.7% -> 82.0% is a drop of 0.067, HumanEval 90.2% -> 87.2% one of 0.03.
CATEGORIES = [
    ((None, 0.02), ("rejected", None, "unknown: 4 scored requests on gpt-4o and 0 on gpt-4o-mini (2 needed on each), "
                                      "no task category for a prior: shadow-test first")),
    (("classification", 0.02), ("rejected", None, "no classification prior of both on one benchmark")),
    (("knowledge", 0.02), ("rejected", 0.067, "prior, not a measurement (knowledge): MMLU 88.7%")),
    (("code", 0.02), ("rejected", 0.03, "prior, not a measurement (code): HumanEval 90.2%")),
    (("code", 0.05), ("chosen", 0.03, "prior, not a measurement (code): HumanEval 90.2%")),
]
INVALID = [({"quality_budget": 1.5}, "quality_budget"), ({"max_p95_latency_increase_pct": -1}, "max_p95"),
           ({"kinds": ["teleport"]}, "kinds.0"), ({"policies": [policy("teleport")]}, "policies.0.kind"),
           ({"allow_async": "sometimes"}, "allow_async"), ({"budget": 1}, "budget")]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


@pytest.fixture
def chat(ctx) -> ToolDispatcher:
    """The store holding CHAT and SHADOWS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, CHAT + SHADOWS)
    return ToolDispatcher(ctx)


def choose(dispatcher: ToolDispatcher, policies: list[dict[str, Any]], **args: Any):
    """Run the optimizer on `policies`; return the result and its rows by policy_id."""
    result = dispatcher.run("optimal_policy_proposer", {"policies": policies, **args})
    return result, {r["policy_id"]: r for r in result.rows}


JOINT_FIGURES = {"combined_monthly_saving_usd": JOINT * U * MONTH,
                 "standalone_sum_monthly_saving_usd": (ROUTE + CACHE) * U * MONTH,
                 "overlap_monthly_usd": (ROUTE + CACHE - JOINT) * U * MONTH, "chosen_policies": 2,
                 "combined_saving_pct": 100 * JOINT / BASELINE, "baseline_monthly_cost_usd": BASELINE * U * MONTH,
                 "max_p95_change_pct": -100 / 3}   # unstreamed: the smaller sibling is assumed 1.5x as fast


@pytest.mark.parametrize("name,value", sorted(JOINT_FIGURES.items()))
def test_route_and_cache_on_the_same_events_are_simulated_together(chat, name, value):
    result, _ = choose(chat, [ROUTE_MINI, CACHE_5M])
    assert result.value(name) == close(value)
    assert result.value("combined_monthly_saving_usd") <= result.value("standalone_sum_monthly_saving_usd")


def test_cache_after_a_route_adds_only_the_targets_cache_discount(chat):
    cache = choose(chat, [ROUTE_MINI, CACHE_5M])[1][CACHE_5M["policy_id"]]
    assert (cache["decision"], cache["rank"]) == ("chosen", 2)
    # the two reads on mini: 2 x 1,280 x (0.15 - 0.075) = 192
    assert cache["marginal_monthly_saving_usd"] == pytest.approx(192 * U * MONTH)
    assert "the prompt cache is replayed on the gpt-4o traffic first" in cache["reason"]


def test_cache_adds_nothing_after_routing_to_a_model_without_cheaper_cache_reads(chat):
    route = policy("route_model", params={"target_model": "gpt-3.5-turbo"})
    result, rows = choose(chat, [route, CACHE_5M])
    assert result.value("combined_monthly_saving_usd") == close(GPT35_ROUTE * U * MONTH)
    assert rows[CACHE_5M["policy_id"]]["decision"] == "rejected"
    assert rows[CACHE_5M["policy_id"]]["reason"].startswith("adds no saving on top of the chosen set; simulated "
                                                            "with route_model:chat:gpt-4o")


def test_two_routes_of_one_pair_conflict_and_the_larger_saving_wins(chat):
    result, rows = choose(chat, [ROUTE_MINI, ROUTE_NANO])
    assert (rows[ROUTE_NANO["policy_id"]]["decision"], rows[ROUTE_MINI["policy_id"]]["decision"]) == ("chosen",
                                                                                                    "rejected")
    assert rows[ROUTE_MINI["policy_id"]]["reason"] == ("conflicts with chosen route_model:chat:gpt-4o:nano: "
                                                       "one route_model per (feature, model)")
    assert result.value("combined_monthly_saving_usd") == close(NANO_ROUTE * U * MONTH)


@pytest.mark.parametrize("limits,expected", BUDGETS)
def test_quality_budget_and_async_permission(chat, limits, expected):
    result, rows = choose(chat, [ROUTE_MINI, CAP_50, BATCH], quality_budget=limits[0], allow_async=limits[1])
    decisions, saving = expected
    assert [rows[p["policy_id"]]["decision"] for p in (ROUTE_MINI, CAP_50, BATCH)] == decisions
    assert result.value("combined_monthly_saving_usd") == close(saving * U * MONTH)
    assert result.value("chosen_policies") == decisions.count("chosen")


@pytest.mark.parametrize("args,expected", CATEGORIES)
def test_benchmark_priors_judge_an_unmeasured_route(ctx, args, expected):
    load(ctx.store, ctx.catalog, CHAT)
    category, budget = args
    _, rows = choose(ToolDispatcher(ctx), [ROUTE_MINI], quality_budget=budget,
                     **({"category": category} if category else {}))
    row, (decision, drop, basis) = rows[ROUTE_MINI["policy_id"]], expected
    assert (row["decision"], row["expected_quality_drop"]) == (decision, drop if drop is None else close(drop))
    assert basis in row["quality_basis"]


def test_the_teams_scores_take_precedence_over_priors(ctx):
    # two scores on each model (the fewest that are measured), all 0.75: a measured drop of 0
    scored = [event(h, "chat", m, quality_score=0.75) for h, m in enumerate(["gpt-4o"] * 2 + ["gpt-4o-mini"] * 2)]
    load(ctx.store, ctx.catalog, scored)
    _, rows = choose(ToolDispatcher(ctx), [ROUTE_MINI], category="knowledge")
    row = rows[ROUTE_MINI["policy_id"]]
    assert (row["decision"], row["expected_quality_drop"]) == ("chosen", 0.0)
    assert row["quality_basis"].startswith("measured")


# chat streamed on gpt-4o, scored 0.9; gpt-4o-mini streamed on `other` and scored by two chat shadows, which log
# no latency: mini's speed and TTFT come from `other` alone
SLOWER = [event(h, "chat", "gpt-4o", ttft_ms=200, quality_score=0.9) for h in (0, 8, 16, 24)] + [
    event(4, "other", "gpt-4o-mini", ttft_ms=400, latency_ms=3400), shadow(5, "gpt-4o-mini"), shadow(6, "gpt-4o-mini")]


@pytest.mark.parametrize("limit,decision", [(10, "rejected"), (300, "chosen")])
def test_a_route_to_a_slower_model_must_keep_p95_within_the_limit(ctx, limit, decision):
    load(ctx.store, ctx.catalog, SLOWER)
    _, rows = choose(ToolDispatcher(ctx), [ROUTE_MINI], max_p95_latency_increase_pct=limit)
    row = rows[ROUTE_MINI["policy_id"]]
    assert (row["decision"], row["p95_change_pct"]) == (decision, pytest.approx(240.0))
    assert decision == "chosen" or row["reason"] == "a feature's p95 latency would change by +240.0% > +10%"


@pytest.mark.parametrize("bad,words", [(policy("batch_api", feature="absent"), "not applicable: no events"),
                                       (policy("route_model", params={"target_model": "gpt-4"}),
                                        "saves nothing when applied alone")])
def test_policies_that_cannot_save_are_rejected(ctx, chat, bad, words):
    load(ctx.store, ctx.catalog, [shadow(h, "gpt-4") for h in (4, 5)])  # gpt-4's quality is measured too
    _, rows = choose(chat, [bad], allow_async=True)
    assert rows[bad["policy_id"]]["decision"] == "rejected" and rows[bad["policy_id"]]["reason"].startswith(words)


def test_repeated_policy_ids_count_once(chat):
    result, _ = choose(chat, [ROUTE_MINI, {**ROUTE_MINI, "monthly_saving_usd": 99}])
    assert result.value("candidate_policies") == 1 and "1 repeated policy_ids ignored" in result.notes


def test_no_policies_leaves_the_baseline(chat):
    result, _ = choose(chat, [])
    assert (result.value("baseline_monthly_cost_usd"), result.value("chosen_policies")) == (
        close(BASELINE * U * MONTH), 0)
    assert "no policies to choose from" in result.notes


# one an hour, scored 0.9, and two shadow requests on gpt-4o-mini scored 0.9 too: a measured drop of 0
CLASSIFIER = [event(h, "ticket_classifier", "gpt-4o", output=4, quality_score=0.9) for h in range(60)] + [
    shadow(h, "gpt-4o-mini", "ticket_classifier", 0.9) for h in (10, 11)]
CLASSIFIER_ROUTE = 60 * (1000 * (2.5 - 0.15) + 4 * (10 - 0.6)) * U


def test_default_policies_come_from_policy_proposer(ctx):
    load(ctx.store, ctx.catalog, CLASSIFIER)
    args = {"min_monthly_saving_usd": 0, "kinds": ["route_model"]}
    result = ToolDispatcher(ctx).run("optimal_policy_proposer", args)
    assert [r["policy_id"] for r in result.rows] == ["route_model:ticket_classifier:gpt-4o"]
    assert result.value("combined_monthly_saving_usd") == close(CLASSIFIER_ROUTE * 30 / (59 / 24))
    assert any("quantileExact(0.95)(input_tokens)" in e.sql for e in result.evidence)


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("optimal_policy_proposer", args)


def test_empty_scope_gives_zero_figures_and_a_note(chat):
    result, _ = choose(chat, [ROUTE_MINI], feature="nothing-here")
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
