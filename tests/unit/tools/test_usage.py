"""token_usage_analyzer and model_mix_analyzer on small planted datasets computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.usage import MIX_FIGURES, PREMIUM_OUTPUT_PRICE_PER_TOKEN, USAGE_FIGURES
from tests.support.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "output": 6e-7}
HAIKU = {"input": 1e-6, "output": 5e-6}

TOKEN_NAMES = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


def event(when, feature: str, model: str, user: str, tokens: tuple[int, ...], provider: str = "") -> dict[str, Any]:
    """One event; `tokens` is (input, cached, cache_write, output, reasoning)."""
    return {"timestamp": when, "feature": feature, "model": model, "user_id": user, "provider": provider,
            "is_batch": 0, **dict(zip(TOKEN_NAMES, tokens))}


USAGE_EVENTS = [
    event(at(0), "chat", "gpt-4o", "u1", (1000, 400, 0, 200, 0)),
    event(at(0, hours=1), "chat", "gpt-4o", "u1", (3000, 1200, 300, 600, 100)),
    event(at(0, hours=2), "chat", "gpt-4o", "u2", (2000, 0, 0, 100, 0)),
    event(at(1), "search", "claude-sonnet-4-5", "u2", (500, 0, 0, 50, 0)),
    event(at(1, hours=1), "search", "claude-sonnet-4-5", "u3", (1500, 1000, 500, 150, 50)),
]

CHAT = {"requests": 3, "input_tokens": 6000, "cached_input_tokens": 1600, "cache_write_tokens": 300,
        "output_tokens": 900, "reasoning_tokens": 100, "avg_input_tokens": 2000, "avg_output_tokens": 300,
        "cache_read_share": 1600 / 6000, "input_p95": 3000, "output_p95": 600}
SEARCH = {"requests": 2, "input_tokens": 2000, "cached_input_tokens": 1000, "cache_write_tokens": 500,
          "output_tokens": 200, "reasoning_tokens": 50, "avg_input_tokens": 1000, "avg_output_tokens": 100,
          "cache_read_share": 0.5, "input_p95": 1500, "output_p95": 150}
# p95 of 5 values is sorted[4], the largest
OVERALL = {"requests": 5, "input_tokens": 8000, "cached_input_tokens": 2600, "cache_write_tokens": 800,
           "output_tokens": 1100, "reasoning_tokens": 150, "avg_input_tokens": 1600, "avg_output_tokens": 220,
           "cache_read_share": 2600 / 8000, "input_p95": 3000, "output_p95": 600}
U2 = {"requests": 2, "input_tokens": 2500, "cached_input_tokens": 0, "cache_write_tokens": 0,
      "output_tokens": 150, "reasoning_tokens": 0, "avg_input_tokens": 1250, "avg_output_tokens": 75,
      "cache_read_share": 0.0, "input_p95": 2000, "output_p95": 100}

USAGE_FILTERS = [
    ({}, OVERALL),
    ({"feature": "search"}, SEARCH),
    ({"model": "gpt-4o"}, CHAT),
    ({"user_id": "u2"}, U2),
    ({"start": at(1).isoformat(), "end": at(2).isoformat()}, SEARCH),
]

MIX_EVENTS = [
    event(at(0), "chat", "gpt-4o", "u1", (1000, 0, 0, 100, 0), "openai"),
    event(at(0, hours=1), "chat", "gpt-4o", "u1", (1000, 0, 0, 100, 0), "openai"),
    event(at(1), "chat", "gpt-4o-mini", "u2", (1000, 0, 0, 1000, 0), "openai"),
    event(at(1, hours=1), "chat", "gpt-4o-mini", "u2", (1000, 0, 0, 1000, 0), "openai"),
    event(at(1, hours=2), "chat", "gpt-4o-mini", "u2", (1000, 0, 0, 1000, 0), "openai"),
    event(at(2), "search", "claude-haiku-4-5", "u3", (1000, 0, 0, 100, 0), "anthropic"),
    event(at(2, hours=1), "search", "claude-haiku-4-5", "u3", (1000, 0, 0, 100, 0), "bedrock"),
    event(at(3), "search", "openai/gpt-4o-mini", "u3", (1000, 0, 0, 1000, 0), "openai"),
    event(at(3, hours=1), "search", "mystery-model", "u1", (500, 0, 0, 50, 0)),
]

COST_4O = 1000 * GPT4O["input"] + 100 * GPT4O["output"]
COST_MINI = 1000 * MINI["input"] + 1000 * MINI["output"]
COST_HAIKU = 1000 * HAIKU["input"] + 100 * HAIKU["output"]
MIX_TOTAL = 2 * COST_4O + 4 * COST_MINI + 2 * COST_HAIKU

# model, provider, requests, cost, input, output, catalog key, $/1M input, $/1M output, premium
MIX_ROWS = [
    ("gpt-4o", "openai", 2, 2 * COST_4O, 2000, 200, "gpt-4o", 2.5, 10.0, True),
    ("claude-haiku-4-5", "anthropic,bedrock", 2, 2 * COST_HAIKU, 2000, 200, "claude-haiku-4-5", 1.0, 5.0, True),
    ("gpt-4o-mini", "openai", 3, 3 * COST_MINI, 3000, 3000, "gpt-4o-mini", 0.15, 0.6, False),
    ("openai/gpt-4o-mini", "openai", 1, COST_MINI, 1000, 1000, "gpt-4o-mini", 0.15, 0.6, False),
    ("mystery-model", "", 1, 0.0, 500, 50, None, None, None, False),
]
MIX_KEYS = ("model", "provider", "requests", "cost_usd", "input_tokens", "output_tokens", "catalog_key",
            "input_price_per_1m_usd", "output_price_per_1m_usd", "premium")

MIX_EXPECTED = {"models": 5, "unknown_models": 1, "requests": 9, "total_cost_usd": MIX_TOTAL,
                "premium_cost_share": (2 * COST_4O + 2 * COST_HAIKU) / MIX_TOTAL}

# scope -> (models, unknown models, premium cost share)
MIX_FILTERS = [
    ({"feature": "chat"}, 2, 0, 2 * COST_4O / (2 * COST_4O + 3 * COST_MINI)),
    ({"user_id": "u3"}, 2, 0, 2 * COST_HAIKU / (2 * COST_HAIKU + COST_MINI)),
    ({"model": "gpt-4o-mini"}, 1, 0, 0.0),
    ({"start": at(3).isoformat()}, 2, 1, 0.0),
]

INVALID = [
    ("token_usage_analyzer", {"start": "soon"}),
    ("token_usage_analyzer", {"user_id": {"$ne": ""}}),
    ("model_mix_analyzer", {"end": "later"}),
    ("model_mix_analyzer", {"model": ["gpt-4o"]}),
]

FIGURE_SPECS = [("token_usage_analyzer", USAGE_FIGURES), ("model_mix_analyzer", MIX_FIGURES)]


def dispatcher(ctx, events: list[dict[str, Any]]) -> ToolDispatcher:
    """Load `events` and return a dispatcher over them."""
    load(ctx.store, ctx.catalog, events)
    return ToolDispatcher(ctx)


def figures(result) -> dict[str, Any]:
    """Return a result's figures as {name: approx value} (figures are rounded to 6 decimals)."""
    return {k: pytest.approx(f.value, abs=5e-7) for k, f in result.figures.items()}


@pytest.mark.parametrize("scope,expected", USAGE_FILTERS)
def test_token_usage_figures_per_scope(ctx, scope, expected):
    assert figures(dispatcher(ctx, USAGE_EVENTS).run("token_usage_analyzer", scope)) == expected


def test_token_usage_rows_per_feature(ctx):
    rows = dispatcher(ctx, USAGE_EVENTS).run("token_usage_analyzer").rows
    assert rows == [{"feature": "chat", **CHAT, "cache_read_share": pytest.approx(1600 / 6000, abs=5e-9)},
                    {"feature": "search", **SEARCH}]


@pytest.mark.parametrize("tool,spec", FIGURE_SPECS)
def test_empty_store_gives_zero_figures_and_a_note(ctx, tool, spec):
    result = ToolDispatcher(ctx).run(tool)
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(spec, 0.0)
    assert (result.rows, result.notes, len(result.evidence)) == ([], [EMPTY_NOTE], 1)


def test_model_mix_rows(ctx):
    rows = dispatcher(ctx, MIX_EVENTS).run("model_mix_analyzer").rows
    assert [tuple(r[k] for k in MIX_KEYS) for r in rows] == [
        tuple(pytest.approx(v, abs=5e-9) if isinstance(v, float) else v for v in row) for row in MIX_ROWS]


def test_model_mix_shares(ctx):
    rows = dispatcher(ctx, MIX_EVENTS).run("model_mix_analyzer").rows
    assert [r["request_share"] for r in rows] == pytest.approx([row[2] / 9 for row in MIX_ROWS], abs=5e-9)
    assert [r["cost_share"] for r in rows] == pytest.approx([row[3] / MIX_TOTAL for row in MIX_ROWS], abs=5e-9)


def test_model_mix_figures_and_unknown_note(ctx):
    result = dispatcher(ctx, MIX_EVENTS).run("model_mix_analyzer")
    assert figures(result) == MIX_EXPECTED
    assert len(result.notes) == 1 and "mystery-model" in result.notes[0]


@pytest.mark.parametrize("scope,models,unknown,premium", MIX_FILTERS)
def test_model_mix_filters(ctx, scope, models, unknown, premium):
    result = dispatcher(ctx, MIX_EVENTS).run("model_mix_analyzer", scope)
    assert [result.value(k) for k in ("models", "unknown_models", "premium_cost_share")] == pytest.approx(
        [models, unknown, premium], abs=5e-7)


@pytest.mark.parametrize("price,premium", [(HAIKU["output"], True), (MINI["output"], False),
                                          (GPT4O["output"], True)])
def test_premium_threshold_is_inclusive(price, premium):
    assert (price >= PREMIUM_OUTPUT_PRICE_PER_TOKEN) is premium


@pytest.mark.parametrize("tool,field,value", [("token_usage_analyzer", "feature", "chat"),
                                              ("model_mix_analyzer", "user_id", "u3")])
def test_evidence_binds_values_and_never_inlines_them(ctx, tool, field, value):
    evidence = dispatcher(ctx, USAGE_EVENTS + MIX_EVENTS).run(tool, {field: value}).evidence
    assert evidence and all(e.params[field] == value and f"'{value}'" not in e.sql for e in evidence)


@pytest.mark.parametrize("tool", ["token_usage_analyzer", "model_mix_analyzer"])
def test_same_call_same_answer(ctx, tool):
    tools = dispatcher(ctx, USAGE_EVENTS + MIX_EVENTS)
    assert tools.run(tool).model_dump() == tools.run(tool).model_dump()


@pytest.mark.parametrize("tool,args", INVALID)
def test_invalid_arguments_are_refused(ctx, tool, args):
    with pytest.raises(ToolArgumentsError):
        ToolDispatcher(ctx).run(tool, args)
