"""supply_catalog_lookup and price_comparator on a small catalog and a planted workload, hand-computed."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolContext, ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.catalog_tools import COMPARATOR_FIGURES
from netra.workloads.catalog import catalog_from_doc
from tests.support.factories import at, load

# ---------------------------------------------------------------- lookup on a four-model catalog

SMALL = catalog_from_doc({"version": "t1", "source": "test", "licence": "MIT", "models": {
    "big": {"provider": "acme", "input": 4e-6, "output": 1.6e-5, "cache_read": 4e-7, "input_batch": 2e-6,
            "output_batch": 8e-6, "max_output_tokens": 8000, "supports_prompt_caching": True},
    "small": {"provider": "acme", "input": 1e-7, "output": 4e-7, "supports_prompt_caching": False},
    "mid": {"provider": "Other", "input": 1e-6, "output": 2e-6, "supports_prompt_caching": True},
    "gpt-4o-mini": {"provider": "openai", "input": 1.5e-7, "output": 6e-7, "cache_read": 7.5e-8,
                    "supports_prompt_caching": True}}})

# filters -> catalog keys listed, cheapest output first
FILTERS = [
    ({}, ["small", "gpt-4o-mini", "mid", "big"]),
    ({"provider": "ACME"}, ["small", "big"]),
    ({"max_output_price_per_1m": 2.0}, ["small", "gpt-4o-mini", "mid"]),
    ({"max_output_price_per_1m": 0.6, "supports_prompt_caching": True}, ["gpt-4o-mini"]),
    ({"supports_prompt_caching": False}, ["small"]),
    ({"limit": 2}, ["small", "gpt-4o-mini"]),
    ({"model": "vendor/big", "provider": "other"}, []),
]

BIG_ROW = {"requested": "acme/BIG", "model": "big", "provider": "acme",
           "prices_per_1m": {"input": 4.0, "cache_read": 0.4, "cache_write": 4.0, "cache_write_1h": 4.0,
                             "output": 16.0, "reasoning": 16.0},
           "fallback_classes": ["cache_write", "cache_write_1h", "reasoning"],
           "batch_prices_per_1m": {"input": 2.0, "output": 8.0}, "other_prices_per_1m": {},
           "supports_prompt_caching": True,
           "max_input_tokens": None, "max_output_tokens": 8000, "quality_priors": {}, "quality_sources": {}}

BAD_LOOKUPS = [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"max_output_price_per_1m": -1}, "max_output"),
               ({"colour": "red"}, "colour"), ({"model": "nope-9000"}, "model: 'nope-9000'"),
               ({"supports_prompt_caching": "maybe"}, "supports_prompt_caching")]


@pytest.fixture
def small(store) -> ToolDispatcher:
    """A dispatcher over the four-model catalog (the store stays empty: lookup never reads it)."""
    return ToolDispatcher(ToolContext(store=store, catalog=SMALL, workspace_id=LOCAL_WORKSPACE))


@pytest.mark.parametrize("args,keys", FILTERS)
def test_lookup_filters_and_orders_by_output_price(small, args, keys):
    result = small.run("supply_catalog_lookup", args)
    assert [r["model"] for r in result.rows] == keys
    assert result.value("listed") == len(keys) and result.value("catalog_models") == 4


def test_lookup_counts_matches_beyond_the_limit(small):
    result = small.run("supply_catalog_lookup", {"limit": 1})
    assert (result.value("matches"), result.value("listed")) == (4, 1)


def test_lookup_of_one_model_resolves_its_name(small):
    result = small.run("supply_catalog_lookup", {"model": "acme/BIG"})
    assert result.rows == [BIG_ROW]
    assert result.notes == ["prices from test (version t1, licence MIT)"]


def test_lookup_shows_quality_priors_with_their_sources(small):
    row = small.run("supply_catalog_lookup", {"model": "gpt-4o-mini"}).rows[0]
    assert row["quality_priors"] == {"knowledge": 0.82, "code": 0.872, "reasoning": 0.402, "math": 0.702}
    assert row["quality_sources"]["code"].startswith("HumanEval 87.2%")


def test_lookup_in_the_packaged_catalog(ctx):
    row = ToolDispatcher(ctx).run("supply_catalog_lookup", {"model": "openai/gpt-4o-2024-08-06"}).rows[0]
    assert (row["model"], row["max_input_tokens"], row["prices_per_1m"]["output"]) == ("gpt-4o-2024-08-06",
                                                                                      128000, 10.0)
    assert row["quality_priors"]["knowledge"] == 0.887


def test_lookup_lists_priority_flex_and_long_context_prices(ctx):
    other = ToolDispatcher(ctx).run("supply_catalog_lookup", {"model": "gemini-2.5-pro"}).rows[0]["other_prices_per_1m"]
    assert {k: other[k] for k in ("input_above_200k", "output_priority", "output_flex_above_200k")} == {
        "input_above_200k": 2.5, "output_priority": 18.0, "output_flex_above_200k": 7.5}


@pytest.mark.parametrize("args,field", BAD_LOOKUPS)
def test_lookup_bad_arguments_name_the_field(small, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        small.run("supply_catalog_lookup", args)


# ---------------------------------------------------------------- comparator on a planted workload

GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6, "output": 1e-5}
GPT4O_BATCH = {"input": 1.25e-6, "cache_read": 1.25e-6, "output": 5e-6}
MINI = {"input": 1.5e-7, "cache_read": 7.5e-8, "output": 6e-7}
MINI_BATCH = {"input": 7.5e-8, "cache_read": 7.5e-8, "output": 3e-7}
NANO = {"input": 1e-7, "cache_read": 2.5e-8, "output": 4e-7}
ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
                        "status": "ok", "prompt_hash": 0}


def event(hours: float, feature: str, model: str, tokens: tuple[int, ...], **extra: Any) -> dict[str, Any]:
    """One event; `tokens` is (input, output[, cached, reasoning])."""
    names = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")
    return {**ZERO, "timestamp": at(hours=hours), "feature": feature, "model": model,
            "request_id": f"{feature}-{hours}", **dict(zip(names, tokens)), **extra}


EVENTS = [event(0, "chat", "gpt-4o", (1000, 200), quality_score=0.5),
          event(24, "chat", "gpt-4o", (2000, 500, 1000, 100), quality_score=0.75),
          event(48, "report", "gpt-4o-mini", (10000, 1000), is_batch=1)]
MONTH = 30 / 2.0  # the events span two days
CHAT = {"input": 2000, "cache_read": 1000, "output": 700}   # visible output 600 + reasoning 100
REPORT = {"input": 10000, "output": 1000}                   # batch


def price(standard: dict[str, float], batch: dict[str, float]) -> float:
    """Price the chat tokens at `standard` and the report tokens at `batch` prices."""
    return sum(n * standard[k] for k, n in CHAT.items()) + sum(n * batch[k] for k, n in REPORT.items())


ACTUAL = price(GPT4O, MINI_BATCH)
WINDOW = {"gpt-4o": price(GPT4O, GPT4O_BATCH), "gpt-4o-mini": price(MINI, MINI_BATCH),
          "gpt-4.1-nano": price(NANO, {"input": 5e-8, "output": 2e-7})}


def close(value: float) -> Any:
    """Match a figure or row value."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


@pytest.fixture
def planted(ctx) -> ToolDispatcher:
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def compare(dispatcher: ToolDispatcher, **args: Any) -> dict[str, dict[str, Any]]:
    """Run the comparator; return its rows by candidate."""
    return {r["candidate"]: r for r in dispatcher.run("price_comparator", args).rows}


@pytest.mark.parametrize("candidate", sorted(WINDOW))
def test_each_candidate_prices_the_scoped_tokens(planted, candidate):
    row = compare(planted, candidates=["gpt-4o", "openai/gpt-4o-mini", "gpt-4.1-nano"])[candidate]
    expected = {"window_cost_usd": WINDOW[candidate], "monthly_cost_usd": WINDOW[candidate] * MONTH,
                "delta_window_usd": WINDOW[candidate] - ACTUAL,
                "delta_monthly_usd": (WINDOW[candidate] - ACTUAL) * MONTH,
                "delta_pct": 100 * (WINDOW[candidate] - ACTUAL) / ACTUAL}
    assert {k: row[k] for k in expected} == {k: close(v) for k, v in expected.items()}


DEFAULT_FIGURES = {"candidates": 2, "actual_window_cost_usd": ACTUAL, "actual_monthly_cost_usd": ACTUAL * MONTH,
                   "cheapest_monthly_cost_usd": WINDOW["gpt-4o-mini"] * MONTH,
                   "cheapest_delta_monthly_usd": (WINDOW["gpt-4o-mini"] - ACTUAL) * MONTH}


def test_default_candidates_are_the_scope_models_and_their_cheaper_siblings(planted):
    result = planted.run("price_comparator", {})
    assert [(r["candidate"], r["in_scope"]) for r in result.rows] == [("gpt-4o-mini", True), ("gpt-4o", True)]
    assert result.figures["cheapest_monthly_cost_usd"].label.endswith(": gpt-4o-mini")


@pytest.mark.parametrize("name,value", sorted(DEFAULT_FIGURES.items()))
def test_comparator_figures(planted, name, value):
    assert planted.run("price_comparator", {}).value(name) == close(value)


@pytest.mark.parametrize("category,priors", [(None, {"knowledge": 0.887, "code": 0.902, "reasoning": 0.536,
                                                     "math": 0.766}),
                                             ("code", {"code": 0.902}), ("classification", {})])
def test_rows_carry_quality_priors_and_observed_scores(planted, category, priors):
    rows = compare(planted, category=category) if category else compare(planted)
    assert (rows["gpt-4o"]["quality_priors"], rows["gpt-4o"]["observed_quality"]) == (priors, 0.625)
    assert rows["gpt-4o-mini"]["observed_quality"] is None


def test_scope_narrows_the_tokens_priced(planted):
    rows = compare(planted, feature="chat", candidates=["gpt-4o-mini"])
    assert rows["gpt-4o-mini"]["window_cost_usd"] == close(sum(n * MINI[k] for k, n in CHAT.items()))


def test_unknown_models_in_scope_are_noted_and_priced_at_zero(ctx):
    load(ctx.store, ctx.catalog, EVENTS + [event(50, "misc", "mystery-model", (500, 0))])
    result = ToolDispatcher(ctx).run("price_comparator", {})
    assert "model 'mystery-model' is not in the price catalog; not a candidate" in result.notes
    assert "1 requests have no catalog price: their actual cost is 0" in result.notes


@pytest.mark.parametrize("args,field", [({"candidates": ["gpt-4o", "nope-1"]}, "candidates.1: 'nope-1'"),
                                        ({"candidates": []}, "candidates"), ({"category": 3}, "category"),
                                        ({"bogus": 1}, "bogus")])
def test_comparator_bad_arguments_name_the_field(planted, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        planted.run("price_comparator", args)


def test_comparator_empty_scope(planted):
    result = planted.run("price_comparator", {"feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(COMPARATOR_FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])


# the comparator prices each pricing key as ingest does (docs/pricing.md): feature -> (event, candidate, USD)
PRICE_KEY_CASES = {
    # above gemini-2.5-pro's 200k tier: 300000*2.5e-6 + 2000*1.5e-5
    "long": (event(0, "long", "gemini-2.5-pro", (300_000, 2_000)), "gemini-2.5-pro", 0.78),
    # the same tokens on gemini-2.5-flash, which has no long-context prices: 300000*3e-7 + 2000*2.5e-6
    "long on flash": (event(0, "long", "gemini-2.5-pro", (300_000, 2_000)), "gemini-2.5-flash", 0.095),
    # priority processing, on gpt-4o and re-priced on gpt-4o-mini: 1000*4.25e-6 + 100*1.7e-5; 1000*2.5e-7 + 100*1e-6
    "priority": (event(0, "priority", "gpt-4o", (1_000, 100), service_tier="priority"), "gpt-4o", 0.00595),
    "priority on mini": (event(0, "priority", "gpt-4o", (1_000, 100), service_tier="priority"), "gpt-4o-mini",
                         0.00035),
    # a 429 with no output is refused: $0 on any model
    "refused": (event(0, "refused", "gpt-4o", (1_000, 0), status="error", error_type="rate_limit"), "gpt-4o", 0.0),
}


@pytest.mark.parametrize("case", sorted(PRICE_KEY_CASES))
def test_candidates_price_each_pricing_key_as_ingest_does(ctx, case):
    planted, candidate, usd = PRICE_KEY_CASES[case]
    load(ctx.store, ctx.catalog, [planted])
    row = compare(ToolDispatcher(ctx), candidates=[candidate])[candidate]
    assert row["window_cost_usd"] == close(usd)
