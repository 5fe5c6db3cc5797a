"""Usage tools: token volumes and their shape, and which models carry the requests and the cost.

Token semantics: `input_tokens` includes cached reads and cache writes, `output_tokens`
includes reasoning, so `cache_read_share` is cached_input_tokens / input_tokens.

The cache figures need cache token counts: they are summed over the events that carry them
(`coverage.HAS["cached_input_tokens"]`), and `cache_read_share` divides by those events' input
tokens. When no scoped event carries them (a trace that logs none), the cache figures are None
(not in the telemetry) and a note says how many events lack them.
"""

from __future__ import annotations

from typing import Any

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import HAS, Coverage, coverage, needing
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope
from netra.workloads.catalog import PriceCatalog

TOKEN_USAGE = "token_usage_analyzer"
MODEL_MIX = "model_mix_analyzer"

# a model is "premium" when its catalog output price per token is at least this
PREMIUM_OUTPUT_PRICE_PER_TOKEN = 5e-6
PER_MILLION = 1_000_000

TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
                 "reasoning_tokens")
# figure -> (numerator, denominator) of a per-scope or per-feature ratio
AVERAGES: dict[str, tuple[str, str]] = {
    "avg_input_tokens": ("input_tokens", "requests"),
    "avg_output_tokens": ("output_tokens", "requests"),
    "cache_read_share": ("cached_input_tokens", "cache_counted_input"),
}
# figure -> the fields it is computed from (None when no scoped event carries them)
NEEDS = needing("cached_input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_read_share")
_CACHE_COUNTED = HAS["cached_input_tokens"]

_USAGE_STATS_SQL = ", ".join(
    ["count() AS requests"] + [f"sum({c}) AS sum_{c}" for c in TOKEN_COLUMNS]
    + ["quantileExact(0.95)(input_tokens) AS p95_input", "quantileExact(0.95)(output_tokens) AS p95_output",
       f"countIf({_CACHE_COUNTED}) AS cache_counted", f"sumIf(input_tokens, {_CACHE_COUNTED}) AS cache_counted_input"])

# one scan: the whole scope first (`overall` 1; a row of zeros when it has no events), then one row per feature
_USAGE_SQL = f"""
SELECT feature AS name, grouping(name) AS overall, {_USAGE_STATS_SQL}
FROM workload_events {{where}}
GROUP BY GROUPING SETS ((), (name))
ORDER BY overall DESC, sum_input_tokens + sum_output_tokens DESC, name ASC"""

_MODELS_SQL = """
SELECT model AS name, arrayStringConcat(arraySort(groupUniqArray(provider)), ',') AS providers,
       count() AS requests, sum(cost_usd) AS cost,
       sum(input_tokens) AS input_sum, sum(output_tokens) AS output_sum
FROM workload_events {where}
GROUP BY name ORDER BY round(cost, 9) DESC, requests DESC, name ASC"""

USAGE_FIGURES = {
    "requests": ("requests", "requests in scope"),
    "input_tokens": ("tokens", "input tokens (including cached reads and writes)"),
    "cached_input_tokens": ("tokens", "input tokens read from the prompt cache"),
    "cache_write_tokens": ("tokens", "input tokens written to the prompt cache"),
    "output_tokens": ("tokens", "output tokens (including reasoning)"),
    "reasoning_tokens": ("tokens", "reasoning tokens"),
    "avg_input_tokens": ("tokens", "average input tokens per request"),
    "avg_output_tokens": ("tokens", "average output tokens per request"),
    "cache_read_share": ("ratio", "cached input tokens / input tokens"),
    "input_p95": ("tokens", "95th percentile input tokens per request"),
    "output_p95": ("tokens", "95th percentile output tokens per request"),
}

MIX_FIGURES = {
    "models": ("models", "distinct models in scope"),
    "unknown_models": ("models", "models not in the price catalog"),
    "premium_cost_share": ("ratio", "share of cost on models with output price >= $5 per 1M tokens"),
    "total_cost_usd": ("usd", "cost of the scoped requests"),
    "requests": ("requests", "requests in scope"),
}


@apex_tool(TOKEN_USAGE, "Input, cached, cache-write, output and reasoning token totals, "
           "averages, p95s and cache-read share, overall and per feature.", Scope)
def token_usage_analyzer(ctx: ToolContext, args: Scope) -> ToolResult:
    """Return the scope's token figures and one row per feature with its sums and averages."""
    q = Queries(ctx.store)
    overall, *features = q.rows(_USAGE_SQL, args, kind="usage")
    if not overall["requests"]:
        return empty(TOKEN_USAGE, USAGE_FIGURES, q)
    rows = [_feature_row(r) for r in features]
    return coverage(q, args).mark(finish(TOKEN_USAGE, USAGE_FIGURES, _usage(overall), rows, q, []), NEEDS)


def _usage(row: dict[str, Any]) -> dict[str, Any]:
    """Turn one SQL usage row into token sums, averages, cache-read share and p95s."""
    sums = {"requests": row["requests"], **{c: int(row[f"sum_{c}"]) for c in TOKEN_COLUMNS}}
    basis = sums | {"cache_counted_input": int(row["cache_counted_input"])}
    averages = {name: ratio(basis[num], basis[den]) for name, (num, den) in AVERAGES.items()}
    return {**sums, **averages, "input_p95": row["p95_input"], "output_p95": row["p95_output"]}


def _feature_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return one feature's usage row, its cache columns None when none of its events logs cache tokens."""
    lacking = {"cached_input_tokens": row["requests"] - row["cache_counted"]}
    return Coverage(row["requests"], lacking).blank({"feature": row["name"], **_usage(row)}, NEEDS)


@apex_tool(MODEL_MIX, "Per model: provider, request and cost shares, tokens, the catalog entry "
           "it resolved to and its prices; plus unknown models and premium-model cost share.", Scope)
def model_mix_analyzer(ctx: ToolContext, args: Scope) -> ToolResult:
    """Return one row per model and the mix figures."""
    q = Queries(ctx.store)
    found = q.rows(_MODELS_SQL, args, kind="usage_models")
    if not found:
        return empty(MODEL_MIX, MIX_FIGURES, q)
    totals = {"requests": sum(r["requests"] for r in found), "cost": sum(float(r["cost"]) for r in found)}
    rows = [_model_row(r, totals) | _catalog_columns(ctx.catalog, r["name"]) for r in found]
    return finish(MODEL_MIX, MIX_FIGURES, _mix_values(rows, totals), rows, q, _unknown_notes(rows))


def _model_row(row: dict[str, Any], totals: dict[str, float]) -> dict[str, Any]:
    """Return a model's usage columns and its shares of requests and cost."""
    cost = float(row["cost"])
    return {"model": row["name"], "provider": row["providers"], "requests": row["requests"],
            "request_share": ratio(row["requests"], totals["requests"]), "cost_usd": cost,
            "cost_share": ratio(cost, totals["cost"]), "input_tokens": int(row["input_sum"]),
            "output_tokens": int(row["output_sum"])}


def _catalog_columns(catalog: PriceCatalog, model: str) -> dict[str, Any]:
    """Return the catalog key `model` resolves to, its prices per 1M tokens and whether it is premium."""
    key = catalog.resolve(model)
    prices = catalog.unit_prices(model) if key else None
    return {"catalog_key": key,
            "input_price_per_1m_usd": prices["input"] * PER_MILLION if prices else None,
            "output_price_per_1m_usd": prices["output"] * PER_MILLION if prices else None,
            "premium": bool(prices) and prices["output"] >= PREMIUM_OUTPUT_PRICE_PER_TOKEN}


def _mix_values(rows: list[dict[str, Any]], totals: dict[str, float]) -> dict[str, float]:
    """Return the mix figures: model counts, premium cost share, totals."""
    premium = sum(r["cost_usd"] for r in rows if r["premium"])
    return {"models": len(rows), "unknown_models": sum(r["catalog_key"] is None for r in rows),
            "premium_cost_share": ratio(premium, totals["cost"]),
            "total_cost_usd": totals["cost"], "requests": totals["requests"]}


def _unknown_notes(rows: list[dict[str, Any]]) -> list[str]:
    """Name the models the price catalog does not know, when there are any."""
    unknown = sorted(r["model"] for r in rows if r["catalog_key"] is None)
    return [f"models not in the price catalog (cost counted at $0): {', '.join(unknown)}"] if unknown else []
