"""cache_policy_optimizer: hand-computed LRU and TTL curves, and an independent LRU replay."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.cache_policy import FIGURES
from tests.support.factories import at, load

TOOL = "cache_policy_optimizer"
BLOCK = 256
A1, A2, B1 = 0xA1, 0xA2, 0xB1
U1, U2, U3, U4, U5 = 0x1001, 0x1002, 0x1003, 0x1004, 0x1005


def event(seconds: float, request_id: str, hashes: list[int], feature: str = "chat") -> dict[str, Any]:
    """One gpt-4o request of 1,000 input tokens with its prefix block hashes."""
    return {"timestamp": at(seconds=seconds), "request_id": request_id, "feature": feature, "model": "gpt-4o",
            "prefix_hashes": hashes, "block_size": BLOCK, "input_tokens": 1000, "output_tokens": 10}


# r4 and r5 share an instant: request_id orders them. Inserted out of order on purpose.
EVENTS = [
    event(1000, "r5", [A1, U5]),
    event(0, "r1", [A1, A2, U1]),
    event(60, "r2", [A1, A2, U2]),
    event(120, "r3", [B1, U3], feature="ops"),
    event(1000, "r4", [A1, A2, U4]),
]
BLOCKS, INPUT = 13, 5000

# hit blocks per request, worked out by hand (see the module docstring's rules):
# unbounded: r2 hits A1 A2, r4 hits A1 A2, r5 hits A1 (after r4 at the same instant)
# LRU 2: only r2 (2) and r5 (1); LRU 3: r4 keeps A1 but lost A2, so it hits 1
# TTL 940 s: r4 comes 940 s after A1's last use (r2) and misses; 941 s: it hits
CURVE = {
    ("lru", 2): 3, ("lru", 3): 4, ("lru", 4): 5, ("lru", 100): 5,
    ("ttl", 100): 3, ("ttl", 940): 3, ("ttl", 941): 5,
}
ARGS = {"capacities": [100, 4, 3, 2], "ttls_s": [941, 100, 940]}
EXPECTED_FIGURES = {
    "requests": 5, "blocks": BLOCKS, "distinct_blocks": 8,
    "unbounded_block_hit_ratio": 5 / BLOCKS, "unbounded_token_hit_ratio": 5 * BLOCK / INPUT,
    "recommended_capacity_blocks": 4, "recommended_capacity_block_hit_ratio": 5 / BLOCKS,
    "recommended_ttl_s": 941, "recommended_ttl_block_hit_ratio": 5 / BLOCKS,
}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the events and run the optimizer."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run(TOOL, {**ARGS, **(args or {})})


def curve(result) -> dict[tuple[str, int], int]:
    """Return {(table, setting): hit blocks} of the LRU and TTL rows."""
    setting = {"lru": "capacity_blocks", "ttl": "ttl_s"}
    return {(r["table"], r[setting[r["table"]]]): r["hit_blocks"] for r in result.rows if r["table"] in setting}


def test_curve_matches_hand_computed_hits(ctx, catalog):
    assert curve(run(ctx, catalog)) == CURVE


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("table", "setting", "within"), [
    ("lru", 2, False), ("lru", 3, False), ("lru", 4, True), ("ttl", 940, False), ("ttl", 941, True),
])
def test_rows_carry_ratios_and_tolerance_flag(ctx, catalog, table, setting, within):
    key = "capacity_blocks" if table == "lru" else "ttl_s"
    row = next(r for r in run(ctx, catalog).rows if r["table"] == table and r[key] == setting)
    hits = CURVE[(table, setting)]
    assert (row["block_hit_ratio"], row["token_hit_ratio"], row["hit_tokens"], row["within_1pp"]) == \
        pytest.approx((hits / BLOCKS, hits * BLOCK / INPUT, hits * BLOCK, within), abs=1e-6)


@pytest.mark.parametrize(("args", "figures", "notes"), [
    ({"capacities": [2], "ttls_s": [100]},
     {"recommended_capacity_blocks": 8, "recommended_ttl_s": 100, "recommended_ttl_block_hit_ratio": 3 / BLOCKS},
     ["no listed capacity comes within 1 pp of the unbounded hit ratio; 8 blocks (every distinct block) would",
      "no listed TTL comes within 1 pp of the unbounded hit ratio; recommending the largest"]),
    ({"capacities": [3, 5], "ttls_s": [3600]}, {"recommended_capacity_blocks": 5, "recommended_ttl_s": 3600}, []),
])
def test_fallback_recommendations_are_noted(ctx, catalog, args, figures, notes):
    result = run(ctx, catalog, args)
    assert ({k: result.value(k) for k in figures}, result.notes) == (pytest.approx(figures, abs=1e-6), notes)


@pytest.mark.parametrize(("scope", "hits"), [({"feature": "ops"}, 0), ({"feature": "chat"}, 5)])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, hits):
    result = run(ctx, catalog, scope)
    assert next(r for r in result.rows if r["table"] == "unbounded")["hit_blocks"] == hits
    assert [e.params for e in result.evidence] == [{**scope, "workspace_id": "local"}]
    assert "kv_prefix_seen" in result.evidence[0].sql  # the shared runs (replay order: numpy's sort)
    assert not any(v in e.sql for e in result.evidence for v in scope.values())


def test_empty_scope_gives_zeros_and_a_note(ctx, catalog):
    result = run(ctx, catalog, {"feature": "nothing"})
    assert ({k: f.value for k, f in result.figures.items()}, result.rows, result.notes) == \
        (dict.fromkeys(FIGURES, 0.0), [], [EMPTY_NOTE])


def test_other_settings_of_the_same_scope_are_read_off_the_kept_replay(ctx, catalog):
    run(ctx, catalog)
    again = ToolDispatcher(ctx).run(TOOL, {"capacities": [3, 2], "ttls_s": [940, 941]})
    assert curve(again) == {k: v for k, v in CURVE.items() if k in {("lru", 2), ("lru", 3), ("ttl", 940), ("ttl", 941)}}


def test_new_events_are_replayed_after_an_earlier_call(ctx, catalog):
    run(ctx, catalog)
    load(ctx.store, catalog, [event(1001, "r6", [A1, A2, U1])])  # A1 A2 and U1 are held: 3 more hits
    result = ToolDispatcher(ctx).run(TOOL, ARGS)
    assert (result.value("requests"), next(r for r in result.rows if r["table"] == "unbounded")["hit_blocks"]) == (6, 8)


@pytest.mark.parametrize(("args", "field"), [
    ({"capacities": [0]}, "capacities"), ({"capacities": []}, "capacities"),
    ({"ttls_s": [-5]}, "ttls_s"), ({"ttls_s": "soon"}, "ttls_s"), ({"bogus": 1}, "bogus"),
])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)


# ---- an independent replay on a random prefix-hash fixture --------------------------------

def chain(parent: int, piece: str) -> int:
    """A chained 64-bit block hash: the block's content hashed together with its parent's hash."""
    return int.from_bytes(hashlib.blake2b(f"{parent}:{piece}".encode(), digest_size=8).digest(), "big")


def prefix(tokens: list[str]) -> list[int]:
    """Chained hashes of a request's blocks."""
    hashes = [chain(0, tokens[0])]
    for piece in tokens[1:]:
        hashes.append(chain(hashes[-1], piece))
    return hashes


def fixture_events(seed: int) -> list[dict[str, Any]]:
    """300 requests drawing from 6 shared prompts of 1-6 blocks plus 0-3 unique blocks, with ties."""
    rng = random.Random(seed)
    prompts = [[f"p{p}b{b}" for b in range(rng.randint(1, 6))] for p in range(6)]
    return [event(rng.randrange(0, 4000, 7), f"q{i:04d}", prefix(random_request(rng, prompts, i)))
            for i in range(300)]


def random_request(rng: random.Random, prompts: list[list[str]], i: int) -> list[str]:
    """Part of a shared prompt, then 0-3 blocks unique to request `i`."""
    shared = rng.choice(prompts)[:rng.randint(1, 6)]
    return shared + [f"u{i}.{k}" for k in range(rng.randint(0, 3))]


def reference_lru(requests: list[list[int]], capacity: int) -> int:
    """Plain LRU as a most-recent-first list: count leading hits, then move the request's blocks
    to the front in request order and cut the list to `capacity`."""
    stack: list[int] = []
    total = 0
    for blocks in requests:
        total += next((i for i, h in enumerate(blocks) if h not in stack), len(blocks))
        stack = blocks + [h for h in stack if h not in blocks]
        del stack[capacity:]
    return total


def replay_order(records: list[dict[str, Any]]) -> list[list[int]]:
    """The fixture's requests sorted by (timestamp, request_id)."""
    return [r["prefix_hashes"] for r in sorted(records, key=lambda r: (r["timestamp"], r["request_id"]))]


@pytest.mark.parametrize("seed", [1, 2])
def test_lru_curve_matches_an_independent_replay(ctx, catalog, seed):
    records = fixture_events(seed)
    capacities = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 5000]
    result = run(ctx, catalog, {"capacities": capacities}, events=records)
    expected = {("lru", c): reference_lru(replay_order(records), c) for c in capacities}
    assert {k: v for k, v in curve(result).items() if k[0] == "lru"} == expected
