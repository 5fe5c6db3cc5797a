"""Price many events at once: numpy over token columns, one catalog look-up per model.

Every row also records the catalog version it was priced with (`catalog_version`): the
catalog's version, with `+overrides` when negotiated overrides changed that model's prices
(rows on unknown models record the version they were checked against).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from netra.workloads.catalog import PriceCatalog

_WRITE_1H = "cache_write_1h_tokens"


def _write_1h(c: dict[str, np.ndarray]) -> np.ndarray:
    """The 1-hour part of the cache writes (never more than the writes)."""
    return np.minimum(c[_WRITE_1H], c["cache_write_tokens"])


# token class -> how to get its count from the event columns (disjoint: no token priced twice)
_CLASS_COLUMNS = {
    "input": lambda c: c["input_tokens"] - c["cached_input_tokens"] - c["cache_write_tokens"],
    "cache_read": lambda c: c["cached_input_tokens"],
    "cache_write": lambda c: c["cache_write_tokens"] - _write_1h(c),
    "cache_write_1h": _write_1h,
    "output": lambda c: c["output_tokens"] - c["reasoning_tokens"],
    "reasoning": lambda c: c["reasoning_tokens"],
}
_TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens",
                  "output_tokens", "reasoning_tokens", _WRITE_1H)


@dataclass
class PricingReport:
    """What pricing saw: requests per model that the catalog does not know."""

    unknown_models: dict[str, int] = field(default_factory=dict)

    @property
    def unpriced(self) -> int:
        """Return how many requests could not be priced."""
        return sum(self.unknown_models.values())


@dataclass
class _Priced:
    """The columns pricing fills, and its report."""

    cost: np.ndarray
    priced: np.ndarray
    versions: np.ndarray
    report: PricingReport

    @classmethod
    def blank(cls, n: int, version: str) -> _Priced:
        """Nothing priced yet: cost 0, priced 0, every row on `version`."""
        return cls(np.zeros(n), np.zeros(n, np.uint8), np.full(n, version, dtype=object), PricingReport())

    def arrays(self) -> dict[str, pa.Array]:
        """Return the filled columns as Arrow arrays, by column name."""
        return {"cost_usd": pa.array(self.cost, pa.float64()), "priced": pa.array(self.priced, pa.uint8()),
                "catalog_version": pa.array(self.versions, pa.string())}


def token_classes(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split event token columns into disjoint billable classes (float64).

    `cache_write_1h_tokens` may be absent (no 1-hour writes).
    """
    as_float = {k: columns[k].astype(np.float64) for k in _TOKEN_COLUMNS if k in columns}
    as_float.setdefault(_WRITE_1H, np.zeros_like(as_float["cache_write_tokens"]))
    return {k: np.maximum(f(as_float), 0.0) for k, f in _CLASS_COLUMNS.items()}


def cost_of(catalog: PriceCatalog, model: str, classes: dict[str, np.ndarray], batch: bool) -> np.ndarray:
    """Cost of every row of `classes` as if all ran on `model`."""
    prices = catalog.unit_prices(model, batch)
    return sum(classes[k] * prices[k] for k in classes)


def price_table(catalog: PriceCatalog, table: pa.Table) -> tuple[pa.Table, PricingReport]:
    """Return `table` with `cost_usd`, `priced` and `catalog_version` filled, and what could not be priced."""
    classes = token_classes({k: table[k].to_numpy() for k in _TOKEN_COLUMNS if k in table.column_names})
    models = table["model"].to_numpy(zero_copy_only=False).astype(str)
    batch = table["is_batch"].to_numpy().astype(bool)
    out = _price_by_model(catalog, models, classes, batch)
    for name, values in out.arrays().items():
        table = _set(table, name, values)
    return table, out.report


def _price_by_model(catalog, models, classes, batch) -> _Priced:
    out = _Priced.blank(len(models), catalog.version)
    for model in np.unique(models):
        _price_one(catalog, str(model), models == model, classes, batch, out)
    return out


def _price_one(catalog, model, rows, classes, batch, out: _Priced) -> None:
    if catalog.resolve(model) is None:
        out.report.unknown_models[model] = int(rows.sum())
        return
    _fill(catalog, model, classes, batch, rows, out.cost)
    out.priced[rows] = 1
    out.versions[rows] = catalog.version_of(model)


def _fill(catalog, model, classes, batch, rows, cost) -> None:
    sub = {k: v[rows] for k, v in classes.items()}
    standard, batched = cost_of(catalog, model, sub, False), cost_of(catalog, model, sub, True)
    cost[rows] = np.where(batch[rows], batched, standard)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


__all__ = ["PricingReport", "cost_of", "price_table", "token_classes"]
