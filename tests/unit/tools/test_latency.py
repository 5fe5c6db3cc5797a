"""latency_analyzer on a planted dataset whose exact percentiles are computed by hand.

`quantileExact(level)` returns sorted[floor(level * n)] (the last element past the end).
"""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.latency import LATENCY_FIGURES, NO_STREAMING_NOTE
from tests.support.factories import at, load

CHAT_ERRORS = (3, 7, 11)
SEARCH_LATENCIES = (50, 60, 70, 80, 5000)


def chat(i: int) -> dict[str, Any]:
    """Chat event i (1..20): latency 100*i ms, streamed (ttft 10*i) for i <= 8, errors at CHAT_ERRORS."""
    return {"timestamp": at(0, seconds=i), "feature": "chat", "model": "gpt-4o", "user_id": "u1",
            "latency_ms": 100 * i, "ttft_ms": 10 * i if i <= 8 else 0,
            "status": "error" if i in CHAT_ERRORS else "ok"}


def search(latency: int) -> dict[str, Any]:
    """A search event (never streamed); the 5000 ms one timed out."""
    return {"timestamp": at(1, seconds=latency), "feature": "search", "model": "gpt-4o-mini", "user_id": "u2",
            "latency_ms": latency, "ttft_ms": 0, "status": "timeout" if latency == 5000 else "ok"}


EVENTS = [chat(i) for i in range(1, 21)] + [search(ms) for ms in SEARCH_LATENCIES]

# 20 chat latencies 100..2000: p50 sorted[10] = 1100, p90 sorted[18] = 1900, p95/p99 sorted[19] = 2000;
# streamed ttft 10..80 (n=8): p50 sorted[4] = 50, p90/p95 sorted[7] = 80; no output tokens: 0 tokens/s
CHAT = {"requests": 20, "streamed_requests": 8, "latency_p50_ms": 1100, "latency_p90_ms": 1900,
        "latency_p95_ms": 2000, "latency_p99_ms": 2000, "ttft_p50_ms": 50, "ttft_p90_ms": 80,
        "ttft_p95_ms": 80, "error_rate": 3 / 20, "output_tokens_per_s": 0}
# 50, 60, 70, 80, 5000: p50 sorted[2] = 70, p90/p95/p99 sorted[4] = 5000
SEARCH = {"requests": 5, "streamed_requests": 0, "latency_p50_ms": 70, "latency_p90_ms": 5000,
          "latency_p95_ms": 5000, "latency_p99_ms": 5000, "ttft_p50_ms": 0, "ttft_p90_ms": 0,
          "ttft_p95_ms": 0, "error_rate": 1 / 5, "output_tokens_per_s": 0}
# all 25: 50, 60, 70, 80, 100..2000, 5000: p50 sorted[12] = 900, p90 sorted[22] = 1900,
# p95 sorted[23] = 2000, p99 sorted[24] = 5000
OVERALL = {"requests": 25, "streamed_requests": 8, "latency_p50_ms": 900, "latency_p90_ms": 1900,
           "latency_p95_ms": 2000, "latency_p99_ms": 5000, "ttft_p50_ms": 50, "ttft_p90_ms": 80,
           "ttft_p95_ms": 80, "error_rate": 4 / 25, "output_tokens_per_s": 0}

# scope -> expected figures
FILTERS = [
    ({}, OVERALL),
    ({"feature": "chat"}, CHAT),
    ({"model": "gpt-4o-mini"}, SEARCH),
    ({"user_id": "u1"}, CHAT),
    ({"start": at(1).isoformat()}, SEARCH),
    ({"end": at(1).isoformat()}, CHAT),
]

# group_by -> expected rows (key value, stats) in order: requests DESC, name ASC
GROUPS = {
    "feature": [("chat", CHAT), ("search", SEARCH)],
    "model": [("gpt-4o", CHAT), ("gpt-4o-mini", SEARCH)],
}

INVALID = [
    {"group_by": "user_id"},
    {"group_by": "feature; DROP TABLE workload_events"},
    {"end": "yesterday-ish"},
    {"model": 5},
]


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def figures(result) -> dict[str, Any]:
    """Return a result's figures as {name: approx value}."""
    return {k: pytest.approx(f.value, abs=5e-7) for k, f in result.figures.items()}


@pytest.mark.parametrize("scope,expected", FILTERS)
def test_latency_figures_per_scope(planted, scope, expected):
    assert figures(planted.run("latency_analyzer", scope)) == expected


@pytest.mark.parametrize("group_by", sorted(GROUPS))
def test_latency_rows_per_group(planted, group_by):
    rows = planted.run("latency_analyzer", {"group_by": group_by}).rows
    assert rows == [{group_by: name, **stats} for name, stats in GROUPS[group_by]]


@pytest.mark.parametrize("scope,notes", [({}, []), ({"feature": "search"}, [NO_STREAMING_NOTE])])
def test_ttft_note_only_without_streaming(planted, scope, notes):
    assert planted.run("latency_analyzer", scope).notes == notes


@pytest.mark.parametrize("scope", [{}, {"feature": "nothing-here"}])
def test_empty_scope_gives_zero_figures_and_a_note(ctx, scope):
    result = ToolDispatcher(ctx).run("latency_analyzer", scope)
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(LATENCY_FIGURES, 0.0)
    assert (result.rows, result.notes, len(result.evidence)) == ([], [EMPTY_NOTE], 1)


@pytest.mark.parametrize("field,value", [("feature", "chat"), ("model", "gpt-4o"), ("user_id", "u1")])
def test_evidence_binds_values_and_never_inlines_them(planted, field, value):
    evidence = planted.run("latency_analyzer", {field: value}).evidence
    # the stats overall and per group, and the field coverage of each
    assert len(evidence) == 4 and all(e.params[field] == value and f"'{value}'" not in e.sql for e in evidence)


def test_same_call_same_answer(planted):
    assert planted.run("latency_analyzer").model_dump() == planted.run("latency_analyzer").model_dump()


@pytest.mark.parametrize("args", INVALID)
def test_invalid_arguments_are_refused(ctx, args):
    with pytest.raises(ToolArgumentsError):
        ToolDispatcher(ctx).run("latency_analyzer", args)


def test_output_tokens_per_second_counts_ok_requests_only(ctx):
    rows = [(100, 1000, "ok"), (300, 3000, "ok"), (50, 500, "error")]
    load(ctx.store, ctx.catalog, [{"timestamp": at(0, seconds=i), "model": "gpt-4o", "output_tokens": out,
                                   "latency_ms": ms, "status": status} for i, (out, ms, status) in enumerate(rows)])
    # (100 + 300) tokens over (1000 + 3000) ms = 100 tokens/s; the failed request is left out
    assert ToolDispatcher(ctx).run("latency_analyzer").value("output_tokens_per_s") == pytest.approx(100)
