"""batch_opportunity_finder on planted offline traffic, with the batch discount computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher
from tests.factories import at, load

# literal USD per token (standard, batch), as in the price catalog; gpt-4.1 has no batch price
# for cache reads (both 5e-7, so they save nothing) and prices reasoning as output
GPT41 = {"input": (2e-6, 1e-6), "output": (8e-6, 4e-6)}
GPT4O = {"input": (2.5e-6, 1.25e-6), "output": (1e-5, 5e-6)}
MONTH_FACTOR = 30 / (20 / 24)  # the events span 20 hours

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 1000, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 100,
        "reasoning_tokens": 0, "is_batch": 0, "ttft_ms": 0, "session_id": "", "thread_id": ""}


def event(feature: str, model: str, hour: float, **columns: Any) -> dict[str, Any]:
    """One request; by default not streamed, in no session or thread, not batched."""
    return {**ZERO, "timestamp": at(hours=hour), "feature": feature, "model": model, **columns}


def discount(prices: dict[str, tuple[float, float]], tokens: dict[str, int]) -> float:
    """Return the saving of moving `tokens` (by price class) from standard to batch prices."""
    return sum(n * (prices[k][0] - prices[k][1]) for k, n in tokens.items())


EVENTS = (
    # nightly: 01:00-05:30 UTC, offline; 800 uncached input, 200 cached, 200 output + 100 reasoning
    [event("nightly", "gpt-4.1", 1 + h / 2, cached_input_tokens=200, output_tokens=300, reasoning_tokens=100)
     for h in range(10)]
    # mixed: 9 offline requests and 1 in a thread -> exactly the 90 % threshold
    + [event("mixed", "gpt-4o", 6 + h, thread_id="t-1" if h == 0 else "") for h in range(10)]
    # chat: streamed, in sessions
    + [event("chat", "gpt-4.1", 12 + h, ttft_ms=300, session_id=f"s-{h}") for h in range(10)]
    # already: sent through the Batch API already
    + [event("already", "gpt-4.1", 3 + h, is_batch=1) for h in range(3)]
    # offline: offline, but the model has no batch prices
    + [event("offline", "deepseek-chat", 2 + h) for h in range(3)]
)

NIGHTLY_SAVING = 10 * discount(GPT41, {"input": 800, "output": 200 + 100})
MIXED_SAVING = 9 * discount(GPT4O, {"input": 1000, "output": 100})
EXPECTED_ROWS = {
    "nightly": {"flagged": True, "model": "gpt-4.1", "requests": 10, "affected_requests": 10,
                "window_saving_usd": pytest.approx(NIGHTLY_SAVING),
                "monthly_saving_usd": pytest.approx(NIGHTLY_SAVING * MONTH_FACTOR),
                "quality_risk": "low", "latency_impact": "asynchronous: results within 24 h",
                "confidence": 0.01, "params": {"batchable_share": 1.0, "night_share": 1.0}},
    "mixed": {"flagged": True, "requests": 10, "affected_requests": 9,
              "window_saving_usd": pytest.approx(MIXED_SAVING), "confidence": 0.005,
              "params": {"batchable_share": 0.9, "night_share": 0.0}},
    "chat": {"flagged": False, "affected_requests": 0, "window_saving_usd": 0.0, "confidence": 0.01,
             "params": {"batchable_share": 0.0, "night_share": 0.0}},
    "already": {"flagged": False, "affected_requests": 0, "window_saving_usd": 0.0},
    "offline": {"flagged": False, "affected_requests": 3, "window_saving_usd": 0.0,
                "params": {"batchable_share": 1.0, "night_share": 1.0}},
}
EXPECTED_REASONS = {
    "nightly": "100.0% of requests are non-interactive (100% sent 00:00-06:00 UTC); "
               "the Batch API saves $0.72/month",
    "mixed": "90.0% of requests are non-interactive (0% sent 00:00-06:00 UTC); the Batch API saves $0.57/month",
    "chat": "only 0.0% of requests are non-interactive (need 90%)",
    "already": "only 0.0% of requests are non-interactive (need 90%)",
    "offline": "deepseek-chat has no cheaper batch prices",
}
EXPECTED_FIGURES = {"monthly_saving_usd": (NIGHTLY_SAVING + MIXED_SAVING) * MONTH_FACTOR,
                    "batchable_requests": 10 + 9 + 3, "flagged_pairs": 2}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the finder."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run("batch_opportunity_finder", args or {})


@pytest.mark.parametrize(("feature", "expected"), sorted(EXPECTED_ROWS.items()))
def test_finding_per_pair_with_hand_computed_saving(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog).rows if r["feature"] == feature)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(("feature", "reason"), sorted(EXPECTED_REASONS.items()))
def test_reasons(ctx, catalog, feature, reason):
    assert next(r for r in run(ctx, catalog).rows if r["feature"] == feature)["reason"] == reason


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("min_share", "flagged"), [
    (0.5, ["mixed", "nightly"]), (0.9, ["mixed", "nightly"]), (0.95, ["nightly"]),
])
def test_min_share_decides_flagging(ctx, catalog, min_share, flagged):
    rows = run(ctx, catalog, {"min_share": min_share}).rows
    assert [r["feature"] for r in rows if r["flagged"]] == flagged


@pytest.mark.parametrize(("scope", "features"), [
    ({}, ["already", "chat", "mixed", "nightly", "offline"]),
    ({"feature": "nightly"}, ["nightly"]),
    ({"model": "gpt-4o"}, ["mixed"]),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, features):
    result = run(ctx, catalog, scope)
    assert [r["feature"] for r in result.rows] == features
    assert all(e.params == scope for e in result.evidence)
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())


@pytest.mark.parametrize(("model", "rows", "notes"), [
    ("mystery-llm", 0, ["skipped nightly/mystery-llm: model not in the price catalog"]),
    ("gpt-4.1", 1, []),
])
def test_unknown_model_is_skipped_with_a_note(ctx, catalog, model, rows, notes):
    result = run(ctx, catalog, events=[event("nightly", model, h) for h in range(3)])
    assert (len(result.rows), result.notes) == (rows, notes)
