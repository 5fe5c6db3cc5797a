"""optimal_policy_proposer on planted workloads with hand-computed savings."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.policy_optimal import FIGURES
from tests.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "cache_read": 7.5e-8, "output": 6e-7}
MINI_BATCH = {"input": 7.5e-8, "output": 3e-7}
NANO = {"input": 1e-7, "output": 4e-7}
GPT35 = {"input": 5e-7, "output": 1.5e-6}   # no cache-read price: cache reads cost the input price
ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
                        "status": "ok", "prompt_hash": 0, "ttft_ms": 0, "latency_ms": 1000}


def event(hours: float, feature: str, model: str, output: int = 100, **extra: Any) -> dict[str, Any]:
    """One event of 1000 input tokens."""
    return {**ZERO, "timestamp": at(hours=hours), "feature": feature, "model": model, "input_tokens": 1000,
            "output_tokens": output, "request_id": f"{feature}-{model}-{hours}", **extra}


def policy(kind: str, suffix: str = "", **fields: Any) -> dict[str, Any]:
    """A policy on chat/gpt-4o, as the dispatcher receives it."""
    return {"policy_id": f"{kind}:chat:gpt-4o{suffix}", "kind": kind, "feature": "chat", "model": "gpt-4o", **fields}


# four chat requests on gpt-4o over one day: 4000 input and 400 output tokens
CHAT = [event(h, "chat", "gpt-4o") for h in (0, 8, 16, 24)]
MONTH = 30.0
BASELINE = 4000 * GPT4O["input"] + 400 * GPT4O["output"]


def on(prices: dict[str, float], output: int = 400, hits: int = 0) -> float:
    """The chat window cost on `prices` with `output` tokens and `hits` input tokens read from cache."""
    cached = hits * prices.get("cache_read", prices["input"])
    return (4000 - hits) * prices["input"] + cached + output * prices["output"]


ROUTE, NANO_ROUTE, GPT35_ROUTE = BASELINE - on(MINI), BASELINE - on(NANO), BASELINE - on(GPT35)
CACHE = 2000 * (GPT4O["input"] - GPT4O["cache_read"])
JOINT = BASELINE - on(MINI, hits=2000)        # the cache hits land on the target, at its prices
ROUTE_MINI = policy("route_model", params={"target_model": "gpt-4o-mini"}, monthly_saving_usd=10)
ROUTE_NANO = policy("route_model", ":nano", params={"target_model": "gpt-4.1-nano"}, monthly_saving_usd=9)
CACHE_2000 = policy("prompt_cache", params={"uncached_hit_tokens": 2000}, monthly_saving_usd=1)
CAP_50 = policy("cap_max_tokens", params={"cap": 50}, quality_risk="medium")
BATCH = policy("batch_api", latency_impact="asynchronous: results within 24 h")

# (quality budget, allow_async) -> (decision per [route, cap, batch], combined window saving)
BUDGETS = [
    ((0.02, False), (["chosen", "rejected", "rejected"], ROUTE)),
    ((0.05, False), (["chosen", "chosen", "rejected"], BASELINE - on(MINI, output=200))),
    ((0.05, True), (["chosen", "chosen", "chosen"], BASELINE - on(MINI_BATCH, output=200))),
]
# category -> (decision of the mini route, words of its quality basis)
CATEGORIES = [(None, "chosen", "prior for low quality risk"), ("classification", "chosen", "prior for low"),
              ("knowledge", "rejected", "benchmark prior (knowledge): MMLU 88.7%"),
              ("code", "rejected", "benchmark prior (code): HumanEval 90.2%")]
INVALID = [({"quality_budget": 1.5}, "quality_budget"), ({"max_p95_latency_increase_pct": -1}, "max_p95"),
           ({"kinds": ["teleport"]}, "kinds.0"), ({"policies": [policy("teleport")]}, "policies.0.kind"),
           ({"allow_async": "sometimes"}, "allow_async"), ({"budget": 1}, "budget")]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


@pytest.fixture
def chat(ctx) -> ToolDispatcher:
    """The store holding CHAT; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, CHAT)
    return ToolDispatcher(ctx)


def choose(dispatcher: ToolDispatcher, policies: list[dict[str, Any]], **args: Any):
    """Run the optimizer on `policies`; return the result and its rows by policy_id."""
    result = dispatcher.run("optimal_policy_proposer", {"policies": policies, **args})
    return result, {r["policy_id"]: r for r in result.rows}


JOINT_FIGURES = {"combined_monthly_saving_usd": JOINT * MONTH,
                 "standalone_sum_monthly_saving_usd": (ROUTE + CACHE) * MONTH,
                 "overlap_monthly_usd": (ROUTE + CACHE - JOINT) * MONTH, "chosen_policies": 2,
                 "combined_saving_pct": 100 * JOINT / BASELINE, "baseline_monthly_cost_usd": BASELINE * MONTH,
                 "max_p95_change_pct": -100 / 3}   # unstreamed: the smaller sibling is assumed 1.5x as fast


@pytest.mark.parametrize("name,value", sorted(JOINT_FIGURES.items()))
def test_route_and_cache_on_the_same_events_are_priced_jointly(chat, name, value):
    result, _ = choose(chat, [ROUTE_MINI, CACHE_2000])
    assert result.value(name) == close(value)
    assert result.value("combined_monthly_saving_usd") <= result.value("standalone_sum_monthly_saving_usd")


def test_cache_after_a_route_adds_only_the_targets_cache_discount(chat):
    cache = choose(chat, [ROUTE_MINI, CACHE_2000])[1][CACHE_2000["policy_id"]]
    assert (cache["decision"], cache["rank"]) == ("chosen", 2)
    assert cache["marginal_monthly_saving_usd"] == pytest.approx(2000 * (MINI["input"] - MINI["cache_read"]) * MONTH)
    assert "forfeits the warm prompt cache on gpt-4o" in cache["reason"]


def test_cache_adds_nothing_after_routing_to_a_model_without_cheaper_cache_reads(chat):
    route = policy("route_model", params={"target_model": "gpt-3.5-turbo"})
    result, rows = choose(chat, [route, CACHE_2000])
    assert result.value("combined_monthly_saving_usd") == close(GPT35_ROUTE * MONTH)
    assert rows[CACHE_2000["policy_id"]]["decision"] == "rejected"
    assert rows[CACHE_2000["policy_id"]]["reason"].startswith("adds no saving on top of the chosen set; priced "
                                                              "jointly with route_model:chat:gpt-4o")


def test_two_routes_of_one_pair_conflict_and_the_larger_saving_wins(chat):
    result, rows = choose(chat, [ROUTE_MINI, ROUTE_NANO])
    assert (rows[ROUTE_NANO["policy_id"]]["decision"], rows[ROUTE_MINI["policy_id"]]["decision"]) == ("chosen",
                                                                                                    "rejected")
    assert rows[ROUTE_MINI["policy_id"]]["reason"] == ("conflicts with chosen route_model:chat:gpt-4o:nano: "
                                                       "one route_model per (feature, model)")
    assert result.value("combined_monthly_saving_usd") == close(NANO_ROUTE * MONTH)


@pytest.mark.parametrize("limits,expected", BUDGETS)
def test_quality_budget_and_async_permission(chat, limits, expected):
    result, rows = choose(chat, [ROUTE_MINI, CAP_50, BATCH], quality_budget=limits[0], allow_async=limits[1])
    decisions, saving = expected
    assert [rows[p["policy_id"]]["decision"] for p in (ROUTE_MINI, CAP_50, BATCH)] == decisions
    assert result.value("combined_monthly_saving_usd") == close(saving * MONTH)
    assert result.value("chosen_policies") == decisions.count("chosen")


@pytest.mark.parametrize("category,decision,basis", CATEGORIES)
def test_benchmark_priors_judge_an_unmeasured_route(chat, category, decision, basis):
    _, rows = choose(chat, [ROUTE_MINI], **({"category": category} if category else {}))
    row = rows[ROUTE_MINI["policy_id"]]
    assert row["decision"] == decision and basis in row["quality_basis"]


def test_the_teams_scores_take_precedence_over_priors(ctx):
    scored = [event(h, "chat", m, quality_score=0.75) for h, m in ((0, "gpt-4o"), (1, "gpt-4o-mini"))]
    load(ctx.store, ctx.catalog, scored)
    _, rows = choose(ToolDispatcher(ctx), [ROUTE_MINI], category="knowledge")
    row = rows[ROUTE_MINI["policy_id"]]
    assert (row["decision"], row["expected_quality_drop"]) == ("chosen", 0.0)
    assert row["quality_basis"].startswith("measured")


@pytest.mark.parametrize("limit,decision", [(10, "rejected"), (300, "chosen")])
def test_a_route_to_a_slower_model_must_keep_p95_within_the_limit(ctx, limit, decision):
    streamed = [event(h, "chat", "gpt-4o", ttft_ms=200) for h in (0, 8, 16, 24)]
    load(ctx.store, ctx.catalog, streamed + [event(4, "other", "gpt-4o-mini", ttft_ms=400, latency_ms=3400)])
    _, rows = choose(ToolDispatcher(ctx), [ROUTE_MINI], max_p95_latency_increase_pct=limit)
    row = rows[ROUTE_MINI["policy_id"]]
    assert (row["decision"], row["p95_change_pct"]) == (decision, pytest.approx(240.0))
    assert decision == "chosen" or row["reason"] == "a feature's p95 latency would change by +240.0% > +10%"


@pytest.mark.parametrize("bad,words", [(policy("batch_api", feature="absent"), "not applicable: no events"),
                                       (policy("route_model", params={"target_model": "gpt-4"}),
                                        "saves nothing when repriced alone")])
def test_policies_that_cannot_save_are_rejected(chat, bad, words):
    _, rows = choose(chat, [bad], allow_async=True)
    assert rows[bad["policy_id"]]["decision"] == "rejected" and rows[bad["policy_id"]]["reason"].startswith(words)


def test_repeated_policy_ids_count_once(chat):
    result, _ = choose(chat, [ROUTE_MINI, {**ROUTE_MINI, "monthly_saving_usd": 99}])
    assert result.value("candidate_policies") == 1 and "1 repeated policy_ids ignored" in result.notes


def test_no_policies_leaves_the_baseline(chat):
    result, _ = choose(chat, [])
    assert (result.value("baseline_monthly_cost_usd"), result.value("chosen_policies")) == (close(BASELINE * MONTH), 0)
    assert "no policies to choose from" in result.notes


CLASSIFIER = [event(h, "ticket_classifier", "gpt-4o", output=4) for h in range(60)]   # one an hour
CLASSIFIER_ROUTE = 60 * (1000 * (GPT4O["input"] - MINI["input"]) + 4 * (GPT4O["output"] - MINI["output"]))


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
