"""cost_analyzer's token-class figures and `by` breakdowns; cost_driver_identifier's combinations and Pareto marks."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from tests.support.factories import at, load
from tests.unit.tools.test_cost import C1, C2, C3, C4, C4_SPLIT, C5, C7, DAYS, EVENTS, GPT4O, MINI, close, event, exact

SONNET = {"input": 3e-6, "cache_read": 3e-7, "cache_write": 3.75e-6, "cache_write_1h": 6e-6, "output": 1.5e-5}
GPT4O_BATCH = {"input": 1.25e-6, "output": 5e-6}
CLASSES = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")

# every priced class at once: 1-hour cache writes, reasoning, a batch request
CLASS_EVENTS = [
    event(at(0), "agent", "claude-sonnet-4-5", "u1", (5000, 800, 1000, 1000, 300), provider="anthropic",
          cache_write_1h_tokens=400),
    event(at(1), "agent", "gpt-4o", "u2", (2000, 400, 0, 0, 100), provider="openai", is_batch=1),
    event(at(1, hours=2), "chat", "gpt-4o-mini", "u2", (10000, 1000), provider="openai"),
]
SONNET_CLASSES = {"input": 3000 * SONNET["input"], "cache_read": 1000 * SONNET["cache_read"],
                  "cache_write": 600 * SONNET["cache_write"], "cache_write_1h": 400 * SONNET["cache_write_1h"],
                  "output": 500 * SONNET["output"], "reasoning": 300 * SONNET["output"]}
BATCH_CLASSES = {"input": 2000 * GPT4O_BATCH["input"], "output": 300 * GPT4O_BATCH["output"],
                 "reasoning": 100 * GPT4O_BATCH["output"]}
MINI_CLASSES = {"input": 10000 * MINI["input"], "output": 1000 * MINI["output"]}
SCOPE_CLASSES = {k: sum(c.get(k, 0.0) for c in (SONNET_CLASSES, BATCH_CLASSES, MINI_CLASSES)) for k in CLASSES}

# the planted EVENTS' whole-scope classes (mystery-model adds $0)
PLANTED_CLASSES = {
    "input": 3000 * GPT4O["input"] + 11000 * MINI["input"] + C4_SPLIT["input"],  # the timeout is refused: $0
    "cache_read": C4_SPLIT["cache_read"], "cache_write": C4_SPLIT["cache_write"], "cache_write_1h": 0.0,
    "output": 300 * GPT4O["output"] + 1100 * MINI["output"] + C4_SPLIT["output"], "reasoning": 0.0}

# `by` -> expected (keys, requests, cost) in order: cost descending, then keys ascending
BREAKDOWNS = [
    (["provider"], [(("anthropic",), 1, C4), (("openai",), 5, C1 + C2 + C3 + C5 + C7), (("",), 1, 0.0)]),
    (["feature", "day"], [(("search", "2026-03-03"), 1, C4), (("chat", "2026-03-02"), 2, C1 + C2),
                          (("chat", "2026-03-03"), 1, C3), (("search", "2026-03-04"), 2, C5),
                          (("search", "2026-03-06"), 1, C7)]),
    (["user_id", "model"], [(("u3", "claude-sonnet-4-5"), 1, C4), (("u2", "gpt-4o"), 1, C2),
                            (("u1", "gpt-4o"), 2, C1 + C7), (("u1", "gpt-4o-mini"), 1, C3),
                            (("u3", "gpt-4o-mini"), 1, C5), (("u2", "mystery-model"), 1, 0.0)]),
]

TOTAL = C1 + C2 + C3 + C4 + C5 + C7
# model x feature, ranked: (keys, cost, cumulative share, pareto)
COMBINED = [(("claude-sonnet-4-5", "search"), C4), (("gpt-4o", "chat"), C1 + C2), (("gpt-4o-mini", "chat"), C3),
            (("gpt-4o-mini", "search"), C5), (("gpt-4o", "search"), C7), (("mystery-model", "search"), 0.0)]
CUMULATIVE = [sum(c for _, c in COMBINED[:i + 1]) / TOTAL for i in range(len(COMBINED))]

# the pricing key reaches the split (docs/pricing.md): feature -> (event, its classes in USD, by hand)
PRICE_KEY_CASES = {
    # a 300k-token prompt is above gemini-2.5-pro's 200k tier: 300000*2.5e-6 + 2000*1.5e-5 = $0.78
    "long": (event(at(0), "long", "gemini-2.5-pro", "u1", (300_000, 2_000)), {"input": 0.75, "output": 0.03}),
    # OpenAI priority processing: 1000*4.25e-6 + 100*1.7e-5
    "priority": (event(at(0), "priority", "gpt-4o", "u1", (1_000, 100), service_tier="priority"),
                 {"input": 0.00425, "output": 0.0017}),
    # a 429 with no output is refused, not billed
    "refused": (event(at(0), "refused", "gpt-4o", "u1", (1_000, 0), status="error", error_type="rate_limit"), {}),
    # 10,000 tokens written with a 1-hour TTL: 2000*3e-6 + 10000*6e-6 + 500*1.5e-5 = $0.0735
    "1h": (event(at(0), "1h", "claude-sonnet-4-5", "u1", (12_000, 500, 0, 10_000), cache_write_1h_tokens=10_000),
           {"input": 0.006, "cache_write_1h": 0.06, "output": 0.0075}),
}


# 50 / 30 / 20 dollars of gpt-4o output: the third driver starts exactly at 80%
PARETO_EVENTS = [event(at(i), f, "gpt-4o", "u1", (0, n)) for i, (f, n) in
                 enumerate([("a", 5_000_000), ("b", 3_000_000), ("c", 2_000_000)])]

INVALID = [
    ("cost_analyzer", {"by": ["hour"]}, "by"),
    ("cost_analyzer", {"by": []}, "by"),
    ("cost_analyzer", {"by": ["day", "model", "day"]}, "by"),
    ("cost_analyzer", {"by": "model"}, "by"),
    ("cost_driver_identifier", {"dimensions": ["secret"]}, "dimensions"),
    ("cost_driver_identifier", {"dimensions": ["day"]}, "dimensions"),
    ("cost_driver_identifier", {"dimensions": []}, "dimensions"),
    ("cost_driver_identifier", {"dimensions": ["model", "model"]}, "dimensions"),
]


@pytest.fixture
def planted(ctx):
    """The store holding the planted EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def run(ctx, records: list[dict[str, Any]], tool: str, args: dict[str, Any] | None = None):
    """Load `records` and run `tool`."""
    load(ctx.store, ctx.catalog, records)
    return ToolDispatcher(ctx).run(tool, args or {})


def breakdown(result) -> list[dict[str, Any]]:
    """Return the breakdown rows of a cost_analyzer result."""
    return [r for r in result.rows if r.get("table") == "breakdown"]


# ---------------------------------------------------------------- cost_analyzer


@pytest.mark.parametrize("token_class", CLASSES)
def test_scope_cost_by_token_class(ctx, token_class):
    result = run(ctx, CLASS_EVENTS, "cost_analyzer")
    assert result.value(f"{token_class}_cost_usd") == close(SCOPE_CLASSES[token_class])


@pytest.mark.parametrize("records,expected", [(CLASS_EVENTS, SCOPE_CLASSES), (EVENTS, PLANTED_CLASSES)])
def test_token_class_figures_add_up_to_the_priced_cost(ctx, records, expected):
    result = run(ctx, records, "cost_analyzer")
    assert {k: result.value(f"{k}_cost_usd") for k in CLASSES} == {k: close(v) for k, v in expected.items()}
    assert sum(result.value(f"{k}_cost_usd") for k in CLASSES) == close(result.value("total_cost_usd"))


def test_without_by_the_rows_are_the_daily_rows_only(planted):
    rows = planted.run("cost_analyzer").rows
    assert [(r["day"], r["requests"], r["cost_usd"]) for r in rows] == [(d, n, exact(c)) for d, n, c in DAYS]


@pytest.mark.parametrize("by,expected", BREAKDOWNS)
def test_breakdown_rows_follow_the_daily_rows_largest_first(planted, by, expected):
    result = planted.run("cost_analyzer", {"by": by})
    daily, rows = result.rows[:len(DAYS)], breakdown(result)
    assert [r["day"] for r in daily] == [d for d, _, _ in DAYS] and len(result.rows) == len(DAYS) + len(rows)
    assert [(tuple(r[d] for d in by), r["requests"], r["cost_usd"]) for r in rows] == [
        (k, n, exact(c)) for k, n, c in expected]


@pytest.mark.parametrize("by", [b for b, _ in BREAKDOWNS])
def test_breakdown_classes_add_up_to_each_rows_cost(planted, by):
    for row in breakdown(planted.run("cost_analyzer", {"by": by})):
        assert sum(row[f"{k}_cost_usd"] for k in CLASSES) == exact(row["cost_usd"])


@pytest.mark.parametrize("keys,classes", [
    (("agent", "claude-sonnet-4-5"), SONNET_CLASSES), (("agent", "gpt-4o"), BATCH_CLASSES),
    (("chat", "gpt-4o-mini"), MINI_CLASSES)])
def test_breakdown_prices_each_class_with_batch_and_1h_prices(ctx, keys, classes):
    rows = breakdown(run(ctx, CLASS_EVENTS, "cost_analyzer", {"by": ["feature", "model"]}))
    row = next(r for r in rows if (r["feature"], r["model"]) == keys)
    assert {k: row[f"{k}_cost_usd"] for k in CLASSES} == {k: exact(classes.get(k, 0.0)) for k in CLASSES}


@pytest.mark.parametrize("feature", sorted(PRICE_KEY_CASES))
def test_breakdown_prices_each_class_as_ingest_does(ctx, feature):
    rows = breakdown(run(ctx, [e for e, _ in PRICE_KEY_CASES.values()], "cost_analyzer", {"by": ["feature"]}))
    row, classes = next(r for r in rows if r["feature"] == feature), PRICE_KEY_CASES[feature][1]
    assert {k: row[f"{k}_cost_usd"] for k in CLASSES} == {k: exact(classes.get(k, 0.0)) for k in CLASSES}
    assert row["cost_usd"] == exact(sum(classes.values()))


def test_breakdown_binds_the_scope_and_names_whitelisted_columns_only(planted):
    result = planted.run("cost_analyzer", {"by": ["day", "user_id"], "feature": "search"})
    query = next(e for e in result.evidence if "k_day" in e.sql)
    assert query.params == {"feature": "search", "workspace_id": "local"} and "toString(toDate(timestamp)) AS k_day" in query.sql
    assert [r["cost_usd"] for r in breakdown(result)] == [exact(C4), exact(C5), exact(C7), exact(0.0)]


def test_unknown_models_add_zero_to_every_class(planted):
    rows = breakdown(planted.run("cost_analyzer", {"by": ["model"]}))
    assert rows[-1]["model"] == "mystery-model" and all(rows[-1][f"{k}_cost_usd"] == 0 for k in CLASSES)


# ---------------------------------------------------------------- cost_driver_identifier


def test_drivers_group_by_a_combination(planted):
    rows = planted.run("cost_driver_identifier", {"dimensions": ["model", "feature"]}).rows
    assert [((r["model"], r["feature"]), r["cost_usd"]) for r in rows] == [(k, exact(c)) for k, c in COMBINED]
    assert [r["cumulative_share"] for r in rows] == [exact(c) for c in CUMULATIVE]
    assert [r["pareto"] for r in rows] == [True, True, False, False, False, False]


@pytest.mark.parametrize("top_n", [1, 2, 6])
def test_pareto_count_counts_drivers_beyond_the_listed_ones(planted, top_n):
    result = planted.run("cost_driver_identifier", {"dimensions": ["model", "feature"], "top_n": top_n})
    assert (len(result.rows), result.value("pareto_count")) == (top_n, 2)


def test_combination_split_prices_only_the_listed_combinations(planted):
    result = planted.run("cost_driver_identifier", {"dimensions": ["feature", "model"], "top_n": 3})
    split = result.evidence[-1]
    assert split.params == {"names": ["search", "chat"], "names_2": ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"],
                            "workspace_id": "local"}
    assert "search" not in split.sql and "gpt-4o" not in split.sql
    assert all(sum(r[f"{k}_cost_usd"] for k in CLASSES) == exact(r["cost_usd"]) for r in result.rows)


@pytest.mark.parametrize("feature", sorted(PRICE_KEY_CASES))
def test_driver_split_prices_each_class_as_ingest_does(ctx, feature):
    rows = run(ctx, [e for e, _ in PRICE_KEY_CASES.values()], "cost_driver_identifier").rows
    row, classes = next(r for r in rows if r["feature"] == feature), PRICE_KEY_CASES[feature][1]
    assert {k: row[f"{k}_cost_usd"] for k in CLASSES} == {k: exact(classes.get(k, 0.0)) for k in CLASSES}


def test_dimensions_win_over_dimension(planted):
    rows = planted.run("cost_driver_identifier", {"dimension": "user_id", "dimensions": ["provider"]}).rows
    assert [r["provider"] for r in rows] == ["anthropic", "openai", ""] and "user_id" not in rows[0]


@pytest.mark.parametrize("args,pareto,count", [
    ({}, [True, True, False], 2),
    ({"top_n": 1}, [True], 2),
    ({"dimension": "model"}, [True], 1),
])
def test_pareto_rows_end_where_80_percent_is_reached(ctx, args, pareto, count):
    result = run(ctx, PARETO_EVENTS, "cost_driver_identifier", args)
    assert ([r["pareto"] for r in result.rows], result.value("pareto_count")) == (pareto, count)


def test_cumulative_share_of_single_dimension_drivers(ctx):
    rows = run(ctx, PARETO_EVENTS, "cost_driver_identifier").rows
    assert [(r["feature"], r["cumulative_share"]) for r in rows] == [("a", exact(0.5)), ("b", exact(0.8)),
                                                                     ("c", exact(1.0))]


def test_pareto_count_is_zero_when_nothing_costs(ctx):
    result = run(ctx, [event(at(0), "free", "mystery-model", "u1", (100, 10))], "cost_driver_identifier")
    assert (result.value("pareto_count"), result.rows[0]["pareto"], result.rows[0]["cumulative_share"]) == (0, False, 0)


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize("tool,args,field", INVALID)
def test_bad_new_arguments_are_refused_naming_the_field(ctx, tool, args, field):
    with pytest.raises(ToolArgumentsError, match=rf"invalid arguments for {tool}: {field}\b"):
        ToolDispatcher(ctx).run(tool, args)


@pytest.mark.parametrize("tool,args", [("cost_analyzer", {"by": ["feature", "day"]}),
                                       ("cost_driver_identifier", {"dimensions": ["user_id", "model"]})])
def test_same_call_same_answer(planted, tool, args):
    assert planted.run(tool, args).model_dump() == planted.run(tool, args).model_dump()
