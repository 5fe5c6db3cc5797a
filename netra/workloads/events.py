"""Build Arrow tables of workload events (filling defaults) and load them priced."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pyarrow as pa

from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import PricingReport, price_table
from netra.workloads.schema import ARROW_SCHEMA, DEFAULT_BLOCK_SIZE, FIELD_BITS, FIELD_COLUMNS

_DEFAULTS: dict[str, Any] = {"status": "ok", "finish_reason": "stop", "provider": "",
                             "block_size": DEFAULT_BLOCK_SIZE, "workspace_id": LOCAL_WORKSPACE}


_NULLABLE = ("quality_score", "logged_cost_usd", "timestamp")
# (test on the field, default maker) in order; the first that matches fills the column
_FILLERS = (
    (lambda f: f.name in _DEFAULTS, lambda f, n: pa.array([_DEFAULTS[f.name]] * n, f.type)),
    (lambda f: f.name in _NULLABLE, lambda f, n: pa.nulls(n, f.type)),
    (lambda f: pa.types.is_list(f.type) or pa.types.is_map(f.type), lambda f, n: pa.array([[]] * n, f.type)),
    (lambda f: pa.types.is_string(f.type), lambda f, n: pa.array([""] * n, f.type)),
    (lambda f: True, lambda f, n: pa.array(np.zeros(n), f.type)),
)


def _default_column(field: pa.Field, n: int) -> pa.Array:
    return next(make(field, n) for test, make in _FILLERS if test(field))


def events_from_columns(columns: Mapping[str, Any], n: int) -> pa.Table:
    """Make an events table from column arrays; absent columns get their defaults."""
    arrays = [_column(field, columns, n) for field in ARROW_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def _column(field: pa.Field, columns: Mapping[str, Any], n: int) -> pa.Array:
    if field.name not in columns:
        return _default_column(field, n)
    value = columns[field.name]
    return value if isinstance(value, pa.Array) else pa.array(value, field.type, from_pandas=True)


def missing_bits(record: Mapping[str, Any]) -> int:
    """Return the `missing_fields` bits of the fields `record` gives no value for (`schema.FIELD_COLUMNS`)."""
    return sum(bit for name, bit in FIELD_BITS.items() if all(record.get(c) is None for c in FIELD_COLUMNS[name]))


def events_from_records(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Make an events table from dicts (tests and importers); a key a row lacks takes its default.

    A field (`schema.FIELD_BITS`) a row gives no value for is marked missing in its
    `missing_fields`, unless the row states `missing_fields` itself.
    """
    rows = [{"missing_fields": missing_bits(row), **row} for row in records]
    names = [f for f in ARROW_SCHEMA if any(f.name in row for row in rows)]
    columns = {f.name: _with_defaults(f, rows) for f in names}
    return events_from_columns(columns, len(rows))


def _with_defaults(field: pa.Field, rows: list[Mapping[str, Any]]) -> pa.Array:
    default = _default_column(field, 1).to_pylist()[0]
    return pa.array([row.get(field.name, default) for row in rows], field.type, from_pandas=True)


def load_events(store: AnalyticsStore, catalog: PriceCatalog, table: pa.Table) -> PricingReport:
    """Price `table` with the catalog and insert it into the store."""
    priced, report = price_table(catalog, table)
    store.insert_events(priced)
    return report
