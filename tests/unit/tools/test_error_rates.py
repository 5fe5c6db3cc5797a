"""error_rate_analyzer on a planted dataset with hand-counted errors, storms and failed cost."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.error_rates import ERROR_FIGURES, category
from tests.support.factories import at, load

TOOL = "error_rate_analyzer"
GPT41 = {"input": 2e-6, "output": 8e-6}  # literal USD per token of gpt-4.1, as in the price catalog
FAILED = 1000 * GPT41["input"] + 50 * GPT41["output"]  # a billed failure streamed 50 tokens before it failed

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "openai", "status": "ok", "error_type": ""}


def attempt(feature: str, model: str, prompt: int, when, error: str = "", status: str = "error",
            billed: bool = True) -> dict[str, Any]:
    """One attempt of 1,000 input tokens on gpt-4.1; an `error` (or a non-ok `status`) fails it.

    A billed failure reports 50 output tokens; a refused one (`billed` False) none, so it costs $0.
    """
    failed = bool(error) or status != "error"
    tokens = 1000 if model == "gpt-4.1" else 0
    output = 50 * billed * (tokens > 0) if failed else tokens // 10
    return {**ZERO, "timestamp": when, "feature": feature, "model": model, "prompt_hash": prompt,
            "status": status if failed else "ok", "error_type": error, "input_tokens": tokens,
            "output_tokens": output, "request_id": f"{feature}-{prompt}-{when}"}


def chain(prompt: int, hour: int, tries: list[tuple[float, str]]) -> list[dict[str, Any]]:
    """agent_tools attempts of one prompt: (seconds after `hour`, error or '' for success)."""
    return [attempt("agent_tools", "gpt-4.1", prompt, at(hours=hour, seconds=s), e) for s, e in tries]


T, S = "timeout", "server_error"
# p1: storm (3 attempts, 2 failures); p2: only 2 attempts; p3: 70 s gap splits it (a storm at
# window_s=120); p4: gives up after 3 server errors (a storm of 3 failures)
AGENT = (chain(1, 0, [(0, T), (2, T), (4, "")]) + chain(2, 1, [(0, T), (2, "")])
         + chain(3, 2, [(0, T), (70, T), (72, "")]) + chain(4, 3, [(0, S), (2, S), (4, S)]))
# chat: 10 prompts, 2 rate-limit errors that bill nothing
CHAT = [attempt("chat", "gpt-4o-mini", 100 + i, at(hours=i), "rate_limit" * (i < 2)) for i in range(10)]
# legacy: no prompt hash (never a storm); 3 failures with status 'timeout', no error_type and no
# output: refused, not billed
LEGACY = [attempt("legacy", "gpt-4.1", 0, at(hours=5), status="timeout", billed=False) for _ in range(3)] \
    + [attempt("legacy", "gpt-4.1", 0, at(hours=6))]
for i, event in enumerate(LEGACY):
    event["request_id"] = f"legacy-{i}"
EVENTS = list(reversed(AGENT + CHAT + LEGACY))  # load order must not matter

OVERALL = {"requests": 25, "errors": 13, "error_rate": 13 / 25, "timeout_errors": 8, "rate_limit_errors": 2,
           "other_errors": 3, "billed_errors": 8, "failed_cost_usd": 8 * FAILED, "retry_storms": 2,
           "storm_attempts": 6, "storm_failed_cost_usd": 5 * FAILED}
CHAT_ONLY = {"requests": 10, "errors": 2, "error_rate": 0.2, "timeout_errors": 0, "rate_limit_errors": 2,
             "other_errors": 0, "billed_errors": 0, "failed_cost_usd": 0.0, "retry_storms": 0, "storm_attempts": 0,
             "storm_failed_cost_usd": 0.0}

# (args, expected figures)
FIGURE_CASES = [
    ({}, OVERALL),
    ({"feature": "chat"}, CHAT_ONLY),
    ({"window_s": 120}, {**OVERALL, "retry_storms": 3, "storm_attempts": 9, "storm_failed_cost_usd": 7 * FAILED}),
    ({"min_failures": 3}, {**OVERALL, "retry_storms": 1, "storm_attempts": 3, "storm_failed_cost_usd": 3 * FAILED}),
    ({"min_attempts": 2, "min_failures": 1},
     {**OVERALL, "retry_storms": 4, "storm_attempts": 10, "storm_failed_cost_usd": 7 * FAILED}),
]


def breakdown(table: str, name: str, counts: tuple[int, ...], billed: int, storms: tuple[int, ...]) -> dict:
    """Expected row: counts = (requests, errors, timeouts, rate limits, other); `billed` errors cost FAILED each;
    storms = (storms, attempts, failed)."""
    requests, errors, timeouts, limits, other = counts
    return {"table": table, table: name, "requests": requests, "errors": errors, "requests_with_status": requests,
            "error_rate": pytest.approx(errors / requests, abs=1e-8), "timeout_errors": timeouts,
            "rate_limit_errors": limits, "other_errors": other, "billed_errors": billed,
            "failed_cost_usd": pytest.approx(billed * FAILED), "storms": storms[0], "storm_attempts": storms[1],
            "storm_failures": storms[2], "storm_failed_cost_usd": pytest.approx(storms[2] * FAILED)}


EXPECTED_ROWS = [
    # 5 billed timeouts of agent_tools, 3 refused ones of legacy
    {"table": "error_type", "error_type": "timeout", "category": "timeout", "errors": 8,
     "share_of_errors": pytest.approx(8 / 13), "billed_errors": 5, "failed_cost_usd": pytest.approx(5 * FAILED)},
    {"table": "error_type", "error_type": "server_error", "category": "other", "errors": 3,
     "share_of_errors": pytest.approx(3 / 13), "billed_errors": 3, "failed_cost_usd": pytest.approx(3 * FAILED)},
    {"table": "error_type", "error_type": "rate_limit", "category": "rate_limit", "errors": 2,
     "share_of_errors": pytest.approx(2 / 13), "billed_errors": 0, "failed_cost_usd": 0.0},
    breakdown("feature", "agent_tools", (11, 8, 5, 0, 3), 8, (2, 6, 5)),
    breakdown("feature", "chat", (10, 2, 0, 2, 0), 0, (0, 0, 0)),
    breakdown("feature", "legacy", (4, 3, 3, 0, 0), 0, (0, 0, 0)),
    breakdown("model", "gpt-4.1", (15, 11, 8, 0, 3), 8, (2, 6, 5)),
    breakdown("model", "gpt-4o-mini", (10, 2, 0, 2, 0), 0, (0, 0, 0)),
]


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


@pytest.mark.parametrize(("args", "expected"), FIGURE_CASES)
def test_figures(planted, args, expected):
    result = planted.run(TOOL, args)
    assert {k: f.value for k, f in result.figures.items()} == {k: pytest.approx(v, abs=1e-9)
                                                                for k, v in expected.items()}


def test_rows_break_errors_down_by_type_feature_and_model(planted):
    assert planted.run(TOOL).rows == EXPECTED_ROWS


def test_refused_errors_cost_nothing_and_are_noted(planted):
    assert planted.run(TOOL).notes == ["5 of 13 errors reported no output: refused, not billed, so they cost $0; "
                                       "failed cost counts only the billed failed attempts (docs/pricing.md)"]


@pytest.mark.parametrize(("kind", "expected"), [("timeout", "timeout"), ("deadline_exceeded", "timeout"),
                                                ("rate_limit", "rate_limit"), ("server_error", "other"), ("", "other")])
def test_category_table(kind, expected):
    assert category(kind) == expected


@pytest.mark.parametrize("scope", [{}, {"feature": "nothing-here"}])
def test_empty_scope_gives_zero_figures_and_a_note(ctx, scope):
    result = ToolDispatcher(ctx).run(TOOL, scope)
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(ERROR_FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])


def test_values_are_bound_never_inlined(planted):
    evidence = planted.run(TOOL, {"feature": "chat", "window_s": 45}).evidence
    assert all(e.params["feature"] == "chat" and "'chat'" not in e.sql for e in evidence)
    assert evidence[0].params["gap_ms"] == 45_000 and "45000" not in evidence[0].sql


@pytest.mark.parametrize(("args", "field"), [({"window_s": 0}, "window_s"), ({"min_attempts": 1}, "min_attempts"),
                                             ({"min_failures": "many"}, "min_failures"), ({"featur": "x"}, "featur")])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)
