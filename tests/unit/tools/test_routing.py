"""model_routing_recommender and the model tiers on small planted datasets with hand-computed savings."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher
from netra.workloads.tiers import CHEAPER_SIBLING, cheaper_sibling
from tests.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6, "output": 1e-5}
GPT4O_BATCH = {"input": 1.25e-6, "output": 5e-6}
MINI = {"input": 1.5e-7, "cache_read": 7.5e-8, "output": 6e-7}
MINI_BATCH = {"input": 7.5e-8, "output": 3e-7}
GPT41 = {"input": 2e-6, "output": 8e-6}

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "openai", "status": "ok", "prompt_hash": 0}

REQUESTS = 60
SPAN_DAYS = (REQUESTS - 1) / 24  # one request an hour


def events(feature: str, model: str, n: int = REQUESTS, **tokens: Any) -> list[dict[str, Any]]:
    """Return `n` identical requests of one (feature, model), one an hour from T0."""
    return [{**ZERO, "timestamp": at(hours=i), "feature": feature, "model": model, **tokens} for i in range(n)]


def monthly(window: float) -> float:
    """Scale a window amount of the planted span to 30 days."""
    return window * 30 / SPAN_DAYS


def run(ctx, catalog, records: list[dict[str, Any]], args: dict[str, Any] | None = None):
    """Load `records` and run the recommender on them."""
    load(ctx.store, catalog, records)
    return ToolDispatcher(ctx).run("model_routing_recommender", args or {})


def row_of(result, feature: str) -> dict[str, Any]:
    """Return the result row of `feature`."""
    return next(row for row in result.rows if row["feature"] == feature)


def classifier(plain: int = 400, cached: int = 0, output: int = 4, batch: int = 0) -> list[dict[str, Any]]:
    """Return the short-output gpt-4o classifier requests."""
    return events("ticket_classifier", "gpt-4o", input_tokens=plain + cached, cached_input_tokens=cached,
                  output_tokens=output, is_batch=batch)


DOC_QA = events("doc_qa", "gpt-4.1", input_tokens=800, output_tokens=300)

# (plain input, cached input, output, is_batch) -> saving per request on gpt-4o-mini instead of gpt-4o
SAVING_CASES = [
    ((400, 0, 4, 0), 400 * (GPT4O["input"] - MINI["input"]) + 4 * (GPT4O["output"] - MINI["output"])),
    ((400, 0, 4, 1), 400 * (GPT4O_BATCH["input"] - MINI_BATCH["input"])
     + 4 * (GPT4O_BATCH["output"] - MINI_BATCH["output"])),
    ((300, 100, 4, 0), 300 * (GPT4O["input"] - MINI["input"]) + 100 * (GPT4O["cache_read"] - MINI["cache_read"])
     + 4 * (GPT4O["output"] - MINI["output"])),
]


@pytest.mark.parametrize(("tokens", "per_request"), SAVING_CASES)
def test_short_output_premium_pair_is_flagged_with_the_exact_saving(ctx, catalog, tokens, per_request):
    result = run(ctx, catalog, classifier(*tokens) + DOC_QA)
    row, window = row_of(result, "ticket_classifier"), REQUESTS * per_request
    assert row["flagged"] and row["params"] == {"target_model": "gpt-4o-mini"}
    assert (row["window_saving_usd"], row["monthly_saving_usd"]) == pytest.approx((window, monthly(window)))
    assert result.value("monthly_saving_usd") == pytest.approx(monthly(window), abs=1e-6)
    assert result.value("flagged_pairs") == 1


@pytest.mark.parametrize(("field", "expected"), [
    ("flagged", False), ("window_saving_usd", 0.0), ("monthly_saving_usd", 0.0), ("affected_requests", 0),
    ("requests", REQUESTS), ("params", {"target_model": "gpt-4.1-mini"}),
    ("window_cost_usd", pytest.approx(REQUESTS * (800 * GPT41["input"] + 300 * GPT41["output"]))),
    ("reason", "not simple: p95 output 300 > 50"),
])
def test_long_output_pair_is_examined_but_not_flagged(ctx, catalog, field, expected):
    assert row_of(run(ctx, catalog, classifier() + DOC_QA), "doc_qa")[field] == expected


@pytest.mark.parametrize(("args", "flagged", "reason_part"), [
    ({}, True, "simple enough for gpt-4o-mini"),
    ({"max_output_p95": 3}, False, "p95 output 4 > 3"),
    ({"max_input_p95": 399}, False, "p95 input 400 > 399"),
    ({"min_requests": REQUESTS + 1}, False, f"{REQUESTS} requests < min_requests {REQUESTS + 1}"),
])
def test_thresholds_decide_flagging(ctx, catalog, args, flagged, reason_part):
    row = run(ctx, catalog, classifier(), args).rows[0]
    assert row["flagged"] is flagged
    assert reason_part in row["reason"]


@pytest.mark.parametrize(("output", "risk", "confidence", "shadow_note"), [
    (4, "low", 0.8, False),
    (16, "low", 0.8, False),
    (30, "medium", 0.6, True),
])
def test_quality_risk_follows_p95_output(ctx, catalog, output, risk, confidence, shadow_note):
    result = run(ctx, catalog, classifier(output=output))
    row = result.rows[0]
    assert (row["flagged"], row["quality_risk"], row["confidence"]) == (True, risk, confidence)
    assert row["latency_impact"] == "faster (smaller model)"
    assert any("shadow evaluation" in note for note in result.notes) is shadow_note


@pytest.mark.parametrize(("model", "note_part"), [
    ("gpt-4o-mini", "has no known cheaper sibling"),
    ("mystery-model", "is not in the price catalog"),
])
def test_pairs_without_a_sibling_are_skipped_with_a_note(ctx, catalog, model, note_part):
    result = run(ctx, catalog, events("chat", model, input_tokens=400, output_tokens=4))
    assert (result.rows, result.value("flagged_pairs")) == ([], 0)
    assert any(model in note and note_part in note for note in result.notes)


@pytest.mark.parametrize("scope", [
    {"feature": "ticket_classifier"},
    {"model": "gpt-4o", "user_id": "u'1; DROP TABLE workload_events"},
])
def test_scope_values_reach_sql_only_as_bound_parameters(ctx, catalog, scope):
    result = run(ctx, catalog, classifier(), scope)
    assert len(result.evidence) == 3
    assert all(e.params == scope for e in result.evidence)
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())


# ---------------------------------------------------------------- tiers


@pytest.mark.parametrize(("model", "sibling"), [
    ("gpt-4o", "gpt-4o-mini"),
    ("openai/gpt-4o", "gpt-4o-mini"),
    ("openai/gpt-4o-2024-08-06", "gpt-4o-mini"),
    ("gpt-4o-2024-11-20", "gpt-4o-mini"),
    ("GPT-4o", "gpt-4o-mini"),
    ("gpt-4.1-2025-04-14", "gpt-4.1-mini"),
    ("gpt-5", "gpt-5-mini"),
    ("o3-2025-04-16", "o4-mini"),
    ("claude-sonnet-4-5", "claude-haiku-4-5"),
    ("anthropic/claude-sonnet-4-5-20250929", "claude-haiku-4-5"),
    ("claude-opus-4-5-20251101", "claude-sonnet-4-5"),
    ("gpt-4o-mini", None),
    ("claude-haiku-4-5", None),
    ("mystery-model", None),
])
def test_cheaper_sibling_resolves_prefixed_and_dated_names(catalog, model, sibling):
    assert cheaper_sibling(catalog, model) == sibling


@pytest.mark.parametrize(("premium", "sibling"), sorted(CHEAPER_SIBLING.items()))
def test_every_sibling_is_a_cheaper_model_of_the_same_provider(catalog, premium, sibling):
    big, small = catalog.lookup(premium), catalog.lookup(sibling)
    assert big.provider == small.provider
    for token_class in ("input", "output"):
        assert small.per_token(token_class) < big.per_token(token_class)
