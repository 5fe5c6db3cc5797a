"""cost_analyzer and cost_driver_identifier on small planted datasets with hand-computed costs."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.cost import COST_FIGURES, DRIVER_FIGURES
from tests.support.factories import at, bound_params, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "output": 1e-5}
GPT4O_BATCH = {"input": 1.25e-6, "output": 5e-6}
MINI = {"input": 1.5e-7, "output": 6e-7}
SONNET = {"input": 3e-6, "cache_read": 3e-7, "cache_write": 3.75e-6, "output": 1.5e-5}

# every numeric column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "", "status": "ok"}


def event(when, feature: str, model: str, user: str, tokens: tuple[int, ...], **extra: Any) -> dict[str, Any]:
    """One event; `tokens` is (input, output[, cached, cache_write, reasoning])."""
    names = ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens")
    return {**ZERO, "timestamp": when, "feature": feature, "model": model, "user_id": user,
            **dict(zip(names, tokens)), **extra}


C1 = 1000 * GPT4O["input"] + 200 * GPT4O["output"]
C2 = 2000 * GPT4O["input"] + 100 * GPT4O["output"]
C3 = 10000 * MINI["input"] + 1000 * MINI["output"]
C4_SPLIT = {"input": 1000 * SONNET["input"], "cache_read": 2000 * SONNET["cache_read"],
            "cache_write": 1000 * SONNET["cache_write"], "output": 500 * SONNET["output"], "reasoning": 0.0}
C4 = sum(C4_SPLIT.values())
C5 = 1000 * MINI["input"] + 100 * MINI["output"]
C7 = 0.0  # a timeout with no output: refused, not billed (docs/pricing.md)
TOTAL = C1 + C2 + C3 + C4 + C5 + C7
SPAN_DAYS = 4.0

EVENTS = [
    event(at(0), "chat", "gpt-4o", "u1", (1000, 200), provider="openai"),
    event(at(0, hours=6), "chat", "gpt-4o", "u2", (2000, 100), provider="openai"),
    event(at(1), "chat", "gpt-4o-mini", "u1", (10000, 1000), provider="openai"),
    event(at(1, hours=12), "search", "claude-sonnet-4-5", "u3", (4000, 500, 2000, 1000), provider="anthropic"),
    event(at(2), "search", "gpt-4o-mini", "u3", (1000, 100), provider="openai", status="error"),
    event(at(2, hours=1), "search", "mystery-model", "u2", (500, 50)),
    event(at(4), "search", "gpt-4o", "u1", (400, 0), provider="openai", status="timeout"),
]

COST_EXPECTED = {
    "total_cost_usd": TOTAL, "monthly_cost_usd": TOTAL * 30 / SPAN_DAYS, "requests": 7,
    "cost_per_request_usd": TOTAL / 7, "span_days": SPAN_DAYS, "unpriced_requests": 1,
    "error_cost_usd": C5 + C7,
}
DAYS = [("2026-03-02", 2, C1 + C2), ("2026-03-03", 2, C3 + C4), ("2026-03-04", 2, C5), ("2026-03-06", 1, C7)]

# scope filter -> (requests, total cost)
FILTERS = [
    ({"feature": "chat"}, 3, C1 + C2 + C3),
    ({"model": "gpt-4o"}, 3, C1 + C2 + C7),
    ({"user_id": "u3"}, 2, C4 + C5),
    ({"start": at(1).isoformat(), "end": at(2).isoformat()}, 2, C3 + C4),
    ({"feature": "nothing-here"}, 0, 0.0),
]

# dimension -> expected (name, requests, cost) in ranked order
DRIVERS = {
    "feature": [("search", 4, C4 + C5 + C7), ("chat", 3, C1 + C2 + C3)],
    "model": [("claude-sonnet-4-5", 1, C4), ("gpt-4o", 3, C1 + C2 + C7), ("gpt-4o-mini", 2, C3 + C5),
              ("mystery-model", 1, 0.0)],
    "user_id": [("u3", 2, C4 + C5), ("u1", 3, C1 + C3 + C7), ("u2", 2, C2)],
    "provider": [("anthropic", 1, C4), ("openai", 5, C1 + C2 + C3 + C5 + C7), ("", 1, 0.0)],
}

SEARCH_SPLIT = {"input_cost_usd": C4_SPLIT["input"] + 1000 * MINI["input"] + C7,
                "cache_read_cost_usd": C4_SPLIT["cache_read"], "cache_write_cost_usd": C4_SPLIT["cache_write"],
                "output_cost_usd": C4_SPLIT["output"] + 100 * MINI["output"], "reasoning_cost_usd": 0.0}

BATCH_EVENTS = [
    event(at(0), "agent", "gpt-4o", "u1", (1000, 300, 0, 0, 100)),
    event(at(1), "agent", "gpt-4o", "u1", (1000, 300, 0, 0, 100), is_batch=1),
    event(at(1), "agent", "claude-sonnet-4-5", "u1", (2000, 500, 1000, 0, 200)),
]
BATCH_SPLIT = {
    "input_cost_usd": 1000 * (GPT4O["input"] + GPT4O_BATCH["input"]) + 1000 * SONNET["input"],
    "cache_read_cost_usd": 1000 * SONNET["cache_read"], "cache_write_cost_usd": 0.0,
    "output_cost_usd": 200 * (GPT4O["output"] + GPT4O_BATCH["output"]) + 300 * SONNET["output"],
    "reasoning_cost_usd": 100 * (GPT4O["output"] + GPT4O_BATCH["output"]) + 200 * SONNET["output"],
}

INVALID = [
    ("cost_driver_identifier", {"dimension": "secret"}),
    ("cost_driver_identifier", {"dimension": "feature; DROP TABLE workload_events"}),
    ("cost_driver_identifier", {"top_n": 0}),
    ("cost_driver_identifier", {"top_n": 101}),
    ("cost_analyzer", {"start": "not a date"}),
    ("cost_analyzer", {"feature": ["a", "b"]}),
]


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


def exact(value: float) -> Any:
    """Match a row value (rows are rounded to 8 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-9)


@pytest.mark.parametrize("name,expected", sorted(COST_EXPECTED.items()))
def test_cost_analyzer_figures(planted, name, expected):
    assert planted.run("cost_analyzer").value(name) == close(expected)


def test_cost_analyzer_rows_are_daily_costs(planted):
    rows = planted.run("cost_analyzer").rows
    assert [(r["day"], r["requests"], r["cost_usd"]) for r in rows] == [(d, n, exact(c)) for d, n, c in DAYS]


def test_cost_analyzer_names_unpriced_models(planted):
    notes = planted.run("cost_analyzer").notes
    assert len(notes) == 1 and "mystery-model (1)" in notes[0]


@pytest.mark.parametrize("scope,requests,cost", FILTERS)
def test_cost_analyzer_filters(planted, scope, requests, cost):
    result = planted.run("cost_analyzer", scope)
    assert (result.value("requests"), result.value("total_cost_usd")) == (requests, close(cost))


# scope -> (span days, monthly cost): the span is the question's window over every event of the workspace,
# never the span of a filter's own events (scope.span_query), so a filter never changes a monthly rate
SPANS = [
    ({"feature": "chat"}, 4.0, (C1 + C2 + C3) * 30 / 4),   # chat's own events span 1 day; the window at(0)..at(4)
    ({"user_id": "u3"}, 4.0, (C4 + C5) * 30 / 4),          # u3's span 12 h
    ({"start": at(1).isoformat(), "end": at(2).isoformat()}, 0.5, (C3 + C4) * 30 / 0.5),  # at(1) to at(1, 12 h)
]


@pytest.mark.parametrize("scope,days,monthly", SPANS)
def test_span_is_the_questions_window_never_a_filters(planted, scope, days, monthly):
    result = planted.run("cost_analyzer", scope)
    assert (result.value("span_days"), result.value("monthly_cost_usd")) == (close(days), close(monthly))


@pytest.mark.parametrize("tool,spec", [("cost_analyzer", COST_FIGURES), ("cost_driver_identifier", DRIVER_FIGURES)])
def test_empty_store_gives_zero_figures_and_a_note(ctx, tool, spec):
    result = ToolDispatcher(ctx).run(tool)
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(spec, 0.0)
    assert (result.rows, result.notes, len(result.evidence)) == ([], [EMPTY_NOTE], 1)


@pytest.mark.parametrize("tool,args", [("cost_analyzer", {"feature": "chat"}),
                                       ("cost_driver_identifier", {"feature": "chat", "dimension": "model"})])
def test_evidence_binds_values_and_never_inlines_them(planted, tool, args):
    evidence = planted.run(tool, args).evidence
    bound = [bound_params({"feature": "chat"}, e.sql) for e in evidence]
    assert evidence and all(b.items() <= e.params.items() and "chat" not in e.sql for b, e in zip(bound, evidence))
    assert all(("{feature:String}" in e.sql) == ("feature" in b) for b, e in zip(bound, evidence))


@pytest.mark.parametrize("dimension", sorted(DRIVERS))
def test_drivers_rank_by_cost(planted, dimension):
    rows = planted.run("cost_driver_identifier", {"dimension": dimension}).rows
    assert [(r[dimension], r["requests"], r["cost_usd"]) for r in rows] == [
        (n, k, exact(c)) for n, k, c in DRIVERS[dimension]]


@pytest.mark.parametrize("dimension", sorted(DRIVERS))
def test_driver_shares_and_monthly_cost(planted, dimension):
    rows = planted.run("cost_driver_identifier", {"dimension": dimension}).rows
    assert [r["share"] for r in rows] == [exact(c / TOTAL) for _, _, c in DRIVERS[dimension]]
    assert [r["monthly_cost_usd"] for r in rows] == [exact(c * 30 / SPAN_DAYS) for _, _, c in DRIVERS[dimension]]


@pytest.mark.parametrize("top_n,listed,top_n_share", [(1, 1, C4 + C5 + C7), (2, 2, TOTAL), (100, 2, TOTAL)])
def test_driver_figures_follow_top_n(planted, top_n, listed, top_n_share):
    result = planted.run("cost_driver_identifier", {"top_n": top_n})
    assert (len(result.rows), result.value("top_n_share")) == (listed, close(top_n_share / TOTAL))
    assert (result.value("top_driver_share"), result.value("total_cost_usd")) == (
        close((C4 + C5 + C7) / TOTAL), close(TOTAL))


def test_driver_split_prices_each_token_class(planted):
    row = planted.run("cost_driver_identifier").rows[0]
    assert {k: row[k] for k in SEARCH_SPLIT} == {k: exact(v) for k, v in SEARCH_SPLIT.items()}
    assert sum(row[k] for k in SEARCH_SPLIT) == exact(row["cost_usd"])


def test_driver_split_uses_batch_prices_and_reasoning(ctx):
    load(ctx.store, ctx.catalog, BATCH_EVENTS)
    row = ToolDispatcher(ctx).run("cost_driver_identifier").rows[0]
    assert {k: row[k] for k in BATCH_SPLIT} == {k: exact(v) for k, v in BATCH_SPLIT.items()}
    assert sum(BATCH_SPLIT.values()) == exact(row["cost_usd"])


def test_driver_split_counts_unknown_models_as_zero(planted):
    result = planted.run("cost_driver_identifier", {"dimension": "model"})
    assert all(result.rows[-1][k] == 0.0 for k in SEARCH_SPLIT)
    assert any("mystery-model" in n for n in result.notes)


def test_driver_names_are_bound_not_inlined(planted):
    split = planted.run("cost_driver_identifier", {"dimension": "user_id"}).evidence[-1]
    assert split.params["names"] == ["u3", "u1", "u2"] and "u3" not in split.sql


@pytest.mark.parametrize("tool,args", [("cost_analyzer", {}), ("cost_driver_identifier", {"dimension": "model"})])
def test_same_call_same_answer(planted, tool, args):
    assert planted.run(tool, args).model_dump() == planted.run(tool, args).model_dump()


@pytest.mark.parametrize("tool,args", INVALID)
def test_invalid_arguments_are_refused(ctx, tool, args):
    with pytest.raises(ToolArgumentsError):
        ToolDispatcher(ctx).run(tool, args)


# logged cost beside computed cost: feature -> event; the computed costs by hand
SONNET_READ = 2000 * SONNET["input"] + 8000 * SONNET["cache_read"] + 500 * SONNET["output"]  # 0.0159
LOGGED_EVENTS = [
    event(at(0), "exact", "gpt-4o", "u1", (1000, 200), logged_cost_usd=C1),
    event(at(0, hours=1), "close", "gpt-4o", "u1", (1000, 200), logged_cost_usd=C1 * 1.006),
    # the caller billed the 8,000 cached reads as input: 10000*3e-6 + 500*1.5e-5
    event(at(1), "cached", "claude-sonnet-4-5", "u2", (10000, 500, 8000), provider="anthropic",
          logged_cost_usd=0.0375),
    event(at(1, hours=1), "unlogged", "gpt-4o-mini", "u2", (10000, 1000)),
    event(at(2), "mystery", "mystery-model", "u3", (500, 50), logged_cost_usd=0.01),
]
# scope -> (logged requests, logged cost, computed cost of the same requests, note expected)
LOGGED = [
    ({}, 4, C1 * 2.006 + 0.0375 + 0.01, 2 * C1 + SONNET_READ, True),
    ({"feature": "exact"}, 1, C1, C1, False),
    ({"feature": "close"}, 1, C1 * 1.006, C1, False),  # 0.6% apart: within 1%
    ({"feature": "cached"}, 1, 0.0375, SONNET_READ, True),
    ({"feature": "unlogged"}, 0, 0.0, 0.0, False),
    ({"feature": "mystery"}, 1, 0.01, 0.0, True),  # unknown model: computed $0
]


@pytest.mark.parametrize("scope,requests,logged,computed,noted", LOGGED)
def test_cost_analyzer_sets_logged_beside_computed_cost(ctx, scope, requests, logged, computed, noted):
    load(ctx.store, ctx.catalog, LOGGED_EVENTS)
    result = ToolDispatcher(ctx).run("cost_analyzer", scope)
    figures = {k: result.value(k) for k in ("logged_requests", "logged_cost_usd", "computed_cost_of_logged_usd",
                                            "logged_minus_computed_usd")}
    assert figures == {"logged_requests": requests, "logged_cost_usd": close(logged),
                       "computed_cost_of_logged_usd": close(computed), "logged_minus_computed_usd": close(logged - computed)}
    assert any(n.startswith("logged cost") for n in result.notes) == noted


def test_logged_cost_note_gives_the_gap(ctx):
    load(ctx.store, ctx.catalog, LOGGED_EVENTS)
    note = next(n for n in ToolDispatcher(ctx).run("cost_analyzer", {"feature": "cached"}).notes)
    assert "$0.037500 over 1 requests" in note and "$0.015900" in note and "+$0.021600 (+135.8%)" in note


def test_logged_figures_are_zero_without_logged_costs(planted):
    result = planted.run("cost_analyzer")
    assert [result.value(k) for k in ("logged_requests", "logged_cost_usd", "logged_minus_computed_usd")] == [0, 0, 0]
    assert not any(n.startswith("logged cost") for n in result.notes)


def test_logged_query_binds_the_scope(ctx):
    load(ctx.store, ctx.catalog, LOGGED_EVENTS)
    evidence = ToolDispatcher(ctx).run("cost_analyzer", {"feature": "cached"}).evidence
    logged = next(e for e in evidence if "logged_cost_usd IS NOT NULL" in e.sql)
    assert logged.params == {"feature": "cached", "workspace_id": "local"} and "cached" not in logged.sql.replace("{feature:String}", "")
