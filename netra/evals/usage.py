"""Model token usage of a run, from LangChain's usage-metadata callback, and its price.

    with get_usage_metadata_callback() as cb:
        ask(...)
    usage_summary(cb.usage_metadata, catalog)
    # {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500, "models": [...], "cost_usd": 0.0004}

Offline runs call no model: every count is 0 and the cost $0. `cost_usd` is None when a
model the run used is not in the price catalog.
"""

from __future__ import annotations

from typing import Any, Mapping

from netra.workloads.catalog import PriceCatalog

TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def usage_summary(by_model: Mapping[str, Mapping[str, Any]], catalog: PriceCatalog) -> dict[str, Any]:
    """Sum token counts over the models a run called and price them with the catalog."""
    totals = {key: sum(int(usage.get(key, 0) or 0) for usage in by_model.values()) for key in TOKEN_KEYS}
    return {**totals, "models": sorted(by_model), "cost_usd": _cost(by_model, catalog)}


def _cost(by_model: Mapping[str, Mapping[str, Any]], catalog: PriceCatalog) -> float | None:
    prices = [model_cost(model, usage, catalog) for model, usage in by_model.items()]
    return None if None in prices else float(sum(prices))


def model_cost(model: str, usage: Mapping[str, Any], catalog: PriceCatalog) -> float | None:
    """Price one model's input and output tokens (None when the catalog does not know it)."""
    if catalog.resolve(model) is None:
        return None
    unit = catalog.unit_prices(model)
    tokens = {key: int(usage.get(f"{key}_tokens", 0) or 0) for key in ("input", "output")}
    return tokens["input"] * unit["input"] + tokens["output"] * unit["output"]
