"""Price many events at once: numpy over token columns, one catalog look-up per model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from netra.workloads.catalog import PriceCatalog

# token class -> how to get its count from the event columns
_CLASS_COLUMNS = {
    "input": lambda c: c["input_tokens"] - c["cached_input_tokens"] - c["cache_write_tokens"],
    "cache_read": lambda c: c["cached_input_tokens"],
    "cache_write": lambda c: c["cache_write_tokens"],
    "output": lambda c: c["output_tokens"] - c["reasoning_tokens"],
    "reasoning": lambda c: c["reasoning_tokens"],
}
_TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens",
                  "output_tokens", "reasoning_tokens")


@dataclass
class PricingReport:
    """What pricing saw: requests per model that the catalog does not know."""

    unknown_models: dict[str, int] = field(default_factory=dict)

    @property
    def unpriced(self) -> int:
        """Return how many requests could not be priced."""
        return sum(self.unknown_models.values())


def token_classes(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split event token columns into disjoint billable classes (float64)."""
    as_float = {k: columns[k].astype(np.float64) for k in _TOKEN_COLUMNS}
    return {k: np.maximum(f(as_float), 0.0) for k, f in _CLASS_COLUMNS.items()}


def cost_of(catalog: PriceCatalog, model: str, classes: dict[str, np.ndarray], batch: bool) -> np.ndarray:
    """Cost of every row of `classes` as if all ran on `model`."""
    prices = catalog.unit_prices(model, batch)
    return sum(classes[k] * prices[k] for k in classes)


def price_table(catalog: PriceCatalog, table: pa.Table) -> tuple[pa.Table, PricingReport]:
    """Return `table` with `cost_usd` and `priced` filled in, and what could not be priced."""
    columns = {k: table[k].to_numpy() for k in _TOKEN_COLUMNS}
    classes = token_classes(columns)
    models = table["model"].to_numpy(zero_copy_only=False).astype(str)
    batch = table["is_batch"].to_numpy().astype(bool)
    cost, priced, report = _price_by_model(catalog, models, classes, batch)
    table = _set(table, "cost_usd", pa.array(cost, pa.float64()))
    return _set(table, "priced", pa.array(priced, pa.uint8())), report


def _price_by_model(catalog, models, classes, batch):
    cost, priced, report = np.zeros(len(models)), np.zeros(len(models), np.uint8), PricingReport()
    for model in np.unique(models):
        _price_one(catalog, str(model), models == model, classes, batch, (cost, priced, report))
    return cost, priced, report


def _price_one(catalog, model, rows, classes, batch, out) -> None:
    cost, priced, report = out
    if catalog.resolve(model) is None:
        report.unknown_models[model] = int(rows.sum())
        return
    _fill(catalog, model, classes, batch, rows, cost)
    priced[rows] = 1


def _fill(catalog, model, classes, batch, rows, cost) -> None:
    sub = {k: v[rows] for k, v in classes.items()}
    standard, batched = cost_of(catalog, model, sub, False), cost_of(catalog, model, sub, True)
    cost[rows] = np.where(batch[rows], batched, standard)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


__all__ = ["PricingReport", "cost_of", "price_table", "token_classes"]
