"""The events query's Arrow answer, read into numpy in replay order (timestamp, request_id).

ClickHouse answers in storage order: every block comes from one part, whose events are sorted
by timestamp (the table's key after the workspace), so a stable sort of the timestamps only
merges sorted runs (numpy's timsort, no string is compared). Events at the same millisecond
(rare) are then put in request_id order among themselves: only their ids are compared.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_TIES = [("ts", "ascending"), ("id", "ascending")]


def numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Return a numeric column as one numpy array (its chunks joined)."""
    return column.to_numpy()


def replay_order(ts: np.ndarray, request_ids: pa.ChunkedArray) -> np.ndarray:
    """Return the rows in (timestamp, request_id) order: a stable sort by time, then the ties by id."""
    order = np.argsort(ts, kind="stable")
    tied = tied_positions(ts[order])
    if len(tied):
        rows = np.sort(order[tied])
        ties = pa.table({"ts": ts[rows], "id": take_rows(request_ids, rows)})
        order[tied] = rows[pc.sort_indices(ties, sort_keys=_TIES).to_numpy()]
    return order


def take_rows(column: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """Return `column` at `rows` (ascending), chunk by chunk: a few rows without joining the column into one copy."""
    bounds = np.cumsum([0] + [len(chunk) for chunk in column.chunks])
    cut = np.searchsorted(rows, bounds)
    pieces = [column.chunk(k).take(pa.array(rows[cut[k]:cut[k + 1]] - bounds[k]))
              for k in range(column.num_chunks) if cut[k] < cut[k + 1]]
    return pa.concat_arrays(pieces) if pieces else pa.array([], column.type)


def tied_positions(sorted_ts: np.ndarray) -> np.ndarray:
    """Return the positions of sorted times that equal a neighbour's (the events sharing a millisecond)."""
    same = sorted_ts[1:] == sorted_ts[:-1]
    tied = np.zeros(len(sorted_ts), bool)
    tied[1:] |= same
    tied[:-1] |= same
    return np.flatnonzero(tied)


def in_order(column: pa.ChunkedArray, order: np.ndarray) -> np.ndarray:
    """Return a plain column as numpy in replay order (numbers taken by numpy, text by Arrow)."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return numbers(column)[order]
    return column.take(pa.array(order, pa.int64())).to_numpy(zero_copy_only=False)


def stops_repeat(stops: pa.ChunkedArray) -> bool:
    """Say whether two events' runs stop at the same hash (a sort: numpy's is vectorised, faster than hashing)."""
    values = np.sort(pc.drop_null(stops).to_numpy())
    return bool((values[1:] == values[:-1]).any())
