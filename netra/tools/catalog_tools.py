"""Apex tools (catalog): look models up in the price catalog, and price the scoped workload on other models.

`supply_catalog_lookup` reads the catalog only (no events): prices per 1M tokens of every
class (a class with no price of its own shows its fallback price), batch prices, the
priority, flex and long-context prices the model has, limits and quality priors.
`price_comparator` sums the billable token classes of the scoped events per (feature, model,
pricing key) and prices them on each candidate model with the one pricing function
(`pricing.price_classes`: the same mode, long-context tier and refused requests at $0),
against the scope's actual `cost_usd`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from netra.errors import ToolArgumentsError
from netra.tools._sql import PRICE_GROUP_SQL, PRICED_SQL, GroupCosts, Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.context_usage import catalog_field
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import PRICE_CLASSES, ModelPrice, PriceCatalog
from netra.workloads.quality import SCORED, priors_for
from netra.workloads.tiers import cheaper_sibling

LOOKUP, COMPARATOR = "supply_catalog_lookup", "price_comparator"
PER_M = 1_000_000

# filter argument -> does a catalog entry pass it (the argument is set)
_FILTERS: dict[str, Callable[[ModelPrice, Any], bool]] = {
    "provider": lambda p, v: p.provider.lower() == v.lower(),
    "max_output_price_per_1m": lambda p, v: p.per_token("output") * PER_M <= v + 1e-9,
    "supports_prompt_caching": lambda p, v: p.supports_prompt_caching == v,
}

_TOKENS_SQL = f"""SELECT feature, model, {PRICED_SQL},
  sum(cost_usd) AS cost, count() AS requests, countIf(priced = 0) AS unpriced
FROM workload_events {{where}}
GROUP BY feature, model, {PRICE_GROUP_SQL} ORDER BY feature, model, {PRICE_GROUP_SQL}"""
_OBSERVED_SQL = """SELECT model, avg(quality_score) AS mean_score, count() AS scored
FROM workload_events {where} GROUP BY model ORDER BY model"""

LOOKUP_FIGURES = {"matches": ("models", "catalog entries passing the filters"),
                  "listed": ("models", "entries listed (at most `limit`)"),
                  "catalog_models": ("models", "entries in the price catalog")}
COMPARATOR_FIGURES = {
    "candidates": ("models", "candidate models priced"),
    "actual_window_cost_usd": ("USD", "scoped cost_usd over the window"),
    "actual_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "cheapest_monthly_cost_usd": ("USD/month", "monthly cost on the cheapest candidate"),
    "cheapest_delta_monthly_usd": ("USD/month", "cheapest candidate minus actual monthly cost")}


class LookupArgs(BaseModel):
    """Arguments of `supply_catalog_lookup` (catalog only: no scope)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="one model name (catalog name fallbacks apply)")
    provider: str | None = Field(None, description="only this provider (case-insensitive)")
    max_output_price_per_1m: float | None = Field(None, ge=0, description="output price per 1M tokens at most")
    supports_prompt_caching: bool | None = Field(None, description="only entries that do (true) or do not")
    limit: int = Field(20, ge=1, le=200, description="list at most this many, cheapest output first")


class ComparatorArgs(Scope):
    """Arguments of `price_comparator`."""

    candidates: list[str] | None = Field(None, min_length=1, description="models to price the workload on "
                                         "(default: the models in scope and their cheaper siblings)")
    category: str | None = Field(None, description="quality prior category to show (default: every known one)")


def _bad(tool: str, field: str, message: str) -> ToolArgumentsError:
    """Return the error of an argument the catalog refuses (named like a schema error)."""
    return ToolArgumentsError(f"invalid arguments for {tool}: {field}: {message}")


# ---------------------------------------------------------------- lookup


def _per_m(prices: dict[str, float]) -> dict[str, float]:
    """Return USD per token as USD per 1M tokens."""
    return {k: round(v * PER_M, 6) for k, v in prices.items()}


def _quality(model: str) -> dict[str, Any]:
    """Return a model's prior scores and their citations by category."""
    found = priors_for(model)
    return {"quality_priors": {c: p.score for c, p in found.items()},
            "quality_sources": {c: p.cite() for c, p in found.items()}}


def _prices(catalog: PriceCatalog, key: str) -> dict[str, Any]:
    """Return an entry's prices per 1M tokens: every class (fallbacks filled), batch, and the others."""
    price = catalog.models[key]
    return {"prices_per_1m": _per_m(catalog.unit_prices(key)),
            "fallback_classes": [k for k in PRICE_CLASSES if k not in price.prices],
            "batch_prices_per_1m": _per_m(price.batch),
            "other_prices_per_1m": _per_m(dict(sorted(price.extra.items())))}


def _entry_row(catalog: PriceCatalog, key: str) -> dict[str, Any]:
    """Return one catalog entry's row."""
    price = catalog.models[key]
    return {"model": key, "provider": price.provider, **_prices(catalog, key),
            "supports_prompt_caching": price.supports_prompt_caching,
            "max_input_tokens": catalog_field(catalog, key, "max_input_tokens") or None,
            "max_output_tokens": price.max_output_tokens or None, **_quality(key)}


def _keys(catalog: PriceCatalog, args: LookupArgs) -> list[str]:
    """Return the catalog keys passing the model and filter arguments, cheapest output first."""
    keys = [catalog.resolve(args.model)] if args.model else list(catalog.models)
    if None in keys:
        raise _bad(LOOKUP, "model", f"{args.model!r} is not in the price catalog {catalog.version}")
    tests = [(test, getattr(args, name)) for name, test in _FILTERS.items() if getattr(args, name) is not None]
    kept = [k for k in keys if all(test(catalog.models[k], value) for test, value in tests)]
    return sorted(kept, key=lambda k: (catalog.unit_prices(k)["output"], catalog.unit_prices(k)["input"], k))


@apex_tool(LOOKUP, "Look up the price catalog: one model, or entries filtered by provider, maximum output price "
                   "and prompt-caching support; prices per 1M tokens per class, batch prices, limits, "
                   "quality priors.", LookupArgs)
def supply_catalog_lookup(ctx: ToolContext, args: LookupArgs) -> ToolResult:
    """List catalog entries with their prices, limits and quality priors.

    Args:
        ctx: The price catalog (the store is not read).
        args: A model name and/or filters, and the row limit.

    Returns:
        One row per entry (its catalog key in `model`), cheapest output price first.
    """
    catalog, keys = ctx.catalog, _keys(ctx.catalog, args)
    rows = [{"requested": args.model, **_entry_row(catalog, k)} if args.model else _entry_row(catalog, k)
            for k in keys[:args.limit]]
    values = {"matches": len(keys), "listed": len(rows), "catalog_models": len(catalog.models)}
    note = f"prices from {catalog.source} (version {catalog.version}, licence {catalog.licence})"
    return finish(LOOKUP, LOOKUP_FIGURES, values, rows, Queries(ctx.store), [note])


# ---------------------------------------------------------------- comparator


def _given(catalog: PriceCatalog, names: list[str]) -> list[str]:
    """Resolve the given candidates to catalog keys (repeats dropped); refuse an unknown one by position."""
    for i, name in enumerate(names):
        if catalog.resolve(name) is None:
            raise _bad(COMPARATOR, f"candidates.{i}", f"{name!r} is not in the price catalog {catalog.version}")
    return list(dict.fromkeys(catalog.resolve(n) for n in names))


def _default(catalog: PriceCatalog, models: list[str]) -> tuple[list[str], list[str]]:
    """Return the scope's catalog models plus their cheaper siblings, and notes on unknown models."""
    known = [catalog.resolve(m) for m in models if catalog.resolve(m)]
    siblings = [cheaper_sibling(catalog, m) for m in known]
    notes = [f"model {m!r} is not in the price catalog; not a candidate" for m in models if not catalog.resolve(m)]
    return list(dict.fromkeys(known + [s for s in siblings if s])), notes


def _window(costs: GroupCosts, model: str) -> float:
    """Price the summed token classes of every part on `model`, each in its own pricing key."""
    return float(costs.cost([model] * costs.n).sum())


def _scores(q: Queries, args: ComparatorArgs, catalog: PriceCatalog) -> dict[str, float]:
    """Return the team's mean quality score per catalog key, over the scope (pooled over raw names)."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for row in q.rows(_OBSERVED_SQL, args, SCORED):
        key = catalog.resolve(row["model"]) or row["model"]
        sums[key], counts[key] = sums[key] + float(row["mean_score"]) * row["scored"], counts[key] + row["scored"]
    return {k: sums[k] / counts[k] for k in sums if counts[k]}


def _candidate_row(ctx: ToolContext, key: str, totals: dict[str, Any], category: str | None) -> dict[str, Any]:
    """Return one candidate's row: window and monthly cost, the delta vs actual, quality."""
    window, days, actual = _window(totals["costs"], key), totals["days"], totals["actual"]
    priors = _quality(key)["quality_priors"]
    return {"candidate": key, "window_cost_usd": window, "monthly_cost_usd": monthly(window, days),
            "delta_window_usd": window - actual, "delta_monthly_usd": monthly(window - actual, days),
            "delta_pct": 100 * ratio(window - actual, actual), "in_scope": key in totals["used"],
            "observed_quality": totals["scores"].get(key),
            "quality_priors": {c: s for c, s in priors.items() if category in (None, c)}}


def _by_cost(row: dict[str, Any]) -> tuple[float, str]:
    """Sort key of candidate rows: monthly cost, then name."""
    return row["monthly_cost_usd"], row["candidate"]


def _comparator_values(rows: list[dict[str, Any]], totals: dict[str, Any]) -> tuple[dict[str, float], str]:
    """Return the comparator's figure values and the cheapest candidate's name ("none" without candidates)."""
    actual_month = monthly(totals["actual"], totals["days"])
    best = min(rows, key=_by_cost, default={"candidate": "none", "monthly_cost_usd": actual_month})
    return ({"candidates": len(rows), "actual_window_cost_usd": totals["actual"],
             "actual_monthly_cost_usd": actual_month, "cheapest_monthly_cost_usd": best["monthly_cost_usd"],
             "cheapest_delta_monthly_usd": best["monthly_cost_usd"] - actual_month}, best["candidate"])


def _totals(ctx: ToolContext, q: Queries, args: ComparatorArgs, parts: list[dict]) -> dict[str, Any]:
    """Return what every candidate row needs: the parts, span days, actual cost, models used, scores."""
    return {"costs": GroupCosts(ctx.catalog, parts), "days": q.span(args),
            "actual": sum(float(p["cost"]) for p in parts),
            "used": {ctx.catalog.resolve(p["model"]) for p in parts}, "scores": _scores(q, args, ctx.catalog)}


def _comparator_notes(parts: list[dict], notes: list[str]) -> list[str]:
    """Return notes on unknown models and on unpriced requests (their actual cost is 0)."""
    unpriced = sum(int(p["unpriced"]) for p in parts)
    extra = [f"{unpriced} requests have no catalog price: their actual cost is 0"] if unpriced else []
    return notes + extra


@apex_tool(COMPARATOR, "Price the scoped workload's token classes on candidate models: window and monthly cost, "
                       "delta vs the actual cost, quality priors and observed quality.", ComparatorArgs)
def price_comparator(ctx: ToolContext, args: ComparatorArgs) -> ToolResult:
    """Price the scoped workload on each candidate model.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, the candidate models and an optional quality category.

    Returns:
        One row per candidate, cheapest monthly cost first.
    """
    given = _given(ctx.catalog, args.candidates) if args.candidates else None
    q = Queries(ctx.store)
    parts = q.rows(_TOKENS_SQL, args)
    if not parts:
        return empty(COMPARATOR, COMPARATOR_FIGURES, q)
    keys, notes = (given, []) if given else _default(ctx.catalog, sorted({p["model"] for p in parts}))
    return _compare(ctx, q, args, parts, (keys, notes))


def _compare(ctx: ToolContext, q: Queries, args: ComparatorArgs, parts: list[dict],
             candidates: tuple[list[str], list[str]]) -> ToolResult:
    """Price the parts on every candidate and build the result (the label names the cheapest)."""
    totals = _totals(ctx, q, args, parts)
    rows = sorted((_candidate_row(ctx, k, totals, args.category) for k in candidates[0]), key=_by_cost)
    values, cheapest = _comparator_values(rows, totals)
    result = finish(COMPARATOR, COMPARATOR_FIGURES, values, rows, q, _comparator_notes(parts, candidates[1]))
    result.figures["cheapest_monthly_cost_usd"].label += f": {cheapest}"
    return result
