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
- `missed_usd` = missed tokens x (input - cache-read price per token), from the catalog;
  `monthly_missed_usd` scales it to 30 days of the scope's span.

A model the catalog does not price gets `missed_usd` 0 and a note.
"""

from __future__ import annotations

from typing import Any

from netra.errors import UnknownModelError
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.cache_policy import Trace, load_trace
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.catalog import PriceCatalog

TOOL = "kv_cache_optimization_audit"
_SUMS = ("requests", "input_tokens", "achievable_hit_tokens", "billed_cached_tokens", "missed_tokens")
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


def _pairs(trace: Trace, hits: list[int]) -> dict[Pair, dict[str, float]]:
    """Sum the audit's token counts per (feature, model)."""
    pairs: dict[Pair, dict[str, float]] = {}
    for i, n in enumerate(hits):
        acc = pairs.setdefault((trace.feature[i], trace.model[i]), dict.fromkeys(_SUMS, 0))
        _add(acc, n * trace.block_size[i], trace.cached_tokens[i], trace.input_tokens[i])
    return pairs


def _add(acc: dict[str, float], achievable: int, cached: int, input_tokens: int) -> None:
    """Add one request to its pair's sums."""
    acc["requests"] += 1
    acc["input_tokens"] += input_tokens
    acc["achievable_hit_tokens"] += achievable
    acc["billed_cached_tokens"] += cached
    acc["missed_tokens"] += max(achievable - cached, 0)


def _price_gap(catalog: PriceCatalog, model: str) -> float | None:
    """Return input - cache-read price per token of `model`, or None when it is not priced."""
    try:
        prices = catalog.unit_prices(model)
    except UnknownModelError:
        return None
    return prices["input"] - prices["cache_read"]


def _row(pair: Pair, sums: dict[str, float], gap: float | None, days: float) -> dict[str, Any]:
    """Return one (feature, model) audit row."""
    captured = sums["achievable_hit_tokens"] - sums["missed_tokens"]
    missed_usd = sums["missed_tokens"] * (gap or 0.0)
    return {"feature": pair[0], "model": pair[1], **{k: int(v) for k, v in sums.items()},
            "captured_tokens": int(captured), "priced": gap is not None,
            "reuse_captured_pct": 100 * ratio(captured, sums["achievable_hit_tokens"]),
            "missed_usd": missed_usd, "monthly_missed_usd": monthly(missed_usd, days)}


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
    rows = _rows(ctx.catalog, trace, queries.span(args))
    return finish(TOOL, FIGURES, _values(rows), rows, queries, _notes(rows))


def _rows(catalog: PriceCatalog, trace: Trace, days: float) -> list[dict[str, Any]]:
    """Return the audit rows, largest missed dollars first."""
    rows = [_row(pair, sums, _price_gap(catalog, pair[1]), days)
            for pair, sums in _pairs(trace, first_seen_hits(trace)).items()]
    return sorted(rows, key=lambda r: (-r["missed_usd"], r["feature"], r["model"]))
