"""throughput_analyzer on a planted five-minute dataset with hand-computed per-minute figures.

Per-minute requests overall are [3, 2, 1, 0, 1] (chat [3, 0, 1, 0, 1], search [0, 2, 0, 0, 0]);
p99 of 5 minutes is sorted[floor(0.99 × 5)] = sorted[4], the peak.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.throughput import THROUGHPUT_FIGURES, exact_quantile
from tests.support.factories import at, load

TOOL = "throughput_analyzer"
ZERO = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "ttft_ms": 0}


def event(feature: str, seconds: float, latency: int, tokens: tuple[int, int]) -> dict[str, Any]:
    """One event starting `seconds` after T0 with (input, output) tokens."""
    return {**ZERO, "timestamp": at(seconds=seconds), "feature": feature, "model": "gpt-4o-mini",
            "latency_ms": latency, "input_tokens": tokens[0], "output_tokens": tokens[1],
            "request_id": f"{feature}-{seconds}"}


# chat: three overlapping at 1.5 s in minute 0 (in flight: 3), one in minute 2, one in minute 4
CHAT = [event("chat", s, ms, (100, 50)) for s, ms in ((0, 2000), (1, 2000), (1.5, 500), (130, 1000), (250, 1000))]
# search: two in minute 1, the short one inside the long one (in flight: 2)
SEARCH = [event("search", s, ms, (1000, 200)) for s, ms in ((60, 30_000), (70, 1000))]
EVENTS = CHAT + SEARCH

# Little's law: requests per minute / 60 × mean latency in seconds
OVERALL = {"requests": 7, "window_minutes": 5, "requests_per_min_mean": 1.4, "requests_per_min_peak": 3,
           "requests_per_min_p99": 3, "tokens_per_min_mean": 630, "tokens_per_min_peak": 2400,
           "tokens_per_min_p99": 2400, "peak_to_mean": 3 / 1.4, "cv_per_minute": math.sqrt(1.04) / 1.4,
           "littles_law_concurrency": 1.4 / 60 * 37.5 / 7, "max_concurrency": 3}
CHAT_ROW = {"feature": "chat", "requests": 5, "requests_per_min_mean": 1, "requests_per_min_peak": 3,
            "requests_per_min_p99": 3, "tokens_per_min_mean": 150, "tokens_per_min_peak": 450,
            "tokens_per_min_p99": 450, "peak_to_mean": 3, "cv_per_minute": math.sqrt(1.2),
            "littles_law_concurrency": 1 / 60 * 1.3, "max_concurrency": 3}
SEARCH_ROW = {"feature": "search", "requests": 2, "requests_per_min_mean": 0.4, "requests_per_min_peak": 2,
              "requests_per_min_p99": 2, "tokens_per_min_mean": 480, "tokens_per_min_peak": 2400,
              "tokens_per_min_p99": 2400, "peak_to_mean": 5, "cv_per_minute": 2,
              "littles_law_concurrency": 0.4 / 60 * 15.5, "max_concurrency": 2}
# scoped to search, the window is its one minute
SEARCH_ONLY = {"requests": 2, "window_minutes": 1, "requests_per_min_mean": 2, "requests_per_min_peak": 2,
               "requests_per_min_p99": 2, "tokens_per_min_mean": 2400, "tokens_per_min_peak": 2400,
               "tokens_per_min_p99": 2400, "peak_to_mean": 1, "cv_per_minute": 0,
               "littles_law_concurrency": 2 / 60 * 15.5, "max_concurrency": 2}


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def approx(values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` with numbers wrapped for approximate comparison."""
    return {k: v if isinstance(v, str) else pytest.approx(v, abs=1e-6) for k, v in values.items()}


@pytest.mark.parametrize(("scope", "expected"), [({}, OVERALL), ({"feature": "search"}, SEARCH_ONLY)])
def test_figures(planted, scope, expected):
    result = planted.run(TOOL, scope)
    assert {k: f.value for k, f in result.figures.items()} == approx(expected)


def test_rows_per_feature_busiest_first(planted):
    assert planted.run(TOOL).rows == [approx(CHAT_ROW), approx(SEARCH_ROW)]


@pytest.mark.parametrize(("values", "level", "expected"), [
    ([5, 1, 3], 0.5, 3), ([0, 1, 1, 2, 3], 0.99, 3), (list(range(100)), 0.99, 99), ([], 0.99, 0)])
def test_exact_quantile_matches_quantile_exact(values, level, expected):
    assert exact_quantile(np.array(values, dtype=float), level) == expected


@pytest.mark.parametrize("scope", [{}, {"feature": "nothing-here"}])
def test_empty_scope_gives_zero_figures_and_a_note(ctx, scope):
    result = ToolDispatcher(ctx).run(TOOL, scope)
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(THROUGHPUT_FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])


def test_values_are_bound_never_inlined(planted):
    evidence = planted.run(TOOL, {"feature": "chat"}).evidence
    # minutes, peaks overall and per feature, and the field coverage
    assert len(evidence) == 4 and all(e.params["feature"] == "chat" and "'chat'" not in e.sql for e in evidence)


@pytest.mark.parametrize(("args", "field"), [({"start": "last tuesday"}, "start"), ({"feature": 3}, "feature"),
                                             ({"bucket": "hour"}, "bucket")])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)
