"""kv_cache_finder on planted shared prefixes, with hit ratios and savings computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher
from tests.factories import at, load

# literal USD per token of claude-sonnet-4-5, as in the price catalog
SONNET = {"input": 3e-6, "cache_read": 3e-7, "cache_write": 3.75e-6}
BLOCK = 256
MONTH_FACTOR = 30 / (3 / 24)  # the events span 3 hours
THRESHOLD = {"min_monthly_saving_usd": 0.4}

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 50,
        "reasoning_tokens": 0, "is_batch": 0, "block_size": BLOCK}
A1, A2, C1, C2, T1, T2 = 0xA1, 0xA2, 0xC1, 0xC2, 0x71, 0x72


def event(feature: str, model: str, hour: float, hashes: list[int], input_tokens: int = 800,
          cached: int = 0, written: int = 0) -> dict[str, Any]:
    """One request with its prefix block hashes (unique blocks get hashes from 0x1000 up)."""
    return {**ZERO, "timestamp": at(hours=hour), "feature": feature, "model": model, "prefix_hashes": hashes,
            "input_tokens": input_tokens, "cached_input_tokens": cached, "cache_write_tokens": written}


EVENTS = [
    # support: three requests share the 2-block prefix A1 A2, then one unique block each
    event("support", "claude-sonnet-4-5", 0, [A1, A2, 0x1001]),
    event("support", "claude-sonnet-4-5", 1, [A1, A2, 0x1002]),
    event("support", "claude-sonnet-4-5", 2, [A1, A2, 0x1003]),
    # ops reuses support's prefix later: 2 hit blocks, nothing first seen in ops is hit
    event("ops", "claude-sonnet-4-5", 2.5, [A1, A2, 0x1004], input_tokens=600),
    # code already caches: it writes 512 tokens, then reads them
    event("code", "claude-sonnet-4-5", 0.5, [C1, C2, 0x1005], written=512),
    event("code", "claude-sonnet-4-5", 1.5, [C1, C2, 0x1006], cached=512),
    # ties: two requests at the same instant both miss
    event("ties", "gpt-4o", 3, [T1, T2, 0x1007]),
    event("ties", "gpt-4o", 3, [T1, T2, 0x1008]),
]

# support: 4 hit blocks (1,024 tokens) resent uncached; A1 A2 written once (512 tokens)
SUPPORT_SAVING = 4 * BLOCK * (SONNET["input"] - SONNET["cache_read"]) \
    - 2 * BLOCK * (SONNET["cache_write"] - SONNET["input"])
OPS_SAVING = 2 * BLOCK * (SONNET["input"] - SONNET["cache_read"])

EXPECTED_ROWS = {
    "support": {"flagged": True, "requests": 3, "affected_requests": 2,
                "window_saving_usd": pytest.approx(SUPPORT_SAVING),
                "monthly_saving_usd": pytest.approx(SUPPORT_SAVING * MONTH_FACTOR),
                "quality_risk": "low", "latency_impact": "lower TTFT on cached prefixes",
                "confidence": 0.0015, "params": {"prefix_tokens": 512, "prompts": 1}},
    "ops": {"flagged": False, "affected_requests": 1, "window_saving_usd": pytest.approx(OPS_SAVING),
            "params": {"prefix_tokens": 512, "prompts": 1}},
    "code": {"flagged": False, "affected_requests": 0, "window_saving_usd": 0.0, "confidence": 0.002,
             "params": {"prefix_tokens": 512, "prompts": 1}},
    "ties": {"flagged": False, "model": "gpt-4o", "requests": 2, "window_saving_usd": 0.0,
             "params": {"prefix_tokens": 0, "prompts": 0}},
}
EXPECTED_REASONS = {
    "support": "1024 prefix tokens were resent without a cache in 2 requests; caching saves $0.57/month",
    "ops": "caching would save $0.33/month, under the threshold",
    "code": "repeated prefixes are already read from the cache",
    "ties": "no request repeats a prefix block seen earlier",
}
# 24 blocks, 8 hit (support 4, ops 2, code 2); 2,048 hit tokens over 6,200 input tokens
EXPECTED_FIGURES = {"block_hit_ratio": 8 / 24, "token_hit_ratio": 2048 / 6200, "hit_tokens": 2048,
                    "uncached_hit_tokens": 1536, "monthly_saving_usd": SUPPORT_SAVING * MONTH_FACTOR}
EXPECTED_FEATURES = [
    ("code", 2, 2 / 6, 512 / 1600, 512),
    ("ops", 1, 2 / 3, 512 / 600, 512),
    ("support", 3, 4 / 9, 1024 / 2400, 1024),
    ("ties", 2, 0.0, 0.0, 0),
]
PREFIX_A = {"table": "top_prefixes", "prefix": "00000000000000a1", "blocks": 2, "requests": 3,
            "hit_tokens": 1536, "features": ["ops", "support"]}
PREFIX_C = {"table": "top_prefixes", "prefix": "00000000000000c1", "blocks": 2, "requests": 1,
            "hit_tokens": 512, "features": ["code"]}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the finder."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run("kv_cache_finder", {**THRESHOLD, **(args or {})})


def table(result, name: str) -> list[dict[str, Any]]:
    """Return the rows of one extra table."""
    return [r for r in result.rows if r.get("table") == name]


@pytest.mark.parametrize(("feature", "expected"), sorted(EXPECTED_ROWS.items()))
def test_finding_per_pair_with_hand_computed_saving(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog).rows if r.get("feature") == feature and "kind" in r)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(("feature", "reason"), sorted(EXPECTED_REASONS.items()))
def test_reasons(ctx, catalog, feature, reason):
    assert next(r for r in run(ctx, catalog).rows if r.get("feature") == feature)["reason"] == reason


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED_FEATURES)))
def test_hit_ratios_per_feature(ctx, catalog, index, expected):
    row = table(run(ctx, catalog), "feature_hit_ratio")[index]
    got = (row["feature"], row["requests"], row["block_hit_ratio"], row["token_hit_ratio"], row["hit_tokens"])
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("top_n", "expected"), [(1, [PREFIX_A]), (5, [PREFIX_A, PREFIX_C])])
def test_top_prefixes_by_hit_tokens(ctx, catalog, top_n, expected):
    assert table(run(ctx, catalog, {"top_n": top_n}), "top_prefixes") == expected


@pytest.mark.parametrize(("threshold", "flagged"), [(0.0, ["ops", "support"]), (0.4, ["support"]), (1.0, [])])
def test_threshold_decides_flagging(ctx, catalog, threshold, flagged):
    rows = run(ctx, catalog, {"min_monthly_saving_usd": threshold}).rows
    assert [r["feature"] for r in rows if r.get("flagged")] == flagged


@pytest.mark.parametrize(("scope", "features", "monthly"), [
    ({}, ["code", "ops", "support", "ties"], SUPPORT_SAVING * MONTH_FACTOR),
    ({"feature": "support"}, ["support"], SUPPORT_SAVING * 30 / (2 / 24)),
    ({"model": "gpt-4o"}, ["ties"], 0.0),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, features, monthly):
    result = run(ctx, catalog, scope)
    assert [r["feature"] for r in result.rows if "kind" in r] == features
    assert result.value("monthly_saving_usd") == pytest.approx(monthly, abs=1e-6)
    assert all(e.params == scope for e in result.evidence)
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())


@pytest.mark.parametrize(("model", "rows", "notes"), [
    ("mystery-llm", 0, ["skipped support/mystery-llm: model not in the price catalog"]),
    ("claude-sonnet-4-5", 1, []),
])
def test_unknown_model_is_skipped_with_a_note(ctx, catalog, model, rows, notes):
    events = [event("support", model, hour, [A1, 0x2000 + hour]) for hour in range(3)]
    result = run(ctx, catalog, events=events)
    assert (len([r for r in result.rows if "kind" in r]), result.notes) == (rows, notes)
    assert result.value("hit_tokens") == 2 * BLOCK
