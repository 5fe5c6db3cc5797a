"""Exact replays of one prefix cache shared by a whole scope: unbounded, LRU of any capacity, TTL.

    reuse = scope_reuse(ctx, scope, queries)   # one query, then numpy and one compiled pass
    reuse.unbounded(), reuse.lru(10_000), reuse.ttl(300_000)   # Hits(blocks, tokens) each

The semantics are `cache_policy`'s: every scoped request (billed or not) in (timestamp,
request_id) order looks up its leading cached blocks, then refreshes all its blocks, last block
first; LRU evicts down to its capacity after serving; a TTL entry lives while now - last use <
TTL. Prefix hashes are chained, so a block held by an earlier request comes with every block
before it. The replay never visits a block:

1. **Shared runs** (ClickHouse, `_RUN_LENGTH`: leading hashes `kv_prefix_seen` says two stored
   events hold; `_answer` checks that they miss no block two scoped requests share) and their
   trie (`RunsTrie` under one `SharedKey`): a block outside every request's c(r) is held by no
   other scoped request, so it is never re-used; it only counts in `length(prefix_hashes)`.
2. **Uses**: each request with c(r) > 0 meets the compressed nodes of its path; the previous
   request using the same node in replay order (`since_previous_use` over request positions)
   last used the whole stretch of the path ending there. The stretches with a previous request
   are exactly the blocks an earlier request held (a leading run: the unbounded hits).
3. **Segments**: consecutive stretches of a request r last used by the same request q merge
   into blocks a..a+w-1. TTL: they hit when ts(r) - ts(q) < TTL. LRU: block k's rank (the
   distinct blocks used since its last use) is U + k - a, with U the distinct blocks of the
   requests strictly between q and r: their blocks minus the widths of the segments of those
   requests last used after q (`ranks.later_weights`, one Fenwick pass). A block hits a
   capacity C when its rank < C, so each capacity hits clamp(C - U, 0, w) blocks per segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.tools._cache_replay.answer import replay_order, stops_repeat
from netra.tools._cache_replay.query import _RUN_LENGTH
from netra.tools._cache_replay.arrays import Runs, compact, read_only
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._cache_replay.trie import RunsTrie, SharedKey, since_previous_use
from netra.tools._sql import COUNTED_TWICE_SQL, Queries, prefix_candidates
from netra.tools.base import Evidence, ToolContext
from netra.tools.scope import Scope, where

# One row per scoped request, in storage order (numpy puts them in replay order), with its run
# (`_RUN_LENGTH` of `_cache_replay`: its leading hashes among `{candidates}`) and the hash the
# run stops at (NULL when the run holds every hash). Arrow's output is not compressed: hashes
# and request ids do not compress, LZ4 would only cost time on both sides (half the query's).
POLICY_SQL = """SELECT toUnixTimestamp64Milli(timestamp) AS ts_ms, request_id, length(prefix_hashes) AS n_blocks,
       block_size AS bs, input_tokens AS n_input, arraySlice(prefix_hashes, 1, {run_length} AS run_length) AS run,
       if(run_length < n_blocks, prefix_hashes[run_length + 1], NULL) AS stop
FROM workload_events {where}
SETTINGS output_format_arrow_compression_method = 'none'"""
_MEMO = "cache_policy"  # the memo kind of the re-use segments (`memo.memo_of`)


@dataclass(frozen=True)
class Hits:
    """Hit blocks, and hit tokens (each hit block x its request's block size), of one replay."""

    blocks: int
    tokens: int


class _Replay:
    """The scoped requests in replay order, the trie of their runs and the uses of its nodes."""

    def __init__(self, table: pa.Table) -> None:
        self.table, self.n = table, table.num_rows
        ts = self.numbers("ts_ms")
        self.order = replay_order(ts, table.column("request_id"))
        self.ts = ts[self.order]

    def numbers(self, name: str) -> np.ndarray:
        """Return a numeric column in the query's row order, as int64."""
        return self.table.column(name).to_numpy().astype(np.int64)

    @cached_property
    def trie(self) -> RunsTrie:
        """Return the trie of the requests' shared runs (one key: the scope shares one cache)."""
        runs = Runs.of(self.table.column("run"), self.order)
        return RunsTrie(SharedKey(self.n), runs, np.flatnonzero(runs.length > 0))

    @cached_property
    def uses(self) -> _Uses:
        """Return every request's uses of the compressed nodes of its path, in replay and depth order."""
        users = np.flatnonzero(self.trie.depth > 0)
        count, position, owner = self.trie.paths_of(users)
        return _Uses.of(users[owner], self.trie.nodes.node[position], self.trie.nodes.depth[position], count)

    @cached_property
    def segments(self) -> Segments:
        """Return the re-use segments with their LRU ranks."""
        before = np.concatenate(([0], np.cumsum(self.numbers("n_blocks")[self.order])))
        return Segments.of(self.uses, before)


@dataclass(frozen=True)
class _Uses:
    """The uses that re-use blocks: stretch start..end-1 of `request`'s path, last used by `previous`."""

    request: np.ndarray
    previous: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def of(cls, request: np.ndarray, node: np.ndarray, depth: np.ndarray, count: np.ndarray) -> _Uses:
        """Pair each use with its node's previous request; keep the uses that have one."""
        since = since_previous_use(node, request)
        start = np.zeros_like(depth)
        start[1:] = depth[:-1]
        start[np.cumsum(count) - count] = 0  # a path's first stretch starts at depth 0
        kept = since >= 0
        return cls(request[kept], (request - since)[kept], start[kept], depth[kept])

    def heads(self) -> tuple[np.ndarray, np.ndarray]:
        """Return where each run of uses of one (request, previous) starts, and where it ends."""
        head = np.ones(len(self.request), bool)
        head[1:] = (self.request[1:] != self.request[:-1]) | (self.previous[1:] != self.previous[:-1])
        starts = np.flatnonzero(head)
        return starts, np.append(starts, len(head))[1:] - 1


@dataclass(frozen=True)
class Segments:
    """Blocks start..start+width-1 of `request`, last used by `previous`, with the LRU rank of the first."""

    request: np.ndarray
    previous: np.ndarray
    width: np.ndarray
    rank: np.ndarray

    @classmethod
    def of(cls, uses: _Uses, before: np.ndarray) -> Segments:
        """Merge each request's uses by previous request; rank = U(previous, request) (`before`: blocks
        of the requests before each one)."""
        starts, ends = uses.heads()
        request, previous = uses.request[starts], uses.previous[starts]
        width = uses.end[ends] - uses.start[starts]
        doubles = later_weights_of(request, previous, width)
        return cls(request, previous, width, before[request] - before[previous + 1] - doubles)


def later_weights_of(request: np.ndarray, previous: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Return, per segment, the widths of the segments of requests before it last used after its `previous`."""
    from netra.tools._cache_replay.ranks import later_weights  # numba: imported when first replayed

    number, distinct = compact(previous, int(previous.max(initial=0)) + 1)
    return later_weights(request, len(distinct) - 1 - number, width, len(distinct))


@dataclass(frozen=True)
class Reuse:
    """What the three replays need: totals, and per re-use segment its TTL gap, LRU rank and width.

    Kept per store and data version (`memo`) and shared by the threads of a run: read-only.
    """

    requests: int
    blocks: int
    input_tokens: int
    gap_ms: np.ndarray  # ts(request) - ts(previous)
    rank: np.ndarray
    width: np.ndarray
    block_size: np.ndarray  # of the segment's request

    @classmethod
    def of(cls, table: pa.Table) -> Reuse:
        """Replay the query's answer (any row order)."""
        replay = _Replay(table)
        s, ts = replay.segments, replay.ts
        arrays = (ts[s.request] - ts[s.previous], s.rank, s.width, replay.numbers("bs")[replay.order[s.request]])
        return cls(replay.n, int(pc.sum(table.column("n_blocks")).as_py() or 0),
                   int(pc.sum(table.column("n_input")).as_py() or 0), *map(read_only, arrays))

    @property
    def distinct(self) -> int:
        """Return how many distinct blocks the scope holds: every block not held by an earlier request."""
        return self.blocks - self.unbounded().blocks

    def hits(self, blocks: np.ndarray) -> Hits:
        """Return the hits of some blocks per segment."""
        return Hits(int(blocks.sum()), int(np.dot(blocks, self.block_size)))

    def unbounded(self) -> Hits:
        """Return the hits of a cache that never evicts: every block an earlier request held."""
        return self.hits(self.width)

    def lru(self, capacity: int) -> Hits:
        """Return the hits of an LRU of `capacity` blocks: the re-used blocks of rank < capacity."""
        return self.hits(np.clip(capacity - self.rank, 0, self.width))

    def ttl(self, ttl_ms: int) -> Hits:
        """Return the hits of a cache whose entries live `ttl_ms` after their last use."""
        return self.hits(np.where(self.gap_ms < ttl_ms, self.width, 0))


@dataclass(frozen=True)
class _PolicyQuery:
    """The policy query of one scope: its SQL with `{candidates}` open, and its bound parameters."""

    template: str
    params: dict[str, Any]

    def sql(self, candidates: str) -> str:
        """Return the query with the hashes its runs are tested against."""
        return self.template.replace("{candidates}", candidates)


def scope_reuse(ctx: ToolContext, scope: Scope, queries: Queries) -> Reuse:
    """Load the scoped requests with one bound query (kept as evidence) and replay them, once per
    query and data version of the store (`memo`)."""
    clause, params = where(scope)
    query = _PolicyQuery(POLICY_SQL.replace("{where}", clause).replace("{run_length}", _RUN_LENGTH), params)
    sql = query.sql(COUNTED_TWICE_SQL)
    queries.evidence.append(Evidence(sql=sql, params=params))
    return memo_of(ctx.store, _MEMO).get(Loaded(sql, params), lambda: Reuse.of(_answer(ctx, query, queries)))


def _answer(ctx: ToolContext, query: _PolicyQuery, queries: Queries) -> pa.Table:
    """Run the query with the hashes counted twice; again with every candidate if two runs stop alike.

    Two requests sharing a block share every block before it (chained hashes): if their runs
    miss it, both stop at the first hash they miss, the same one. So when no two requests stop
    at one hash, every block two of them share lies in both runs (the trie needs no more). A
    block two requests of different inserts share may be counted once in each of two unmerged
    parts: only then are the requests read again with `_sql.prefix_candidates`.
    """
    table = ctx.store.arrow(query.sql(COUNTED_TWICE_SQL), query.params)
    if stops_repeat(table.column("stop")):
        sql = query.sql(prefix_candidates(ctx.store))
        queries.evidence.append(Evidence(sql=sql, params=query.params))
        table = ctx.store.arrow(sql, query.params)
    return table

