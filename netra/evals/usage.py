"""Model token usage of a run, from LangChain's usage-metadata callback, and its price.

    with get_usage_metadata_callback() as cb:
        ask(...)
    usage_summary(cb.usage_metadata, catalog)
    # {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500, "models": [...], "cost_usd": 0.0004}

Offline runs call no model: every count is 0 and the cost $0. `cost_usd` is None when a
model the run used is not in the price catalog. Each model's tokens are priced by the one
pricing function (`pricing.price_events`): LangChain's `input_tokens` include cache reads and
writes (`input_token_details`), its `output_tokens` include reasoning (`output_token_details`),
as in the event table.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import price_events

TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def _count(usage: Mapping[str, Any], *path: str) -> int:
    """Return the count at `path` in a usage-metadata dict (absent, null or not a dict on the way: 0)."""
    value: Any = usage
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return int(value or 0)


# event token column -> where LangChain's UsageMetadata holds it
USAGE_COLUMNS: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "input_tokens": lambda u: _count(u, "input_tokens"),
    "cached_input_tokens": lambda u: _count(u, "input_token_details", "cache_read"),
    "cache_write_tokens": lambda u: _count(u, "input_token_details", "cache_creation"),
    "output_tokens": lambda u: _count(u, "output_tokens"),
    "reasoning_tokens": lambda u: _count(u, "output_token_details", "reasoning"),
}


def usage_summary(by_model: Mapping[str, Mapping[str, Any]], catalog: PriceCatalog) -> dict[str, Any]:
    """Sum token counts over the models a run called and price them with the catalog."""
    totals = {key: sum(int(usage.get(key, 0) or 0) for usage in by_model.values()) for key in TOKEN_KEYS}
    return {**totals, "models": sorted(by_model), "cost_usd": _cost(by_model, catalog)}


def _cost(by_model: Mapping[str, Mapping[str, Any]], catalog: PriceCatalog) -> float | None:
    prices = [model_cost(model, usage, catalog) for model, usage in by_model.items()]
    return None if None in prices else float(sum(prices))


def model_cost(model: str, usage: Mapping[str, Any], catalog: PriceCatalog) -> float | None:
    """Price one model's usage as one event (None when the catalog does not know the model)."""
    if catalog.resolve(model) is None:
        return None
    columns = {name: np.array([read(usage)]) for name, read in USAGE_COLUMNS.items()}
    return float(price_events(catalog, {"model": np.array([model], dtype=object), **columns}).cost[0])
