"""The replay's shared runs while `kv_prefix_seen` stays in the parts its inserts wrote.

The engine first reads the hashes some part counts twice (`_sql.COUNTED_TWICE_SQL`). A block
two requests of different inserts share is counted once in each part: both their runs stop at
it, and the engine reads the events again with every candidate (`_sql.prefix_candidates`).
Each case loads the same requests in one insert and in several (merges stopped): the replays
must be the same, and the second read happens only when two runs stop at one hash.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from netra.tools._cache_replay import replay_scope
from netra.tools._sql import COUNTED_TWICE_SQL, Queries
from netra.tools.scope import Scope
from netra.workloads.caching import CHOICES
from tests.support.factories import load
from tests.unit.tools.test_cache_replay import GPT4O, P, SON, decisions, request

# (name, the requests of each insert, whether the second read is needed)
CASES: list[tuple[str, list[list[dict[str, Any]]], bool]] = [
    # a and b share P, one in each insert: each part counts P's blocks once
    ("shared_across_inserts", [[request("a", 0, SON, P)], [request("b", 1000, SON, P)]], True),
    # a and b share P within the first insert: that part counts it twice; c shares it too
    ("shared_within_an_insert", [[request("a", 0, SON, P), request("b", 10, SON, P)],
                                 [request("c", 2000, SON, P)]], False),
    # P within the first insert, P + [0xB1] across the two: the runs stop at 0xB1 in both
    ("deeper_block_across_inserts", [[request("a", 0, SON, P + [0xB1]), request("b", 10, SON, P)],
                                     [request("c", 2000, SON, P + [0xB1, 0xB2])]], True),
    # the same prompt to two models, one per insert: a stop in common, no block in common
    ("same_prompt_other_model", [[request("a", 0, SON, P)], [request("o", 1000, GPT4O, P)]], True),
    # three inserts, a branch in each (as in test_cache_replay's branching_prompts)
    ("branches_in_three_inserts", [[request("a", 0, SON, P + [0xB1, 0xB2])], [request("b", 10_000, SON, P + [0xB1])],
                                   [request("c", 20_000, SON, P + [0xC1])]], True),
    # a refused request shares P + [9] with ok2 across the inserts: it is no reason to read again
    ("refused_across_inserts", [[request("ok1", 0, SON, P), request("ok2", 10, SON, P + [9])],
                                [request("f0", 1000, SON, P + [9], status="error", output_tokens=0)]], False),
]


@pytest.fixture
def unmerged(store) -> Iterator[None]:
    """Keep `kv_prefix_seen` in the parts its inserts wrote (no background merge)."""
    store.client.command("SYSTEM STOP MERGES kv_prefix_seen")
    yield
    store.client.command("SYSTEM START MERGES kv_prefix_seen")


def replays(ctx, inserts: list[list[dict[str, Any]]]) -> tuple[dict[str, Any], list[str]]:
    """Load the inserts; return every choice's decisions and notes, and the SQL of each read beyond the first."""
    for batch in inserts:
        load(ctx.store, ctx.catalog, batch)
    queries = Queries(ctx.store)
    got = {c: (decisions(r := replay_scope(ctx, Scope(), c, queries)), sorted(r.notes)) for c in CHOICES}
    return got, [e.sql for e in queries.evidence if COUNTED_TWICE_SQL not in e.sql]


@pytest.mark.parametrize(("name", "inserts", "read_again"), CASES, ids=[c[0] for c in CASES])
def test_split_inserts_replay_as_one(ctx, unmerged, name, inserts, read_again):
    split, again = replays(ctx, inserts)
    assert ctx.store.scalar("SELECT count() FROM system.parts WHERE table = 'kv_prefix_seen' AND active") == len(inserts)
    ctx.store.truncate()
    whole, none = replays(ctx, [[r for batch in inserts for r in batch]])
    assert (split, bool(again), none) == (whole, read_again, [])
