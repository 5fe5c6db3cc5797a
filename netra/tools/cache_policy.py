"""Cache policy optimizer: replay prefix blocks through LRU caches of several sizes and TTL caches.

The scoped requests are replayed in `timestamp`, then `request_id` order (so requests at the
same instant are served one after the other) through one cache shared by every request of the
scope, billed or not (filter the scope by `model` to replay one model's cache). For every
request, in that order:

1. **Lookup**: the request hits its *leading* blocks that are in the cache: counting stops at
   its first block that is not. Hashes are chained, so a block is only reusable when the whole
   prefix before it is.
2. **Serve**: after the lookup, all its blocks are inserted or refreshed as most recently used,
   last block first, so the leading block is the most recent of all and a prefix's leaf blocks
   are evicted before the blocks they extend (as radix-tree KV caches such as vLLM's and
   SGLang's do).

Policies:

- **LRU** of `capacity` blocks: after serving, least recently used blocks are evicted until at
  most `capacity` remain. A capacity at least the number of distinct blocks never evicts, so it
  equals the unbounded cache (that replay is reused).
- **TTL** of `ttl_s` seconds, no size limit: an entry expires `ttl_s` seconds after its last use
  and each use refreshes it; a block is in the cache when `now - last use < ttl_s`.
- **Unbounded**: nothing is evicted; a block hits when an earlier request (in replay order)
  held it. Unlike `kv_cache_finder`, a request at the same instant as the first one holding a
  block hits it (replay order breaks the tie).

Hit ratios: `block_hit_ratio` = hit blocks / blocks, `token_hit_ratio` = hit blocks x block
size / input tokens. The recommended capacity is the smallest listed one whose block hit ratio
is within 1 percentage point of the unbounded one (else the number of distinct blocks, which
always is); the recommended TTL is the smallest listed one within 1 point of the unbounded
ratio (else the largest listed).

The replays are exact without visiting a block (`_cache_replay/lru.py`): one bound query gives
each request's block count and shared run (ClickHouse, `kv_prefix_seen`); numpy turns the runs
into segments of re-used blocks with their TTL gap and LRU rank (one compiled Fenwick pass), so
every capacity and TTL is one pass over the segments. The segments are kept per store and data
version, so asking again with other capacities or TTLs costs no query but the version check.
`Trace` and `load_trace` (every request's blocks, in replay order) serve
`kv_cache_optimization_audit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Iterable

from pydantic import Field

from netra.tools._cache_replay.lru import Hits, Reuse, scope_reuse
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import Evidence, ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, where

TOOL = "cache_policy_optimizer"
TOLERANCE = 0.01  # one percentage point of hit ratio
_EPSILON = 1e-12  # float slack when comparing hit ratios

# one row per scoped request, in replay order (`load_trace`, for kv_cache_optimization_audit);
# aliases never equal column names
TRACE_SQL = """SELECT toUnixTimestamp64Milli(timestamp) AS ts_ms, feature AS f, model AS m,
       prefix_hashes AS hashes, block_size AS bs, input_tokens AS n_input,
       cached_input_tokens AS n_cached, cost_usd AS cost
FROM workload_events {where}
ORDER BY timestamp, request_id"""

# Trace field -> TRACE_SQL alias
_TRACE_COLUMNS = {"ts": "ts_ms", "feature": "f", "model": "m", "blocks": "hashes", "block_size": "bs",
                  "input_tokens": "n_input", "cached_tokens": "n_cached", "cost": "cost"}

_BLOCK_FIGURES = {
    "requests": ("requests", "requests replayed"),
    "blocks": ("blocks", "prefix blocks replayed"),
    "distinct_blocks": ("blocks", "distinct prefix blocks (an LRU this large never evicts)"),
    "unbounded_block_hit_ratio": ("ratio", "block hit ratio of a cache that never evicts"),
    "unbounded_token_hit_ratio": ("ratio", "share of input tokens hit by a cache that never evicts"),
}
FIGURES = {
    **_BLOCK_FIGURES,
    "recommended_capacity_blocks": ("blocks", "smallest LRU capacity within 1 pp of the unbounded hit ratio"),
    "recommended_capacity_block_hit_ratio": ("ratio", "block hit ratio at the recommended capacity"),
    "recommended_ttl_s": ("seconds", "smallest TTL within 1 pp of the unbounded hit ratio"),
    "recommended_ttl_block_hit_ratio": ("ratio", "block hit ratio at the recommended TTL"),
}
_NO_CAPACITY = ("no listed capacity comes within 1 pp of the unbounded hit ratio; "
                "{blocks} blocks (every distinct block) would")
_NO_TTL = "no listed TTL comes within 1 pp of the unbounded hit ratio; recommending the largest"

Capacity = Annotated[int, Field(ge=1)]
Seconds = Annotated[int, Field(ge=1)]


@dataclass(frozen=True)
class Trace:
    """The scoped requests in replay order (timestamp, then request_id), one list item each."""

    ts: list[int]
    feature: list[str]
    model: list[str]
    blocks: list[list[int]]
    block_size: list[int]
    input_tokens: list[int]
    cached_tokens: list[int]
    cost: list[float]


class CachePolicyArgs(Scope):
    """Scope plus the LRU capacities and TTLs to replay."""

    capacities: list[Capacity] = Field(default_factory=lambda: [1_000, 10_000, 100_000],
                                       min_length=1, max_length=20, description="LRU sizes in blocks")
    ttls_s: list[Seconds] = Field(default_factory=lambda: [300, 3600], min_length=1, max_length=20,
                                  description="TTLs in seconds (each use refreshes an entry)")


def load_trace(queries: Queries, scope: Scope) -> Trace:
    """Pull the scoped requests in replay order with one bound query (kept as evidence)."""
    clause, params = where(scope)
    sql = TRACE_SQL.replace("{where}", clause)
    queries.evidence.append(Evidence(sql=sql, params=params))
    table = queries.store.arrow(sql, params)
    return Trace(**{name: table.column(alias).to_pylist() for name, alias in _TRACE_COLUMNS.items()})


@dataclass(frozen=True)
class Curves:
    """The totals of the scope and the hits of every replayed policy."""

    requests: int
    blocks: int
    input_tokens: int
    distinct: int
    unbounded: Hits
    lru: dict[int, Hits]  # capacity (blocks) -> hits
    ttl: dict[int, Hits]  # TTL (seconds) -> hits

    @classmethod
    def of(cls, reuse: Reuse, args: CachePolicyArgs) -> Curves:
        """Read every policy's hits off the re-use segments."""
        return cls(reuse.requests, reuse.blocks, reuse.input_tokens, reuse.distinct, reuse.unbounded(),
                   {c: reuse.lru(c) for c in sorted(set(args.capacities))},
                   {t: reuse.ttl(t * 1000) for t in sorted(set(args.ttls_s))})

    def curve(self, hits: Hits) -> dict[str, Any]:
        """Return hit blocks and tokens of one replay and their ratios."""
        return {"hit_blocks": hits.blocks, "hit_tokens": hits.tokens,
                "block_hit_ratio": ratio(hits.blocks, self.blocks),
                "token_hit_ratio": ratio(hits.tokens, self.input_tokens)}


@dataclass(frozen=True)
class _Replays:
    """The replay curves: unbounded, one per capacity, one per TTL."""

    distinct: int
    unbounded: dict[str, Any]
    lru: list[dict[str, Any]]
    ttl: list[dict[str, Any]]

    @classmethod
    def of(cls, curves: Curves) -> _Replays:
        """Name the curve rows of the replays."""
        unbounded = {"table": "unbounded", **curves.curve(curves.unbounded)}
        lru = [_lru_row(curves, c, unbounded) for c in curves.lru]
        ttl = [{"table": "ttl", "ttl_s": t, **curves.curve(hits)} for t, hits in curves.ttl.items()]
        return cls(curves.distinct, unbounded, lru, ttl)


def _lru_row(curves: Curves, capacity: int, unbounded: dict[str, Any]) -> dict[str, Any]:
    """Return one LRU curve point (a capacity that never evicts reuses the unbounded replay)."""
    curve = unbounded if capacity >= curves.distinct else curves.curve(curves.lru[capacity])
    return {**curve, "table": "lru", "capacity_blocks": capacity}


def _recommend(rows: list[dict[str, Any]], best: float) -> dict[str, Any] | None:
    """Return the first row (smallest setting) within TOLERANCE of `best`, or None."""
    return next((r for r in rows if r["block_hit_ratio"] >= best - TOLERANCE - _EPSILON), None)


def _with_flags(rows: Iterable[dict[str, Any]], best: float) -> list[dict[str, Any]]:
    """Mark each curve row with whether it is within TOLERANCE of the unbounded hit ratio."""
    return [{**r, "within_1pp": r["block_hit_ratio"] >= best - TOLERANCE - _EPSILON} for r in rows]


def _capacity(replays: _Replays) -> tuple[dict[str, float], list[str]]:
    """Return the capacity recommendation figures and the note when no listed capacity is enough."""
    best = replays.unbounded["block_hit_ratio"]
    row = _recommend(replays.lru, best)
    if row is None:
        return _pick(replays.distinct, best), [_NO_CAPACITY.format(blocks=replays.distinct)]
    return _pick(row["capacity_blocks"], row["block_hit_ratio"]), []


def _ttl(replays: _Replays) -> tuple[dict[str, float], list[str]]:
    """Return the TTL recommendation figures and the note when no listed TTL is enough."""
    row = _recommend(replays.ttl, replays.unbounded["block_hit_ratio"])
    notes = [] if row is not None else [_NO_TTL]
    row = row or replays.ttl[-1]
    return {"recommended_ttl_s": row["ttl_s"], "recommended_ttl_block_hit_ratio": row["block_hit_ratio"]}, notes


def _pick(capacity: float, hit_ratio: float) -> dict[str, float]:
    """Name the capacity recommendation figures."""
    return {"recommended_capacity_blocks": capacity, "recommended_capacity_block_hit_ratio": hit_ratio}


def _values(curves: Curves) -> dict[str, float]:
    """Return the trace and unbounded-replay figures."""
    unbounded = curves.curve(curves.unbounded)
    return {"requests": curves.requests, "blocks": curves.blocks, "distinct_blocks": curves.distinct,
            "unbounded_block_hit_ratio": unbounded["block_hit_ratio"],
            "unbounded_token_hit_ratio": unbounded["token_hit_ratio"]}


@apex_tool(TOOL, "Replay prefix blocks through LRU caches of given sizes (blocks) and TTL caches "
                 "(seconds): hit-ratio curves and the smallest capacity and TTL within 1 pp of an "
                 "unbounded cache.", CachePolicyArgs)
def cache_policy_optimizer(ctx: ToolContext, args: CachePolicyArgs) -> ToolResult:
    """Return the LRU and TTL hit-ratio curves and the recommended capacity and TTL."""
    queries = Queries(ctx.store)
    reuse = scope_reuse(ctx, args, queries)
    if not reuse.requests:
        return empty(TOOL, FIGURES, queries)
    return result(Curves.of(reuse, args), queries)


def result(curves: Curves, queries: Queries) -> ToolResult:
    """Assemble the curves, the recommendations and their notes."""
    replays = _Replays.of(curves)
    (capacity, capacity_notes), (ttl, ttl_notes) = _capacity(replays), _ttl(replays)
    rows = [replays.unbounded, *_with_flags(replays.lru + replays.ttl, replays.unbounded["block_hit_ratio"])]
    return finish(TOOL, FIGURES, {**_values(curves), **capacity, **ttl}, rows, queries,
                  capacity_notes + ttl_notes)
