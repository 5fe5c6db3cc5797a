"""Column helpers of the preset transforms: timestamps, value tables, rows a reader rejects.

Everything works on whole Arrow/numpy columns. Timestamps come out as Arrow
`timestamp[ms, UTC]`, null where the source has none (the loader then reports
`missing_column`); a value that is present but cannot be read as a time is rejected here
as `bad_timestamp`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.importers._preset_base import Columns
from netra.workloads.importers.base import ImportOptions, Rejection, RejectReason
from netra.workloads.importers.validate import numeric

TIMESTAMP = pa.timestamp("ms", tz="UTC")


def column(table: pa.Table, name: str, kind: pa.DataType = pa.string()) -> pa.Array:
    """Return a column as one array (all nulls when the table lacks it)."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, kind)
    return table.column(name).combine_chunks()


def _present(values: pa.Array) -> np.ndarray:
    """Return which values are neither null nor empty text."""
    text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(values, pa.string())), "")
    return pc.not_equal(text, "").to_numpy(zero_copy_only=False)


def stamps_ms(ms: np.ndarray, missing: np.ndarray) -> pa.Array:
    """Return epoch milliseconds as Arrow timestamps, null where `missing`."""
    return pa.array(np.where(missing, 0, ms).astype(np.int64), pa.int64(), mask=missing).cast(TIMESTAMP)


def iso_timestamps(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Parse ISO 8601 text (space or `T`, any fraction digits, no offset = UTC), floored to ms.

    Return the timestamps and which present values could not be parsed.
    """
    parsed = pd.to_datetime(values.to_pandas(), format="ISO8601", errors="coerce", utc=True)
    stamps = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ms]")
    missing = np.isnat(stamps)
    return stamps_ms(stamps.astype(np.int64), missing), missing & _present(values)


def offset_timestamps(values: pa.Array, start_ms: int, unit_ms: float) -> tuple[pa.Array, np.ndarray]:
    """Return `start_ms` plus numeric offsets in units of `unit_ms`, and which were not numbers."""
    number, _, bad = numeric(values)
    missing = ~np.isfinite(number)
    return stamps_ms(start_ms + np.rint(np.nan_to_num(number) * unit_ms), missing), bad


def start_ms(options: ImportOptions, default: datetime) -> int:
    """Return the trace start (options.start, naive = UTC, else `default`) in epoch ms."""
    start = options.start or default
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    return int(start.timestamp() * 1000)


def recode(values: pa.Array, table: Mapping[str, str]) -> pa.Array:
    """Replace the values `table` knows by its entries; keep the others as they are."""
    at = pc.index_in(values, value_set=pa.array(list(table), pa.string()))
    return pc.if_else(pc.is_null(at), values, pc.take(pa.array(list(table.values()), pa.string()), at))


def choose(mask: np.ndarray, yes: str, no: str) -> pa.Array:
    """Return a text column: `yes` where `mask`, else `no`."""
    return pc.if_else(pa.array(mask, pa.bool_()), pa.scalar(yes), pa.scalar(no))


def constant(value: object, n: int, kind: pa.DataType) -> pa.Array:
    """Return a column of `n` copies of `value`."""
    return pc.fill_null(pa.nulls(n, kind), pa.scalar(value, kind))


def drop(columns: Columns, rows: np.ndarray, bad: np.ndarray, reason: RejectReason,
         detail: str) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """Remove the rows in `bad` from every column; return what is left and their rejections."""
    keep = pa.array(~bad)
    rejections = [Rejection(int(row), reason, detail) for row in rows[bad]]
    return {name: values.filter(keep) for name, values in columns.items()}, rows[~bad], rejections
