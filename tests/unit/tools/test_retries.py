"""retry_waste_analyzer on a planted retry storm with hand-computed waste."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.tools.evidence import confidence
from tests.support.factories import at, load

# literal USD per token, as in the price catalog
GPT41 = {"input": 2e-6, "output": 8e-6}
FAILED_INPUT, FAILED_OUTPUT = 1000, 50  # a billed failure streamed some output before it failed
FAILED_COST = FAILED_INPUT * GPT41["input"] + FAILED_OUTPUT * GPT41["output"]
SPAN_DAYS = 2.0

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "openai", "status": "ok", "error_type": ""}


def attempt(feature: str, model: str, prompt: int, when, error: str = "", billed: bool = True) -> dict[str, Any]:
    """One attempt of a logical request; an `error` makes it a failure, refused (no output) unless `billed`."""
    tokens = {"input_tokens": FAILED_INPUT, "output_tokens": FAILED_OUTPUT * billed} if error else \
        {"input_tokens": FAILED_INPUT, "output_tokens": 100}
    return {**ZERO, **tokens, "timestamp": when, "feature": feature, "model": model, "prompt_hash": prompt,
            "status": "error" if error else "ok", "error_type": error, "request_id": f"{feature}-{prompt}-{when}"}


def request(feature: str, model: str, prompt: int, hour: float, errors: tuple[str, ...] = (),
            ends_ok: bool = True, billed: bool = True) -> list[dict[str, Any]]:
    """A logical request: its failed attempts 2 s apart, then (unless it gave up) a success."""
    tries = [attempt(feature, model, prompt, at(hours=hour, seconds=2 * i), e, billed) for i, e in enumerate(errors)]
    return tries + ([attempt(feature, model, prompt, at(hours=hour, seconds=2 * len(errors)))] if ends_ok else [])


def requests(specs: list[tuple]) -> list[dict[str, Any]]:
    """Flatten `request(*spec)` over specs."""
    return [event for spec in specs for event in request(*spec)]


TIMEOUTS = ("timeout", "timeout")
# agent_tools: 10 storms of 2 billed timeouts then success, 1 request giving up after 3 server errors,
# 29 clean requests -> 40 prompts, 20 + 2 retried failures (the give-up's last failure was not retried)
AGENT = requests([("agent_tools", "gpt-4.1", g + 1, g, TIMEOUTS) for g in range(10)]
                 + [("agent_tools", "gpt-4.1", 11, 10, ("server_error",) * 3, False)]
                 + [("agent_tools", "gpt-4.1", p, p % 40) for p in range(12, 41)])
# chat: 20 prompts, 2 retried rate-limit errors refused (no output) -> rate 10 % but no waste
CHAT = requests([("chat", "gpt-4o-mini", 100 + p, p, ("rate_limit",) * (p < 2), True, False) for p in range(20)])
# doc: 40 prompts, 1 retried billed timeout -> rate 2.5 %; the last request sits at 48 h (span 2 days)
DOC = requests([("doc", "gpt-4.1", 200 + p, 9 + p, ("timeout",) * (p == 0)) for p in range(40)])
# unhashed events (prompt_hash 0) cannot be grouped into attempts: left out
UNHASHED = [attempt("legacy", "gpt-4.1", 0, at(hours=1), "timeout"), attempt("legacy", "gpt-4.1", 0, at(hours=2))]
EVENTS = list(reversed(AGENT + CHAT + DOC + UNHASHED))  # load order must not matter

AGENT_WASTE = 22 * FAILED_COST
EXPECTED_ROWS = {
    "agent_tools": {"flagged": True, "affected_requests": 22, "requests": 62,
                    "window_saving_usd": pytest.approx(AGENT_WASTE),
                    "monthly_saving_usd": pytest.approx(AGENT_WASTE * 30 / SPAN_DAYS), "quality_risk": "low",
                    "latency_impact": "fewer timeouts", "confidence": 1.0,  # one day, all of it waste
                    "params": {"max_retries": 1, "backoff": "exponential with "
                    "jitter", "retry_rate": 0.55, "top_error": "timeout", "billed_failures": 22}},
    "chat": {"flagged": False, "affected_requests": 2, "window_saving_usd": 0.0, "confidence": 0.0,  # wastes $0
             "params": {"max_retries": 1, "backoff": "exponential with jitter", "retry_rate": 0.1,
                        "top_error": "rate_limit", "billed_failures": 0}},
    "doc": {"flagged": False, "affected_requests": 1, "monthly_saving_usd": 0.0, "confidence": 1.0,
            "params": {"max_retries": 1, "backoff": "exponential with jitter", "retry_rate": 0.025,
                       "top_error": "timeout", "billed_failures": 1}},
}
EXPECTED_FIGURES = {"monthly_saving_usd": AGENT_WASTE * 30 / SPAN_DAYS, "retried_failures": 22 + 2 + 1,
                    "wasted_usd": AGENT_WASTE + FAILED_COST}


def run(ctx, catalog, args: dict[str, Any] | None = None):
    """Load the planted events and run the analyzer."""
    load(ctx.store, catalog, EVENTS)
    return ToolDispatcher(ctx).run("retry_waste_analyzer", args or {})


@pytest.mark.parametrize(("feature", "expected"), sorted(EXPECTED_ROWS.items()))
def test_rows_measure_retried_failures_per_pair(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog).rows if r["feature"] == feature)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("min_rate", "flagged"), [(0.05, True), (0.55, True), (0.56, False)])
def test_min_retry_rate_decides_flagging(ctx, catalog, min_rate, flagged):
    row = run(ctx, catalog, {"min_retry_rate": min_rate}).rows[0]
    assert (row["feature"], row["flagged"]) == ("agent_tools", flagged)


@pytest.mark.parametrize(("feature", "reason_part"), [
    ("agent_tools", "22 failed attempts were retried (mostly timeout)"),
    ("agent_tools", "the 22 billed ones wasted $0.0528"),
    ("chat", "2 retried failures billed nothing (refused requests are not billed)"),
    ("doc", "retry rate 2.5% < 5.0%"),
])
def test_reasons(ctx, catalog, feature, reason_part):
    assert reason_part in next(r for r in run(ctx, catalog).rows if r["feature"] == feature)["reason"]


def test_confidence_is_the_stability_of_the_daily_waste(ctx, catalog):
    # a second UTC day whose one retried failure was refused: agent_tools wastes AGENT_WASTE on its
    # first day and $0 on its second; a resample of only the second day saves nothing
    load(ctx.store, catalog, AGENT + request("agent_tools", "gpt-4.1", 500, 30, ("rate_limit",), True, False))
    row = ToolDispatcher(ctx).run("retry_waste_analyzer", {}).rows[0]
    daily = np.array([AGENT_WASTE, 0.0])
    assert (row["feature"], row["window_saving_usd"]) == ("agent_tools", pytest.approx(AGENT_WASTE))
    assert row["confidence"] == confidence(daily, 1.0) and 0.5 < row["confidence"] < 1


def test_refused_retried_failures_waste_nothing_and_are_noted(ctx, catalog):
    notes = run(ctx, catalog).notes
    assert notes == ["chat/gpt-4o-mini: 2 retried failures reported no output: refused, not billed, so they "
                     "waste $0 (only billed failed attempts count)"]


@pytest.mark.parametrize(("scope", "features"), [
    ({}, ["agent_tools", "chat", "doc"]),
    ({"feature": "chat"}, ["chat"]),
    ({"model": "gpt-4.1"}, ["agent_tools", "doc"]),
])
def test_rows_are_ordered_and_scoped_with_bound_parameters(ctx, catalog, scope, features):
    result = run(ctx, catalog, scope)
    assert [r["feature"] for r in result.rows] == features
    assert all(e.params == {**scope, "workspace_id": "local"} and "prompt_hash != 0" in e.sql for e in result.evidence[1:])
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())
