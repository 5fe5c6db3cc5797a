"""JSON records -> a raw batch: the events API (and the OTLP importer) hand rows over as dicts.

    records_batch([{"timestamp": "...", "model": "gpt-4o", "input_tokens": 1200, ...}]) -> RawBatch

Keys are event column names (`netra.workloads.schema.COLUMNS`); other keys, and the
computed `cost_usd`, `priced` and `catalog_version`, are ignored. A key a record lacks (or sets to null)
takes the column's default, except the required `timestamp`, `input_tokens` and
`output_tokens`, which stay missing so that `finalize` rejects the row. A field
(`schema.FIELD_BITS`) a record gives no value for is marked in its `missing_fields`. An entry that is
not a JSON object, or whose `prefix_hashes` / `attributes` have the wrong shape, is
rejected here as `malformed_row`.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from netra.workloads.events import events_from_columns, missing_bits
from netra.workloads.importers.base import RawBatch, Rejection
from netra.workloads.importers.validate import REQUIRED
from netra.workloads.schema import ARROW_SCHEMA, COLUMN_NAMES

COMPUTED = ("cost_usd", "priced", "catalog_version")
ACCEPTED = tuple(c for c in COLUMN_NAMES if c not in COMPUTED)
# column -> its value when a record lacks it (required columns stay missing)
DEFAULTS: dict[str, Any] = {k: v for k, v in events_from_columns({}, 1).to_pylist()[0].items()
                            if k not in REQUIRED}
MAX_HASH = 2**64 - 1
MAX_BITS = 2**32 - 1


def _hash_list(value: Any) -> bool:
    return isinstance(value, list) and all(type(v) is int and 0 <= v <= MAX_HASH for v in value)


def _string_map(value: Any) -> bool:
    return isinstance(value, dict)


# typed column -> (shape check of one value, what a bad value is told)
SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "prefix_hashes": (_hash_list, "prefix_hashes must be a list of unsigned 64-bit integers"),
    "attributes": (_string_map, "attributes must be a JSON object"),
}


def records_batch(records: list[Any], start_row: int = 1) -> RawBatch:
    """Return the raw batch of `records`, numbering them from `start_row`."""
    return rows_batch(list(enumerate(records, start_row)))


def rows_batch(entries: list[tuple[int, Any]]) -> RawBatch:
    """Return the raw batch of (source row number, record) pairs."""
    problems = [(row, _problem(record)) for row, record in entries]
    rejections = [Rejection(row, "malformed_row", problem) for row, problem in problems if problem]
    kept = [(row, record) for (row, record), (_, problem) in zip(entries, problems) if not problem]
    rows = np.array([row for row, _ in kept], dtype=np.int64)
    return RawBatch(_columns([record for _, record in kept]), rows, rejections)


def _problem(record: Any) -> str:
    if not isinstance(record, dict):
        return f"entry is a JSON {_json_type(record)}, not an object"
    bad = (message for key, (ok, message) in SHAPES.items() if record.get(key) is not None and not ok(record[key]))
    return next(bad, "")


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _columns(records: list[dict]) -> dict[str, pa.Array]:
    present = [name for name in ACCEPTED if any(record.get(name) is not None for record in records)]
    columns = {name: _array(name, [_value(record, name) for record in records]) for name in present}
    return columns | {"missing_fields": pa.array([_missing(record) for record in records], pa.uint32())}


def _missing(record: dict) -> int:
    """Return the bits of the fields a record gives no value for, and those it states (an int)."""
    stated = record.get("missing_fields")
    return missing_bits(record) | (stated if type(stated) is int and 0 <= stated <= MAX_BITS else 0)


def _value(record: dict, name: str) -> Any:
    value = record.get(name)
    return DEFAULTS.get(name) if value is None else value


def _array(name: str, values: list[Any]) -> pa.Array:
    if name == "attributes":
        return pa.array([_pairs(v) for v in values], ARROW_SCHEMA.field(name).type)
    if name == "prefix_hashes":
        return pa.array(values, ARROW_SCHEMA.field(name).type)
    return _plain(values)


def _pairs(value: dict | list) -> list[tuple[str, str]]:
    items = value.items() if isinstance(value, dict) else value
    return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in items]


def _plain(values: list[Any]) -> pa.Array:
    """Return values as Arrow's natural type; a column of mixed types becomes strings."""
    values = [json.dumps(v) if isinstance(v, (dict, list)) else int(v) if isinstance(v, bool) else v
              for v in values]
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
