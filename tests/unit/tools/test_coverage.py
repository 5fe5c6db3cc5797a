"""Missing is not zero: a figure whose field the scoped events lack is None, never 0 ms or 0%.

Planted data: `chat` (gpt-4o) logs latency 100..1000 ms, a status (2 errors in 10) and cache
reads; `search` (gpt-4o-mini) logs none of them (its records have no such keys, so
`events_from_records` marks them missing). Over both, a figure is computed over chat's half
and says 10 of 20 events lack its field; over search alone it is not in the telemetry.
"""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher
from netra.tools._sql import Queries
from netra.tools.coverage import coverage
from netra.tools.scope import Scope, in_workspace
from tests.support.factories import at, load


def event(i: int, feature: str, model: str, **logged: Any) -> dict[str, Any]:
    """Event i (i seconds after T0) of 100 input and 10 output tokens, with the fields it `logged`."""
    return {"timestamp": at(seconds=i), "feature": feature, "model": model, "input_tokens": 100,
            "output_tokens": 10, "request_id": f"e{i:03d}", **logged}


CHAT = [event(i, "chat", "gpt-4o", latency_ms=100 * i, status="error" if i <= 2 else "ok", cached_input_tokens=50)
        for i in range(1, 11)]
SEARCH = [event(i, "search", "gpt-4o-mini") for i in range(11, 21)]
BOTH = CHAT + SEARCH
HALF, NONE = "10 of 20 events lack {}", "10 of 10 events lack {}"
GAINS_ARGS = {"policies": [{"policy_id": "cap:search", "kind": "cap_max_tokens", "feature": "search",
                            "model": "gpt-4o-mini", "params": {"cap": 5}}]}

# tool, arguments, events, figure, its value, its missing words (None: every event carries the field)
CASES = [
    # latency over chat's 100..1000 ms: p50 sorted[5] = 600, p95 sorted[9] = 1000; errors 2 of chat's 10 statuses
    ("latency_analyzer", {}, BOTH, "latency_p50_ms", 600, HALF.format("latency_ms")),
    ("latency_analyzer", {}, BOTH, "latency_p95_ms", 1000, HALF.format("latency_ms")),
    ("latency_analyzer", {}, BOTH, "error_rate", 0.2, HALF.format("status")),
    ("latency_analyzer", {}, BOTH, "requests", 20, None),
    ("latency_analyzer", {}, CHAT, "latency_p50_ms", 600, None),
    ("latency_analyzer", {}, SEARCH, "latency_p50_ms", None, NONE.format("latency_ms")),
    ("latency_analyzer", {}, SEARCH, "error_rate", None, NONE.format("status")),
    ("latency_analyzer", {}, SEARCH, "ttft_p50_ms", None, NONE.format("ttft_ms")),
    ("error_rate_analyzer", {}, BOTH, "error_rate", 0.2, HALF.format("status")),
    ("error_rate_analyzer", {}, SEARCH, "errors", None, NONE.format("status")),
    # one request in flight at a time (chat's are 1 s apart and shorter)
    ("throughput_analyzer", {}, BOTH, "max_concurrency", 1, HALF.format("latency_ms")),
    ("throughput_analyzer", {}, SEARCH, "littles_law_concurrency", None, NONE.format("latency_ms")),
    ("throughput_analyzer", {}, SEARCH, "requests_per_min_peak", 10, None),
    ("latency_bottleneck_identifier", {}, SEARCH, "ttft_share", None, NONE.format("ttft_ms")),
    ("function_performance_analyzer", {}, BOTH, "slowest_p95_ms", 1000, HALF.format("latency_ms")),
    ("function_performance_analyzer", {}, SEARCH, "worst_error_rate", None, NONE.format("status")),
    # chat's 500 cached of its 1,000 input tokens: search's input, whose cache reads are unknown, is left out
    ("token_usage_analyzer", {}, BOTH, "cache_read_share", 0.5, HALF.format("cached_input_tokens")),
    ("token_usage_analyzer", {}, SEARCH, "cache_read_share", None, NONE.format("cached_input_tokens")),
    ("token_usage_analyzer", {}, SEARCH, "input_tokens", 1000, None),
    ("prompt_bloat_detector", {}, SEARCH, "static_share", None, NONE.format("prefix_hashes")),
    ("performance_gains_simulator", GAINS_ARGS, BOTH, "baseline_p95_ms", None, NONE.format("latency_ms")),
    ("performance_gains_simulator", GAINS_ARGS, BOTH, "requests", 10, None),
]


def run(ctx, tool: str, args: dict, events: list[dict]):
    """Load `events` and run `tool` on them."""
    load(ctx.store, ctx.catalog, events)
    return ToolDispatcher(ctx).run(tool, args)


@pytest.mark.parametrize("tool, args, events, name, value, missing", CASES,
                         ids=[f"{c[0]}-{c[3]}-{len(c[2])}" for c in CASES])
def test_a_figure_covers_the_events_that_carry_its_field(ctx, tool, args, events, name, value, missing):
    figure = run(ctx, tool, args, events).figures[name]
    shown = None if figure.value is None else pytest.approx(figure.value)
    assert (shown, figure.missing and figure.missing.text) == (value, missing)


def test_the_note_says_which_figures_a_lacking_field_leaves_out_or_narrows(ctx):
    notes = run(ctx, "latency_analyzer", {}, BOTH).notes
    assert ("10 of 20 events lack latency_ms: these figures cover the other 10 events: latency_p50_ms, "
            "latency_p90_ms, latency_p95_ms, latency_p99_ms, output_tokens_per_s") in notes


def test_a_figure_not_in_the_telemetry_is_noted_as_such(ctx):
    notes = run(ctx, "error_rate_analyzer", {}, SEARCH).notes
    assert notes[0].startswith("10 of 10 events lack status: not in the telemetry, so these figures are not available")


@pytest.mark.parametrize("tool, args, key, blank, kept", [
    ("latency_analyzer", {"group_by": "model"}, "model", "gpt-4o-mini", "gpt-4o"),
    ("function_performance_analyzer", {}, "feature", "search", "chat"),
])
def test_a_group_whose_events_all_lack_latency_has_none_in_its_row(ctx, tool, args, key, blank, kept):
    rows = {r[key]: r for r in run(ctx, tool, args, BOTH).rows}
    assert (rows[blank]["latency_p95_ms"], rows[kept]["latency_p95_ms"]) == (None, 1000)


def test_the_gains_simulator_names_a_feature_it_could_not_replay(ctx):
    args = {"policies": GAINS_ARGS["policies"] + [{**GAINS_ARGS["policies"][0], "policy_id": "cap:chat",
                                                   "feature": "chat", "model": "gpt-4o"}]}
    result = run(ctx, "performance_gains_simulator", args, BOTH)
    assert [r["feature"] for r in result.rows] == ["chat"]
    assert "search: its events lack latency_ms; not simulated" in result.notes


def test_a_null_quality_score_and_empty_prefix_hashes_count_as_lacking(ctx):
    load(ctx.store, ctx.catalog, [{**e, "missing_fields": 0, "quality_score": None, "prefix_hashes": []} for e in CHAT])
    with in_workspace(ctx.workspace_id):
        found = coverage(Queries(ctx.store), Scope())
    assert (found.events, found.lack("quality_score"), found.lack("prefix_hashes"), found.lack("latency_ms")) == (
        10, 10, 10, 0)
