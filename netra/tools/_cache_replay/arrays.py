"""Arrow-to-numpy reading and the ragged-array steps of the cache replay, none of them a loop.

Every step works on whole columns: `numbered` gives equal values one number (Arrow's hash
table, no sort), `ragged` expands ranges into items, `segment_sums`/`segment_max` fold
consecutive segments back into one value each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def numbered(values: np.ndarray) -> np.ndarray:
    """Number equal values 0, 1, ... in order of first occurrence (a hash table, not a sort)."""
    return pc.dictionary_encode(pa.array(values)).indices.to_numpy().astype(np.int64)


def read_only(array: np.ndarray) -> np.ndarray:
    """Return `array` marked read-only (it is shared by every replay of the same events)."""
    array.flags.writeable = False
    return array


def compact(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number codes below `size` 0, 1, ... in increasing order; return (numbers, the distinct codes)."""
    present = np.zeros(size, bool)
    present[codes] = True
    return (np.cumsum(present) - 1)[codes], np.flatnonzero(present)


def first_of_each(ids: np.ndarray) -> np.ndarray:
    """Return where each id first occurs, for ids numbered in order of first occurrence."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(ids), prepend=-1) > 0)


def ragged(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (position, owner, depth from 1) of every item of the ranges starts[i] + [0, lengths[i])."""
    owner = np.repeat(np.arange(len(lengths)), lengths)
    depth = np.arange(int(lengths.sum())) - (np.cumsum(lengths) - lengths)[owner] + 1
    return starts[owner] + depth - 1, owner, depth


def segment_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum `values` over consecutive segments of the given (positive) lengths."""
    if len(lengths) == 0:
        return np.zeros(0, values.dtype)
    return np.add.reduceat(values, np.cumsum(lengths) - lengths)


def segment_max(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Take the maximum of `values` over consecutive segments of the given (positive) lengths."""
    if len(lengths) == 0:
        return np.zeros(0, values.dtype)
    return np.maximum.reduceat(values, np.cumsum(lengths) - lengths)


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Return a text column's codes and values (encoded here when the server sent plain text).

    The chunks of a table share their dictionary once `unify_dictionaries` ran on it.
    """
    if not pa.types.is_dictionary(column.type):
        column = pa.chunked_array([pc.dictionary_encode(column.combine_chunks())])
    codes = [chunk.indices.to_numpy() for chunk in column.chunks]
    values = column.chunk(0).dictionary if column.num_chunks else pa.array([], pa.string())
    return np.concatenate(codes or [np.zeros(0, np.int32)]), values


@dataclass(frozen=True)
class Labels:
    """A low-cardinality text column: a code per event (replay order) into its distinct values."""

    codes: np.ndarray
    values: np.ndarray  # str objects

    @classmethod
    def of(cls, column: pa.ChunkedArray, order: np.ndarray) -> Labels:
        """Read a column (a dictionary, or plain text to encode) with its events in replay order: 32-bit
        codes, as Arrow's dictionaries hold them."""
        codes, values = _dictionary(column)
        return cls(codes[order], values.to_numpy(zero_copy_only=False))

    def decoded(self) -> np.ndarray:
        """Return the value of every event (str objects)."""
        return self.values[self.codes]

    def has(self, value: str) -> np.ndarray:
        """Return which events hold `value` (codes compared, not strings)."""
        return np.isin(self.codes, np.flatnonzero(self.values == value))


@dataclass(frozen=True)
class Runs:
    """Each event's shared run: `length` hashes of `hashes` from `start`."""

    hashes: np.ndarray  # uint64, every run end to end, in the query's row order
    start: np.ndarray  # int64 per event, in replay order
    length: np.ndarray  # int64 per event, in replay order

    @classmethod
    def of(cls, column: pa.ChunkedArray, order: np.ndarray) -> Runs:
        """Read the `run` list column; the events are taken in replay order."""
        runs = column.combine_chunks()
        offsets = runs.offsets.to_numpy().astype(np.int64)
        values = runs.values.to_numpy().astype(np.uint64, copy=False)
        return cls(values, offsets[:-1][order], np.diff(offsets)[order])

    def tips(self, events: np.ndarray) -> np.ndarray:
        """Return the last hash of the runs of `events` (each run not empty): it names the run."""
        return self.hashes[self.start[events] + self.length[events] - 1]
