"""The one pricing function: price many events at once, numpy over token columns.

`price_events` prices every event with the catalog's rate for its model, token class, price
mode and long-context tier; ingest, every tool and every simulator call it (a simulator
changes an event's columns, then prices it again). The rules, with their sources, are in
docs/pricing.md:

* token classes are disjoint (`CLASSES`): a cached read or a cache write is never also input;
* the mode is `batch` when `is_batch` is set or `service_tier` is `batch`, else the
  `service_tier` when the catalog knows it (`priority`, `flex`), else `standard`;
* the long-context tier is the largest threshold the prompt (`input_tokens`, cached tokens
  included) exceeds among those the model has prices for (`ModelPrice.tier_of`); aggregated
  rows give it as `context_tier` instead;
* a request the provider refused is not billed (`billed`): status not `ok` and no output.

Every row also records the catalog version it was priced with (`catalog_version`): the
catalog's version, with `+overrides` when negotiated overrides changed that model's prices
(rows on unknown models record the version they were checked against).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pyarrow as pa

from netra.workloads.catalog import MODE_SUFFIX, TIERS, PriceCatalog

Columns = Mapping[str, np.ndarray]
_WRITE_1H = "cache_write_1h_tokens"
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens",
                 "output_tokens", "reasoning_tokens", _WRITE_1H)
# the columns `price_events` reads (`context_tier` optional, for aggregated rows)
PRICING_COLUMNS = ("model", *TOKEN_COLUMNS, "is_batch", "service_tier", "status")
# `status` of a request that succeeded
OK = "ok"


@dataclass(frozen=True)
class TokenClass:
    """A billable token class: its count from the event columns, in numpy and in SQL."""

    numpy: Callable[[dict[str, np.ndarray]], np.ndarray]
    sql: str


def _write_1h(c: dict[str, np.ndarray]) -> np.ndarray:
    return np.minimum(c[_WRITE_1H], c["cache_write_tokens"])


# token class -> its count (disjoint: no token priced twice), clamped at 0 by the users.
# The SQL form is the same rule for tools that sum classes per group (`class_sums_sql`).
CLASSES: dict[str, TokenClass] = {
    "input": TokenClass(lambda c: c["input_tokens"] - c["cached_input_tokens"] - c["cache_write_tokens"],
                        "toInt64(input_tokens) - cached_input_tokens - cache_write_tokens"),
    "cache_read": TokenClass(lambda c: c["cached_input_tokens"], "toInt64(cached_input_tokens)"),
    "cache_write": TokenClass(lambda c: c["cache_write_tokens"] - _write_1h(c),
                              "toInt64(cache_write_tokens) - least(cache_write_1h_tokens, cache_write_tokens)"),
    "cache_write_1h": TokenClass(_write_1h, "toInt64(least(cache_write_1h_tokens, cache_write_tokens))"),
    "output": TokenClass(lambda c: c["output_tokens"] - c["reasoning_tokens"],
                         "toInt64(output_tokens) - reasoning_tokens"),
    "reasoning": TokenClass(lambda c: c["reasoning_tokens"], "toInt64(reasoning_tokens)"),
}
# SQL of the pricing key of an event, for tools that price per group: the mode inputs, the
# long-context tier (the largest of `TIERS` the prompt exceeds) and whether it is billed
BILLED_SQL = f"(status = '{OK}' OR output_tokens > 0)"
PRICE_KEY_SQL = (f"is_batch, service_tier, status, {BILLED_SQL} AS billed, "
                 f"multiIf({', '.join(f'input_tokens > {t}, {t}' for t in reversed(TIERS))}, 0) AS context_tier")


def class_sums_sql() -> str:
    """Return `sum(...) AS <class>` for every token class, each event's count clamped at 0."""
    return ",\n  ".join(f"sum(greatest({c.sql}, 0)) AS {name}" for name, c in CLASSES.items())


@dataclass
class PricingReport:
    """What pricing saw: requests per model that the catalog does not know."""

    unknown_models: dict[str, int] = field(default_factory=dict)

    @property
    def unpriced(self) -> int:
        """Return how many requests could not be priced."""
        return sum(self.unknown_models.values())


@dataclass
class Priced:
    """Per-event cost (USD), whether each event's model was priced, and what was not."""

    cost: np.ndarray
    priced: np.ndarray
    versions: np.ndarray
    report: PricingReport

    @classmethod
    def blank(cls, n: int, version: str) -> Priced:
        """Nothing priced yet: cost 0, priced False, every row on `version`."""
        return cls(np.zeros(n), np.zeros(n, bool), np.full(n, version, dtype=object), PricingReport())

    def arrays(self) -> dict[str, pa.Array]:
        """Return the filled columns as Arrow arrays, by column name."""
        return {"cost_usd": pa.array(self.cost, pa.float64()), "priced": pa.array(self.priced.astype(np.uint8)),
                "catalog_version": pa.array(self.versions, pa.string())}


def token_classes(columns: Columns) -> dict[str, np.ndarray]:
    """Split event token columns into disjoint billable classes (float64, none below 0).

    `cache_write_1h_tokens` may be absent (no 1-hour writes).
    """
    as_float = {k: np.asarray(columns[k]).astype(np.float64) for k in TOKEN_COLUMNS if k in columns}
    as_float.setdefault(_WRITE_1H, np.zeros_like(as_float["cache_write_tokens"]))
    return {k: np.maximum(c.numpy(as_float), 0.0) for k, c in CLASSES.items()}


def billed(status: np.ndarray, output_tokens: np.ndarray) -> np.ndarray:
    """Return which events the provider bills: succeeded, or reported output (docs/pricing.md)."""
    return (np.asarray(status).astype(str) == OK) | (np.asarray(output_tokens) > 0)


def price_modes(columns: Columns) -> np.ndarray:
    """Return each event's price mode: batch, priority, flex or standard."""
    n = len(columns["model"])
    tier = np.asarray(columns.get("service_tier", np.full(n, "")), dtype=object).astype(str)
    batch = np.asarray(columns.get("is_batch", np.zeros(n))).astype(bool) | (tier == "batch")
    named = np.where(np.isin(tier, list(MODE_SUFFIX)), tier, "standard")
    return np.where(batch, "batch", named).astype(object)


def _billed(columns: Columns, n: int) -> np.ndarray:
    """Return the `billed` column when given (aggregated rows), else `billed` of the events."""
    if "billed" in columns:
        return np.asarray(columns["billed"]).astype(bool)
    return billed(columns.get("status", np.full(n, OK, dtype=object)), columns["output_tokens"])


def _pairs(modes: np.ndarray, tiers: np.ndarray) -> list[tuple[str, int]]:
    """Return the distinct (mode, tier) pairs of some events."""
    return [(str(m), int(t)) for m in np.unique(modes) for t in np.unique(tiers[modes == m])]


class _Pricer:
    """Prices one table of events group by group: (model, mode, long-context tier)."""

    def __init__(self, catalog: PriceCatalog, columns: Columns, classes: dict[str, np.ndarray]) -> None:
        self.catalog, self.n, self.classes = catalog, len(columns["model"]), classes
        self.models = np.asarray(columns["model"], dtype=object).astype(str)
        self.modes = price_modes(columns).astype(str)
        self.prompt = np.asarray(columns.get("input_tokens", np.zeros(self.n))).astype(np.int64)
        self.context = columns.get("context_tier")
        self.out = Priced.blank(self.n, catalog.version)
        self.billed = _billed(columns, self.n)

    def run(self) -> Priced:
        """Price every event; unknown models stay at cost 0, priced False, and are reported."""
        for model in map(str, np.unique(self.models)):
            if self.catalog.resolve(model) is None:
                self.out.report.unknown_models[model] = int((self.models == model).sum())
            else:
                self._model(model, self.models == model)
        self.out.cost[~self.billed] = 0.0
        return self.out

    def _model(self, model: str, rows: np.ndarray) -> None:
        index = np.flatnonzero(rows)
        tiers, modes = self._tiers(model, index), self.modes[index]
        for mode, tier in _pairs(modes, tiers):  # a handful: modes x long-context tiers
            self._group(model, index[(modes == mode) & (tiers == tier)], mode, tier)
        self.out.priced[index], self.out.versions[index] = True, self.catalog.version_of(model)

    def _tiers(self, model: str, index: np.ndarray) -> np.ndarray:
        """Return the long-context tier of the events at `index` (given, or from their prompt size)."""
        given = self.prompt if self.context is None else np.asarray(self.context).astype(np.int64) + 1
        edges = np.array(self.catalog.lookup(model).tiers, dtype=np.int64)
        return np.concatenate([[0], edges])[np.searchsorted(edges, given[index], side="left")]

    def _group(self, model: str, rows: np.ndarray, mode: str, tier: int) -> None:
        prices = self.catalog.unit_prices(model, mode=mode, tier=tier)
        self.out.cost[rows] = sum(self.classes[k][rows] * prices[k] for k in self.classes)


def price_events(catalog: PriceCatalog, columns: Columns) -> Priced:
    """Price every event (or aggregated row) of `columns`: the one pricing function.

    Args:
        catalog: the price catalog (with overrides).
        columns: numpy arrays named like the event columns (`PRICING_COLUMNS`); `is_batch`,
            `service_tier`, `status` and `cache_write_1h_tokens` may be absent. Aggregated rows
            (summed tokens) give `context_tier` (`PRICE_KEY_SQL`) instead of a prompt size.
    """
    return _Pricer(catalog, columns, token_classes(columns)).run()


def price_classes(catalog: PriceCatalog, keys: Columns, classes: Mapping[str, np.ndarray]) -> Priced:
    """Price rows whose token classes are already split and summed (one row per pricing key).

    Args:
        catalog: the price catalog (with overrides).
        keys: `model`, and optionally `is_batch`, `service_tier`, `billed` and `context_tier`
            (the columns of `PRICE_KEY_SQL`), one value per row.
        classes: the summed count of every token class of `CLASSES` (`class_sums_sql`).
    """
    as_float = {k: np.asarray(classes[k], dtype=np.float64) for k in CLASSES}
    return _Pricer(catalog, {"output_tokens": as_float["output"], **keys}, as_float).run()


def cost_of(catalog: PriceCatalog, model: str, classes: dict[str, np.ndarray], batch: bool) -> np.ndarray:
    """Cost of every row of `classes` (already split) as if all ran on `model`, standard tier."""
    prices = catalog.unit_prices(model, batch)
    return sum(classes[k] * prices[k] for k in classes)


def price_table(catalog: PriceCatalog, table: pa.Table) -> tuple[pa.Table, PricingReport]:
    """Return `table` with `cost_usd`, `priced` and `catalog_version` filled, and what could not be priced."""
    names = [k for k in PRICING_COLUMNS if k in table.column_names]
    out = price_events(catalog, {k: table[k].to_numpy(zero_copy_only=False) for k in names})
    for name, values in out.arrays().items():
        table = _set(table, name, values)
    return table, out.report


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


__all__ = ["BILLED_SQL", "CLASSES", "PRICE_KEY_SQL", "PRICING_COLUMNS", "Priced", "PricingReport", "billed",
           "class_sums_sql", "cost_of", "price_classes", "price_events", "price_modes", "price_table", "token_classes"]
