"""kv_cache_finder on planted shared prefixes, with hit ratios computed by hand (it prices nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from netra.tools import ToolDispatcher
from netra.workloads.events import events_from_records
from netra.workloads.pricing import price_table
from tests.support.factories import at, load

BLOCK = 256

# every column the events use, so no record leaves one null
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 50,
        "reasoning_tokens": 0, "is_batch": 0, "block_size": BLOCK}
A1, A2, C1, C2, T1, T2 = 0xA1, 0xA2, 0xC1, 0xC2, 0x71, 0x72


def event(feature: str, model: str, hour: float, hashes: list[int], input_tokens: int = 800,
          cached: int = 0, written: int = 0) -> dict[str, Any]:
    """One request with its prefix block hashes (unique blocks get hashes from 0x1000 up)."""
    return {**ZERO, "timestamp": at(hours=hour), "feature": feature, "model": model, "prefix_hashes": hashes,
            "input_tokens": input_tokens, "cached_input_tokens": cached, "cache_write_tokens": written}


EVENTS = [
    # support: three requests share the 2-block prefix A1 A2, then one unique block each
    event("support", "claude-sonnet-4-5", 0, [A1, A2, 0x1001]),
    event("support", "claude-sonnet-4-5", 1, [A1, A2, 0x1002]),
    event("support", "claude-sonnet-4-5", 2, [A1, A2, 0x1003]),
    # ops reuses support's prefix later: 2 hit blocks, nothing first seen in ops is hit
    event("ops", "claude-sonnet-4-5", 2.5, [A1, A2, 0x1004], input_tokens=600),
    # code already caches: it writes 512 tokens, then reads them
    event("code", "claude-sonnet-4-5", 0.5, [C1, C2, 0x1005], written=512),
    event("code", "claude-sonnet-4-5", 1.5, [C1, C2, 0x1006], cached=512),
    # ties: two requests at the same instant both miss
    event("ties", "gpt-4o", 3, [T1, T2, 0x1007]),
    event("ties", "gpt-4o", 3, [T1, T2, 0x1008]),
]

# 24 blocks, 8 hit (support 4, ops 2, code 2); 2,048 hit tokens over 6,200 input tokens;
# uncached: support 1,024 + ops 512 (code already read its 512 from a cache)
EXPECTED_FIGURES = {"block_hit_ratio": 8 / 24, "token_hit_ratio": 2048 / 6200, "hit_tokens": 2048,
                    "uncached_hit_tokens": 1536}
EXPECTED_FEATURES = [
    ("code", 2, 2 / 6, 512 / 1600, 512),
    ("ops", 1, 2 / 3, 512 / 600, 512),
    ("support", 3, 4 / 9, 1024 / 2400, 1024),
    ("ties", 2, 0.0, 0.0, 0),
]
PREFIX_A = {"table": "top_prefixes", "prefix": "00000000000000a1", "blocks": 2, "requests": 3,
            "hit_tokens": 1536, "features": ["ops", "support"]}
PREFIX_C = {"table": "top_prefixes", "prefix": "00000000000000c1", "blocks": 2, "requests": 1,
            "hit_tokens": 512, "features": ["code"]}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the finder."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run("kv_cache_finder", args or {})


def table(result, name: str) -> list[dict[str, Any]]:
    """Return the rows of one extra table."""
    return [r for r in result.rows if r.get("table") == name]


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED_FEATURES)))
def test_hit_ratios_per_feature(ctx, catalog, index, expected):
    row = table(run(ctx, catalog), "feature_hit_ratio")[index]
    got = (row["feature"], row["requests"], row["block_hit_ratio"], row["token_hit_ratio"], row["hit_tokens"])
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("top_n", "expected"), [(1, [PREFIX_A]), (5, [PREFIX_A, PREFIX_C])])
def test_top_prefixes_by_hit_tokens(ctx, catalog, top_n, expected):
    assert table(run(ctx, catalog, {"top_n": top_n}), "top_prefixes") == expected


def test_it_reports_hit_ratios_only_and_proposes_nothing(ctx, catalog):
    result = run(ctx, catalog)
    assert sorted(result.figures) == sorted(EXPECTED_FIGURES)
    assert {r["table"] for r in result.rows} == {"feature_hit_ratio", "top_prefixes"}


@pytest.mark.parametrize(("scope", "features", "hit_tokens"), [
    ({}, ["code", "ops", "support", "ties"], 2048),
    ({"feature": "support"}, ["support"], 1024),
    ({"model": "gpt-4o"}, ["ties"], 0),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, features, hit_tokens):
    result = run(ctx, catalog, scope)
    assert [r["feature"] for r in table(result, "feature_hit_ratio")] == features
    assert result.value("hit_tokens") == hit_tokens
    assert all(e.params == {**scope, "workspace_id": ctx.workspace_id} for e in result.evidence)
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())


@pytest.mark.parametrize("model", ["mystery-llm", "claude-sonnet-4-5"])
def test_hit_ratios_need_no_price(ctx, catalog, model):
    events = [event("support", model, hour, [A1, 0x2000 + hour]) for hour in range(3)]
    result = run(ctx, catalog, events=events)
    assert (result.value("hit_tokens"), result.notes) == (2 * BLOCK, [])


@pytest.mark.parametrize("batches", [1, 3, len(EVENTS)])
def test_whole_workspace_reads_prefix_seen_with_parts_unmerged(ctx, catalog, batches):
    for start in range(batches):
        load(ctx.store, catalog, EVENTS[start::batches])
    result = ToolDispatcher(ctx).run("kv_cache_finder", {})
    assert {name: result.value(name) for name in EXPECTED_FIGURES} == pytest.approx(EXPECTED_FIGURES, abs=1e-6)
    assert "kv_prefix_seen" in result.evidence[0].sql


def test_other_workspaces_blocks_are_not_hits(ctx, catalog):
    earlier = [event("support", "claude-sonnet-4-5", -1, [T1, T2, C1, C2, A1, A2])]
    ctx.store.insert_events(price_table(catalog, events_from_records(earlier))[0], workspace_id="elsewhere")
    result = run(ctx, catalog)
    assert {name: result.value(name) for name in EXPECTED_FIGURES} == pytest.approx(EXPECTED_FIGURES, abs=1e-6)


def test_a_filtered_scope_explodes_its_own_events(ctx, catalog):
    assert "kv_prefix_seen" not in run(ctx, catalog, {"feature": "support"}).evidence[0].sql
