"""Prefix (KV) cache finder: replay prefix block hashes in time order, price the misses.

The replay runs in ClickHouse. Each block hash gets the time it was first seen; a request
hits every block of its own whose first-seen time is strictly earlier than the request
(a tie counts as a miss). Hashes are chained, so a block seen before implies its whole
prefix was seen before: the hits of a request are its leading blocks, and counting them
is enough. The cache is unbounded (no eviction), so the figures are an upper bound on what
a real provider cache would reuse, and it starts empty at the start of the scope: only the
scoped events are replayed.

Only blocks seen at two different times can be hit, and they are usually few: they are
found first (for the whole store from `kv_prefix_seen`, kept on insert; for a narrower
scope by grouping its blocks), then each request counts its hits among its own blocks in
one pass, without exploding them.

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
from netra.tools._sql import repeated_blocks
from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.findings import Finding
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly, span_days, where

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

# only the requests at a repeated block's first-seen time can have written it
_FIRST_REQUESTS = f"timestamp IN {_FIRST_TIMES} AND (h, timestamp) IN {_FIRST_PAIRS}"

# tokens of the repeated blocks first seen in each (feature, model); ties go to the
# smallest (feature, model), so each block is written once
WRITTEN_SQL = f"""{_LOOKUP}
SELECT origin.1 AS feature, origin.2 AS model, sum(origin.3) AS written_tokens
FROM (
  SELECT argMin((feature, model, block_size), (timestamp, feature, model)) AS origin
  FROM workload_events ARRAY JOIN prefix_hashes AS h {{where}}
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
    repeated = repeated_blocks(ctx.store, clause)
    replay_sql = REPLAY_SQL.replace("{where}", clause).replace("{repeated}", repeated)
    written_sql = WRITTEN_SQL.replace("{where}", where(scope, _FIRST_REQUESTS)[0]).replace("{repeated}", repeated)
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
