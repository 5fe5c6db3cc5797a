"""Cost tools: what the scoped workload costs, and which features, models or users drive it.

`cost_usd` is precomputed at load from the price catalog; requests on models the catalog
does not know carry `priced = 0` and cost 0, and both tools say how many there were.
`cost_analyzer` also sets the cost callers logged (`logged_cost_usd`) beside Netra's
computed cost of the same requests, with a note when they differ by more than 1%, splits the
cost by priced token class, and with `by` breaks it down per combination of dimensions.
`cost_driver_identifier` ranks one dimension or a combination of them, and marks the rows
that make up the first 80% of cost (Pareto).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import Field, field_validator

from netra.tools._cost_drivers import (DIMENSION_COLUMNS, DRIVERS_SQL, SPLIT_SQL, key_aliases, mark_pareto,
                                       pareto_count, render, split_filter)
from netra.tools._cost_split import BreakdownDimension, by_token_class, class_rows, distinct
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.catalog import PRICE_CLASSES, PriceCatalog

COST_ANALYZER = "cost_analyzer"
COST_DRIVERS = "cost_driver_identifier"
__all__ = ["COST_ANALYZER", "COST_DRIVERS", "COST_FIGURES", "DIMENSION_COLUMNS", "DRIVER_FIGURES", "CostAnalyzerArgs",
           "CostDriverArgs", "cost_analyzer", "cost_driver_identifier"]

Dimension = Literal["feature", "model", "user_id", "provider"]
SPLIT_COLUMNS = tuple(f"{k}_cost_usd" for k in PRICE_CLASSES)

_TOTALS_SQL = """
SELECT count() AS requests, sum(cost_usd) AS cost,
       countIf(priced = 0) AS unpriced, sumIf(cost_usd, status != 'ok') AS error_cost
FROM workload_events {where}"""
# both cost tools read the totals first: kept per data version (`Queries.rows`), one query per analysis
_TOTALS = "cost_totals"

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

_CLASS_LABELS = {"input": "uncached input", "cache_read": "cache-read input", "cache_write": "5-minute cache-write",
                 "cache_write_1h": "1-hour cache-write", "output": "visible output", "reasoning": "reasoning"}

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
    **{f"{k}_cost_usd": ("usd", f"cost of {label} tokens, at catalog prices") for k, label in _CLASS_LABELS.items()},
}
LOGGED_TOLERANCE = 0.01  # a note when logged and computed cost differ by more than this share

DRIVER_FIGURES = {
    "top_driver_share": ("ratio", "share of cost from the largest driver"),
    "top_n_share": ("ratio", "share of cost from the listed drivers"),
    "total_cost_usd": ("usd", "cost of the scoped requests"),
    "pareto_count": ("count", "drivers (largest first, listed or not) that make up 80% of cost"),
}


class CostAnalyzerArgs(Scope):
    """Scope plus the dimensions to break spend down by."""

    by: list[BreakdownDimension] | None = Field(
        None, min_length=1, description="also list spend per combination of these dimensions, by token class")

    @field_validator("by")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        """Refuse a dimension given twice."""
        return distinct(value)


class CostDriverArgs(Scope):
    """Scope plus what to group cost by and how many drivers to list."""

    dimension: Dimension = Field("feature", description="group cost by this dimension")
    dimensions: list[Dimension] | None = Field(
        None, min_length=1, description="group cost by this combination of dimensions (wins over `dimension`)")
    top_n: int = Field(10, ge=1, le=100, description="how many drivers to list")

    @field_validator("dimensions")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        """Refuse a dimension given twice."""
        return distinct(value)

    def dims(self) -> list[str]:
        """Return the dimensions to group by: `dimensions` when given, else `[dimension]`."""
        return list(self.dimensions or [self.dimension])


@apex_tool(COST_ANALYZER, "Total, monthly and per-day cost of the scoped requests, with "
           "cost per request, cost by token class, unpriced requests, the cost of failed requests and "
           "the caller's logged cost beside Netra's computed cost of the same requests; with `by`, "
           "spend per combination of model, provider, user, feature or day.", CostAnalyzerArgs)
def cost_analyzer(ctx: ToolContext, args: CostAnalyzerArgs) -> ToolResult:
    """Return the scope's cost figures, one row per day, then the `by` breakdown rows (if any)."""
    return CostAnalysis.answer(ctx, args)


A = TypeVar("A", bound=Scope)


@dataclass
class ScopedCost(Generic[A]):
    """One cost tool's call over a scope with events: catalog, queries, arguments, totals row."""

    TOOL: ClassVar[str]
    FIGURES: ClassVar[dict[str, Any]]
    catalog: PriceCatalog
    q: Queries
    args: A
    totals: dict[str, Any]

    @classmethod
    def answer(cls, ctx: ToolContext, args: A) -> ToolResult:
        """Read the scope's totals; answer the empty result when it has no events, else `result()`."""
        q = Queries(ctx.store)
        totals = q.rows(_TOTALS_SQL, args, kind=_TOTALS)[0]
        if not totals["requests"]:
            return empty(cls.TOOL, cls.FIGURES, q)
        return cls(ctx.catalog, q, args, totals).result()

    def result(self) -> ToolResult:
        """Return the tool's result over a scope with events."""
        raise NotImplementedError


class CostAnalysis(ScopedCost[CostAnalyzerArgs]):
    """One cost_analyzer call: the cost figures, one row per day, the `by` breakdown."""

    TOOL, FIGURES = COST_ANALYZER, COST_FIGURES

    def result(self) -> ToolResult:
        """Return the figures, one row per day, then the breakdown rows."""
        q, args = self.q, self.args
        values = {**_cost_values(self.totals, q.span(args)), **_logged_values(q.one(_LOGGED_SQL, args, kind="logged"))}
        daily = self.daily()
        split = by_token_class(self.catalog, q, args, list(args.by or []))
        notes = self.unpriced_notes() + _logged_notes(values)
        return finish(COST_ANALYZER, COST_FIGURES, values | split.totals, daily + split.rows, q, notes)

    def daily(self) -> list[dict[str, Any]]:
        """Return one row per UTC day: its requests and cost."""
        found = self.q.rows(_DAILY_SQL, self.args, kind="cost_daily")
        return [{"day": r["day"], "requests": r["requests"], "cost_usd": r["cost"]} for r in found]

    def unpriced_notes(self) -> list[str]:
        """Name the unpriced models (with their request counts) when there are any."""
        unpriced = self.totals["unpriced"]
        if not unpriced:
            return []
        found = self.q.rows(_UNPRICED_SQL, self.args, extra="priced = 0", kind="cost_unpriced")
        names = ", ".join(f"{r['name']} ({r['requests']})" for r in found)
        return [f"{unpriced} requests on models not in the price catalog were counted at $0: {names}"]


def _cost_values(totals: dict[str, Any], days: float) -> dict[str, float]:
    """Turn the totals row and the span into the cost figures."""
    cost, n = float(totals["cost"]), int(totals["requests"])
    return {"total_cost_usd": cost, "monthly_cost_usd": monthly(cost, days), "requests": n,
            "cost_per_request_usd": ratio(cost, n), "span_days": days,
            "unpriced_requests": totals["unpriced"], "error_cost_usd": totals["error_cost"]}


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


@apex_tool(COST_DRIVERS, "Rank the features, models, users or providers (or a combination of them) that "
           "drive cost, with their share, cumulative share, Pareto flag, monthly cost and cost split by "
           "token class.", CostDriverArgs)
def cost_driver_identifier(ctx: ToolContext, args: CostDriverArgs) -> ToolResult:
    """Return the top cost drivers along `args.dims()`, each with its token-class split."""
    return DriverRanking.answer(ctx, args)


class DriverRanking(ScopedCost[CostDriverArgs]):
    """One cost_driver_identifier call: the top drivers with their token-class split."""

    TOOL, FIGURES = COST_DRIVERS, DRIVER_FIGURES

    def result(self) -> ToolResult:
        """Return the top drivers with their token-class split, and the driver figures."""
        drivers = self.drivers()
        pareto = pareto_count(self.q, self.args, self.args.dims(), self.totals["cost"])
        values = _driver_values(drivers, self.totals) | {"pareto_count": pareto}
        return finish(COST_DRIVERS, DRIVER_FIGURES, values, drivers, self.q, self.add_split(drivers))

    def drivers(self) -> list[dict[str, Any]]:
        """Return the top `top_n` groups with requests, cost, share, monthly cost and Pareto marks."""
        days = self.q.span(self.args)
        found = self.q.rows(render(DRIVERS_SQL, self.args.dims()), self.args, params={"top_n": self.args.top_n},
                            kind="cost_drivers")
        return mark_pareto([self.driver(r, days) for r in found], float(self.totals["cost"]))

    def driver(self, found: dict[str, Any], days: float) -> dict[str, Any]:
        """Return one driver row (its token-class split still 0)."""
        dims, total = self.args.dims(), float(self.totals["cost"])
        keys = {d: found[alias] for d, alias in zip(dims, key_aliases(len(dims)))}
        return {**keys, "requests": found["requests"], "cost_usd": float(found["cost"]),
                "share": ratio(found["cost"], total), "monthly_cost_usd": monthly(float(found["cost"]), days),
                **dict.fromkeys(SPLIT_COLUMNS, 0.0)}

    def add_split(self, drivers: list[dict[str, Any]]) -> list[str]:
        """Add each driver's cost by token class; return a note naming models that could not be priced."""
        dims = self.args.dims()
        by_key = {tuple(d[k] for k in dims): d for d in drivers}
        extra, params = split_filter(dims, list(by_key))
        found = self.q.rows(render(SPLIT_SQL, dims), self.args, extra=extra, params=params, kind="cost_split")
        for group, split in zip(found, class_rows(self.catalog, found)):
            _add_to_driver(by_key.get(tuple(group[a] for a in key_aliases(len(dims)))), split)
        return _unknown_split_note(self.catalog, found)


def _unknown_split_note(catalog: PriceCatalog, found: list[dict[str, Any]]) -> list[str]:
    """Return a note naming the models of the split that the catalog does not know (none: no note)."""
    unknown = sorted({r["model_name"] for r in found if catalog.resolve(r["model_name"]) is None})
    return [f"models not in the price catalog add $0 to the split: {', '.join(unknown)}"] if unknown else []


def _add_to_driver(driver: dict[str, Any] | None, split: dict[str, float]) -> None:
    """Add one (key, model, pricing key) group's cost per class to its driver (None: not listed)."""
    if driver is None:
        return
    for column, usd in split.items():
        driver[column] += usd


def _driver_values(drivers: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, float]:
    """Return the driver figures: largest share, listed share and total cost."""
    shares = [d["share"] for d in drivers]
    return {"top_driver_share": max(shares, default=0.0), "top_n_share": sum(shares),
            "total_cost_usd": totals["cost"]}
