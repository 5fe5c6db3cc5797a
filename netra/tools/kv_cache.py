"""Prefix (KV) cache finder: replay prefix block hashes in time order, report hit ratios.

The replay runs in ClickHouse. Each block hash gets the time it was first seen; a request
hits every block of its own whose first-seen time is strictly earlier than the request
(a tie counts as a miss). Hashes are chained, so a block seen before implies its whole
prefix was seen before: the hits of a request are its leading blocks, and counting them
is enough. The cache is unbounded (no eviction) and shared by every model, so the figures
are an upper bound on what a real prefix cache would reuse, and it starts empty at the
start of the scope: only the scoped events are replayed.

Only blocks seen at two different times can be hit, and they are usually few: they are
found first, then each request counts its hits among its own blocks in one pass, without
exploding them. A scope of the whole workspace finds them in `kv_prefix_seen` (every block's
first and last time, kept on insert; `_sql.REPEATED_SEEN_SQL`), a filtered scope by grouping
its own exploded blocks: both give the same blocks and first-seen times.

This tool reports hit ratios only, and proposes nothing: what provider prompt caching would
save (per provider and model cache, minimum prefix, TTL and write price) comes from
`prompt_cache_savings_calculator` (docs/caching.md).
"""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import Field

from netra.tools._sql import Queries, repeated_blocks
from netra.tools.coverage import coverage, needing
from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, where

# the repeated blocks, computed once per query (fs.1 hashes, fs.2 first-seen times), and
# the sets the queries test blocks and requests against
_LOOKUP = "WITH assumeNotNull((SELECT (groupArray(h), groupArray(first_seen)) FROM ({repeated}))) AS fs"
_REPEATED = "(SELECT arrayJoin(fs.1))"
_FIRST_TIMES = "(SELECT arrayJoin(fs.2))"
_FIRST_PAIRS = "(SELECT arrayJoin(arrayZip(fs.1, fs.2)))"

# A request's hits are its blocks first seen strictly earlier. Its repeated blocks were
# first seen at or before it (the scope holds the request), so its hits are its repeated
# blocks less those first seen at its own time; only requests at such a time test pairs.
_HITS = (f"arrayCount(x -> x IN {_REPEATED}, prefix_hashes) - if(timestamp IN {_FIRST_TIMES}, "
         f"arrayCount(x -> (x, timestamp) IN {_FIRST_PAIRS}, prefix_hashes), 0)")

# per request (blocks are not exploded), then totals per (feature, model, prefix)
REPLAY_SQL = f"""{_LOOKUP}
SELECT f AS feature, m AS model, if(r_hit > 0, r_lead, NULL) AS lead,
       count() AS requests, sum(r_blocks) AS blocks, sum(r_hit) AS hit_blocks,
       sum(r_hit * r_bs) AS hit_tokens,
       sum(greatest(toInt64(r_hit * r_bs) - toInt64(r_cached), 0)) AS uncached_hit_tokens,
       countIf(r_hit * r_bs > r_cached) AS uncached_requests,
       sum(r_input) AS input_tokens, sum(r_cached) AS cached_tokens,
       sum(r_cost) AS cost_usd, countIf(r_hit > 0) AS hit_requests,
       max(r_hit) AS max_hit_blocks
FROM (
  SELECT feature AS f, model AS m, prefix_hashes[1] AS r_lead, length(prefix_hashes) AS r_blocks,
         block_size AS r_bs, cached_input_tokens AS r_cached, input_tokens AS r_input,
         cost_usd AS r_cost, {_HITS} AS r_hit
  FROM workload_events {{where}}
)
GROUP BY feature, model, lead
ORDER BY feature, model, lead
"""

_SUMS = ("requests", "blocks", "hit_blocks", "hit_tokens", "uncached_hit_tokens",
         "uncached_requests", "input_tokens", "cached_tokens", "cost_usd", "hit_requests")
_RATIO_SUMS = ("requests", "blocks", "hit_blocks", "hit_tokens", "input_tokens")

# figure name -> (unit, label)
_FIGURES = {
    "block_hit_ratio": ("ratio", "prefix blocks hit"),
    "token_hit_ratio": ("ratio", "share of input tokens in hit prefix blocks"),
    "hit_tokens": ("tokens", "input tokens in hit prefix blocks"),
    "uncached_hit_tokens": ("tokens", "hit tokens not read from a cache"),
}

# a replay without prefix hashes measures nothing: its figures are not in the telemetry
NEEDS = needing("prefix_hashes", *_FIGURES)


class KvCacheArgs(Scope):
    """Scope plus how many shared prefixes to list."""

    top_n: int = Field(5, ge=1, le=100, description="shared prefixes to list")


@apex_tool("kv_cache_finder",
           "Replay prefix block hashes to measure prefix-cache hit ratios, per feature and for the top shared "
           "prefixes (hit ratios only: prompt_cache_savings_calculator prices caching)",
           KvCacheArgs, family="optimization")
def kv_cache_finder(ctx: ToolContext, args: KvCacheArgs) -> ToolResult:
    """Measure how often requests resend prefix blocks seen earlier: overall, per feature, per prefix."""
    replay, evidence = _run_queries(ctx, args)
    rows = _feature_rows(replay) + _top_prefixes(replay, args.top_n)
    found = Queries(ctx.store)
    covered = coverage(found, args)
    result = ToolResult(tool="kv_cache_finder", figures=_figures(replay), rows=rows,
                        evidence=evidence + found.evidence, notes=[])
    return covered.mark(result, NEEDS)


def _run_queries(ctx: ToolContext, scope: Scope) -> tuple[list[dict], list[Evidence]]:
    """Run the replay query (its rows kept per data version); return its rows and evidence."""
    clause, params = where(scope)
    replay_sql = REPLAY_SQL.replace("{where}", clause).replace("{repeated}", repeated_blocks(ctx.store, clause))
    rows = Queries(ctx.store).kept_rows("kv_replay", replay_sql, params)
    return rows, [Evidence(sql=replay_sql, params=params)]


def _group(rows: Iterable[dict], key, fields: tuple[str, ...]) -> dict[Any, dict[str, float]]:
    """Sum `fields` of `rows` per `key(row)`; also count the hit prefixes of each group."""
    groups: dict[Any, dict[str, float]] = {}
    for row in rows:
        acc = groups.setdefault(key(row), dict.fromkeys(fields + ("prompts",), 0))
        for name in fields:
            acc[name] += row[name]
        acc["prompts"] += row["lead"] is not None
    return groups


def _ratio(part: float, whole: float) -> float:
    """Return part / whole, or 0 when whole is 0."""
    return part / whole if whole else 0.0


def _feature_rows(replay: list[dict]) -> list[dict[str, Any]]:
    """Return the `feature_hit_ratio` table: block and token hit ratios per feature."""
    features = _group(replay, lambda row: row["feature"], _RATIO_SUMS)
    return [{"table": "feature_hit_ratio", "feature": name, "requests": int(s["requests"]),
             "block_hit_ratio": round(_ratio(s["hit_blocks"], s["blocks"]), 6),
             "token_hit_ratio": round(_ratio(s["hit_tokens"], s["input_tokens"]), 6),
             "hit_tokens": int(s["hit_tokens"])} for name, s in sorted(features.items())]


def _top_prefixes(replay: list[dict], top_n: int) -> list[dict[str, Any]]:
    """Return the `top_prefixes` table: shared leading prefixes by hit tokens."""
    prefixes: dict[int, dict[str, Any]] = {}
    for row in (r for r in replay if r["lead"] is not None):
        acc = prefixes.setdefault(row["lead"], {"hit_tokens": 0, "blocks": 0, "requests": 0, "features": set()})
        _add_prefix(acc, row)
    ranked = sorted(prefixes.items(), key=lambda item: (-item[1]["hit_tokens"], item[0]))
    return [_prefix_row(lead, acc) for lead, acc in ranked[:top_n]]


def _add_prefix(acc: dict[str, Any], row: dict) -> None:
    """Add one (feature, model, prefix) replay row to a prefix's totals."""
    acc["hit_tokens"] += int(row["hit_tokens"])
    acc["blocks"] = max(acc["blocks"], int(row["max_hit_blocks"]))
    acc["requests"] += int(row["hit_requests"])
    acc["features"].add(row["feature"])


def _prefix_row(lead: int, acc: dict[str, Any]) -> dict[str, Any]:
    """Return one `top_prefixes` row; the prefix is named by its leading block hash in hex."""
    return {"table": "top_prefixes", "prefix": f"{lead:016x}", "blocks": acc["blocks"],
            "requests": acc["requests"], "hit_tokens": acc["hit_tokens"],
            "features": sorted(acc["features"])}


def _figures(replay: list[dict]) -> dict[str, Figure]:
    """Return the overall hit ratios and hit tokens."""
    total = {k: sum(row[k] for row in replay) for k in _SUMS}
    values = {"block_hit_ratio": _ratio(total["hit_blocks"], total["blocks"]),
              "token_hit_ratio": _ratio(total["hit_tokens"], total["input_tokens"]),
              "hit_tokens": total["hit_tokens"], "uncached_hit_tokens": total["uncached_hit_tokens"]}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}
