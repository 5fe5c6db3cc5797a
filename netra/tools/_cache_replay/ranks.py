"""The one compiled pass of the LRU replay: a Fenwick tree over the re-use segments (numba).

A *segment* is blocks of one request whose last use was one earlier request (`lru.Segments`).
For each segment, in request order, `later_weights` sums the widths of the segments of strictly
earlier requests whose own earlier request is later than this segment's: the blocks met twice
between the two uses, which `lru` subtracts to count distinct blocks. The sweep is inherently
sequential (an offline 2D dominance count), so it is compiled once (`cache=True` keeps the
machine code next to this module); it costs O(segments x log(distinct earlier requests)).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _add(tree: np.ndarray, slot: int, weight: int) -> None:
    """Add `weight` at `slot` (0-based) of a Fenwick tree of prefix sums."""
    i = slot + 1
    while i < len(tree):
        tree[i] += weight
        i += i & -i


@njit(cache=True)
def _prefix(tree: np.ndarray, slot: int) -> int:
    """Return the sum of the weights at slots 0..`slot` (0 when `slot` is -1)."""
    i, total = slot + 1, 0
    while i > 0:
        total += tree[i]
        i -= i & -i
    return total


@njit(cache=True)
def later_weights(request: np.ndarray, slot: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    """Return, per segment (sorted by `request`), the weights of the segments of strictly earlier
    requests whose `slot` is smaller (`slot`: the earlier request's rank, latest first, < `size`)."""
    tree, out, inserted = np.zeros(size + 1, np.int64), np.empty(len(request), np.int64), 0
    for i in range(len(request)):
        while request[inserted] < request[i]:
            _add(tree, slot[inserted], weight[inserted])
            inserted += 1
        out[i] = _prefix(tree, slot[i] - 1)
    return out
