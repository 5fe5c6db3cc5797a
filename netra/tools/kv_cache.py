"""Prefix (KV) cache finder: replay prefix block hashes in time order, price the misses.

The replay runs in ClickHouse. Each block hash gets the time it was first seen; a request
hits every block of its own whose first-seen time is strictly earlier than the request
(a tie counts as a miss). Hashes are chained, so a block seen before implies its whole
prefix was seen before: the hits of a request are its leading blocks, and counting them
is enough. The cache is unbounded (no eviction), so the figures are an upper bound on what
a real provider cache would reuse, and it starts empty at the start of the scope: only the
scoped events are replayed.

Savings per (feature, model) follow `docs/scenarios.md` (`uncached_prefix`):
uncached hit tokens x (input - cache-read price) - written tokens x (cache-write - input
price), where written tokens are the blocks first seen in the pair and hit later (zero for
a pair that already reads from a cache).

Confidence is `min(1, requests / 1000)`, halved when the finding is marginal: its monthly
saving lies between half and twice the flagging threshold, so a small change in traffic
would flip the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import Field

from netra.errors import UnknownModelError
from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.findings import Finding
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly, span_days, where

# one row per request of the scope, numbered so its exploded blocks can be regrouped
_REQUESTS = """SELECT rowNumberInAllBlocks() AS rid, feature AS f, model AS m, timestamp AS ts,
           prefix_hashes[1] AS lead0, length(prefix_hashes) AS nb, block_size AS bs,
           cached_input_tokens AS cached0, input_tokens AS input0, cost_usd AS cost0,
           prefix_hashes
    FROM workload_events {where}"""

# first-seen time of each block seen again later (a block seen once is never hit); `seen`
# tells a matched block from LEFT JOIN's default row
_FIRST_SEEN = """SELECT h, min(timestamp) AS first_ts, 1 AS seen
    FROM workload_events ARRAY JOIN prefix_hashes AS h {where}
    GROUP BY h HAVING max(timestamp) > first_ts"""

# requests -> blocks (LEFT ARRAY JOIN keeps block-less requests, nb = 0 guards them)
# -> first-seen time per block -> hits per request -> totals per (feature, model, prefix)
REPLAY_SQL = f"""
SELECT f AS feature, m AS model, if(r_hit > 0, r_lead, NULL) AS lead,
       count() AS requests, sum(r_blocks) AS blocks, sum(r_hit) AS hit_blocks,
       sum(r_hit * r_bs) AS hit_tokens,
       sum(greatest(toInt64(r_hit * r_bs) - toInt64(r_cached), 0)) AS uncached_hit_tokens,
       countIf(r_hit * r_bs > r_cached) AS uncached_requests,
       sum(r_input) AS input_tokens, sum(r_cached) AS cached_tokens,
       sum(r_cost) AS cost_usd, countIf(r_hit > 0) AS hit_requests,
       max(r_hit) AS max_hit_blocks
FROM (
  SELECT rid, any(f) AS f, any(m) AS m, any(lead0) AS r_lead, any(nb) AS r_blocks,
         any(bs) AS r_bs, any(cached0) AS r_cached, any(input0) AS r_input,
         any(cost0) AS r_cost, countIf(nb > 0 AND s.seen = 1 AND s.first_ts < r.ts) AS r_hit
  FROM (
    SELECT rid, f, m, ts, lead0, nb, bs, cached0, input0, cost0, h
    FROM ({_REQUESTS}) LEFT ARRAY JOIN prefix_hashes AS h
  ) AS r
  LEFT JOIN ({_FIRST_SEEN}) AS s ON r.h = s.h
  GROUP BY rid
)
GROUP BY feature, model, lead
ORDER BY feature, model, lead
"""

# blocks seen again after their first request: the only ones a cache would have to write
_REPEATED = """h IN (SELECT h FROM workload_events ARRAY JOIN prefix_hashes AS h {where}
           GROUP BY h HAVING max(timestamp) > min(timestamp))"""

# tokens of the repeated blocks first seen in each (feature, model); ties go to the
# smallest (feature, model), so each block is written once
WRITTEN_SQL = """
SELECT origin.1 AS feature, origin.2 AS model, sum(origin.3) AS written_tokens
FROM (
  SELECT argMin((feature, model, block_size), (timestamp, feature, model)) AS origin
  FROM workload_events ARRAY JOIN prefix_hashes AS h {where}
  GROUP BY h
)
GROUP BY feature, model
ORDER BY feature, model
"""

_SUMS = ("requests", "blocks", "hit_blocks", "hit_tokens", "uncached_hit_tokens",
         "uncached_requests", "input_tokens", "cached_tokens", "cost_usd", "hit_requests")
_RATIO_SUMS = ("requests", "blocks", "hit_blocks", "hit_tokens", "input_tokens")
_LATENCY = "lower TTFT on cached prefixes"
_UNKNOWN = "skipped {feature}/{model}: model not in the price catalog"

# (test on (pair totals, flagged), reason): the first row whose test passes gives the reason
_REASONS = (
    (lambda s, flagged: flagged, "{uncached} prefix tokens were resent without a cache in "
                                 "{requests} requests; caching saves ${month:.2f}/month"),
    (lambda s, flagged: s["hit_tokens"] == 0, "no request repeats a prefix block seen earlier"),
    (lambda s, flagged: s["uncached_hit_tokens"] == 0, "repeated prefixes are already read from the cache"),
    (lambda s, flagged: True, "caching would save ${month:.2f}/month, under the threshold"),
)

Pair = tuple[str, str]

# figure name -> (unit, label)
_FIGURES = {
    "block_hit_ratio": ("ratio", "prefix blocks hit"),
    "token_hit_ratio": ("ratio", "share of input tokens in hit prefix blocks"),
    "hit_tokens": ("tokens", "input tokens in hit prefix blocks"),
    "uncached_hit_tokens": ("tokens", "hit tokens not read from a cache"),
    "monthly_saving_usd": ("USD/month", "saving of the flagged prompt-cache findings"),
}


class KvCacheArgs(Scope):
    """Scope plus how many shared prefixes to list and the flagging threshold."""

    top_n: int = Field(5, ge=1, le=100, description="shared prefixes to list")
    min_monthly_saving_usd: float = Field(1.0, ge=0, description="flag at or above this saving")


@dataclass(frozen=True)
class _Run:
    """What pricing a pair needs besides its own totals."""

    ctx: ToolContext
    args: KvCacheArgs
    days: float
    written: dict[Pair, int]


@apex_tool("kv_cache_finder",
           "Replay prefix block hashes to measure prefix-cache hit ratios and price prompt caching",
           KvCacheArgs, family="optimization")
def kv_cache_finder(ctx: ToolContext, args: KvCacheArgs) -> ToolResult:
    """Find (feature, model) pairs that resend shared prefixes without a prompt cache."""
    days, span_evidence = span_days(ctx.store, args)
    replay, written, evidence = _run_queries(ctx, args)
    pairs = _group(replay, lambda row: (row["feature"], row["model"]), _SUMS)
    findings, notes = _findings(_Run(ctx, args, days, written), pairs)
    rows = [f.model_dump() for f in findings] + _feature_rows(replay) + _top_prefixes(replay, args.top_n)
    return ToolResult(tool="kv_cache_finder", figures=_figures(pairs, findings), rows=rows,
                      evidence=[span_evidence, *evidence], notes=notes)


def _run_queries(ctx: ToolContext, scope: Scope) -> tuple[list[dict], dict[Pair, int], list[Evidence]]:
    """Run the replay and the written-blocks queries; return their rows and evidence."""
    clause, params = where(scope)
    replay_sql = REPLAY_SQL.replace("{where}", clause)
    written_sql = WRITTEN_SQL.replace("{where}", where(scope, _REPEATED.replace("{where}", clause))[0])
    replay = ctx.store.rows(replay_sql, params)
    written = {(r["feature"], r["model"]): int(r["written_tokens"]) for r in ctx.store.rows(written_sql, params)}
    return replay, written, [Evidence(sql=replay_sql, params=params), Evidence(sql=written_sql, params=params)]


def _group(rows: Iterable[dict], key, fields: tuple[str, ...]) -> dict[Any, dict[str, float]]:
    """Sum `fields` of `rows` per `key(row)`; also count the hit prefixes of each group."""
    groups: dict[Any, dict[str, float]] = {}
    for row in rows:
        acc = groups.setdefault(key(row), dict.fromkeys(fields + ("prompts",), 0))
        for name in fields:
            acc[name] += row[name]
        acc["prompts"] += row["lead"] is not None
    return groups


def _findings(run: _Run, pairs: dict[Pair, dict]) -> tuple[list[Finding], list[str]]:
    """Return one finding per priced pair, and a note per pair whose model has no price."""
    findings, notes = [], []
    for pair, stats in sorted(pairs.items()):
        try:
            findings.append(_finding(run, pair, stats))
        except UnknownModelError:
            notes.append(_UNKNOWN.format(feature=pair[0], model=pair[1]))
    return findings, notes


def _finding(run: _Run, pair: Pair, stats: dict) -> Finding:
    """Price caching for one pair and decide whether to flag it."""
    window = _saving(run.ctx.catalog.unit_prices(pair[1]), stats, run.written.get(pair, 0))
    month, threshold = monthly(window, run.days), run.args.min_monthly_saving_usd
    flagged = month >= threshold and stats["uncached_hit_tokens"] > 0
    return Finding(kind="prompt_cache", feature=pair[0], model=pair[1], flagged=flagged,
                   reason=_reason(stats, month, flagged), latency_impact=_LATENCY, quality_risk="low",
                   confidence=_confidence(stats["requests"], threshold / 2 <= month < 2 * threshold),
                   window_saving_usd=window, monthly_saving_usd=month, **_counts(stats))


def _saving(prices: dict[str, float], stats: dict, written: int) -> float:
    """Return the window saving: cheaper reads of hit tokens minus the cost of writing them.

    A pair that already reads from a cache has paid for its writes: it is charged none.
    """
    written = written if stats["cached_tokens"] == 0 else 0
    reads = stats["uncached_hit_tokens"] * (prices["input"] - prices["cache_read"])
    return reads - written * (prices["cache_write"] - prices["input"])


def _counts(stats: dict) -> dict[str, Any]:
    """Return the Finding fields that come straight from the pair's totals."""
    hit_requests = int(stats["hit_requests"])
    prefix_tokens = round(stats["hit_tokens"] / hit_requests) if hit_requests else 0
    return {"requests": int(stats["requests"]), "affected_requests": int(stats["uncached_requests"]),
            "window_cost_usd": round(stats["cost_usd"], 9),
            "params": {"prefix_tokens": prefix_tokens, "prompts": int(stats["prompts"])}}


def _reason(stats: dict, month: float, flagged: bool) -> str:
    """Say why the pair was or was not flagged (the first matching row of `_REASONS`)."""
    template = next(text for test, text in _REASONS if test(stats, flagged))
    return template.format(uncached=int(stats["uncached_hit_tokens"]),
                           requests=int(stats["uncached_requests"]), month=month)


def _confidence(requests: float, marginal: bool) -> float:
    """Return min(1, requests / 1000), halved for a marginal finding."""
    return round(min(1.0, requests / 1000.0) * (0.5 if marginal else 1.0), 6)


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


def _figures(pairs: dict[Pair, dict], findings: list[Finding]) -> dict[str, Figure]:
    """Return the overall hit ratios, hit tokens and the flagged monthly saving."""
    total = {k: sum(s[k] for s in pairs.values()) for k in _SUMS}
    values = {"block_hit_ratio": _ratio(total["hit_blocks"], total["blocks"]),
              "token_hit_ratio": _ratio(total["hit_tokens"], total["input_tokens"]),
              "hit_tokens": total["hit_tokens"], "uncached_hit_tokens": total["uncached_hit_tokens"],
              "monthly_saving_usd": sum(f.monthly_saving_usd for f in findings if f.flagged)}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}
