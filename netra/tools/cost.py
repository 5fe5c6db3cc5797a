"""Cost tools: what the scoped workload costs, and which features, models or users drive it.

`cost_usd` is precomputed at load from the price catalog; requests on models the catalog
does not know carry `priced = 0` and cost 0, and both tools say how many there were.
`cost_analyzer` also sets the cost callers logged (`logged_cost_usd`) beside Netra's
computed cost of the same requests, with a note when they differ by more than 1%.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from netra.tools._sql import TOKEN_CLASS_SQL, Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.catalog import TOKEN_CLASSES, PriceCatalog

COST_ANALYZER = "cost_analyzer"
COST_DRIVERS = "cost_driver_identifier"

Dimension = Literal["feature", "model", "user_id", "provider"]
# dimension a caller may pick -> the column it groups by (the only columns that reach SQL text)
DIMENSION_COLUMNS: dict[str, str] = {
    "feature": "feature", "model": "model", "user_id": "user_id", "provider": "provider"}
SPLIT_COLUMNS = tuple(f"{k}_cost_usd" for k in TOKEN_CLASSES)

_TOTALS_SQL = """
SELECT count() AS requests, sum(cost_usd) AS cost,
       countIf(priced = 0) AS unpriced, sumIf(cost_usd, status != 'ok') AS error_cost
FROM workload_events {where}"""

# requests that logged a cost: the logged sum and Netra's computed cost of the same requests
_LOGGED_SQL = """
SELECT countIf(logged_cost_usd IS NOT NULL) AS logged_n,
       sumIf(ifNull(logged_cost_usd, 0), logged_cost_usd IS NOT NULL) AS logged,
       sumIf(cost_usd, logged_cost_usd IS NOT NULL) AS computed_of_logged
FROM workload_events {where}"""

_DAILY_SQL = """
SELECT toString(toDate(timestamp)) AS day, count() AS requests, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY day ORDER BY day ASC"""

_UNPRICED_SQL = """
SELECT model AS name, count() AS requests
FROM workload_events {where}
GROUP BY name ORDER BY requests DESC, name ASC"""

_DRIVERS_SQL = """
SELECT {column} AS name, count() AS requests, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY name ORDER BY round(cost, 9) DESC, name ASC
LIMIT {top_n:UInt32}"""

_SPLIT_SQL = f"""
SELECT {{column}} AS name, model AS model_name, is_batch AS batch,{TOKEN_CLASS_SQL}
FROM workload_events {{where}}
GROUP BY name, model_name, batch ORDER BY name, model_name, batch"""

_SPLIT_FILTER = "{column} IN {names:Array(String)}"

COST_FIGURES = {
    "total_cost_usd": ("usd", "cost of the scoped requests"),
    "monthly_cost_usd": ("usd/month", "window cost scaled to 30 days"),
    "requests": ("requests", "requests in scope"),
    "cost_per_request_usd": ("usd", "average cost per request"),
    "span_days": ("days", "days the scoped requests span"),
    "unpriced_requests": ("requests", "requests on models not in the price catalog (counted at $0)"),
    "error_cost_usd": ("usd", "cost of requests whose status is not ok"),
    "logged_cost_usd": ("usd", "cost the caller logged, over requests that logged one"),
    "logged_requests": ("requests", "requests that logged a cost"),
    "computed_cost_of_logged_usd": ("usd", "Netra's computed cost of the requests that logged a cost"),
    "logged_minus_computed_usd": ("usd", "logged cost minus computed cost, over the same requests"),
}
LOGGED_TOLERANCE = 0.01  # a note when logged and computed cost differ by more than this share

DRIVER_FIGURES = {
    "top_driver_share": ("ratio", "share of cost from the largest driver"),
    "top_n_share": ("ratio", "share of cost from the listed drivers"),
    "total_cost_usd": ("usd", "cost of the scoped requests"),
}


class CostDriverArgs(Scope):
    """Scope plus what to group cost by and how many drivers to list."""

    dimension: Dimension = Field("feature", description="group cost by this dimension")
    top_n: int = Field(10, ge=1, le=100, description="how many drivers to list")


@apex_tool(COST_ANALYZER, "Total, monthly and per-day cost of the scoped requests, with "
           "cost per request, unpriced requests, the cost of failed requests and the "
           "caller's logged cost beside Netra's computed cost of the same requests.", Scope)
def cost_analyzer(ctx: ToolContext, args: Scope) -> ToolResult:
    """Return the scope's cost figures and one row per day (day, requests, cost_usd)."""
    q = Queries(ctx.store)
    totals = q.one(_TOTALS_SQL, args)
    if not totals["requests"]:
        return empty(COST_ANALYZER, COST_FIGURES, q)
    values = {**_cost_values(totals, q.span(args)), **_logged_values(q.one(_LOGGED_SQL, args))}
    rows = [{"day": r["day"], "requests": r["requests"], "cost_usd": r["cost"]} for r in q.rows(_DAILY_SQL, args)]
    return finish(COST_ANALYZER, COST_FIGURES, values, rows, q, _analyzer_notes(q, args, totals, values))


def _cost_values(totals: dict[str, Any], days: float) -> dict[str, float]:
    """Turn the totals row and the span into the cost figures."""
    cost, n = float(totals["cost"]), int(totals["requests"])
    return {"total_cost_usd": cost, "monthly_cost_usd": monthly(cost, days), "requests": n,
            "cost_per_request_usd": ratio(cost, n), "span_days": days,
            "unpriced_requests": totals["unpriced"], "error_cost_usd": totals["error_cost"]}


def _analyzer_notes(q: Queries, args: Scope, totals: dict[str, Any], values: dict[str, float]) -> list[str]:
    """Return the notes on unpriced models, then on logged cost that differs from computed cost."""
    return _unpriced_notes(q, args, totals["unpriced"]) + _logged_notes(values)


def _logged_values(row: dict[str, Any]) -> dict[str, float]:
    """Turn the logged-cost row into its figures: logged, computed of the same requests, the gap."""
    logged, computed = float(row["logged"] or 0.0), float(row["computed_of_logged"] or 0.0)
    return {"logged_cost_usd": logged, "logged_requests": int(row["logged_n"]),
            "computed_cost_of_logged_usd": computed, "logged_minus_computed_usd": logged - computed}


def _logged_notes(values: dict[str, float]) -> list[str]:
    """Say when logged and computed cost differ by more than `LOGGED_TOLERANCE` of the computed cost."""
    gap, computed = values["logged_minus_computed_usd"], values["computed_cost_of_logged_usd"]
    if abs(gap) <= LOGGED_TOLERANCE * abs(computed) or not values["logged_requests"]:
        return []
    share = f"{gap / computed:+.1%}" if computed else "computed $0"
    sign = "+" if gap > 0 else "-"
    return [f"logged cost ${values['logged_cost_usd']:.6f} over {values['logged_requests']} requests differs from "
            f"Netra's ${computed:.6f} for the same requests by {sign}${abs(gap):.6f} ({share}); see docs/pricing.md"]


def _unpriced_notes(q: Queries, args: Scope, unpriced: int) -> list[str]:
    """Name the unpriced models (with their request counts) when there are any."""
    if not unpriced:
        return []
    found = q.rows(_UNPRICED_SQL, args, extra="priced = 0")
    names = ", ".join(f"{r['name']} ({r['requests']})" for r in found)
    return [f"{unpriced} requests on models not in the price catalog were counted at $0: {names}"]


@apex_tool(COST_DRIVERS, "Rank the features, models, users or providers that drive cost, with "
           "their share, monthly cost and cost split by token class.", CostDriverArgs)
def cost_driver_identifier(ctx: ToolContext, args: CostDriverArgs) -> ToolResult:
    """Return the top cost drivers along `args.dimension`, each with its token-class split."""
    q = Queries(ctx.store)
    totals = q.one(_TOTALS_SQL, args)
    if not totals["requests"]:
        return empty(COST_DRIVERS, DRIVER_FIGURES, q)
    drivers = _drivers(q, args, float(totals["cost"]), q.span(args))
    notes = _add_split(ctx.catalog, q, args, drivers)
    return finish(COST_DRIVERS, DRIVER_FIGURES, _driver_values(drivers, totals), drivers, q, notes)


def _drivers(q: Queries, args: CostDriverArgs, total: float, days: float) -> list[dict[str, Any]]:
    """Return the top `top_n` values of the dimension with requests, cost, share and monthly cost."""
    found = q.rows(_DRIVERS_SQL, args, params={"top_n": args.top_n}, column=DIMENSION_COLUMNS[args.dimension])
    return [{args.dimension: r["name"], "requests": r["requests"], "cost_usd": float(r["cost"]),
             "share": ratio(r["cost"], total), "monthly_cost_usd": monthly(float(r["cost"]), days),
             **dict.fromkeys(SPLIT_COLUMNS, 0.0)} for r in found]


def _add_split(catalog: PriceCatalog, q: Queries, args: CostDriverArgs, drivers: list[dict]) -> list[str]:
    """Add each driver's cost by token class; return a note naming models that could not be priced."""
    by_name = {d[args.dimension]: d for d in drivers}
    found = q.rows(_SPLIT_SQL, args, extra=_SPLIT_FILTER, params={"names": list(by_name)},
                   column=DIMENSION_COLUMNS[args.dimension])
    unknown = sorted({r["model_name"] for r in found if not _price_split(catalog, r, by_name[r["name"]])})
    return [f"models not in the price catalog add $0 to the split: {', '.join(unknown)}"] if unknown else []


def _price_split(catalog: PriceCatalog, group: dict[str, Any], driver: dict[str, Any]) -> bool:
    """Add one (value, model, batch) group's token classes, priced, to `driver`; False if unknown."""
    if catalog.resolve(group["model_name"]) is None:
        return False
    prices = catalog.unit_prices(group["model_name"], bool(group["batch"]))
    for token_class in TOKEN_CLASSES:
        driver[f"{token_class}_cost_usd"] += group[token_class] * prices[token_class]
    return True


def _driver_values(drivers: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, float]:
    """Return the driver figures: largest share, listed share and total cost."""
    shares = [d["share"] for d in drivers]
    return {"top_driver_share": max(shares, default=0.0), "top_n_share": sum(shares),
            "total_cost_usd": totals["cost"]}
