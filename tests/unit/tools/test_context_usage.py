"""context_window_utilization and prompt_bloat_detector on small planted datasets computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.context_usage import BLOAT_FIGURES, CONTEXT_FIGURES
from tests.support.factories import at, load

CONTEXT, BLOAT = "context_window_utilization", "prompt_bloat_detector"
GPT4O_LIMIT, SONNET_LIMIT = 128_000, 200_000  # catalog max_input_tokens
BLOCK = 256


def request(feature: str, model: str, input_tokens: int, hashes: list[int] | None = None,
            cached: int = 0) -> dict[str, Any]:
    """One request."""
    return {"timestamp": at(), "feature": feature, "model": model, "input_tokens": input_tokens,
            "cached_input_tokens": cached, "output_tokens": 10, "prefix_hashes": hashes or [], "block_size": BLOCK}


CONTEXT_EVENTS = [
    request("chat", "gpt-4o", 110_000),  # 0.859 of the limit: near
    request("chat", "gpt-4o", 50_000),
    request("chat", "gpt-4o", 102_400),  # exactly 0.8: near (inclusive)
    request("chat", "gpt-4o", 130_000),  # over the limit
    request("search", "gpt-4o", 1_000),
    request("chat", "claude-sonnet-4-5", 190_000),  # 0.95
    request("chat", "mystery-llm", 500_000),  # no known limit
]

# (model, feature) -> requests, limit, near requests, over-limit requests, max utilisation
CONTEXT_ROWS = {
    ("claude-sonnet-4-5", "chat"): (1, SONNET_LIMIT, 1, 0, 0.95),
    ("gpt-4o", "chat"): (4, GPT4O_LIMIT, 3, 1, 130_000 / GPT4O_LIMIT),
    ("gpt-4o", "search"): (1, GPT4O_LIMIT, 0, 0, 1_000 / GPT4O_LIMIT),
    ("mystery-llm", "chat"): (1, None, 0, 0, 0.0),
}
CONTEXT_VALUES = {"requests": 7, "near_requests": 4, "near_share": 4 / 6, "over_limit_requests": 1,
                  "max_utilization": 130_000 / GPT4O_LIMIT, "unknown_limit_requests": 1}
# near -> near requests
NEAR = {0.8: 4, 0.9: 2, 1.0: 1}

S1, S2, S3, C1, C2 = 0x51, 0x52, 0x53, 0xC1, 0xC2
BLOAT_EVENTS = [
    # support: 3 static blocks in each of 3 requests of 4 blocks, no cache reads
    *[request("support", "gpt-4o", 4 * BLOCK, [S1, S2, S3, 0x100 + i]) for i in range(3)],
    # code: 2 static blocks of 3, read from the cache half the time
    request("code", "gpt-4o", 3 * BLOCK, [C1, C2, 0x200]),
    request("code", "gpt-4o", 3 * BLOCK, [C1, C2, 0x201], cached=2 * BLOCK),
    # chat: nothing repeats
    request("chat", "gpt-4o", 2 * BLOCK, [0x301, 0x302]),
    request("chat", "gpt-4o", 2 * BLOCK, [0x303, 0x304]),
    # misc: S1 once in this feature: not static here
    request("misc", "gpt-4o", 2 * BLOCK, [S1, 0x401]),
]
# feature -> static tokens, static share, flagged (defaults: min_requests 2, threshold 0.5)
BLOAT_ROWS = {
    "support": (2304, 0.75, True),
    "code": (1024, 1024 / 1536, False),
    "chat": (0, 0.0, False),
    "misc": (0, 0.0, False),
}
BLOAT_VALUES = {"input_tokens": 6144, "static_tokens": 3328, "static_share": 3328 / 6144,
                "flagged_features": 1, "flagged_static_tokens": 2304}


def run(ctx, catalog, tool: str, events: list[dict], args: dict[str, Any] | None = None):
    """Load `events` and run `tool`."""
    load(ctx.store, catalog, events)
    return ToolDispatcher(ctx).run(tool, args or {})


@pytest.mark.parametrize(("key", "expected"), sorted(CONTEXT_ROWS.items()))
def test_context_rows_per_model_and_feature(ctx, catalog, key, expected):
    rows = run(ctx, catalog, CONTEXT, CONTEXT_EVENTS).rows
    row = next(r for r in rows if r["table"] == "model_feature" and (r["model"], r["feature"]) == key)
    got = (row["requests"], row["max_input_tokens"], row["near_requests"], row["over_limit_requests"],
           row["max_utilization"])
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("model", "requests", "near", "share"), [
    ("claude-sonnet-4-5", 1, 1, 1.0), ("gpt-4o", 5, 3, 0.6), ("mystery-llm", 1, 0, 0.0),
])
def test_context_rows_per_model(ctx, catalog, model, requests, near, share):
    rows = run(ctx, catalog, CONTEXT, CONTEXT_EVENTS).rows
    row = next(r for r in rows if r["table"] == "model" and r["model"] == model)
    assert (row["requests"], row["near_requests"], row["near_share"]) == pytest.approx((requests, near, share))


@pytest.mark.parametrize(("name", "value"), sorted(CONTEXT_VALUES.items()))
def test_context_figures(ctx, catalog, name, value):
    assert run(ctx, catalog, CONTEXT, CONTEXT_EVENTS).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("near", "count"), sorted(NEAR.items()))
def test_near_threshold(ctx, catalog, near, count):
    assert run(ctx, catalog, CONTEXT, CONTEXT_EVENTS, {"near": near}).value("near_requests") == count


def test_unknown_limit_is_noted(ctx, catalog):
    assert run(ctx, catalog, CONTEXT, CONTEXT_EVENTS).notes == [
        "no input limit in the catalog for mystery-llm (1 requests): not counted as near"]


@pytest.mark.parametrize(("feature", "expected"), sorted(BLOAT_ROWS.items()))
def test_bloat_rows(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog, BLOAT, BLOAT_EVENTS).rows if r["feature"] == feature)
    assert (row["static_tokens"], row["static_share"], row["flagged"]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("name", "value"), sorted(BLOAT_VALUES.items()))
def test_bloat_figures(ctx, catalog, name, value):
    assert run(ctx, catalog, BLOAT, BLOAT_EVENTS).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("args", "static", "flagged"), [
    ({"min_requests": 3}, {"support": 2304, "code": 0}, ["support"]),
    ({"threshold": 0.8}, {"support": 2304, "code": 1024}, []),
    ({"threshold": 0.6}, {"support": 2304, "code": 1024}, ["support"]),
])
def test_bloat_arguments(ctx, catalog, args, static, flagged):
    rows = run(ctx, catalog, BLOAT, BLOAT_EVENTS, args).rows
    assert {r["feature"]: r["static_tokens"] for r in rows if r["feature"] in static} == static
    assert [r["feature"] for r in rows if r["flagged"]] == flagged


@pytest.mark.parametrize(("tool", "events", "scope"), [
    (CONTEXT, CONTEXT_EVENTS, {"model": "gpt-4o"}), (BLOAT, BLOAT_EVENTS, {"feature": "support"}),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, tool, events, scope):
    result = run(ctx, catalog, tool, events, scope)
    assert all(scope.items() <= e.params.items() for e in result.evidence)
    assert not any(v in e.sql for e in result.evidence for v in scope.values())
    assert {r[next(iter(scope))] for r in result.rows} == set(scope.values())


@pytest.mark.parametrize(("tool", "figures"), [(CONTEXT, CONTEXT_FIGURES), (BLOAT, BLOAT_FIGURES)])
def test_empty_scope_gives_zeros_and_a_note(ctx, catalog, tool, figures):
    result = run(ctx, catalog, tool, CONTEXT_EVENTS, {"feature": "nothing"})
    assert ({k: f.value for k, f in result.figures.items()}, result.rows, result.notes) == \
        (dict.fromkeys(figures, 0.0), [], [EMPTY_NOTE])


@pytest.mark.parametrize(("tool", "args", "field"), [
    (CONTEXT, {"near": 0}, "near"), (CONTEXT, {"near": 1.5}, "near"),
    (BLOAT, {"min_requests": 1}, "min_requests"), (BLOAT, {"threshold": 0}, "threshold"),
    (BLOAT, {"threshold": "half"}, "threshold"),
])
def test_bad_arguments_name_the_field(ctx, tool, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(tool, args)
