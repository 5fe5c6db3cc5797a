"""max_tokens_optimizer on planted runaway outputs, with the cap and saving computed by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.tools.evidence import confidence
from tests.support.factories import at, bound_params, load

# literal USD per output token, as in the price catalog
OUTPUT_PRICE = {"gpt-4.1": 8e-6, "gpt-4o": 1e-5}
MONTH_FACTOR = 30 / 1.0  # the events span one day

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 500, "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0,
        "is_batch": 0}


def event(feature: str, model: str, hour: float, output: int, limit: int, finish: str = "stop") -> dict[str, Any]:
    """One request with its output tokens, max_tokens limit and finish reason."""
    return {**ZERO, "timestamp": at(hours=hour), "feature": feature, "model": model, "output_tokens": output,
            "max_tokens": limit, "finish_reason": finish}


STOP_OUTPUTS = [100, 120, 140, 160, 180, 200, 220, 240, 260, 300]
EVENTS = (
    # summarizer: 10 short `stop` outputs, 2 runaways to the 4,096 limit
    [event("summarizer", "gpt-4.1", h, out, 4096) for h, out in enumerate(STOP_OUTPUTS)]
    + [event("summarizer", "gpt-4.1", 10 + h, 4096, 4096, "length") for h in range(2)]
    # chat: healthy, nothing ends at its limit
    + [event("chat", "gpt-4o", 12 + h, 40 * (h + 1), 1024) for h in range(10)]
    # tight: a limit already close to what the outputs need
    + [event("tight", "gpt-4o", 22 + h / 2, 50 * (h + 1), 256) for h in range(4)]
    + [event("tight", "gpt-4o", 24, 256, 256, "length")]
    # unset: no max_tokens, never examined
    + [event("unset", "gpt-4.1", 5 + h, 8000, 0, "length") for h in range(2)]
)

# p99 of the summarizer's stop outputs is 300 -> cap ceil(300 * 1.25 / 64) * 64 = 384
SUMMARIZER_SAVING = 2 * (4096 - 384) * OUTPUT_PRICE["gpt-4.1"]
EXPECTED_ROWS = {
    "summarizer": {"flagged": True, "model": "gpt-4.1", "requests": 12, "affected_requests": 2,
                   "window_saving_usd": pytest.approx(SUMMARIZER_SAVING),
                   "monthly_saving_usd": pytest.approx(SUMMARIZER_SAVING * MONTH_FACTOR),
                   "quality_risk": "low", "latency_impact": "shorter tail latency",
                   "confidence": 1.0,  # one day, and it saves
                   "params": {"cap": 384, "current_max_tokens": 4096, "p_output": 300}},
    # p99 400 -> cap 512; 1,024 is twice that, but no request ends at the limit
    "chat": {"flagged": False, "requests": 10, "affected_requests": 0, "window_saving_usd": 0.0,
             "params": {"cap": 512, "current_max_tokens": 1024, "p_output": 400}},
    # p99 200 -> cap 256, the limit already in use
    "tight": {"flagged": False, "requests": 5, "affected_requests": 0, "window_saving_usd": 0.0,
              "params": {"cap": 256, "current_max_tokens": 256, "p_output": 200}},
}
EXPECTED_REASONS = {
    "summarizer": "16.7% of requests end at max_tokens 4096; capping at 384 (p_output 300 x headroom) "
                  "saves $1.78/month",
    "chat": "only 0.0% of requests end at the max_tokens limit",
    "tight": "max_tokens 256 is already under twice the suggested cap 256",
}
EXPECTED_FIGURES = {"monthly_saving_usd": SUMMARIZER_SAVING * MONTH_FACTOR, "flagged_pairs": 1,
                    "length_finish_share": 3 / 27}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the optimizer."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run("max_tokens_optimizer", args or {})


def summarizer(result) -> dict[str, Any]:
    """Return the summarizer's finding."""
    return next(r for r in result.rows if r["feature"] == "summarizer")


@pytest.mark.parametrize(("feature", "expected"), sorted(EXPECTED_ROWS.items()))
def test_finding_per_pair_with_hand_computed_cap(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog).rows if r["feature"] == feature)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(("feature", "reason"), sorted(EXPECTED_REASONS.items()))
def test_reasons(ctx, catalog, feature, reason):
    assert next(r for r in run(ctx, catalog).rows if r["feature"] == feature)["reason"] == reason


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


# p50 of the stop outputs is 200 -> cap 256: two `stop` outputs (260, 300) are capped too
P50_EXCESS = (260 - 256) + (300 - 256) + 2 * (4096 - 256)


@pytest.mark.parametrize(("args", "cap", "affected", "excess", "risk"), [
    ({}, 384, 2, 2 * (4096 - 384), "low"),
    ({"percentile": 0.5}, 256, 4, P50_EXCESS, "medium"),
    ({"headroom": 2.0, "round_to": 100}, 600, 2, 2 * (4096 - 600), "low"),
])
def test_cap_rule_and_quality_risk(ctx, catalog, args, cap, affected, excess, risk):
    row = summarizer(run(ctx, catalog, args))
    assert (row["params"]["cap"], row["affected_requests"], row["quality_risk"]) == (cap, affected, risk)
    assert row["window_saving_usd"] == pytest.approx(excess * OUTPUT_PRICE["gpt-4.1"])


def test_a_cap_that_cuts_any_complete_answer_is_medium_risk(ctx, catalog):
    # with 18 more runaways, 20 of the 22 requests above the cap of 256 ended at their limit (91 %), but the
    # cap still cuts two complete answers (260 and 300 tokens)
    runaways = [event("summarizer", "gpt-4.1", 30 + h / 10, 4096, 4096, "length") for h in range(18)]
    row = summarizer(run(ctx, catalog, {"percentile": 0.5}, [*EVENTS, *runaways]))
    assert (row["params"]["cap"], row["affected_requests"], row["quality_risk"]) == (256, 22, "medium")


@pytest.mark.parametrize(("min_length_share", "flagged"), [(0.01, True), (0.1, True), (0.2, False), (0.5, False)])
def test_length_share_decides_flagging_not_confidence(ctx, catalog, min_length_share, flagged):
    row = summarizer(run(ctx, catalog, {"min_length_share": min_length_share}))
    assert (row["flagged"], row["confidence"]) == (flagged, 1.0)


def test_confidence_is_the_stability_of_the_daily_savings(ctx, catalog):
    # a second UTC day whose one summarizer request stays under the cap (100 < 384): per day the
    # cap saves SUMMARIZER_SAVING, then 0; a resample of only the second day saves nothing
    row = summarizer(run(ctx, catalog, events=[*EVENTS, event("summarizer", "gpt-4.1", 30, 100, 4096)]))
    daily = np.array([SUMMARIZER_SAVING, 0.0])
    assert (row["params"]["cap"], row["window_saving_usd"]) == (384, pytest.approx(SUMMARIZER_SAVING))
    assert row["confidence"] == confidence(daily, 1.0) and 0.5 < row["confidence"] < 1


@pytest.mark.parametrize(("scope", "features"), [
    ({}, ["chat", "summarizer", "tight"]),
    ({"feature": "summarizer"}, ["summarizer"]),
    ({"model": "gpt-4o"}, ["chat", "tight"]),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, features):
    result = run(ctx, catalog, scope)
    assert [r["feature"] for r in result.rows] == features
    assert all(bound_params(scope, e.sql).items() <= e.params.items() for e in result.evidence)
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())


@pytest.mark.parametrize(("model", "rows", "notes"), [
    ("mystery-llm", 0, ["skipped summarizer/mystery-llm: model not in the price catalog"]),
    ("gpt-4.1", 1, []),
])
def test_unknown_model_is_skipped_with_a_note(ctx, catalog, model, rows, notes):
    events = [event("summarizer", model, h, 100 + h, 4096) for h in range(3)]
    result = run(ctx, catalog, events=events)
    assert (len(result.rows), result.notes) == (rows, notes)


# the tokens above the cap are priced as output in each request's pricing key (docs/pricing.md):
# service tier -> USD per gpt-4o output token
PRIORITY_CASES = [("", 1e-5), ("priority", 1.7e-5), ("default", 1e-5)]


@pytest.mark.parametrize(("tier", "output_price"), PRIORITY_CASES)
def test_excess_output_is_priced_in_its_service_tier(ctx, catalog, tier, output_price):
    planted = [{**e, "model": "gpt-4o", "service_tier": tier} for e in EVENTS if e["feature"] == "summarizer"]
    row = summarizer(run(ctx, catalog, events=planted))
    assert row["window_saving_usd"] == pytest.approx(2 * (4096 - 384) * output_price)
