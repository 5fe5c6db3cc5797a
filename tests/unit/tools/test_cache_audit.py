"""kv_cache_optimization_audit on planted prefixes and billed cache reads, computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.cache_audit import FIGURES
from tests.support.factories import at, bound_params, load

TOOL = "kv_cache_optimization_audit"
BLOCK = 256
# literal USD per token (input - cache read), as in the price catalog
SONNET_GAP = 3e-6 - 3e-7
GPT4O_GAP = 2.5e-6 - 1.25e-6
MONTH_FACTOR = 30 / (3 / 24)  # the events span 3 hours
A1, A2, B1, T1 = 0xA1, 0xA2, 0xB1, 0x71


def event(feature: str, model: str, hour: float, hashes: list[int], cached: int = 0) -> dict[str, Any]:
    """One request of 800 input tokens, `cached` of them billed as cache reads."""
    return {"timestamp": at(hours=hour), "request_id": f"{feature}-{hour}", "feature": feature, "model": model,
            "prefix_hashes": hashes, "block_size": BLOCK, "input_tokens": 800, "cached_input_tokens": cached,
            "output_tokens": 10}


EVENTS = [
    # support: A1 A2 first seen at hour 0; later requests hit 512 tokens and read 512, then 256
    event("support", "claude-sonnet-4-5", 0, [A1, A2, 0x1001]),
    event("support", "claude-sonnet-4-5", 1, [A1, A2, 0x1002], cached=512),
    event("support", "claude-sonnet-4-5", 2, [A1, A2, 0x1003], cached=256),
    # ops on gpt-4o reuses support's prefix (the replay is shared) and reads nothing
    event("ops", "gpt-4o", 2.5, [A1, A2, 0x1004]),
    # ops reads 1,024 tokens it could not have reused in the scope: billed, not achievable
    event("ops", "gpt-4o", 3, [B1, 0x1005], cached=1024),
    # ties: same instant, both miss
    {**event("ties", "gpt-4o", 3, [T1]), "request_id": "t1"},
    {**event("ties", "gpt-4o", 3, [T1]), "request_id": "t2"},
]

# feature, model, requests, achievable, billed, captured, pct, missed tokens, missed USD
EXPECTED_ROWS = [
    ("support", "claude-sonnet-4-5", 3, 1024, 768, 768, 75.0, 256, 256 * SONNET_GAP),
    ("ops", "gpt-4o", 2, 512, 1024, 0, 0.0, 512, 512 * GPT4O_GAP),
    ("ties", "gpt-4o", 2, 0, 0, 0, 0.0, 0, 0.0),
]
MISSED_USD = 256 * SONNET_GAP + 512 * GPT4O_GAP
EXPECTED_FIGURES = {"achievable_hit_tokens": 1536, "billed_cached_tokens": 1792, "captured_tokens": 768,
                    "reuse_captured_pct": 50.0, "missed_tokens": 768, "missed_usd": MISSED_USD,
                    "monthly_missed_usd": MISSED_USD * MONTH_FACTOR}
ROW_KEYS = ("feature", "model", "requests", "achievable_hit_tokens", "billed_cached_tokens", "captured_tokens",
            "reuse_captured_pct", "missed_tokens", "missed_usd")


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the audit."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run(TOOL, args or {})


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED_ROWS)))
def test_rows_largest_missed_dollars_first(ctx, catalog, index, expected):
    row = run(ctx, catalog).rows[index]
    assert tuple(row[k] for k in ROW_KEYS) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


def test_missed_tokens_match_kv_cache_finders_uncached_hit_tokens(ctx, catalog):
    audit = run(ctx, catalog)
    finder = ToolDispatcher(ctx).run("kv_cache_finder", {})
    assert (audit.value("achievable_hit_tokens"), audit.value("missed_tokens")) == \
        (finder.value("hit_tokens"), finder.value("uncached_hit_tokens"))


@pytest.mark.parametrize(("scope", "features"), [
    ({"feature": "support"}, ["support"]), ({"model": "gpt-4o"}, ["ops", "ties"]),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, features):
    result = run(ctx, catalog, scope)
    assert sorted(r["feature"] for r in result.rows) == features
    assert all(e.params == bound_params(scope, e.sql) for e in result.evidence)
    assert not any(v in e.sql for e in result.evidence for v in scope.values())


def test_model_scope_replays_only_its_requests(ctx, catalog):
    # without support's earlier requests, ops's first request is the first to hold A1 A2
    row = run(ctx, catalog, {"model": "gpt-4o"}).rows[0]
    assert (row["feature"], row["achievable_hit_tokens"], row["missed_tokens"]) == ("ops", 0, 0)


@pytest.mark.parametrize(("model", "priced", "notes"), [
    ("mystery-llm", False, ["support/mystery-llm: model not in the price catalog; its missed dollars count as 0"]),
    ("claude-sonnet-4-5", True, []),
])
def test_unknown_model_counts_tokens_but_no_dollars(ctx, catalog, model, priced, notes):
    events = [event("support", model, hour, [A1, 0x2000 + hour]) for hour in range(3)]
    result = run(ctx, catalog, events=events)
    assert (result.rows[0]["missed_tokens"], result.rows[0]["priced"], result.notes) == (512, priced, notes)
    assert (result.value("missed_usd") > 0) == priced


def test_empty_scope_gives_zeros_and_a_note(ctx, catalog):
    result = run(ctx, catalog, {"feature": "nothing"})
    assert ({k: f.value for k, f in result.figures.items()}, result.rows, result.notes) == \
        (dict.fromkeys(FIGURES, 0.0), [], [EMPTY_NOTE])


@pytest.mark.parametrize(("args", "field"), [
    ({"feature": 5}, "feature"), ({"start": "yesterday-ish"}, "start"), ({"top_n": 3}, "top_n"),
])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)


# missed tokens are priced in each request's pricing key (docs/pricing.md): columns -> support's missed USD
PRICE_KEY_CASES = [
    ({"is_batch": 1}, 256 * (1.5e-6 - 1.5e-7)),  # sonnet's batch input minus batch cache-read price
    ({"status": "error", "output_tokens": 0}, 0.0),  # refused requests cost nothing, cached or not
]


@pytest.mark.parametrize(("columns", "missed_usd"), PRICE_KEY_CASES)
def test_missed_tokens_are_priced_in_their_pricing_key(ctx, catalog, columns, missed_usd):
    events = [{**e, **columns} if e["feature"] == "support" else e for e in EVENTS]
    row = next(r for r in run(ctx, catalog, events=events).rows if r["feature"] == "support")
    assert (row["missed_tokens"], row["missed_usd"]) == (256, pytest.approx(missed_usd, abs=1e-12))
