"""expensive_request_explainer on a planted dataset with hand-computed costs and reasons."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.expensive import FIGURES, REASONS
from tests.support.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "output": 6e-7}
SONNET = {"input": 3e-6, "output": 1.5e-5}


def event(rid: str, when, feature: str, model: str, tokens: tuple[int, int], **extra: Any) -> dict[str, Any]:
    """One event with (input, output) tokens."""
    return {"request_id": rid, "timestamp": when, "feature": feature, "model": model, "input_tokens": tokens[0],
            "output_tokens": tokens[1], "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0,
            "is_batch": 0, "status": "ok", "prompt_hash": 0, "prefix_hashes": [], **extra}


EVENTS = [
    event("A", at(0), "chat", "gpt-4o", (5000, 100), prefix_hashes=[1, 2, 3]),
    event("B", at(1), "chat", "gpt-4o", (5000, 100), prefix_hashes=[1, 2, 3]),   # prefix 1 seen at A, no cache
    event("C", at(2), "chat", "gpt-4o", (5000, 100), prefix_hashes=[1, 2, 3], cached_input_tokens=4000),
    event("D", at(2, hours=1), "chat", "gpt-4o-mini", (100, 2000)),
    # a timeout after 50 output tokens: billed (one with no output would be refused and cost $0)
    event("E", at(3), "chat", "gpt-4o", (3000, 50), status="error", prompt_hash=9),
    event("F", at(3, seconds=1), "chat", "gpt-4o", (3000, 200), prompt_hash=9),
    event("G", at(3, hours=2), "chat", "claude-sonnet-4-5", (200, 300)),
    event("H", at(4), "search", "gpt-4o-mini", (100, 10)),
    event("I", at(4, hours=1), "search", "gpt-4o-mini", (200, 20)),
]
COST = {
    "A": 5000 * GPT4O["input"] + 100 * GPT4O["output"],
    "B": 5000 * GPT4O["input"] + 100 * GPT4O["output"],
    "C": 1000 * GPT4O["input"] + 4000 * GPT4O["cache_read"] + 100 * GPT4O["output"],
    "D": 100 * MINI["input"] + 2000 * MINI["output"],
    "E": 3000 * GPT4O["input"] + 50 * GPT4O["output"],
    "F": 3000 * GPT4O["input"] + 200 * GPT4O["output"],
    "G": 200 * SONNET["input"] + 300 * SONNET["output"],
    "H": 100 * MINI["input"] + 10 * MINI["output"],
    "I": 200 * MINI["input"] + 20 * MINI["output"],
}
TOTAL = sum(COST.values())
# feature p95 (quantileExact: the value at floor(0.95 n) of the sorted values) is each feature's maximum here:
# chat input 5000, chat output 2000, search input 200, search output 20
EXPECTED = [
    ("A", ["long_context", "premium_model"]),
    ("B", ["long_context", "cache_miss_on_repeated_prefix", "premium_model"]),
    ("F", ["premium_model"]),
    ("C", ["long_context", "premium_model"]),
    ("E", ["retry", "premium_model"]),
    ("G", ["premium_model"]),
    ("D", ["long_output"]),
    ("I", ["long_context", "long_output"]),
    ("H", []),
]

# top_n -> figure values
FIGURE_CASES = [
    (3, {"requests_listed": 3, "listed_cost_usd": COST["A"] + COST["B"] + COST["F"],
         "listed_cost_share": (COST["A"] + COST["B"] + COST["F"]) / TOTAL, "explained_requests": 3,
         "long_context_requests": 2, "cache_miss_on_repeated_prefix_requests": 1, "retry_requests": 0,
         "long_output_requests": 0, "premium_model_requests": 3}),
    (100, {"requests_listed": 9, "listed_cost_usd": TOTAL, "listed_cost_share": 1.0, "explained_requests": 8,
           "long_context_requests": 4, "cache_miss_on_repeated_prefix_requests": 1, "retry_requests": 1,
           "long_output_requests": 2, "premium_model_requests": 6}),
]

# scope -> expected (request_id, reasons) in order
SCOPES = [
    ({"feature": "search"}, [("I", ["long_context", "long_output"]), ("H", [])]),
    ({"start": at(1).isoformat(), "end": at(2, hours=12).isoformat(), "top_n": 2},
     [("B", ["long_context", "premium_model"]), ("C", ["long_context", "premium_model"])]),  # A out of scope
]

INVALID = [({"top_n": 0}, "top_n"), ({"top_n": 101}, "top_n"), ({"top_n": "ten"}, "top_n"),
           ({"order_by": "cost_usd"}, "order_by")]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def test_rows_rank_by_cost_with_reasons(planted):
    rows = planted.run("expensive_request_explainer", {"top_n": 100}).rows
    assert [(r["request_id"], r["reasons"]) for r in rows] == EXPECTED
    assert [r["cost_usd"] for r in rows] == [pytest.approx(COST[rid], abs=5e-9) for rid, _ in EXPECTED]
    assert [r["rank"] for r in rows] == list(range(1, 10))


def test_row_fields(planted):
    row = planted.run("expensive_request_explainer", {"top_n": 1}).rows[0]
    assert row == {"rank": 1, "request_id": "A", "time": "2026-03-02T00:00:00", "feature": "chat", "model": "gpt-4o",
                   "cost_usd": pytest.approx(COST["A"]), "input_tokens": 5000, "output_tokens": 100,
                   "cached_input_tokens": 0, "status": "ok", "reasons": ["long_context", "premium_model"]}


@pytest.mark.parametrize("top_n,expected", FIGURE_CASES)
def test_figures(planted, top_n, expected):
    result = planted.run("expensive_request_explainer", {"top_n": top_n})
    assert {k: result.value(k) for k in expected} == {k: close(v) for k, v in expected.items()}


@pytest.mark.parametrize("scope,expected", SCOPES)
def test_reasons_compare_within_the_scope(planted, scope, expected):
    rows = planted.run("expensive_request_explainer", scope).rows
    assert [(r["request_id"], r["reasons"]) for r in rows] == expected


def test_every_reason_has_a_figure():
    assert all(f"{name}_requests" in FIGURES for name in REASONS)


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("expensive_request_explainer", args)


def test_empty_scope_gives_zero_figures_and_a_note(planted):
    result = planted.run("expensive_request_explainer", {"feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
