"""The plain-Python replays `cache_policy_optimizer` used to run, kept as the reference of its engine.

    hits = replay(trace, Lru(1_000))       # hit blocks per request, in replay order
    curves = reference_curves(trace, capacities=[1_000], ttls_s=[300])

One cache shared by every request of the trace, in replay order (timestamp, request_id). For
each request: look up (count its *leading* blocks in the cache, stopping at the first that is
not), then serve (insert or refresh all its blocks as most recently used, last block first).

- unbounded: nothing is evicted; a block hits when an earlier request held it;
- LRU of `capacity` blocks: after serving, least recently used blocks are evicted down to
  `capacity`;
- TTL: a block is in the cache when now - its last use < the TTL.

Written for clarity, one request and one block at a time (O(blocks) per policy: seconds at a
million requests).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from itertools import chain
from typing import Callable

from netra.tools._cache_replay.lru import Hits
from netra.tools.cache_policy import Curves, Trace

_NEVER = -math.inf  # the last use of a block never seen


def leading(blocks: list[int], present: Callable[[int], bool]) -> int:
    """Return how many leading blocks are `present` (counting stops at the first that is not)."""
    n = 0
    for h in blocks:
        if not present(h):
            return n
        n += 1
    return n


class Unbounded:
    """A cache that never evicts: a block hits when an earlier request held it."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def serve(self, blocks: list[int], now: int) -> int:
        """Look one request up, then remember all its blocks; return its hit blocks."""
        hits = leading(blocks, self.seen.__contains__)
        self.seen.update(blocks)
        return hits


class Lru:
    """An LRU of `capacity` blocks, evicting after each request is served."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.cache = capacity, OrderedDict[int, None]()

    def serve(self, blocks: list[int], now: int) -> int:
        """Look one request up, refresh its blocks (last block first), evict down to the capacity."""
        hits = leading(blocks, self.cache.__contains__)
        for h in reversed(blocks):
            self.cache[h] = None  # a new block is appended; a held one keeps its place until moved
            self.cache.move_to_end(h)
        while len(self.cache) > self.capacity:
            self.cache.popitem(last=False)
        return hits


class Ttl:
    """A cache whose entries live `ttl_ms` after their last use (each use refreshes them)."""

    def __init__(self, ttl_ms: int) -> None:
        self.ttl_ms, self.last = ttl_ms, dict[int, int]()

    def serve(self, blocks: list[int], now: int) -> int:
        """Look one request up (alive: now - last use < TTL), then refresh all its blocks."""
        hits = leading(blocks, lambda h: now - self.last.get(h, _NEVER) < self.ttl_ms)
        self.last.update(dict.fromkeys(blocks, now))
        return hits


def replay(trace: Trace, cache: Unbounded | Lru | Ttl) -> list[int]:
    """Serve every request of the trace in replay order; return hit blocks per request."""
    return [cache.serve(blocks, now) for blocks, now in zip(trace.blocks, trace.ts)]


def summed(trace: Trace, hits: list[int]) -> Hits:
    """Return the hit blocks and hit tokens (hit blocks x block size) of one replay."""
    return Hits(sum(hits), sum(h * size for h, size in zip(hits, trace.block_size)))


def reference_curves(trace: Trace, capacities: list[int], ttls_s: list[int]) -> Curves:
    """Replay the trace through every policy, as `cache_policy_optimizer` reports them."""
    return Curves(requests=len(trace.ts), blocks=sum(map(len, trace.blocks)),
                  input_tokens=sum(trace.input_tokens),
                  distinct=len(set(chain.from_iterable(trace.blocks))),
                  unbounded=summed(trace, replay(trace, Unbounded())),
                  lru={c: summed(trace, replay(trace, Lru(c))) for c in sorted(set(capacities))},
                  ttl={t: summed(trace, replay(trace, Ttl(t * 1000))) for t in sorted(set(ttls_s))})
