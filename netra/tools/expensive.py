"""Apex tool (expensive requests): the costliest requests, each tagged with why it cost so much.

Definition. The top `top_n` requests by `cost_usd` (ties: earlier first, then request_id). Each is
tagged with every reason of `REASONS` whose test holds; every comparison is against the events in
scope:

- long_context: input_tokens >= the exact p95 (`quantileExact(0.95)`) of its feature's input_tokens;
- cache_miss_on_repeated_prefix: its leading prefix block hash (`prefix_hashes[1]`) was first seen
  in a strictly earlier request, and its cached_input_tokens is 0;
- retry: its status is not 'ok' and a strictly later request has the same non-zero prompt_hash;
- long_output: output_tokens >= the exact p95 of its feature's output_tokens;
- premium_model: the catalog's standard output price of its model is >= 5e-6 USD per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope
from netra.workloads.catalog import PriceCatalog

TOOL = "expensive_request_explainer"
PREMIUM_OUTPUT_PRICE = 5e-6

_TOTALS_SQL = "SELECT count() AS requests, sum(cost_usd) AS cost FROM workload_events {where}"

_TOP_SQL = """SELECT request_id, timestamp, feature, model, cost_usd, input_tokens, output_tokens,
       cached_input_tokens, status, prompt_hash, prefix_hashes[1] AS lead
FROM workload_events {where}
ORDER BY cost_usd DESC, timestamp ASC, request_id ASC
LIMIT {top_n:UInt32}"""

_P95_SQL = """SELECT feature AS name, quantileExact(0.95)(input_tokens) AS p95_input,
       quantileExact(0.95)(output_tokens) AS p95_output
FROM workload_events {where} GROUP BY name"""

# bound list -> (query of when each value was first or last seen, the condition naming the list)
_SEEN = {
    "leads": ("SELECT prefix_hashes[1] AS hash_key, min(timestamp) AS seen FROM workload_events {where} "
              "GROUP BY hash_key", "prefix_hashes[1] IN {leads:Array(UInt64)}"),
    "hashes": ("SELECT prompt_hash AS hash_key, max(timestamp) AS seen FROM workload_events {where} "
               "GROUP BY hash_key", "prompt_hash IN {hashes:Array(UInt64)}"),
}


@dataclass(frozen=True)
class _Context:
    """What the reason tests compare a request with."""

    p95: dict[str, dict[str, int]]
    first_seen: dict[int, Any]
    last_seen: dict[int, Any]
    catalog: PriceCatalog


def _premium(catalog: PriceCatalog, model: str) -> bool:
    """Return whether the model's standard output price is at least `PREMIUM_OUTPUT_PRICE`."""
    return catalog.resolve(model) is not None and catalog.unit_prices(model)["output"] >= PREMIUM_OUTPUT_PRICE


# reason -> (test on (request row, context), description)
REASONS: dict[str, tuple[Callable[[dict, _Context], bool], str]] = {
    "long_context": (lambda r, c: r["input_tokens"] >= c.p95[r["feature"]]["p95_input"],
                     "input tokens at or above its feature's p95"),
    "cache_miss_on_repeated_prefix": (
        lambda r, c: r["lead"] != 0 and c.first_seen[r["lead"]] < r["timestamp"] and r["cached_input_tokens"] == 0,
        "its leading prefix block was seen earlier, yet nothing was read from a cache"),
    "retry": (lambda r, c: r["status"] != "ok" and r["prompt_hash"] != 0
              and c.last_seen[r["prompt_hash"]] > r["timestamp"], "a failed attempt that was retried"),
    "long_output": (lambda r, c: r["output_tokens"] >= c.p95[r["feature"]]["p95_output"],
                    "output tokens at or above its feature's p95"),
    "premium_model": (lambda r, c: _premium(c.catalog, r["model"]),
                      f"its model's output price is at least {PREMIUM_OUTPUT_PRICE:g} USD per token"),
}

FIGURES = {
    "requests_listed": ("requests", "requests listed"),
    "listed_cost_usd": ("USD", "cost of the listed requests"),
    "listed_cost_share": ("ratio", "share of the scoped cost in the listed requests"),
    "explained_requests": ("requests", "listed requests with at least one reason"),
    **{f"{name}_requests": ("requests", f"listed requests tagged {name}") for name in REASONS},
}


class ExpensiveArgs(Scope):
    """Scope plus how many of the costliest requests to explain."""

    top_n: int = Field(10, ge=1, le=100, description="how many of the costliest requests to list")


def _seen(q: Queries, args: Scope, name: str, values: set[int]) -> dict[int, Any]:
    """Return when each of `values` was first (leads) or last (prompt hashes) seen in scope."""
    template, condition = _SEEN[name]
    rows = q.rows(template, args, condition, {name: sorted(values)}) if values else []
    return {int(r["hash_key"]): r["seen"] for r in rows}


def _context(ctx: ToolContext, q: Queries, args: Scope, top: list[dict[str, Any]]) -> _Context:
    """Read the p95s of the listed features and when the listed prefixes and prompts were seen."""
    names = {"names": sorted({r["feature"] for r in top})}
    p95 = {r["name"]: r for r in q.rows(_P95_SQL, args, "feature IN {names:Array(String)}", names)}
    leads = _seen(q, args, "leads", {int(r["lead"]) for r in top if r["lead"]})
    hashes = _seen(q, args, "hashes", {int(r["prompt_hash"]) for r in top if r["prompt_hash"]})
    return _Context(p95, leads, hashes, ctx.catalog)


def _row(rank: int, request: dict[str, Any], context: _Context) -> dict[str, Any]:
    """Return one listed request with its reasons."""
    return {"rank": rank, "request_id": request["request_id"], "time": request["timestamp"].isoformat(),
            "feature": request["feature"], "model": request["model"], "cost_usd": float(request["cost_usd"]),
            "input_tokens": int(request["input_tokens"]), "output_tokens": int(request["output_tokens"]),
            "cached_input_tokens": int(request["cached_input_tokens"]), "status": request["status"],
            "reasons": [name for name, (test, _) in REASONS.items() if test(request, context)]}


def _listed(ctx: ToolContext, q: Queries, args: ExpensiveArgs) -> list[dict[str, Any]]:
    """Return the rows of the `top_n` costliest requests, ranked from 1."""
    top = q.rows(_TOP_SQL, args, params={"top_n": args.top_n})
    context = _context(ctx, q, args, top)
    return [_row(i, r, context) for i, r in enumerate(top, start=1)]


def _values(rows: list[dict[str, Any]], total: float) -> dict[str, float]:
    """Return the figure values."""
    listed = sum(r["cost_usd"] for r in rows)
    counts = {f"{name}_requests": sum(name in r["reasons"] for r in rows) for name in REASONS}
    return {"requests_listed": len(rows), "listed_cost_usd": listed, "listed_cost_share": ratio(listed, total),
            "explained_requests": sum(bool(r["reasons"]) for r in rows), **counts}


@apex_tool(TOOL, "List the costliest requests, each tagged with why: long context, cache miss on a repeated "
                 "prefix, retry, long output, premium model.", ExpensiveArgs)
def expensive_request_explainer(ctx: ToolContext, args: ExpensiveArgs) -> ToolResult:
    """Return the `top_n` costliest requests (one row each, with reasons; see the module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and how many requests to list.
    """
    q = Queries(ctx.store)
    totals = q.one(_TOTALS_SQL, args)
    if not totals["requests"]:
        return empty(TOOL, FIGURES, q)
    rows = _listed(ctx, q, args)
    return finish(TOOL, FIGURES, _values(rows, float(totals["cost"])), rows, q, [])
