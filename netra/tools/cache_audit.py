"""KV cache optimization audit: achievable prefix reuse against the cache reads providers billed.

Achievable reuse follows `kv_cache_finder`'s unbounded replay: one cache shared by the whole
scope, empty at the scope's start, never evicting; a block of a request is a hit when it was
first seen strictly before the request (a tie counts as a miss). A request's achievable hit
tokens are its hit blocks x its block size. The requests are replayed in `timestamp`, then
`request_id` order (`cache_policy.load_trace`).

Per (feature, model), with `cached` = the request's billed `cached_input_tokens`:

- `achievable_hit_tokens` = sum of achievable hit tokens;
- `billed_cached_tokens` = sum of `cached` (it may exceed the achievable tokens: cache reads
  of prefixes first seen before the scope, or of partial blocks);
- `missed_tokens` = sum over requests of max(achievable - cached, 0), as `kv_cache_finder`'s
  uncached hit tokens; `captured_tokens` = achievable - missed;
- `reuse_captured_pct` = 100 x captured / achievable (0 when nothing is achievable);
- `missed_usd` = the request's missed tokens priced as input minus priced as cache reads, by
  the one pricing function (`pricing.price_classes`) in the request's own pricing key (mode,
  long-context tier; a refused request costs $0 either way); `monthly_missed_usd` scales it
  to 30 days of the scope's span.

A model the catalog does not price gets `missed_usd` 0 and a note.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from netra.tools._sql import GroupCosts, Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.cache_policy import Trace, load_trace
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import PRICE_KEY_SQL

TOOL = "kv_cache_optimization_audit"
_TOKENS = ("requests", "input_tokens", "achievable_hit_tokens", "billed_cached_tokens", "missed_tokens")
# each scoped request's pricing key, in the replay order of `cache_policy.TRACE_SQL`
KEYS_SQL = f"""SELECT {PRICE_KEY_SQL}
FROM workload_events {{where}}
ORDER BY timestamp, request_id"""
_UNKNOWN = "{feature}/{model}: model not in the price catalog; its missed dollars count as 0"

FIGURES = {
    "achievable_hit_tokens": ("tokens", "input tokens in prefix blocks an unbounded cache would hit"),
    "billed_cached_tokens": ("tokens", "input tokens providers billed as cache reads"),
    "captured_tokens": ("tokens", "achievable hit tokens that were billed as cache reads"),
    "reuse_captured_pct": ("%", "share of the achievable reuse captured by provider caches"),
    "missed_tokens": ("tokens", "achievable hit tokens not read from a cache"),
    "missed_usd": ("USD", "window cost of the missed tokens above the cache-read price"),
    "monthly_missed_usd": ("USD/month", "missed dollars scaled to 30 days"),
}

Pair = tuple[str, str]


def first_seen_hits(trace: Trace) -> list[int]:
    """Return kv_cache_finder's hit blocks per request: blocks first seen strictly earlier."""
    first: dict[int, int] = {}
    return [_hits(first, blocks, now) for blocks, now in zip(trace.blocks, trace.ts)]


def _hits(first: dict[int, int], blocks: list[int], now: int) -> int:
    """Count a request's blocks first seen before `now`, then record the unseen ones."""
    hits = sum(first.get(h, now) < now for h in blocks)
    for h in blocks:
        first.setdefault(h, now)
    return hits


@dataclass(frozen=True)
class Requests:
    """The audit's figures of every scoped request, in replay order, and its (feature, model)."""

    pairs: list[Pair]
    columns: dict[str, np.ndarray]

    @classmethod
    def replay(cls, catalog: PriceCatalog, trace: Trace, keys: list[dict[str, Any]]) -> Requests:
        """Replay the trace; price each request's missed tokens in its pricing key (`keys`, same order)."""
        cached = np.array(trace.cached_tokens, np.int64)
        achievable = np.array(first_seen_hits(trace), np.int64) * np.array(trace.block_size, np.int64)
        missed = np.maximum(achievable - cached, 0)
        columns = {"requests": np.ones(len(cached)), "input_tokens": np.array(trace.input_tokens, np.int64),
                   "achievable_hit_tokens": achievable, "billed_cached_tokens": cached, "missed_tokens": missed,
                   "missed_usd": missed_usd(catalog, trace.model, keys, missed)}
        return cls(list(zip(trace.feature, trace.model)), columns)

    def sums(self) -> dict[Pair, dict[str, float]]:
        """Return every column summed per (feature, model)."""
        index: dict[Pair, list[int]] = defaultdict(list)
        for i, pair in enumerate(self.pairs):
            index[pair].append(i)
        return {pair: {k: float(v[rows].sum()) for k, v in self.columns.items()} for pair, rows in index.items()}


def missed_usd(catalog: PriceCatalog, models: list[str], keys: list[dict[str, Any]], missed: np.ndarray) -> np.ndarray:
    """Return each request's missed tokens priced as input minus priced as cache reads (0 when none)."""
    rows = [{**key, "model": model} for key, model in zip(keys, models, strict=True)]
    as_input = GroupCosts(catalog, [{**row, "input": n} for row, n in zip(rows, missed)]).cost()
    as_read = GroupCosts(catalog, [{**row, "cache_read": n} for row, n in zip(rows, missed)]).cost()
    return as_input - as_read


def _row(catalog: PriceCatalog, pair: Pair, sums: dict[str, float], days: float) -> dict[str, Any]:
    """Return one (feature, model) audit row."""
    captured = sums["achievable_hit_tokens"] - sums["missed_tokens"]
    return {"feature": pair[0], "model": pair[1], **{k: int(sums[k]) for k in _TOKENS},
            "captured_tokens": int(captured), "priced": catalog.resolve(pair[1]) is not None,
            "reuse_captured_pct": 100 * ratio(captured, sums["achievable_hit_tokens"]),
            "missed_usd": sums["missed_usd"], "monthly_missed_usd": monthly(sums["missed_usd"], days)}


def _values(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the audit figures summed over the pairs."""
    totals = {k: sum(r[k] for r in rows) for k in FIGURES if k != "reuse_captured_pct"}
    pct = 100 * ratio(totals["captured_tokens"], totals["achievable_hit_tokens"])
    return {**totals, "reuse_captured_pct": pct}


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    """Return a note per pair whose model has no price."""
    return [_UNKNOWN.format(**r) for r in rows if not r["priced"]]


@apex_tool(TOOL, "Compare achievable prefix reuse (unbounded prefix-cache replay) with the cache reads "
                 "providers billed, per feature and model: reuse captured %, tokens and dollars missed.",
           Scope)
def kv_cache_optimization_audit(ctx: ToolContext, args: Scope) -> ToolResult:
    """Return one row per (feature, model), largest missed dollars first, and the totals."""
    queries = Queries(ctx.store)
    trace = load_trace(queries, args)
    if not trace.ts:
        return empty(TOOL, FIGURES, queries)
    requests = Requests.replay(ctx.catalog, trace, queries.rows(KEYS_SQL, args))
    rows = _rows(ctx.catalog, requests, queries.span(args))
    return finish(TOOL, FIGURES, _values(rows), rows, queries, _notes(rows))


def _rows(catalog: PriceCatalog, requests: Requests, days: float) -> list[dict[str, Any]]:
    """Return the audit rows, largest missed dollars first."""
    rows = [_row(catalog, pair, sums, days) for pair, sums in requests.sums().items()]
    return sorted(rows, key=lambda r: (-r["missed_usd"], r["feature"], r["model"]))
